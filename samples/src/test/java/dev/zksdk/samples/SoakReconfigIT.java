package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.testing.FourLetterWords;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos soak with reconfiguration faults end to end ({@code soak --reconfig}): members removed from the
 * configuration and added back, among the other faults, on three separate server processes, with every check holding.
 * A class of its own so that it runs beside {@link SoakIT}'s minute, not after it.
 */
class SoakReconfigIT {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    @TempDir
    Path results;

    /**
     * Fixed for the reconfig case: its first two bursts remove a follower, then the leader (with every connection cut
     * meanwhile), and its third kills a member of the reconfigured ensemble; the faults come from the seed alone.
     */
    private static final long RECONFIG_SEED = 18L;

    @Test
    void membersRemovedFromTheConfigurationAndAddedBackBreakNoInvariant() throws Exception {
        SoakCommand.Options options = SoakCommand.Options.parse(new String[] {
            "--seconds", "35", "--seed", String.valueOf(RECONFIG_SEED), "--reconfig", "--results", results.toString()
        });
        int code;
        List<String> configs = new ArrayList<>();
        try (ProcessSoakServers servers = ProcessSoakServers.startForReconfig()) {
            code = SoakCommand.run(options, servers, Soak.Settings.DEFAULT, Soak.NO_HOOKS, print(out));
            // Every member is back in the ensemble's configuration, as each member itself states it.
            for (String member : servers.members()) {
                configs.add(FourLetterWords.send(member, "conf"));
            }
        }

        String output = out.toString(StandardCharsets.UTF_8);
        System.out.print(output);
        assertThat(code).as(output).isZero();
        assertThat(output)
                .containsPattern("faults picked from: .*reconfig-remove-leader, reconfig-remove-follower, ")
                .contains("slow-quorum-link is not drawn", "followEnsembleChanges off")
                .containsPattern(
                        "reconfig: [1-9]\\d* member\\(s\\) removed and added back \\(.*\\), [1-9]\\d* of them with both"
                                + " changes committed")
                .contains("violations: 0", "[soak] no violation")
                .doesNotContain("VIOLATION");
        Map<?, ?> json =
                (Map<?, ?>) StrictJson.parse(Files.readString(results.resolve("soak-" + RECONFIG_SEED + ".json")));
        assertThat(json.get("result")).isEqualTo("pass");
        assertThat(json.get("reconfigMode")).isEqualTo(true);
        assertThat(json.get("poolsFollowEnsembleChanges")).isEqualTo(false);
        assertThat((List<?>) json.get("violations")).isEmpty();
        List<Map<?, ?>> faults = ((List<?>) json.get("faults"))
                .stream().<Map<?, ?>>map(f -> (Map<?, ?>) f).toList();
        assertThat(faults).noneMatch(f -> "slow-quorum-link".equals(f.get("kind")));
        List<Map<?, ?>> reconfigs = faults.stream()
                .filter(f -> String.valueOf(f.get("kind")).startsWith("reconfig-remove-"))
                .toList();
        // Each removal and each addition committed, and the member served again, before the fault ended.
        assertThat(reconfigs).isNotEmpty().allSatisfy(f -> {
            assertThat(f.get("end")).isInstanceOf(Number.class);
            assertThat(f.get("memberRole")).isIn("leader", "follower");
            assertThat(String.valueOf(f.get("detail")))
                    .containsPattern("removal committed as configuration version [0-9a-f]+, addition committed as"
                            + " version [0-9a-f]+, member serving again");
        });
        assertThat(((Map<?, ?>) json.get("faultsByKind")).keySet().stream().map(String::valueOf))
                .anyMatch(k -> k.startsWith("reconfig-remove-"));
        assertThat(configs)
                .hasSize(3)
                .allSatisfy(c -> assertThat(c.lines().filter(l -> l.startsWith("server.")))
                        .hasSize(3));
    }

    private static PrintStream print(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }
}
