package dev.zksdk.hosts;

import dev.zksdk.testing.FreePorts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.awaitility.Awaitility;

/** Real in-process ZooKeeper servers for this package's ITs, on 127.0.0.1 and free ports only. */
final class LocalServers {

    static final String LOOPBACK = "127.0.0.1";
    static final int TICK_MS = 250;

    private LocalServers() {}

    /** Four-letter words for the assertions; the in-process admin servers would all want port 8080. */
    static void prepareServerProperties() {
        System.setProperty("zookeeper.4lw.commands.whitelist", "*");
        System.setProperty("zookeeper.admin.enableServer", "false");
    }

    /** A started ensemble of {@code size} servers, each allowing {@code maxClientCnxns} connections per client IP. */
    static TestingCluster cluster(int size, int maxClientCnxns) throws Exception {
        prepareServerProperties();
        TestingCluster cluster = null;
        // Curator's TestingCluster refuses two specs whose random free ports coincide ("Multiple entries with same
        // key", seen in CI): new ports are drawn then, as InProcessEnsembles does.
        for (int attempt = 1; cluster == null; attempt++) {
            List<InstanceSpec> specs = new ArrayList<>();
            for (int id = 1; id <= size; id++) {
                specs.add(new InstanceSpec(
                        null,
                        FreePorts.take(),
                        FreePorts.take(),
                        FreePorts.take(),
                        true,
                        id,
                        TICK_MS,
                        maxClientCnxns,
                        Map.of(),
                        LOOPBACK));
            }
            try {
                cluster = new TestingCluster(specs);
            } catch (IllegalArgumentException e) {
                if (attempt == 3) {
                    throw new IllegalStateException("in-process ZooKeeper cluster: no distinct ports in 3 draws", e);
                }
            }
        }
        cluster.start();
        for (InstanceSpec spec : cluster.getInstances()) {
            awaitServing(spec.getPort());
        }
        return cluster;
    }

    /** Waits until the server on {@code port} serves requests (it has joined a quorum), as {@code srvr} tells. */
    static void awaitServing(int port) {
        Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptions()
                .until(() -> FourLetterWordMain.send4LetterWord(LOOPBACK, port, "srvr")
                        .contains("Mode: "));
    }

    /** A started standalone server bound to 127.0.0.1. */
    static TestingServer server() throws Exception {
        prepareServerProperties();
        InstanceSpec spec = new InstanceSpec(
                null, FreePorts.take(), -1, -1, true, -1, TICK_MS, -1, Map.of("clientPortAddress", LOOPBACK), LOOPBACK);
        TestingServer server = new TestingServer(spec, true);
        awaitServing(server.getPort());
        return server;
    }

    /** A port on 127.0.0.1 with nothing listening: taken from the OS, then released. */
    static int deadPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
            return s.getLocalPort();
        }
    }
}
