package dev.zksdk.samples.spring;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Gives the sample a real ZooKeeper server when none is configured: if {@code zksdk.connect-string} is not set
 * (arguments, environment, configuration files), it starts an in-process server on 127.0.0.1 and a free port, and
 * sets {@code zksdk.connect-string} to it. The server is a bean registered before all others, so it is destroyed
 * after them: the pool has closed its sessions (and deleted its ephemerals) before the server stops.
 */
final class EmbeddedZooKeeper implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    static final String CONNECT_STRING = "zksdk.connect-string";

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        ConfigurableEnvironment environment = context.getEnvironment();
        if (environment.containsProperty(CONNECT_STRING)) {
            return;
        }
        Server server = Server.start();
        environment
                .getPropertySources()
                .addLast(new MapPropertySource("embeddedZooKeeper", Map.of(CONNECT_STRING, server.connectString())));
        ((GenericApplicationContext) context).registerBean("embeddedZooKeeper", Server.class, () -> server);
    }

    /** One in-process ZooKeeper server; closed with the context. */
    static final class Server implements DisposableBean {
        private final TestingServer server;

        private Server(TestingServer server) {
            this.server = server;
        }

        static Server start() {
            InstanceSpec spec = new InstanceSpec(
                    null,
                    -1,
                    -1,
                    -1,
                    true,
                    1,
                    500,
                    60,
                    Map.<String, Object>of("clientPortAddress", "127.0.0.1", "admin.enableServer", "false"),
                    "127.0.0.1");
            try {
                return new Server(new TestingServer(spec, true));
            } catch (Exception e) {
                throw new IllegalStateException("the embedded ZooKeeper server did not start", e);
            }
        }

        String connectString() {
            return server.getConnectString();
        }

        @Override
        public void destroy() {
            try {
                server.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
