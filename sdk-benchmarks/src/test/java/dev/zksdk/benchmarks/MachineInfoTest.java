package dev.zksdk.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MachineInfoTest {

    @Test
    void theServerJvmFlagsShownAreTheOnesThatTakeEffect() {
        assertThat(MachineInfo.effective(List.of(
                        "-Xmx96m",
                        "-XX:TieredStopAtLevel=1",
                        "-XX:+UseSerialGC",
                        "-Dzookeeper.x=1",
                        "-Xms256m",
                        "-Xmx512m",
                        "-XX:TieredStopAtLevel=4",
                        "-XX:-UseSerialGC")))
                .containsExactly(
                        "-Dzookeeper.x=1", "-Xms256m", "-Xmx512m", "-XX:TieredStopAtLevel=4", "-XX:-UseSerialGC");
    }

    @Test
    void theProjectsServerFlagsHaveOneHeapLimit() {
        List<String> jvm = new ArrayList<>(dev.zksdk.testing.ProcessEnsemble.DEFAULT_JVM_OPTIONS);
        jvm.addAll(BenchServer.SERVER_JVM_OPTIONS);
        assertThat(MachineInfo.effective(jvm).stream().filter(o -> o.startsWith("-Xmx")))
                .containsExactly("-Xmx512m");
    }
}
