package dev.zksdk.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.InProcessEnsembles;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.SourceBoundClientCnxnSocket;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.Test;

/**
 * The fleet storm's premise: a simulated host's connections leave from its own loopback address, and the server counts
 * them against that address's {@code maxClientCnxns}, apart from the others. With a limit of 3, five handles bound to
 * 127.0.0.9 connect from 127.0.0.9 (and the server turns some away), while three plain handles from 127.0.0.1 all
 * connect beside them; were the socket not bound, all eight would come from 127.0.0.1 and share its three.
 */
class SourceBoundClientCnxnSocketIT {

    /** A handle that tells its connection's local address (ZooKeeper keeps it for tests). */
    private static final class Probe extends ZooKeeper {
        Probe(String connect, ZKClientConfig config) throws IOException {
            super(connect, 30_000, e -> {}, config);
        }

        String localHost() {
            InetSocketAddress local = (InetSocketAddress) testableLocalSocketAddress();
            return local == null ? null : local.getAddress().getHostAddress();
        }
    }

    @Test
    void boundHandlesConnectFromTheirAddressAndCountAgainstItsOwnLimit() throws Exception {
        List<Probe> bound = new ArrayList<>();
        List<Probe> plain = new ArrayList<>();
        String before = System.getProperty(SourceBoundClientCnxnSocket.SOURCE_ADDRESS_PROPERTY);
        try (TestingServer server = InProcessEnsembles.startServer(
                InProcessEnsembles.options().maxClientCnxns(3).build())) {
            System.setProperty(SourceBoundClientCnxnSocket.SOURCE_ADDRESS_PROPERTY, "127.0.0.9");
            ZKClientConfig boundConfig = new ZKClientConfig();
            boundConfig.setProperty(
                    ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, SourceBoundClientCnxnSocket.class.getName());
            for (int i = 0; i < 5; i++) {
                bound.add(new Probe(server.getConnectString(), boundConfig));
            }
            for (int i = 0; i < 3; i++) {
                plain.add(new Probe(server.getConnectString(), new ZKClientConfig()));
            }

            await().atMost(20, TimeUnit.SECONDS).untilAsserted(() -> {
                assertThat(plain)
                        .as("plain handles, connected")
                        .allMatch(zk -> zk.getState().isConnected());
                assertThat(plain).extracting(Probe::localHost).containsOnly("127.0.0.1");
                List<Probe> connected =
                        bound.stream().filter(zk -> zk.getState().isConnected()).toList();
                assertThat(connected).as("bound handles, connected").isNotEmpty();
                assertThat(connected).extracting(Probe::localHost).containsOnly("127.0.0.9");
            });
        } finally {
            if (before == null) {
                System.clearProperty(SourceBoundClientCnxnSocket.SOURCE_ADDRESS_PROPERTY);
            } else {
                System.setProperty(SourceBoundClientCnxnSocket.SOURCE_ADDRESS_PROPERTY, before);
            }
            for (ZooKeeper zk : bound) {
                zk.close(100);
            }
            for (ZooKeeper zk : plain) {
                zk.close(100);
            }
        }
    }
}
