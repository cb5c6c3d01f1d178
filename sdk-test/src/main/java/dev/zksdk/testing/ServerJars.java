package dev.zksdk.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The server runtime of another ZooKeeper release ({@link ProcessEnsemble.Builder#serverVersion(String)}) found in the
 * local Maven repository by its coordinates: the release's {@code zookeeper} (and, from 3.5, {@code zookeeper-jute})
 * jar, and what its server loads beside them, in the versions that release line's pom declares: slf4j's API with
 * slf4j-simple as the binding, and from 3.6 metrics-core and snappy-java (see sdk-core's pom, execution
 * {@code copy-zk-servers}, which copies the same set for the project's own compatibility tests). The local repository
 * is the {@value #LOCAL_REPOSITORY_PROPERTY} system property's directory if set, else {@code ~/.m2/repository}.
 */
final class ServerJars {

    /** The system property Maven and its plugins read the local repository's directory from. */
    static final String LOCAL_REPOSITORY_PROPERTY = "maven.repo.local";

    private ServerJars() {}

    /** A Maven artifact's coordinates. */
    record Coordinates(String groupId, String artifactId, String version) {

        /** The jar's path in a Maven repository laid out as Maven lays it out. */
        Path in(Path repository) {
            return repository
                    .resolve(groupId.replace('.', '/'))
                    .resolve(artifactId)
                    .resolve(version)
                    .resolve(artifactId + "-" + version + ".jar");
        }

        @Override
        public String toString() {
            return groupId + ":" + artifactId + ":" + version;
        }

        /** The artifact as an {@code artifactItem} of maven-dependency-plugin's {@code copy} goal. */
        String artifactItem(String outputDirectory) {
            return "<artifactItem><groupId>" + groupId + "</groupId><artifactId>" + artifactId
                    + "</artifactId><version>" + version + "</version><outputDirectory>" + outputDirectory
                    + "</outputDirectory></artifactItem>";
        }
    }

    /** The local Maven repository: {@value #LOCAL_REPOSITORY_PROPERTY} if set, else {@code ~/.m2/repository}. */
    static Path localRepository() {
        String configured = System.getProperty(LOCAL_REPOSITORY_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath();
        }
        return Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    /**
     * What a server of {@code version} runs on, by release line. The versions of the libraries are those its pom
     * declares for that line's release the project tests (3.4.14, 3.5.10, 3.6.4, 3.7.2, 3.8.4).
     *
     * @throws IllegalStateException for a release line not listed (3.9 and later other than the project's own)
     */
    static List<Coordinates> of(String version) {
        String line = version.substring(0, version.lastIndexOf('.'));
        List<Coordinates> jars = new ArrayList<>();
        jars.add(new Coordinates("org.apache.zookeeper", "zookeeper", version));
        String slf4j;
        String metrics = null;
        String snappy = null;
        switch (line) {
            case "3.4" -> slf4j = "1.7.25";
            case "3.5" -> slf4j = "1.7.36";
            case "3.6" -> {
                slf4j = "1.7.36";
                metrics = "3.2.5";
                snappy = "1.1.8.4";
            }
            case "3.7" -> {
                slf4j = "1.7.35";
                metrics = "4.1.12.1";
                snappy = "1.1.10.5";
            }
            case "3.8" -> {
                slf4j = "1.7.30";
                metrics = "4.1.12.1";
                snappy = "1.1.10.5";
            }
            default ->
                throw new IllegalStateException("no list of the server jars of ZooKeeper " + version
                        + " (release line " + line
                        + "): the local Maven repository is searched for 3.4 to 3.8; put that"
                        + " version's server jars in <directory>/" + version + "/ and set -D"
                        + ProcessEnsemble.SERVER_JARS_PROPERTY + "=<directory>");
        }
        if (!line.equals("3.4")) {
            jars.add(new Coordinates("org.apache.zookeeper", "zookeeper-jute", version));
        }
        jars.add(new Coordinates("org.slf4j", "slf4j-api", slf4j));
        jars.add(new Coordinates("org.slf4j", "slf4j-simple", slf4j));
        if (metrics != null) {
            jars.add(new Coordinates("io.dropwizard.metrics", "metrics-core", metrics));
            jars.add(new Coordinates("org.xerial.snappy", "snappy-java", snappy));
        }
        return jars;
    }

    /**
     * The jars of {@code version}'s server in the local Maven repository.
     *
     * @param version the release
     * @param directory where {@link ProcessEnsemble#serverJarsRoot()} looked first, for the message
     * @return the jars' absolute paths
     * @throws IllegalStateException when any is missing, naming each missing one's coordinates and how to get it
     */
    static List<String> find(String version, Path directory) {
        Path repository = localRepository();
        List<Coordinates> wanted = of(version);
        List<Coordinates> missing = wanted.stream()
                .filter(c -> !Files.isRegularFile(c.in(repository)))
                .toList();
        if (!missing.isEmpty()) {
            throw new IllegalStateException("no ZooKeeper " + version + " server jars: " + directory
                    + " does not hold zookeeper-" + version + ".jar, and the local Maven repository " + repository
                    + " lacks " + missing.stream().map(Coordinates::toString).collect(Collectors.joining(", "))
                    + ". Get them into the local repository, e.g. "
                    + missing.stream()
                            .map(c -> "mvn dependency:get -Dartifact=" + c)
                            .collect(Collectors.joining("; "))
                    + "; or have maven-dependency-plugin's copy goal (phase generate-test-resources) put them in "
                    + directory + " and point -D" + ProcessEnsemble.SERVER_JARS_PROPERTY + " at its parent: "
                    + wanted.stream()
                            .map(c -> c.artifactItem("${project.build.directory}/zk-servers/" + version))
                            .collect(Collectors.joining("")));
        }
        return wanted.stream().map(c -> c.in(repository).toString()).toList();
    }
}
