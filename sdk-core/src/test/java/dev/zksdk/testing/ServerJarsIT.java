package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * zk-sdk-test outside this build: {@link ProcessEnsemble.Builder#serverVersion(String)} with no jars copied for the
 * version ({@value ProcessEnsemble#SERVER_JARS_PROPERTY} names an empty directory, as nothing fills one in a user's
 * project) runs the members on the jars in the local Maven repository, found by their coordinates; when the repository
 * lacks them, {@code start()} fails at once naming the version and every missing artifact's coordinates.
 */
class ServerJarsIT {

    @TempDir
    Path empty;

    private String savedJarsRoot;
    private String savedRepository;

    @BeforeEach
    void noCopiedJars() {
        savedJarsRoot = System.getProperty(ProcessEnsemble.SERVER_JARS_PROPERTY);
        savedRepository = System.getProperty(ServerJars.LOCAL_REPOSITORY_PROPERTY);
        System.setProperty(ProcessEnsemble.SERVER_JARS_PROPERTY, empty.toString());
    }

    @AfterEach
    void restore() {
        restore(ProcessEnsemble.SERVER_JARS_PROPERTY, savedJarsRoot);
        restore(ServerJars.LOCAL_REPOSITORY_PROPERTY, savedRepository);
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    @Test
    void aVersionNotCopiedRunsOnTheJarsOfTheLocalMavenRepository() {
        // This build's own repository holds 3.4.14's jars (sdk-core's copy-zk-servers resolved them).
        try (ProcessEnsemble ensemble =
                ProcessEnsemble.builder().size(1).serverVersion("3.4.14").start()) {
            String srvr = FourLetterWords.send(ensemble.connectString(), "srvr");
            assertThat(srvr).contains("Zookeeper version: 3.4.14");
        }
    }

    @Test
    void aVersionInNeitherPlaceFailsAtOnceNamingItsCoordinates(@TempDir Path emptyRepository) {
        System.setProperty(ServerJars.LOCAL_REPOSITORY_PROPERTY, emptyRepository.toString());
        long start = System.nanoTime();

        assertThatThrownBy(() ->
                        ProcessEnsemble.builder().size(1).serverVersion("3.6.4").start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no ZooKeeper 3.6.4 server jars")
                .hasMessageContaining(emptyRepository.toString())
                .hasMessageContaining("org.apache.zookeeper:zookeeper:3.6.4, org.apache.zookeeper:zookeeper-jute:3.6.4,"
                        + " org.slf4j:slf4j-api:1.7.36, org.slf4j:slf4j-simple:1.7.36,"
                        + " io.dropwizard.metrics:metrics-core:3.2.5, org.xerial.snappy:snappy-java:1.1.8.4")
                .hasMessageContaining("mvn dependency:get -Dartifact=org.apache.zookeeper:zookeeper:3.6.4")
                .hasMessageContaining("<artifactItem><groupId>org.apache.zookeeper</groupId>"
                        + "<artifactId>zookeeper</artifactId><version>3.6.4</version>");
        assertThat((System.nanoTime() - start) / 1_000_000)
                .as("ms to fail: at once, no member started")
                .isLessThan(2_000);
    }
}
