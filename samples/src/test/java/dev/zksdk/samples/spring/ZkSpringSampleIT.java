package dev.zksdk.samples.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.ZkSessionPool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * The Spring Boot sample end to end, as a user runs it: embedded ensemble, HTTP on a free port. It registers itself,
 * follows its config node, serves health and metrics, and deregisters at once on shutdown.
 */
class ZkSpringSampleIT {

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode get(String base, String path) throws Exception {
        HttpResponse<String> response =
                send(HttpRequest.newBuilder(URI.create(base + path)).GET());
        assertThat(response.statusCode())
                .as("GET %s: %s", path, response.body())
                .isEqualTo(200);
        return json.readTree(response.body());
    }

    private static ZooKeeper observer(String connectString) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connectString, 30_000, event -> {
            if (event.getState() == KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        assertThat(connected.await(15, TimeUnit.SECONDS)).isTrue();
        return zk;
    }

    @Test
    void registersFollowsItsConfigServesHealthAndMetricsAndDeregistersOnShutdown() throws Exception {
        // The embedded server grants at most 10 s (20 ticks of 500 ms): a registration left to expire would outlive the
        // shutdown by that long.
        ConfigurableApplicationContext context = ZkSpringSampleApplication.application()
                .run("--server.port=0", "--server.address=127.0.0.1", "--zksdk.session-timeout=20s");
        ZooKeeper observer = null;
        try {
            String base = "http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port");
            String connectString = context.getEnvironment().getProperty("zksdk.connect-string");
            assertThat(connectString).startsWith("127.0.0.1:");
            observer = observer(connectString);

            // Registered: an ephemeral of the pool's session.
            String registration = context.getBean(ServiceRegistration.class).path();
            assertThat(registration).startsWith("/services/zksdk-spring-sample/127.0.0.1:");
            Stat registered = observer.exists(registration, false);
            assertThat(registered).isNotNull();
            assertThat(registered.getEphemeralOwner()).isNotZero();

            JsonNode index = get(base, "/");
            assertThat(index.get("registeredAt").asString()).isEqualTo(registration);
            assertThat(index.get("greeting").asString()).isEqualTo(GreetingConfig.DEFAULT);

            // The config node is watched: a write (through the API) comes back through the watch.
            CountDownLatch seen = new CountDownLatch(1);
            context.getBean(GreetingConfig.class).onChange(value -> {
                if (value.equals("hello, ops")) {
                    seen.countDown();
                }
            });
            HttpResponse<String> put = send(HttpRequest.newBuilder(URI.create(base + "/greeting"))
                    .header("Content-Type", "text/plain")
                    .PUT(HttpRequest.BodyPublishers.ofString("hello, ops")));
            assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
            assertThat(seen.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(get(base, "/").get("greeting").asString()).isEqualTo("hello, ops");
            // ... and so is a write by anyone else.
            CountDownLatch external = new CountDownLatch(1);
            context.getBean(GreetingConfig.class).onChange(value -> {
                if (value.equals("from outside")) {
                    external.countDown();
                }
            });
            observer.setData(context.getBean(GreetingConfig.class).path(), "from outside".getBytes(), -1);
            assertThat(external.await(10, TimeUnit.SECONDS)).isTrue();

            // Health: UP, with the session's details.
            JsonNode health = get(base, "/actuator/health");
            assertThat(health.get("status").asString()).isEqualTo("UP");
            JsonNode zksdk = health.get("components").get("zksdk");
            assertThat(zksdk.get("status").asString()).isEqualTo("UP");
            JsonNode session = zksdk.get("details")
                    .get("ensembles")
                    .get(connectString)
                    .get("sessions")
                    .get(0);
            assertThat(session.get("state").asString()).isEqualTo("CONNECTED");
            assertThat(session.get("sessionId").asString())
                    .isEqualTo("0x" + Long.toHexString(registered.getEphemeralOwner()));
            assertThat(session.get("negotiatedTimeout").asString()).isEqualTo("PT10S"); // the server's max: 20 ticks
            assertThat(session.get("server").asString()).isEqualTo(connectString);

            // Metrics: the pool's own meters, the breaker's among them.
            JsonNode opened = get(base, "/actuator/metrics/zksdk.sessions.opened");
            assertThat(opened.get("measurements").get(0).get("value").asDouble())
                    .isGreaterThanOrEqualTo(1.0);
            JsonNode operations = get(base, "/actuator/metrics/zksdk.operations?tag=operation:setData");
            assertThat(operations.get("measurements").get(0).get("value").asDouble())
                    .isGreaterThanOrEqualTo(1.0);
            get(base, "/actuator/metrics/zksdk.breaker.state");
            get(base, "/actuator/metrics/zksdk.connections");
            assertThat(context.getBean(ZkSessionPool.class).stats().openSessions())
                    .isEqualTo(1);

            // Shutdown: the registration is deleted at once, not a session timeout later.
            CountDownLatch deregistered = new CountDownLatch(1);
            assertThat(observer.exists(registration, event -> {
                        if (event.getType() == EventType.NodeDeleted) {
                            deregistered.countDown();
                        }
                    }))
                    .isNotNull();
            context.close();
            assertThat(deregistered.await(5, TimeUnit.SECONDS)).isTrue();
        } finally {
            context.close();
            if (observer != null) {
                observer.close();
            }
        }
    }
}
