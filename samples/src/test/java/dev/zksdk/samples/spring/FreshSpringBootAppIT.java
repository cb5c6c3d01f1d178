package dev.zksdk.samples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.InProcessEnsembles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * A fresh Spring Boot application, outside zk-sdk's build, that uses only zk-sdk's BOM, the starter and properties
 * ({@code src/test/resources/fresh-app}): built with Maven as a user builds it, run as a user runs it ({@code java
 * -jar}), against a real ZooKeeper server.
 *
 * <p>The build writes nothing into the user's local repository: the reactor's published artifacts (as just built, with
 * the BOM and the parent) are laid out in a local repository under {@code target/fresh-app/repository}, and everything
 * else is copied there on demand from the outer build's local repository, which the inner build sees only as a
 * read-only {@code file:} repository (Maven 3.8 has no chained local repository). It is offline when the outer build
 * is; online, Maven Central serves what the outer build never resolved (Netty's epoll classes at Spring Boot's Netty
 * version, which zk-sdk's parent pins lower for its own modules).
 *
 * <p>To add checks (health groups, meters, spans): start the application with {@link #start(String...)} and read its
 * Actuator endpoints with {@link App#get(String)}.
 */
class FreshSpringBootAppIT {

    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(5);
    /** What the fresh app's build needs of the reactor (other published modules are laid out when built). */
    private static final List<String> REQUIRED = List.of("zk-sdk-core", "zk-sdk-spring-boot-starter");

    private static final Path REACTOR =
            Path.of(System.getProperty("fresh.reactor", "..")).toAbsolutePath().normalize();
    private static final String VERSION = System.getProperty("fresh.version");
    private static final Path WORK =
            Path.of("target", "fresh-app").toAbsolutePath().normalize();

    private static Path appJar;
    private static TestingServer server;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void buildTheApplication() throws Exception {
        assertThat(VERSION).as("fresh.version (set by samples/pom.xml)").isNotBlank();
        Map<String, Path> published = publishedModules();
        installIntoFreshRepository(published);
        appJar = build(copyProject());
        server = InProcessEnsembles.startServer();
    }

    @AfterAll
    static void stopServer() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theBomListsEveryPublishedModule() throws Exception {
        Document bom = xml(REACTOR.resolve("sdk-bom/pom.xml"));
        List<String> listed = new ArrayList<>();
        NodeList dependencies = bom.getElementsByTagName("dependency");
        for (int i = 0; i < dependencies.getLength(); i++) {
            Element dependency = (Element) dependencies.item(i);
            assertThat(child(dependency, "groupId")).isEqualTo("dev.zksdk");
            assertThat(child(dependency, "version"))
                    .as("the BOM's version of %s", child(dependency, "artifactId"))
                    .isEqualTo(VERSION);
            listed.add(child(dependency, "artifactId"));
        }
        assertThat(listed)
                .containsExactlyInAnyOrderElementsOf(publishedModules().keySet());
    }

    @Test
    void theStarterBringsWhatABootAppNeedsAndNoTestCode() throws Exception {
        List<String> libs = new ArrayList<>();
        try (ZipFile jar = new ZipFile(appJar.toFile())) {
            jar.stream()
                    .map(e -> e.getName())
                    .filter(n -> n.startsWith("BOOT-INF/lib/") && n.endsWith(".jar"))
                    .forEach(n -> libs.add(n.substring("BOOT-INF/lib/".length())));
        }
        assertThat(libs)
                .contains("zk-sdk-core-" + VERSION + ".jar", "zk-sdk-spring-boot-starter-" + VERSION + ".jar")
                .anyMatch(n -> n.matches("zookeeper-\\d.*\\.jar"))
                .anyMatch(n -> n.startsWith("curator-recipes-"))
                .noneMatch(n -> n.startsWith("sdk-"))
                .noneMatch(n -> n.startsWith("zk-sdk-test-"))
                .noneMatch(n -> n.startsWith("curator-test-"))
                .noneMatch(n -> n.startsWith("netcrusher-"));
    }

    @Test
    void startsConnectedReadyAndHealthyWithThePoolsMetersAndUsesThePool() throws Exception {
        try (App app = start("--zksdk.connect-string=" + server.getConnectString())) {
            // Readiness, with the pool in its group: UP once the application has started (connect-on-startup).
            JsonNode readiness = app.awaitGet("/actuator/health/readiness");
            assertThat(readiness.get("status").asString()).isEqualTo("UP");
            assertThat(readiness.get("components").has("zksdk")).isTrue();

            JsonNode zksdk = app.get("/actuator/health").get("components").get("zksdk");
            assertThat(zksdk.get("status").asString()).isEqualTo("UP");

            // The application's own use of the starter's pool reached the server.
            try (CuratorFramework observer =
                    CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100))) {
                observer.start();
                await().atMost(Duration.ofSeconds(20))
                        .untilAsserted(() -> assertThat(observer.checkExists().forPath("/fresh-app"))
                                .isNotNull());
                assertThat(new String(observer.getData().forPath("/fresh-app"), StandardCharsets.UTF_8))
                        .isEqualTo("hello");
            }

            // Meters: the pool publishes through Boot's MeterRegistry.
            List<String> names = new ArrayList<>();
            app.get("/actuator/metrics").get("names").forEach(n -> names.add(n.asString()));
            assertThat(names).anyMatch(n -> n.startsWith("zksdk."));
        }
    }

    // ----- the application as a process

    /** Starts the built application on a free port with {@code args}; close stops it (SIGTERM, then kill). */
    static App start(String... args) throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        List<String> command = new ArrayList<>(
                List.of(javaBin(), "-jar", appJar.toString(), "--server.port=" + port, "--server.address=127.0.0.1"));
        Collections.addAll(command, args);
        Path log = WORK.resolve("app-" + port + ".log");
        Process process = new ProcessBuilder(command)
                .directory(WORK.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        return new App(process, "http://127.0.0.1:" + port, log);
    }

    /** A running fresh application. */
    static final class App implements AutoCloseable {
        final Process process;
        final String base;
        final Path log;

        App(Process process, String base, Path log) {
            this.process = process;
            this.base = base;
            this.log = log;
        }

        /** GET {@code path}, whatever the status (a DOWN health group answers 503 with its JSON). */
        HttpResponse<String> fetch(String path) throws Exception {
            return HTTP.send(
                    HttpRequest.newBuilder(URI.create(base + path))
                            .timeout(Duration.ofSeconds(10))
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        /** GET {@code path}: 200 with a JSON body. */
        JsonNode get(String path) throws Exception {
            HttpResponse<String> response = fetch(path);
            assertThat(response.statusCode())
                    .as("GET %s: %s", path, response.body())
                    .isEqualTo(200);
            return JSON.readTree(response.body());
        }

        /** GET {@code path} once the application answers it with 200 (start-up takes some seconds). */
        JsonNode awaitGet(String path) {
            JsonNode[] out = new JsonNode[1];
            await().atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(250))
                    .ignoreExceptions()
                    .untilAsserted(() -> {
                        assertThat(process.isAlive())
                                .as("the application is running; log: %s", log)
                                .isTrue();
                        out[0] = get(path);
                    });
            return out[0];
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    // ----- building it as a user would

    /**
     * The reactor's modules that are published: those attaching a sources jar (the parent pom's rule), by artifactId,
     * with their directory.
     */
    static Map<String, Path> publishedModules() throws Exception {
        Map<String, Path> out = new LinkedHashMap<>();
        Document root = xml(REACTOR.resolve("pom.xml"));
        NodeList modules = root.getElementsByTagName("module");
        for (int i = 0; i < modules.getLength(); i++) {
            Path dir = REACTOR.resolve(modules.item(i).getTextContent().trim());
            Document pom = xml(dir.resolve("pom.xml"));
            if (Files.readString(dir.resolve("pom.xml")).contains("<artifactId>maven-source-plugin</artifactId>")
                    && "jar".equals(packaging(pom))) {
                out.put(child(pom.getDocumentElement(), "artifactId"), dir);
            }
        }
        return out;
    }

    /** As {@code mvn install} lays them out: each published module's pom and jar, the BOM, the parent. */
    private static void installIntoFreshRepository(Map<String, Path> published) throws Exception {
        Map<String, Path> poms = new LinkedHashMap<>();
        poms.put("zk-sdk-parent", REACTOR.resolve("pom.xml"));
        poms.put("zk-sdk-bom", REACTOR.resolve("sdk-bom/pom.xml"));
        published.forEach((artifactId, dir) -> poms.put(artifactId, dir.resolve("pom.xml")));
        Path repository = WORK.resolve("repository");
        deleteRecursively(repository.resolve("dev/zksdk"));
        for (Map.Entry<String, Path> pom : poms.entrySet()) {
            String artifactId = pom.getKey();
            Path dir = Files.createDirectories(repository.resolve("dev/zksdk/" + artifactId + "/" + VERSION));
            Files.copy(pom.getValue(), dir.resolve(artifactId + "-" + VERSION + ".pom"));
            if (published.containsKey(artifactId)) {
                Path jar = published.get(artifactId).resolve("target/" + artifactId + "-" + VERSION + ".jar");
                if (REQUIRED.contains(artifactId)) {
                    assertThat(jar)
                            .as(
                                    "%s as the reactor just built it (run with the reactor: mvn verify, or -pl samples -am)",
                                    jar)
                            .isRegularFile();
                }
                if (Files.isRegularFile(jar)) {
                    Files.copy(jar, dir.resolve(artifactId + "-" + VERSION + ".jar"));
                }
            }
        }
    }

    private static Path copyProject() throws Exception {
        Path template =
                Path.of(FreshSpringBootAppIT.class.getResource("/fresh-app").toURI());
        Path project = WORK.resolve("project");
        deleteRecursively(project);
        try (Stream<Path> files = Files.walk(template)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path to = project.resolve(template.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(file, to, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Path pom = project.resolve("pom.xml");
        String text = Files.readString(pom)
                .replace("@zksdk.version@", VERSION)
                .replace("@spring-boot.version@", System.getProperty("fresh.spring-boot.version"))
                .replace(
                        "@spring-boot-unpublished.version@",
                        System.getProperty("fresh.spring-boot-unpublished.version"));
        assertThat(text).doesNotContainPattern("@[a-z.-]+@");
        Files.writeString(pom, text);
        // Its own Maven root: no .mvn/ config of an enclosing directory applies.
        Files.createDirectories(project.resolve(".mvn"));
        return project;
    }

    /**
     * {@code mvn package} with the outer build's local repository as the first, read-only, remote repository ({@code
     * file:}); offline when the outer build is (then everything must be there), else Maven Central serves what the
     * outer build never needed. Returns the boot jar.
     */
    private static Path build(Path project) throws Exception {
        Path outerRepository = Path.of(
                System.getProperty("fresh.local.repository", System.getProperty("user.home") + "/.m2/repository"));
        Path settings = WORK.resolve("settings.xml");
        Files.writeString(settings, """
                <settings>
                  <profiles>
                    <profile>
                      <id>outer-local-repository</id>
                      <repositories>
                        <repository>
                          <id>outer-local-repository</id>
                          <url>%1$s</url>
                          <snapshots><enabled>false</enabled></snapshots>
                        </repository>
                      </repositories>
                      <pluginRepositories>
                        <pluginRepository>
                          <id>outer-local-repository</id>
                          <url>%1$s</url>
                          <snapshots><enabled>false</enabled></snapshots>
                        </pluginRepository>
                      </pluginRepositories>
                    </profile>
                  </profiles>
                  <activeProfiles>
                    <activeProfile>outer-local-repository</activeProfile>
                  </activeProfiles>
                </settings>
                """.formatted(outerRepository.toUri()));
        String mavenHome = System.getProperty("fresh.maven.home");
        assertThat(mavenHome).as("fresh.maven.home (set by samples/pom.xml)").isNotBlank();
        List<String> command = new ArrayList<>(List.of(
                Path.of(mavenHome, "bin", "mvn").toString(),
                "-B",
                "-q",
                "-s",
                settings.toString(),
                "-Dmaven.repo.local=" + WORK.resolve("repository")));
        // "offline=true" or "offline=false" (a bare boolean cannot be a failsafe system property)
        if (System.getProperty("fresh.offline", "offline=true").equals("offline=true")) {
            // offline, yet the file: repository (a directory on this machine) is allowed
            command.addAll(List.of("--offline", "-Daether.offline.protocols=file"));
        }
        command.add("package");
        Path log = WORK.resolve("build.log");
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(project.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("MAVEN_ARGS");
        long started = System.nanoTime();
        Process maven = builder.start();
        if (!maven.waitFor(BUILD_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            maven.destroyForcibly().waitFor();
            throw new AssertionError("the fresh app's build took over " + BUILD_TIMEOUT + "; log: " + log);
        }
        assertThat(maven.exitValue())
                .as("mvn package of the fresh app (%s):%n%s", log, Files.readString(log))
                .isZero();
        System.out.printf("fresh app built in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        Path jar = project.resolve("target/fresh-app-1.0.jar");
        assertThat(jar).isRegularFile();
        return jar;
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static Document xml(Path file) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
    }

    private static String packaging(Document pom) {
        String packaging = child(pom.getDocumentElement(), "packaging");
        return packaging == null ? "jar" : packaging;
    }

    /** The text of {@code parent}'s direct child element {@code name}, or null. */
    private static String child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e.getTextContent().trim();
            }
        }
        return null;
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> files = Files.walk(path)) {
            files.sorted(Collections.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
