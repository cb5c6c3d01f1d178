package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * zk-sdk-test's list of each release line's server jars (what {@code serverVersion} looks up in a user's local Maven
 * repository) is the list this build copies for its own matrix (sdk-core's {@code copy-zk-servers}): the two are
 * written in two places, and this test fails when one changes without the other.
 */
class ServerJarsListTest {

    @Test
    void theListOfEachVersionsJarsIsWhatTheBuildCopies() throws IOException {
        Path root = Path.of(System.getProperty(ProcessEnsemble.SERVER_JARS_PROPERTY));
        List<String> versions;
        try (Stream<Path> dirs = Files.list(root)) {
            versions = dirs.map(p -> p.getFileName().toString())
                    .filter(name -> name.matches("\\d+\\.\\d+\\.\\d+"))
                    .sorted()
                    .toList();
        }
        assertThat(versions).as("the versions the build copies").contains("3.4.14", "3.5.10", "3.8.4");
        for (String version : versions) {
            List<String> copied;
            try (Stream<Path> jars = Files.list(root.resolve(version))) {
                copied = jars.map(p -> p.getFileName().toString()).sorted().toList();
            }
            List<String> listed = ServerJars.of(version).stream()
                    .map(c -> c.artifactId() + "-" + c.version() + ".jar")
                    .sorted()
                    .toList();
            assertThat(listed)
                    .as("ZooKeeper %s: zk-sdk-test's list against the build's copy", version)
                    .isEqualTo(copied);
        }
    }
}
