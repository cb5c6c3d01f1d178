package dev.zksdk.samples.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.apache.zookeeper.ClientCnxn;
import org.apache.zookeeper.ClientCnxnSocketNIO;
import org.apache.zookeeper.ClientCnxnSocketNetty;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * What Spring's AOT processing ({@code process-aot} in this module's build, before this test) wrote for the Spring
 * sample: the GraalVM metadata lets a native image make ZooKeeper's client sockets by name and keeps the ZooKeeper
 * internals zk-sdk reads (and {@code Thread.isVirtual()}), as the starter's {@code ZkSdkRuntimeHints} asks; and the sample's jar carries it.
 */
class SpringAotHintsIT {

    private static final String METADATA = "reachability-metadata.json";

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void processAotWritesTheClientSocketHintsIntoTheSamplesNativeImageMetadata() throws Exception {
        Path resources = Path.of(System.getProperty("samples.aot.resources", "target/spring-aot/main/resources"));
        List<Path> found;
        try (Stream<Path> files = Files.walk(resources.resolve("META-INF/native-image"))) {
            found = files.filter(f -> f.getFileName().toString().equals(METADATA))
                    .toList();
        }
        assertThat(found).as("%s under %s", METADATA, resources).hasSize(1);
        JsonNode reflection = json.readTree(found.get(0).toFile()).get("reflection");
        assertHints(reflection);

        // The same file in the Spring sample's executable jar, at its root (where the repackaging puts native-image
        // metadata), where a native build reads it.
        String entry = resources.relativize(found.get(0)).toString().replace('\\', '/');
        try (ZipFile jar = new ZipFile(springJar().toFile())) {
            assertThat(jar.getEntry(entry)).as(entry).isNotNull();
            assertHints(json.readTree(jar.getInputStream(jar.getEntry(entry))).get("reflection"));
        }
    }

    private static void assertHints(JsonNode reflection) {
        assertThat(reflection).as("reflection hints").isNotNull();
        for (Class<?> socket : List.of(ClientCnxnSocketNIO.class, ClientCnxnSocketNetty.class)) {
            JsonNode type = type(reflection, socket.getName());
            // ZooKeeper.getClientCnxnSocket(): getDeclaredConstructor(ZKClientConfig.class).newInstance(config)
            assertThat(members(type, "methods"))
                    .as("%s constructors", socket.getName())
                    .anySatisfy(method -> {
                        assertThat(method.get("name").asString()).isEqualTo("<init>");
                        assertThat(method.get("parameterTypes").get(0).asString())
                                .isEqualTo(ZKClientConfig.class.getName());
                    });
        }
        assertThat(members(type(reflection, ClientCnxn.class.getName()), "fields"))
                .extracting(field -> field.get("name").asString())
                .contains("connectTimeout", "sendThread");
        // zk-sdk's check for a virtual caller (VirtualCallers): Thread.isVirtual() through a method handle.
        assertThat(members(type(reflection, Thread.class.getName()), "methods"))
                .as("java.lang.Thread methods")
                .anySatisfy(method -> {
                    assertThat(method.get("name").asString()).isEqualTo("isVirtual");
                    assertThat(method.get("parameterTypes")).isEmpty();
                });
    }

    private static JsonNode type(JsonNode reflection, String name) {
        for (JsonNode type : reflection) {
            if (type.get("type").asString().equals(name)) {
                return type;
            }
        }
        throw new AssertionError("no reflection hint for " + name);
    }

    private static List<JsonNode> members(JsonNode type, String kind) {
        List<JsonNode> out = new ArrayList<>();
        JsonNode members = type.get(kind);
        if (members != null) {
            members.forEach(out::add);
        }
        return out;
    }

    private static Path springJar() throws IOException {
        Path target = Path.of(System.getProperty("samples.jar", "target/zk-sdk-samples.jar"))
                .toAbsolutePath()
                .getParent();
        try (Stream<Path> files = Files.list(target)) {
            List<Path> jars = files.filter(f -> f.getFileName().toString().endsWith("-spring.jar"))
                    .toList();
            assertThat(jars).as("the Spring sample's jar in %s", target).hasSize(1);
            return jars.get(0);
        }
    }
}
