package dev.zksdk.samples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ReadmeMeters;
import dev.zksdk.testing.ZkProxy;
import java.io.IOException;
import java.io.UncheckedIOException;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
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
 * read-only {@code file:} repository (Maven 3.8 has no chained local repository), added by a copy of Maven's global
 * settings ({@code -gs}): the user's own settings (mirrors, proxies) still apply. It is offline when the outer build
 * is; online, Maven Central (or the user's mirror) serves what the outer build never resolved (Netty's epoll classes
 * at Spring Boot's Netty version, which zk-sdk's parent pins lower for its own modules).
 *
 * <p>The application listens on a port the system picks, read from its log. To add checks:
 * start it with {@link #start(String...)} and read its endpoints with {@link App#get(String)}.
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
    private static final AtomicInteger STARTS = new AtomicInteger();
    /** The id of the outer build's local repository as the fresh app's build sees it. */
    private static final String OUTER = "outer-local-repository";

    private static final String SETTINGS_NS = "http://maven.apache.org/SETTINGS/1.0.0";
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

    /**
     * As a user checks a service: readiness (with {@code zksdk} in the group) is not UP until the pool has connected
     * (with {@code connect-on-startup} the web server waits for it), UP once connected, DOWN while ZooKeeper is
     * unreachable and UP again after; every meter the README lists is in {@code /actuator/metrics} with its tags after
     * some traffic (a cut read retried, a session expired and recovered); operations are observations (spans) with the
     * application's own observation as parent.
     */
    @Test
    void readinessFollowsZooKeeperAndTheReadmesMetersAndSpansAreThere() throws Exception {
        try (ZkProxy proxy = ZkProxy.to(server.getConnectString());
                CuratorFramework observer =
                        CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100))) {
            observer.start();
            // ZooKeeper unreachable at start-up: the first six connections reach the proxy and nothing comes back.
            // Each such attempt is given up after at least the minimum connect-attempt bound (500 ms), so the app
            // cannot connect within the 2 s checked below (two black-holed attempts were not enough: the CI run of
            // c404063 connected in under 2 s).
            proxy.blackholeNextConnections(6);
            try (App app = start(
                    "--zksdk.connect-string=" + proxy.connectString(),
                    "--zksdk.session-timeout=4s",
                    "--zksdk.initialization-timeout=60s",
                    "--zksdk.metrics.ensemble-alias=fresh-zk")) {
                await().atMost(Duration.ofSeconds(120)).until(() -> proxy.blackholedConnections() > 0);
                await().during(Duration.ofSeconds(2))
                        .atMost(Duration.ofSeconds(4))
                        .until(() -> app.process.isAlive() && !app.serving());

                JsonNode readiness = app.awaitGet("/actuator/health/readiness");
                assertThat(readiness.get("status").asString()).isEqualTo("UP");
                assertThat(readiness
                                .get("components")
                                .get("zksdk")
                                .get("status")
                                .asString())
                        .isEqualTo("UP");
                // The application's own start-up use of the pool reached the server.
                await().atMost(Duration.ofSeconds(20))
                        .untilAsserted(() -> assertThat(observer.checkExists().forPath("/fresh-app"))
                                .isNotNull());
                assertThat(new String(observer.getData().forPath("/fresh-app"), StandardCharsets.UTF_8))
                        .isEqualTo("hello");

                assertThat(app.post("/traffic")).isEqualTo("hello");
                assertThat(observer.checkExists().forPath("/fresh-app-instance"))
                        .isNotNull();

                // ZooKeeper unreachable again, a read in flight: readiness DOWN (503); reachable: the read is retried
                // on the new connection and answered, readiness UP.
                proxy.freeze();
                CompletableFuture<HttpResponse<String>> cut = app.fetchAsync("/read");
                await().atMost(Duration.ofSeconds(30)).until(() -> activeOperations(app) > 0);
                proxy.closeAllConnections();
                awaitReadiness(app, "503 DOWN", "503 OUT_OF_SERVICE");
                proxy.unfreeze();
                HttpResponse<String> read = cut.get(60, TimeUnit.SECONDS);
                assertThat(read.statusCode())
                        .as("the cut read: %s", read.body())
                        .isEqualTo(200);
                assertThat(read.body()).isEqualTo("hello");
                awaitReadiness(app, "200 UP");

                // Unreachable long enough for the server to expire the session (its ephemeral goes): DOWN; then a new
                // session, the ephemeral re-created by the recovery, UP.
                proxy.freeze();
                proxy.closeAllConnections();
                awaitReadiness(app, "503 DOWN", "503 OUT_OF_SERVICE");
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> observer.checkExists().forPath("/fresh-app-instance") == null);
                assertThat(app.readiness()).startsWith("503 ");
                proxy.unfreeze();
                awaitReadiness(app, "200 UP");
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> observer.checkExists().forPath("/fresh-app-instance") != null);

                assertTheReadmesMeters(app);
                assertSpans(app);
            }
        }
    }

    private static void awaitReadiness(App app, String... any) {
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(app::readiness, r -> List.of(any).contains(r));
    }

    /** In-flight operations: the long task timer an observation registry's meter handler keeps. */
    private static double activeOperations(App app) throws Exception {
        HttpResponse<String> response = app.fetch("/actuator/metrics/zksdk.operations.active");
        if (response.statusCode() != 200) {
            return 0;
        }
        for (JsonNode m : JSON.readTree(response.body()).get("measurements")) {
            if (m.get("statistic").asString().equals("ACTIVE_TASKS")) {
                return m.get("value").asDouble();
            }
        }
        return 0;
    }

    /** Every meter of the README's table (zk-sdk-test's ReadmeMeters), with the README's tag keys. */
    private static void assertTheReadmesMeters(App app) throws Exception {
        Map<String, ReadmeMeters.Row> readme =
                ReadmeMeters.read(ReadmeMeters.findReadme(REACTOR), true); // Boot wires an ObservationRegistry
        assertThat(readme).as("rows of the README's Meters table").hasSizeGreaterThan(20);
        // Batches exist only with batching on, which is set in code (EnsembleConfig / the builder), not by a property:
        // this application has none. The core's README meter tests turn it on and find the meter.
        assertThat(readme.remove("zksdk.batches"))
                .as("the README's zksdk.batches row")
                .isNotNull();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            List<String> names = new ArrayList<>();
            app.get("/actuator/metrics").get("names").forEach(n -> names.add(n.asString()));
            assertThat(names)
                    .as("/actuator/metrics against the README's Meters table")
                    .containsAll(readme.keySet());
        });
        for (Map.Entry<String, ReadmeMeters.Row> row : readme.entrySet()) {
            List<String> tags = new ArrayList<>();
            app.get("/actuator/metrics/" + row.getKey())
                    .get("availableTags")
                    .forEach(t -> tags.add(t.get("tag").asString()));
            assertThat(tags)
                    .as("tags of %s", row.getKey())
                    .containsAll(row.getValue().tags());
        }
        JsonNode ensembles = app.get("/actuator/metrics/zksdk.sessions.open").get("availableTags");
        assertThat(ensembles.toString()).as("the ensemble alias in the tags").contains("fresh-zk");
    }

    /** The operations' observations: named, with the README's key values, under the application's observation. */
    private static void assertSpans(App app) throws Exception {
        List<JsonNode> observations = new ArrayList<>();
        app.get("/actuator/zkobservations").forEach(observations::add);
        assertThat(observations)
                .as("zk-sdk's observations")
                .anySatisfy(o -> {
                    assertThat(o.get("name").asString()).isEqualTo("zksdk.operations");
                    assertThat(o.get("contextualName").asString()).isEqualTo("zk getData");
                    assertThat(o.get("parent").asString()).isEqualTo("fresh.traffic");
                    JsonNode low = o.get("lowCardinality");
                    assertThat(low.get("pool").asString()).isEqualTo("fresh-app");
                    assertThat(low.get("ensemble").asString()).isEqualTo("fresh-zk");
                    assertThat(low.get("operation").asString()).isEqualTo("getData");
                    assertThat(low.get("outcome").asString()).isEqualTo("success");
                    assertThat(o.get("highCardinality").get("path").asString()).isEqualTo("/fresh-app");
                })
                .anySatisfy(
                        o -> assertThat(o.get("lowCardinality").get("outcome").asString())
                                .isEqualTo("nonode"));
    }

    // ----- the application as a process

    /**
     * Starts the built application with {@code args} on a port the system picks ({@code --server.port=0}), read from
     * the web server's start-up line in its log once it has started. Close stops it (SIGTERM, then kill).
     */
    static App start(String... args) throws IOException {
        int n = STARTS.incrementAndGet();
        List<String> command = new ArrayList<>(
                List.of(javaBin(), "-jar", appJar.toString(), "--server.port=0", "--server.address=127.0.0.1"));
        Collections.addAll(command, args);
        Path log = WORK.resolve("app-" + n + ".log");
        Process process = new ProcessBuilder(command)
                .directory(WORK.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        return new App(process, log);
    }

    /** A running fresh application. */
    static final class App implements AutoCloseable {
        /** Spring Boot's line once the web server listens: "Tomcat started on port 40485 (http) ...". */
        private static final Pattern STARTED = Pattern.compile("started on port (\\d+) \\(http\\)");

        final Process process;
        final Path log;
        private volatile int port;

        App(Process process, Path log) {
            this.process = process;
            this.log = log;
        }

        /** Whether the web server has started (it has logged its bound port). */
        boolean serving() throws IOException {
            if (port == 0 && Files.isRegularFile(log)) {
                Matcher m = STARTED.matcher(Files.readString(log, StandardCharsets.ISO_8859_1));
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                }
            }
            return port != 0;
        }

        /** The web server's address, once it has started. */
        String base() throws IOException {
            assertThat(serving())
                    .as("the application's web server has started; log: %s", log)
                    .isTrue();
            return "http://127.0.0.1:" + port;
        }

        /** GET {@code path}, whatever the status (a DOWN health group answers 503 with its JSON). */
        HttpResponse<String> fetch(String path) throws Exception {
            return HTTP.send(
                    HttpRequest.newBuilder(URI.create(base() + path))
                            .timeout(Duration.ofSeconds(10))
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        /** POST {@code path} with no body: 200 with a text body. */
        String post(String path) throws Exception {
            HttpResponse<String> response = HTTP.send(
                    HttpRequest.newBuilder(URI.create(base() + path))
                            .timeout(Duration.ofSeconds(30))
                            .POST(HttpRequest.BodyPublishers.noBody())
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode())
                    .as("POST %s: %s", path, response.body())
                    .isEqualTo(200);
            return response.body();
        }

        /** GET {@code path} without waiting for the answer. */
        CompletableFuture<HttpResponse<String>> fetchAsync(String path) throws IOException {
            return HTTP.sendAsync(
                    HttpRequest.newBuilder(URI.create(base() + path))
                            .timeout(Duration.ofSeconds(60))
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

        /** The readiness group's status and HTTP status, such as {@code 503 DOWN}. */
        String readiness() throws Exception {
            HttpResponse<String> response = fetch("/actuator/health/readiness");
            return response.statusCode() + " "
                    + JSON.readTree(response.body()).get("status").asString();
        }

        /** GET {@code path} once the application answers it with 200 (start-up takes some seconds). */
        JsonNode awaitGet(String path) {
            JsonNode[] out = new JsonNode[1];
            await().atMost(Duration.ofSeconds(120))
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
        for (Map.Entry<String, String> plugin : parentPluginVersions().entrySet()) {
            text = text.replace("@plugin:" + plugin.getKey() + "@", plugin.getValue());
        }
        assertThat(text).doesNotContainPattern("@[a-z.:-]+@");
        Files.writeString(pom, text);
        // Its own Maven root: no .mvn/ config of an enclosing directory applies.
        Files.createDirectories(project.resolve(".mvn"));
        return project;
    }

    /**
     * The plugin versions zk-sdk's parent pom pins ({@code build/pluginManagement}), by artifactId, with its
     * {@code ${property}} references resolved.
     */
    private static Map<String, String> parentPluginVersions() throws Exception {
        Element root = xml(REACTOR.resolve("pom.xml")).getDocumentElement();
        Map<String, String> properties = new LinkedHashMap<>();
        Element props = element(root, "properties");
        if (props != null) {
            for (Node n = props.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element e) {
                    properties.put(e.getTagName(), e.getTextContent().trim());
                }
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        Element plugins = element(element(element(root, "build"), "pluginManagement"), "plugins");
        for (Node n = plugins.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element plugin && child(plugin, "version") != null) {
                String version = child(plugin, "version");
                if (version.startsWith("${")) {
                    version = properties.get(version.substring(2, version.length() - 1));
                }
                out.put(child(plugin, "artifactId"), version);
            }
        }
        return out;
    }

    /** {@code parent}'s direct child element {@code name}, or null. */
    private static Element element(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    /**
     * {@code mvn package} with the outer build's local repository as the first, read-only, remote repository ({@code
     * file:}); offline when the outer build is (then everything must be there), else Maven Central serves what the
     * outer build never needed. Returns the boot jar.
     */
    private static Path build(Path project) throws Exception {
        Path outerRepository = Path.of(
                System.getProperty("fresh.local.repository", System.getProperty("user.home") + "/.m2/repository"));
        String mavenHome = System.getProperty("fresh.maven.home");
        assertThat(mavenHome).as("fresh.maven.home (set by samples/pom.xml)").isNotBlank();
        Path globalSettings = globalSettings(Path.of(mavenHome, "conf", "settings.xml"), outerRepository);
        List<String> command = new ArrayList<>(List.of(
                Path.of(mavenHome, "bin", "mvn").toString(),
                "-B",
                "-q",
                "-gs",
                globalSettings.toString(),
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

    /**
     * Maven's own global settings ({@code conf/settings.xml} of the Maven running this build, as the user's Maven
     * reads them) plus a profile that adds the outer build's local repository as a {@code file:} repository, and a
     * mirror of exactly that repository to itself: an exact mirror wins over a user's {@code *} mirror, so a user's
     * mirrors cannot send these reads to a remote server. The user's settings ({@code ~/.m2/settings.xml}: mirrors,
     * proxies, servers) stay in force, as {@code -gs} replaces only the global file.
     */
    private static Path globalSettings(Path mavensOwn, Path outerRepository) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        Document settings = Files.isRegularFile(mavensOwn)
                ? factory.newDocumentBuilder().parse(mavensOwn.toFile())
                : factory.newDocumentBuilder().newDocument();
        Element root = settings.getDocumentElement();
        if (root == null) {
            root = (Element) settings.appendChild(settings.createElementNS(SETTINGS_NS, "settings"));
        }
        String ns = root.getNamespaceURI();
        String url = outerRepository.toUri().toString();
        Element profile = append(section(root, "profiles"), ns, "profile");
        append(profile, ns, "id").setTextContent(OUTER);
        for (String kind : List.of("repositories/repository", "pluginRepositories/pluginRepository")) {
            String[] names = kind.split("/");
            Element repository = append(append(profile, ns, names[0]), ns, names[1]);
            append(repository, ns, "id").setTextContent(OUTER);
            append(repository, ns, "url").setTextContent(url);
            append(append(repository, ns, "snapshots"), ns, "enabled").setTextContent("false");
        }
        append(section(root, "activeProfiles"), ns, "activeProfile").setTextContent(OUTER);
        Element mirror = append(section(root, "mirrors"), ns, "mirror");
        append(mirror, ns, "id").setTextContent(OUTER + "-itself");
        append(mirror, ns, "mirrorOf").setTextContent(OUTER);
        append(mirror, ns, "url").setTextContent(url);
        Path out = WORK.resolve("global-settings.xml");
        Files.createDirectories(WORK);
        TransformerFactory.newInstance()
                .newTransformer()
                .transform(new DOMSource(settings), new StreamResult(out.toFile()));
        return out;
    }

    /** {@code root}'s section {@code name}, added when it has none. */
    private static Element section(Element root, String name) {
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && name.equals(e.getLocalName() != null ? e.getLocalName() : e.getTagName())) {
                return e;
            }
        }
        return append(root, root.getNamespaceURI(), name);
    }

    private static Element append(Element parent, String ns, String name) {
        return (Element) parent.appendChild(parent.getOwnerDocument().createElementNS(ns, name));
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
