package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ServerLauncherIT {

    @Test
    void serverHaltsWhenTheProcessThatStartedItDiesWithoutCleaningUp() throws Exception {
        // Stands in for a test JVM killed with SIGKILL: its shutdown hooks never run.
        Process fakeParent = new ProcessBuilder("sleep", "120").start();
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder()
                .size(1)
                .watchedParentPid(fakeParent.pid())
                .start()) {
            ServerProcess server = ensemble.server(1);
            assertThat(server.isServing()).isTrue();

            fakeParent.destroyForcibly().waitFor();

            await().atMost(Duration.ofSeconds(15)).until(() -> !server.isAlive());
            assertThat(server.logFile()).content().contains("has exited; halting");
        } finally {
            fakeParent.destroyForcibly();
        }
    }
}
