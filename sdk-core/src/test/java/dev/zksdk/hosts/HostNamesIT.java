package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Names in the connect string against real servers on several loopback addresses (127.0.0.x), resolved through an
 * injected resolver: a server that moves to another address, a name that does not resolve.
 */
class HostNamesIT {

    private static final int SESSION_TIMEOUT_MS = 8_000;

    private final List<ZooKeeper> handles = new ArrayList<>();
    private final List<TestingServer> servers = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (ZooKeeper zk : handles) {
            zk.close();
        }
        for (TestingServer s : servers) {
            s.close();
        }
    }

    /** A standalone server bound to {@code ip:port} only, keeping its data in {@code dataDir} across restarts. */
    private TestingServer serverOn(String ip, int port, File dataDir) throws Exception {
        LocalServers.prepareServerProperties();
        InstanceSpec spec = new InstanceSpec(
                dataDir,
                port,
                -1,
                -1,
                false,
                -1,
                LocalServers.TICK_MS,
                -1,
                Map.of("clientPortAddress", ip, "maxSessionTimeout", String.valueOf(4 * SESSION_TIMEOUT_MS)),
                ip);
        TestingServer server = new TestingServer(spec, true);
        servers.add(server);
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptions()
                .until(() ->
                        FourLetterWordMain.send4LetterWord(ip, port, "srvr").contains("Mode: "));
        return server;
    }

    private static int freePortOn(String ip) throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(ip))) {
            return s.getLocalPort();
        }
    }

    private ZooKeeper open(HostsZookeeperFactory factory, String connectString) throws Exception {
        ZooKeeper zk = factory.newZooKeeper(connectString, SESSION_TIMEOUT_MS, e -> {}, false);
        handles.add(zk);
        return zk;
    }

    private static HostsZookeeperFactory factory(HostsConfig.Resolver resolver) {
        SessionSpread spread =
                new SessionSpread(HostsConfig.builder().resolver(resolver).build());
        return new HostsZookeeperFactory(
                spread, new ConnectionBudget(), SessionCreationLimiter.create(1_000, System::nanoTime));
    }

    @Test
    void aServerThatMovedToAnotherAddressIsFoundAgainWithTheSameSession() throws Exception {
        int port = freePortOn("127.0.0.2");
        File dataDir = Files.createTempDirectory("zk-moving").toFile();
        TestingServer before = serverOn("127.0.0.2", port, dataDir);
        AtomicReference<InetAddress> behindName = new AtomicReference<>(InetAddress.getByName("127.0.0.2"));
        HostsZookeeperFactory factory = factory(host -> {
            if (!host.equals("zk.moving.test")) {
                throw new UnknownHostException(host);
            }
            return new InetAddress[] {behindName.get()};
        });
        ZooKeeper zk = open(factory, "zk.moving.test:" + port);
        await().atMost(Duration.ofSeconds(10)).until(() -> zk.getState().isConnected());
        long sessionId = zk.getSessionId();
        zk.create("/owned", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);

        // The server goes away (a pod rescheduled): the client is disconnected, then the name points elsewhere and
        // the server comes back there, with its data, on 127.0.0.3 only; nothing listens on 127.0.0.2 any more.
        before.stop();
        await().atMost(Duration.ofSeconds(10)).until(() -> !zk.getState().isConnected());
        behindName.set(InetAddress.getByName("127.0.0.3"));
        serverOn("127.0.0.3", port, dataDir);

        await().atMost(Duration.ofMillis(SESSION_TIMEOUT_MS))
                .until(() -> zk.getState().isConnected());
        assertThat(zk.getSessionId()).isEqualTo(sessionId);
        assertThat(zk.exists("/owned", false).getEphemeralOwner()).isEqualTo(sessionId);
        String cons = FourLetterWordMain.send4LetterWord("127.0.0.3", port, "cons");
        assertThat(cons).contains("sid=0x" + Long.toHexString(sessionId));
        assertThat(factory.spread().stats().connectionsPerServer())
                .containsExactly(Map.entry("zk.moving.test:" + port, 1));
    }

    @Test
    void anUnresolvableNameAmongGoodOnesIsQuarantinedAndSessionsUseTheOthers() throws Exception {
        int port = freePortOn("127.0.0.2");
        File dir2 = Files.createTempDirectory("zk-a").toFile();
        File dir3 = Files.createTempDirectory("zk-b").toFile();
        serverOn("127.0.0.2", port, dir2);
        serverOn("127.0.0.3", port, dir3);
        Map<String, InetAddress> names = Map.of(
                "zk1.test", InetAddress.getByName("127.0.0.2"),
                "zk2.test", InetAddress.getByName("127.0.0.3"));
        HostsZookeeperFactory factory = factory(host -> {
            InetAddress a = names.get(host);
            if (a == null) {
                throw new UnknownHostException(host + ": no such name");
            }
            return new InetAddress[] {a};
        });
        String connect = "gone.test:" + port + ",zk1.test:" + port + ",zk2.test:" + port;
        List<ZooKeeper> sessions = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            sessions.add(open(factory, connect));
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> sessions.stream().allMatch(zk -> zk.getState().isConnected()));
        for (ZooKeeper zk : sessions) {
            assertThat(zk.exists("/", false)).isNotNull();
        }
        HostOrderingStats stats = factory.spread().stats();
        assertThat(stats.resolveFailures()).isPositive();
        assertThat(stats.quarantined()).containsKey("gone.test:" + port);
        assertThat(stats.connectionsPerServer()).containsOnlyKeys("zk1.test:" + port, "zk2.test:" + port);
        assertThat(stats.connectionsPerServer().values().stream()
                        .mapToInt(Integer::intValue)
                        .sum())
                .isEqualTo(4);
    }
}
