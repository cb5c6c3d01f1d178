package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The {@code leader} sample end to end on real servers: its exit code follows its checks. */
class FencedLeaderIT {

    @Test
    void pausedLeaderResumesAndEveryWriteItMakesWithItsOldTokenIsFenced() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(
                new String[] {"leader"},
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));

        String output = out.toString(StandardCharsets.UTF_8);
        System.out.print(output);
        assertThat(code).as(output).isZero();
        assertThat(output)
                .contains("A leads with token", "B leads with token", "A's isLeader() is false")
                .contains("10 of 10 stale writes fenced; 0 of A's nodes on the servers")
                .doesNotContain("FAIL", "LANDED");
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }
}
