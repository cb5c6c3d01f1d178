package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zksdk.cache.ZkCache;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.testing.FreePorts;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerProcess;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.data.Stat;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 21, items 1 (host names re-resolved before every connection attempt, injectable resolver) and 4
 * (read-only mode), from the README and the public API only. Host-name cases use real in-process servers on loopback
 * addresses (127.0.0.x, ::1); the read-only case uses three separate server processes, two killed with kill -9.
 */
class Review21AdversarialIT {

    static final byte[] V1 = "v1".getBytes(StandardCharsets.UTF_8);
    static final byte[] V2 = "v2".getBytes(StandardCharsets.UTF_8);
    static final byte[] ME = "me".getBytes(StandardCharsets.UTF_8);

    /** A standalone server bound to the wildcard address: reachable on every 127.0.0.x and on ::1. */
    static TestingServer shared;

    static int sharedPort;

    final List<ZkSessionPool> pools = new ArrayList<>();
    final List<TestingServer> servers = new ArrayList<>();

    @BeforeAll
    static void startShared() throws Exception {
        prepare();
        InstanceSpec spec = new InstanceSpec(null, FreePorts.take(), -1, -1, true, -1, 250, -1, Map.of(), "127.0.0.1");
        shared = new TestingServer(spec, true);
        sharedPort = shared.getPort();
        awaitServing("127.0.0.1", sharedPort);
    }

    @AfterAll
    static void stopShared() throws Exception {
        if (shared != null) {
            shared.close();
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (ZkSessionPool p : pools) {
            p.close();
        }
        for (TestingServer s : servers) {
            s.close();
        }
    }

    static void prepare() {
        System.setProperty("zookeeper.4lw.commands.whitelist", "*");
        System.setProperty("zookeeper.admin.enableServer", "false");
    }

    static void awaitServing(String ip, int port) {
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptions()
                .until(() ->
                        FourLetterWordMain.send4LetterWord(ip, port, "srvr").contains("Mode: "));
    }

    /** A standalone server bound to {@code ip:port} only, keeping its data in {@code dataDir}. */
    TestingServer serverOn(String ip, int port, File dataDir) throws Exception {
        prepare();
        InstanceSpec spec = new InstanceSpec(
                dataDir,
                port,
                -1,
                -1,
                false,
                -1,
                250,
                -1,
                Map.of("clientPortAddress", ip, "maxSessionTimeout", "30000"),
                ip);
        TestingServer server = new TestingServer(spec, true);
        servers.add(server);
        awaitServing(ip, port);
        return server;
    }

    static int freePortOn(String ip) throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(ip))) {
            return s.getLocalPort();
        }
    }

    static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A resolver from a mutable table; names not in it go to the JVM (literals), names ending .test fail. */
    static HostsConfig.Resolver table(Map<String, Supplier<InetAddress[]>> names) {
        return host -> {
            Supplier<InetAddress[]> s = names.get(host);
            if (s != null) {
                return s.get();
            }
            if (host.endsWith(".test")) {
                throw new UnknownHostException(host + ": not in the test's table");
            }
            return InetAddress.getAllByName(host);
        };
    }

    static HostsConfig.Builder hosts(HostsConfig.Resolver resolver) {
        return HostsConfig.builder()
                .resolver(resolver)
                .quarantineInitialBackoff(Duration.ofMillis(200))
                .quarantineMaxBackoff(Duration.ofSeconds(1))
                .reconnectJitterBase(Duration.ofMillis(20))
                .reconnectJitterCap(Duration.ofMillis(200));
    }

    ZkSessionPool pool(String connect, HostsConfig hosts, int sessions, Duration sessionTimeout, SessionListener l) {
        ZkSessionPool.Builder b = ZkSessionPool.builder()
                .connectString(connect)
                .hosts(hosts)
                .sessionsPerEnsemble(sessions)
                .sessionTimeout(sessionTimeout)
                .connectionTimeout(Duration.ofSeconds(8));
        if (l != null) {
            b.listener(l);
        }
        ZkSessionPool p = b.build();
        pools.add(p);
        return p;
    }

    static EnsembleStatus status(ZkSessionPool p) {
        return p.ensembles().get(0);
    }

    static Set<String> serversOf(ZkSessionPool p) {
        return status(p).sessions().stream()
                .map(SessionStatus::server)
                .filter(s -> s != null)
                .collect(Collectors.toSet());
    }

    static long millisSince(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    // ================================================================================================ item 1: names

    /** A resolver that throws an unchecked exception (a bug in user code) is a failure of that name, not a crash. */
    @Test
    void aResolverThrowingUncheckedIsQuarantinedAndTheOtherServerServesBothSessions() throws Exception {
        AtomicInteger boomCalls = new AtomicInteger();
        Map<String, Supplier<InetAddress[]>> names = new ConcurrentHashMap<>();
        names.put("good.test", () -> new InetAddress[] {ip("127.0.0.2")});
        names.put("boom.test", () -> {
            boomCalls.incrementAndGet();
            throw new IllegalStateException("resolver bug");
        });
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ZkSessionPool p = ZkSessionPool.builder()
                .connectString("boom.test:" + sharedPort + ",good.test:" + sharedPort)
                .hosts(hosts(table(names)).build())
                .sessionsPerEnsemble(2)
                .sessionTimeout(Duration.ofSeconds(6))
                .connectionTimeout(Duration.ofSeconds(8))
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                .build();
        pools.add(p);
        for (int i = 0; i < 4; i++) {
            try (ZkLease lease = p.lease()) {
                assertThat(lease.exists("/")).isNotNull();
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> status(p).connectedSessions() == 2);
        assertThat(serversOf(p)).containsExactly("good.test:" + sharedPort);
        assertThat(boomCalls.get()).as("the resolver was asked").isPositive();
        FunctionCounter failures =
                registry.find(MetricNames.HOSTS_RESOLVE_FAILURES).functionCounter();
        assertThat(failures).isNotNull();
        assertThat(failures.count()).isPositive();
    }

    /** Empty array, null and a name pointing where nothing listens: all skipped, the good server used. */
    @Test
    void emptyNullAndDeadAddressesAreSkippedAndCounted() throws Exception {
        int dead = freePortOn("127.0.0.5");
        Map<String, Supplier<InetAddress[]>> names = new ConcurrentHashMap<>();
        names.put("good.test", () -> new InetAddress[] {ip("127.0.0.2")});
        names.put("empty.test", () -> new InetAddress[0]);
        names.put("null.test", () -> null);
        // Same port as the live server, but the name points at an address where nothing listens.
        names.put("dead.test", () -> new InetAddress[] {ip("127.0.0.5")});
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ZkSessionPool p = ZkSessionPool.builder()
                .connectString("empty.test:" + sharedPort + ",null.test:" + sharedPort + ",dead.test:" + dead
                        + ",good.test:" + sharedPort)
                .hosts(hosts(table(names)).build())
                .sessionsPerEnsemble(3)
                .sessionTimeout(Duration.ofSeconds(6))
                .connectionTimeout(Duration.ofSeconds(8))
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                .build();
        pools.add(p);
        try (ZkLease lease = p.lease()) {
            assertThat(lease.exists("/")).isNotNull();
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> status(p).connectedSessions() == 3);
        assertThat(serversOf(p)).containsExactly("good.test:" + sharedPort);
        FunctionCounter failures =
                registry.find(MetricNames.HOSTS_RESOLVE_FAILURES).functionCounter();
        assertThat(failures).isNotNull();
        assertThat(failures.count())
                .as("empty and null both count as not resolving")
                .isGreaterThanOrEqualTo(2);
    }

    /** A name that resolves to the same address three times is one server, not three. */
    @Test
    void duplicateAddressesOfOneNameAreOneServer() throws Exception {
        Map<String, Supplier<InetAddress[]>> names = new ConcurrentHashMap<>();
        names.put("dup.test", () -> new InetAddress[] {ip("127.0.0.2"), ip("127.0.0.2"), ip("127.0.0.2")});
        ZkSessionPool p = pool("dup.test:" + sharedPort, hosts(table(names)).build(), 2, Duration.ofSeconds(6), null);
        try (ZkLease lease = p.lease()) {
            assertThat(lease.exists("/")).isNotNull();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> status(p).connectedSessions() == 2);
        assertThat(p.stats().connectionsPerServer()).containsExactly(Map.entry("dup.test:" + sharedPort, 2));
        assertThat(p.currentConnectString()).isEqualTo("dup.test:" + sharedPort);
    }

    /**
     * A name with two addresses, one black-holed (no answer at all): four sessions each pick an address at random
     * (so some start on the black hole, 15 in 16 runs), and all connect through the other one.
     */
    @Test
    void aNameWithABlackHoledAndALiveAddressConnects() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Map<String, Supplier<InetAddress[]>> names = new ConcurrentHashMap<>();
        names.put("multi.test", () -> {
            calls.incrementAndGet();
            return new InetAddress[] {ip("192.0.2.200"), ip("127.0.0.2")};
        });
        ZkSessionPool p = pool("multi.test:" + sharedPort, hosts(table(names)).build(), 4, Duration.ofSeconds(6), null);
        long t0 = System.nanoTime();
        try (ZkLease lease = p.lease()) {
            assertThat(lease.exists("/")).isNotNull();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> status(p).connectedSessions() == 4);
        long allMs = millisSince(t0);
        System.out.printf(
                "[review21] black-holed + live address: 4 sessions connected after %d ms, %d lookups%n",
                allMs, calls.get());
        assertThat(allMs).isLessThan(5_000);
        assertThat(serversOf(p)).containsExactly("multi.test:" + sharedPort);
    }

    /**
     * A resolver that blocks for seconds for one name: the other session connects and serves, pool status stays
     * answerable, and close() is not held hostage by the blocked resolver. Failed at 16102fa and f45d9d8: a lease
     * went to the session still making its first connection (inside the resolver) and waited for it, ~6 s, though the
     * other session was connected; with that fixed alone, close() then waited ~6 s for ZooKeeper's send thread.
     */
    @Test
    void aSlowResolverDelaysOnlyItsOwnAttempt() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Map<String, Supplier<InetAddress[]>> names = new ConcurrentHashMap<>();
        names.put("fast.test", () -> new InetAddress[] {ip("127.0.0.2")});
        names.put("slow.test", () -> {
            entered.countDown();
            try {
                release.await(6, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new InetAddress[] {ip("127.0.0.3")};
        });
        ZkSessionPool p = pool(
                "slow.test:" + sharedPort + ",fast.test:" + sharedPort,
                hosts(table(names)).build(),
                2,
                Duration.ofSeconds(6),
                null);
        long t0 = System.nanoTime();
        try (ZkLease lease = p.lease()) {
            assertThat(lease.exists("/")).isNotNull();
        }
        long firstRead = millisSince(t0);
        assertThat(entered.await(10, TimeUnit.SECONDS))
                .as("a session tried slow.test")
                .isTrue();
        // While the resolver blocks: status and stats answer, reads are served.
        long t1 = System.nanoTime();
        status(p);
        p.stats();
        long statusMs = millisSince(t1);
        long t2 = System.nanoTime();
        try (ZkLease lease = p.lease()) {
            assertThat(lease.getChildren("/")).isNotNull();
        }
        long readMs = millisSince(t2);
        // close() while slow.test's attempt is still inside the resolver.
        long t3 = System.nanoTime();
        p.close();
        long closeMs = millisSince(t3);
        release.countDown();
        System.out.printf(
                "[review21] slow resolver: first read %d ms, status %d ms, read while blocked %d ms, close %d ms%n",
                firstRead, statusMs, readMs, closeMs);
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(statusMs).as("status while the resolver blocks (ms)").isLessThan(500);
        soft.assertThat(readMs).as("read while the resolver blocks (ms)").isLessThan(2_000);
        soft.assertThat(closeMs)
                .as("close while the resolver blocks (ms), closeTimeout 2 s")
                .isLessThan(ZkSessionPool.DEFAULT_CLOSE_TIMEOUT.toMillis() + 1_000);
        soft.assertAll();
    }

    /**
     * The address behind a name changes while the client is connected (nothing else happens), then the server moves
     * there: the session comes back on the new address with the same id and its ephemeral; stats keep the name.
     */
    @Test
    void nameChangesWhileConnectedThenServerMovesSameSessionComesBack() throws Exception {
        movingServer(true);
    }

    /** As above, but the name changes only after the client was disconnected. */
    @Test
    void nameChangesWhileDisconnectedSameSessionComesBack() throws Exception {
        movingServer(false);
    }

    private void movingServer(boolean changeWhileConnected) throws Exception {
        int port = freePortOn("127.0.0.6");
        File dir = Files.createTempDirectory("zk-moving").toFile();
        TestingServer before = serverOn("127.0.0.6", port, dir);
        try (RawZooKeeper raw = RawZooKeeper.connect("127.0.0.6:" + port, Duration.ofSeconds(10))) {
            raw.zk().create("/app", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        Map<String, Supplier<InetAddress[]>> names = new ConcurrentHashMap<>();
        names.put("moving.test", () -> new InetAddress[] {ip("127.0.0.6")});
        Recorder events = new Recorder();
        ZkSessionPool p =
                pool("moving.test:" + port + "/app", hosts(table(names)).build(), 1, Duration.ofSeconds(10), events);
        long sessionId;
        try (ZkLease lease = p.lease()) {
            lease.ephemeral("/me", ME);
            sessionId = lease.sessionId();
        }
        if (changeWhileConnected) {
            names.put("moving.test", () -> new InetAddress[] {ip("127.0.0.7")});
            // Nothing should happen to a connected session just because the name now points elsewhere.
            try (ZkLease lease = p.lease()) {
                assertThat(lease.exists("/me")).isNotNull();
                assertThat(lease.sessionId()).isEqualTo(sessionId);
            }
            assertThat(events.saw(SessionState.SUSPENDED)).isFalse();
        }
        before.stop();
        await().atMost(Duration.ofSeconds(10)).until(() -> events.saw(SessionState.SUSPENDED));
        long t0 = System.nanoTime();
        if (!changeWhileConnected) {
            names.put("moving.test", () -> new InetAddress[] {ip("127.0.0.7")});
        }
        serverOn("127.0.0.7", port, dir);
        await().atMost(Duration.ofSeconds(10)).until(() -> status(p).connectedSessions() == 1);
        long backMs = millisSince(t0);
        System.out.printf(
                "[review21] moved server (change while connected=%s): back after %d ms%n",
                changeWhileConnected, backMs);
        assertThat(status(p).sessions().get(0).sessionId()).isEqualTo(sessionId);
        assertThat(status(p).sessions().get(0).server()).isEqualTo("moving.test:" + port);
        assertThat(events.saw(SessionState.LOST)).isFalse();
        try (ZkLease lease = p.lease()) {
            assertThat(lease.sessionId()).isEqualTo(sessionId);
            assertThat(lease.exists("/me").getEphemeralOwner()).isEqualTo(sessionId);
        }
        assertThat(FourLetterWordMain.send4LetterWord("127.0.0.7", port, "cons"))
                .contains("sid=0x" + Long.toHexString(sessionId));
        assertThat(p.currentConnectString()).isEqualTo("moving.test:" + port + "/app");
    }

    /**
     * The name is moved to a server of ANOTHER ensemble (a replaced VM that got a fresh ZooKeeper, a DNS mistake),
     * whose last zxid is far below what the session has seen. The pool must not hang: ZooKeeper's server refuses the
     * old session's handshake, so the session is declared lost at its timeout and a new one connects; a read must
     * then return within the operation timeout (not spin on a read-your-writes floor the other ensemble never
     * reaches), and the ephemeral must be owned by the live session.
     */
    @Test
    void nameMovedToAnotherEnsembleDoesNotHangThePool() throws Exception {
        int port = freePortOn("127.0.0.8");
        TestingServer a =
                serverOn("127.0.0.8", port, Files.createTempDirectory("zk-a").toFile());
        TestingServer b =
                serverOn("127.0.0.9", port, Files.createTempDirectory("zk-b").toFile());
        try (RawZooKeeper raw = RawZooKeeper.connect("127.0.0.9:" + port, Duration.ofSeconds(10))) {
            raw.zk().create("/marker-b", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        Map<String, Supplier<InetAddress[]>> names = new ConcurrentHashMap<>();
        names.put("zk.test", () -> new InetAddress[] {ip("127.0.0.8")});
        Recorder events = new Recorder();
        Duration sessionTimeout = Duration.ofSeconds(3);
        ZkSessionPool p = pool("zk.test:" + port, hosts(table(names)).build(), 1, sessionTimeout, events);
        try (ZkLease lease = p.lease()) {
            for (int i = 0; i < 30; i++) {
                lease.create("/a-" + i, V1, CreateMode.PERSISTENT);
            }
            lease.ephemeral("/me", ME);
        }
        names.put("zk.test", () -> new InetAddress[] {ip("127.0.0.9")});
        a.stop();
        long t0 = System.nanoTime();
        await().atMost(Duration.ofSeconds(30))
                .until(() -> events.saw(SessionState.LOST) && status(p).connectedSessions() == 1);
        long lostAndBack = millisSince(t0);
        long t1 = System.nanoTime();
        Throwable read = catchThrowable(() -> {
            try (ZkLease lease = p.lease()) {
                assertThat(lease.exists("/marker-b")).isNotNull();
            }
        });
        long readMs = millisSince(t1);
        System.out.printf(
                "[review21] other ensemble: lost+back after %d ms, read took %d ms, read failure %s%n",
                lostAndBack, readMs, read);
        assertThat(read).as("a read on the session to the other ensemble").isNull();
        assertThat(readMs).isLessThan(OperationPolicy.DEFAULT_OPERATION_TIMEOUT.toMillis());
        long live = status(p).sessions().get(0).sessionId();
        try (RawZooKeeper raw = RawZooKeeper.connect("127.0.0.9:" + port, Duration.ofSeconds(10))) {
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                Stat me = raw.zk().exists("/me", false);
                assertThat(me).isNotNull();
                assertThat(me.getEphemeralOwner()).isEqualTo(live);
            });
        }
    }

    /** updateConnectString with other names and the same chroot: names and chroot kept, session id kept. */
    @Test
    void updateConnectStringKeepsNamesAndChroot() throws Exception {
        Map<String, Supplier<InetAddress[]>> names = new ConcurrentHashMap<>();
        names.put("old.test", () -> new InetAddress[] {ip("127.0.0.2")});
        names.put("new1.test", () -> new InetAddress[] {ip("127.0.0.3")});
        names.put("new2.test", () -> new InetAddress[] {ip("127.0.0.4")});
        try (RawZooKeeper raw = RawZooKeeper.connect("127.0.0.1:" + sharedPort, Duration.ofSeconds(10))) {
            if (raw.zk().exists("/upd", false) == null) {
                raw.zk().create("/upd", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        }
        ZkSessionPool p =
                pool("old.test:" + sharedPort + "/upd", hosts(table(names)).build(), 1, Duration.ofSeconds(8), null);
        long sessionId;
        try (ZkLease lease = p.lease()) {
            lease.ephemeral("/before", ME);
            sessionId = lease.sessionId();
        }
        String next = "new1.test:" + sharedPort + ",new2.test:" + sharedPort + "/upd";
        p.updateConnectString(next);
        assertThat(p.currentConnectString()).isEqualTo(next);
        await().atMost(Duration.ofSeconds(15)).until(() -> serversOf(p).stream().anyMatch(s -> s.startsWith("new")));
        assertThat(status(p).sessions().get(0).sessionId()).isEqualTo(sessionId);
        try (ZkLease lease = p.lease()) {
            lease.create("/after", V1, CreateMode.PERSISTENT);
        }
        try (RawZooKeeper raw = RawZooKeeper.connect("127.0.0.1:" + sharedPort, Duration.ofSeconds(10))) {
            assertThat(raw.zk().exists("/upd/after", false))
                    .as("written under the chroot")
                    .isNotNull();
            assertThat(raw.zk().exists("/upd/before", false).getEphemeralOwner())
                    .isEqualTo(sessionId);
        }
        // Dropping the chroot or changing it: refused, naming the value, nothing changes.
        for (String bad : List.of("new1.test:" + sharedPort, "new1.test:" + sharedPort + "/other")) {
            Throwable t = catchThrowable(() -> p.updateConnectString(bad));
            assertThat(t).as(bad).isInstanceOf(IllegalArgumentException.class);
            assertThat(t.getMessage()).as(bad).contains(bad);
            assertThat(p.currentConnectString()).isEqualTo(next);
        }
    }

    /** An IPv6 literal works as a server, in stats and in updateConnectString, with a chroot. */
    @Test
    void ipv6LiteralWorksAndIsKept() throws Exception {
        try (RawZooKeeper raw = RawZooKeeper.connect("127.0.0.1:" + sharedPort, Duration.ofSeconds(10))) {
            if (raw.zk().exists("/v6", false) == null) {
                raw.zk().create("/v6", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        }
        String v6 = "[::1]:" + sharedPort;
        HostsConfig hc = hosts(HostsConfig.SYSTEM_RESOLVER).weight(v6, 3).build();
        ZkSessionPool p = pool(v6 + "/v6", hc, 1, Duration.ofSeconds(8), null);
        try (ZkLease lease = p.lease()) {
            lease.create("/x", V1, CreateMode.PERSISTENT);
        }
        assertThat(status(p).sessions().get(0).server()).isEqualTo(v6);
        assertThat(p.currentConnectString()).isEqualTo(v6 + "/v6");
        String both = v6 + ",127.0.0.3:" + sharedPort + "/v6";
        p.updateConnectString(both);
        assertThat(p.currentConnectString()).isEqualTo(both);
        try (ZkLease lease = p.lease()) {
            assertThat(lease.getData("/x")).isEqualTo(V1);
        }
    }

    /** Bad connect strings fail early with IllegalArgumentException naming the value, at build and at update. */
    @Test
    void badConnectStringsFailEarlyNamingTheValue() throws Exception {
        List<String> bad = List.of(
                "zk1.test",
                "zk1.test:",
                "zk1.test:abc",
                "zk1.test:0",
                "zk1.test:65536",
                ":2181",
                "[::1:2181",
                "::1:2181",
                "[::1]",
                "zk1.test:2181,,zk2.test:2181",
                "zk1.test:2181:2182",
                "zk 1.test:2181",
                "http://zk1.test:2181",
                "zk1.test:2181/app/",
                "zk1.test:2181//app");
        ZkSessionPool p = pool("127.0.0.2:" + sharedPort, HostsConfig.defaults(), 1, Duration.ofSeconds(8), null);
        List<String> problems = new ArrayList<>();
        for (String s : bad) {
            Throwable atBuild = catchThrowable(
                    () -> ZkSessionPool.builder().connectString(s).build().close());
            check(problems, "build", s, atBuild);
            Throwable atUpdate = catchThrowable(() -> p.updateConnectString(s));
            check(problems, "update", s, atUpdate);
        }
        assertThat(p.currentConnectString()).isEqualTo("127.0.0.2:" + sharedPort);
        assertThat(problems).isEmpty();
    }

    private static void check(List<String> problems, String where, String value, Throwable t) {
        if (!(t instanceof IllegalArgumentException)) {
            problems.add(where + " '" + value + "': " + (t == null ? "accepted" : t.toString()));
        } else if (!t.getMessage().contains(value) || !t.getMessage().contains("connectString")) {
            problems.add(where + " '" + value + "': message does not name setting and value: " + t.getMessage());
        }
    }

    /**
     * A pool whose connect string has only names (resolved by the injected resolver, not DNS) must still learn that
     * its 3.9 server has persistent watches and container nodes: the members' version probe must use the names as
     * the pool resolves them. Failed when written (members were asked on every version, since taken back): the srvr probe resolves the names through the JVM, the members stay
     * "silent", and the container create is refused (ZkUnsupportedException, "needs 3.5 ... runs 3.6 or later").
     */
    @Test
    void namesKnownOnlyToTheResolverStillGetTheServersFeatures() throws Exception {
        Map<String, Supplier<InetAddress[]>> names = new ConcurrentHashMap<>();
        names.put("feat1.test", () -> new InetAddress[] {ip("127.0.0.2")});
        names.put("feat2.test", () -> new InetAddress[] {ip("127.0.0.3")});
        ZkSessionPool p = pool(
                "feat1.test:" + sharedPort + ",feat2.test:" + sharedPort,
                hosts(table(names)).build(),
                1,
                Duration.ofSeconds(8),
                null);
        Recorder watch = new Recorder();
        try (ZkLease lease = p.lease()) {
            lease.create("/feat", new byte[0], CreateMode.CONTAINER);
            lease.create("/feat/child", new byte[0], CreateMode.PERSISTENT);
            lease.watch("/feat/child", watch);
            lease.setData("/feat/child", V2, -1);
        }
        // The container create above was made, not refused as on a server before 3.5 (ZkUnsupportedException): a Stat
        // does not tell a container (ZooKeeper reports its ephemeralOwner as 0).
        await().atMost(Duration.ofSeconds(10)).until(() -> !watch.watchEvents().isEmpty());
    }

    /** Runs {@code body} on its own thread: "ok in N ms" or "the failure after N ms". */
    static CompletableFuture<String> timed(ThrowingRunnable body) {
        return CompletableFuture.supplyAsync(
                () -> {
                    long t0 = System.nanoTime();
                    try {
                        body.run();
                        return "ok in " + millisSince(t0) + " ms";
                    } catch (Throwable t) {
                        return t + " after " + millisSince(t0) + " ms";
                    }
                },
                r -> {
                    Thread t = new Thread(r, "review21-timed");
                    t.setDaemon(true);
                    t.start();
                });
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    // ================================================================================================ item 4:
    // read-only

    /**
     * Three server processes with readonlymode.enabled; a read-only pool (two sessions) and a pool without read-only
     * on the same ensemble; two members killed, then restarted. Failed at 16102fa and f45d9d8: a watch or a cache
     * registered while read-only (and a watch on a pool built during the partition) waited connectionTimeout +
     * sessionTimeout, then ZkUnavailableException "no connected session". The watch and the cache registered while
     * read-only must also keep working once the session is read-write again.
     */
    @Test
    void readOnlyPartitionAndBack() throws Exception {
        Duration sessionTimeout = Duration.ofSeconds(4);
        Duration connectionTimeout = Duration.ofSeconds(8);
        OperationPolicy policy = OperationPolicy.builder()
                .operationTimeout(Duration.ofSeconds(12))
                .build();
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder()
                .size(3)
                .jvmOption("-Dreadonlymode.enabled=true")
                .extraConfig("localSessionsEnabled=true")
                .extraConfig("localSessionsUpgradingEnabled=true")
                .start()) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            Recorder roEvents = new Recorder();
            Recorder rwEvents = new Recorder();
            ZkSessionPool ro = ZkSessionPool.builder()
                    .name("ro")
                    .connectString(ensemble.connectString())
                    .sessionTimeout(sessionTimeout)
                    .connectionTimeout(connectionTimeout)
                    .sessionsPerEnsemble(2)
                    .operationPolicy(policy)
                    .canBeReadOnly(true)
                    .listener(roEvents)
                    .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                    .build();
            pools.add(ro);
            ZkSessionPool rw = ZkSessionPool.builder()
                    .name("rw")
                    .connectString(ensemble.connectString())
                    .sessionTimeout(sessionTimeout)
                    .connectionTimeout(connectionTimeout)
                    .operationPolicy(policy)
                    .listener(rwEvents)
                    .build();
            pools.add(rw);

            Recorder watchBefore = new Recorder();
            ZkCache cache;
            try (ZkLease lease = ro.lease()) {
                lease.create("/ro", new byte[0], CreateMode.PERSISTENT);
                lease.create("/ro/config", V1, CreateMode.PERSISTENT);
                lease.ephemeral("/ro/e-before", ME);
                lease.watch("/ro/config", watchBefore);
                cache = lease.cache("/ro/config");
                assertThat(cache.get().data()).isEqualTo(V1);
            }
            try (ZkLease lease = rw.lease()) {
                lease.ephemeral("/ro/rw-before", ME);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> status(ro).connectedSessions() == 2);
            String survivor = status(ro).sessions().get(0).server();
            ServerProcess survivorProcess = ensemble.servers().stream()
                    .filter(s -> s.address().equals(survivor))
                    .findFirst()
                    .orElseThrow();
            roEvents.clear();
            rwEvents.clear();

            long tKill = System.nanoTime();
            for (ServerProcess s : ensemble.servers()) {
                if (s != survivorProcess) {
                    s.kill9();
                }
            }
            await().atMost(Duration.ofSeconds(40)).until(() -> roEvents.saw(SessionState.READ_ONLY));
            long toReadOnly = millisSince(tKill);
            SoftAssertions soft = new SoftAssertions();
            Map<String, Object> numbers = new HashMap<>();
            numbers.put("killToReadOnlyMs", toReadOnly);

            // Both sessions end up read-only on the survivor.
            await().atMost(Duration.ofSeconds(20)).until(() -> status(ro).readOnlySessions() == 2);
            EnsembleStatus st = status(ro);
            soft.assertThat(st.sessions()).allSatisfy(s -> assertThat(s.state()).isEqualTo(SessionState.READ_ONLY));
            Gauge gauge = registry.find(MetricNames.SESSIONS_STATE)
                    .tag("state", "read_only")
                    .gauge();
            soft.assertThat(gauge).isNotNull();
            if (gauge != null) {
                soft.assertThat(gauge.value()).as("read_only gauge").isEqualTo(2.0);
            }

            // Reads and the cache made before; a watch and a cache registered now (in parallel: each may wait).
            try (ZkLease lease = ro.lease()) {
                soft.assertThat(lease.getData("/ro/config")).isEqualTo(V1);
                soft.assertThat(lease.getDataAsync("/ro/config").get(5, TimeUnit.SECONDS))
                        .isEqualTo(V1);
                soft.assertThat(lease.getChildren("/ro")).contains("config");
                soft.assertThat(cache.get().data()).isEqualTo(V1);
            }
            Recorder watchDuringEvents = new Recorder();
            AtomicReference<ZkCache> cacheMadeDuring = new AtomicReference<>();
            CompletableFuture<String> watchDuring = timed(() -> {
                try (ZkLease lease = ro.lease()) {
                    lease.watch("/ro/config", watchDuringEvents);
                }
            });
            CompletableFuture<String> cacheDuring = timed(() -> {
                try (ZkLease lease = ro.lease()) {
                    ZkCache c = lease.cache("/ro");
                    c.get();
                    cacheMadeDuring.set(c);
                }
            });
            // A new read-only pool built during the partition: a read, then a watch.
            ZkSessionPool late = ZkSessionPool.builder()
                    .name("late")
                    .connectString(ensemble.connectString())
                    .sessionTimeout(sessionTimeout)
                    .connectionTimeout(connectionTimeout)
                    .canBeReadOnly(true)
                    .build();
            pools.add(late);
            CompletableFuture<String> lateRead = timed(() -> {
                try (ZkLease lease = late.lease()) {
                    assertThat(lease.getData("/ro/config")).isEqualTo(V1);
                }
            });
            CompletableFuture<String> lateWatch = lateRead.thenCompose(r -> timed(() -> {
                try (ZkLease lease = late.lease()) {
                    lease.watch("/ro/config", new Recorder());
                }
            }));

            // Writes: every form fails at once with NOTREADONLY; many of them do not open the breaker for reads.
            List<String> writeProblems = new ArrayList<>();
            long slowestWrite = 0;
            for (int i = 0; i < 12; i++) {
                try (ZkLease lease = ro.lease()) {
                    int k = i % 6;
                    long t0 = System.nanoTime();
                    Throwable t = catchThrowable(() -> {
                        switch (k) {
                            case 0 -> lease.setData("/ro/config", V2, -1);
                            case 1 -> lease.create("/ro/new", V2, CreateMode.PERSISTENT);
                            case 2 -> lease.delete("/ro/config", -1);
                            case 3 -> lease.multi(List.of(Op.setData("/ro/config", V2, -1)));
                            case 4 -> lease.setDataAsync("/ro/config", V2, -1).join();
                            default -> lease.create("/ro/seq-", V2, CreateMode.PERSISTENT_SEQUENTIAL);
                        }
                    });
                    long ms = millisSince(t0);
                    slowestWrite = Math.max(slowestWrite, ms);
                    Throwable cause = t instanceof java.util.concurrent.CompletionException ? t.getCause() : t;
                    if (!(cause instanceof ZkException ze) || ze.code() != Code.NOTREADONLY) {
                        writeProblems.add("write form " + k + ": " + cause);
                    } else if (cause instanceof ZkConnectionLossException) {
                        writeProblems.add("write form " + k + " is a connection loss: " + cause);
                    }
                }
            }
            numbers.put("slowestRefusedWriteMs", slowestWrite);
            soft.assertThat(writeProblems).as("write refusals").isEmpty();
            soft.assertThat(slowestWrite).as("slowest refused write (ms)").isLessThan(1_000);
            soft.assertThat(status(ro).isCircuitOpen())
                    .as("breaker open after refused writes")
                    .isFalse();
            try (ZkLease lease = ro.lease()) {
                Throwable readAfterWrites = catchThrowable(() -> lease.getData("/ro/config"));
                soft.assertThat(readAfterWrites)
                        .as("a read after 12 refused writes")
                        .isNull();
                long t0 = System.nanoTime();
                Throwable eph = catchThrowable(() -> lease.ephemeral("/ro/e-during", ME));
                numbers.put("ephemeralRefusalMs", millisSince(t0));
                soft.assertThat(eph).isInstanceOf(ZkException.class);
                if (eph instanceof ZkException ze) {
                    soft.assertThat(ze.code()).isEqualTo(Code.NOTREADONLY);
                }
            }

            // The pool without read-only: never read-only, its reads are not served by the read-only server.
            long t0 = System.nanoTime();
            Throwable rwRead = catchThrowable(() -> {
                try (ZkLease lease = rw.lease()) {
                    lease.getData("/ro/config");
                }
            });
            numbers.put("rwPoolReadFailMs", millisSince(t0));
            numbers.put("rwPoolRead", String.valueOf(rwRead));
            soft.assertThat(rwRead).as("read on the pool without read-only").isNotNull();
            soft.assertThat(rwEvents.saw(SessionState.READ_ONLY)).isFalse();
            soft.assertThat(status(rw).readOnlySessions()).isZero();

            numbers.put("watchDuring", watchDuring.get(60, TimeUnit.SECONDS));
            numbers.put("cacheDuring", cacheDuring.get(60, TimeUnit.SECONDS));
            numbers.put("lateRead", lateRead.get(60, TimeUnit.SECONDS));
            numbers.put("lateWatch", lateWatch.get(60, TimeUnit.SECONDS));
            soft.assertThat(watchDuring.get())
                    .as("watch registered while read-only")
                    .startsWith("ok");
            soft.assertThat(cacheDuring.get()).as("cache made while read-only").startsWith("ok");
            soft.assertThat(lateRead.get())
                    .as("read on a pool built during the partition")
                    .startsWith("ok");
            soft.assertThat(lateWatch.get())
                    .as("watch on a pool built during the partition")
                    .startsWith("ok");
            late.close();

            // The majority comes back.
            long tRestart = System.nanoTime();
            for (ServerProcess s : ensemble.servers()) {
                if (!s.isAlive()) {
                    s.restart();
                }
            }
            await().atMost(Duration.ofSeconds(60))
                    .until(() ->
                            status(ro).readOnlySessions() == 0 && status(ro).connectedSessions() == 2);
            numbers.put("restartToReadWriteMs", millisSince(tRestart));
            long t1 = System.nanoTime();
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                try (ZkLease lease = ro.lease()) {
                    lease.setData("/ro/config", V2, -1);
                    return true;
                }
            });
            numbers.put("firstWriteAfterRwMs", millisSince(t1));
            try (ZkLease lease = ro.lease()) {
                lease.ephemeral("/ro/e-after", ME);
                lease.ephemeral("/ro/e-during", ME);
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> Arrays.equals(cache.get().data(), V2));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> watchBefore.watchEvents().stream().anyMatch(e -> e.type() != null));
            // The watch and the cache registered while read-only are re-armed on the read-write session: they see
            // writes made after that (written until the watch reports one: a write before the re-arm shows as RESYNC).
            await().atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        try (ZkLease lease = ro.lease()) {
                            lease.setData("/ro/config", V2, -1);
                        }
                        return watchDuringEvents.watchEvents().stream()
                                .anyMatch(e -> e.type() == WatchEvent.Type.DATA_CHANGED);
                    });
            soft.assertThat(cacheMadeDuring.get())
                    .as("cache made while read-only")
                    .isNotNull();
            if (cacheMadeDuring.get() != null) {
                try (ZkLease lease = ro.lease()) {
                    lease.setData("/ro", V2, -1);
                }
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> Arrays.equals(cacheMadeDuring.get().get().data(), V2));
            }
            // The pool without read-only failed fast during the partition (its session known unreachable); it serves
            // again once its session reconnects, which its own reconnection backoff paces.
            await().atMost(Duration.ofSeconds(30)).until(() -> status(rw).connectedSessions() == 1);
            try (ZkLease lease = rw.lease()) {
                lease.setData("/ro/config", V2, -1);
            }
            Set<Long> roIds =
                    status(ro).sessions().stream().map(SessionStatus::sessionId).collect(Collectors.toSet());
            long rwId = status(rw).sessions().get(0).sessionId();
            try (RawZooKeeper raw = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(10))) {
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                    for (String path : List.of("/ro/e-before", "/ro/e-after", "/ro/e-during")) {
                        Stat s = raw.zk().exists(path, false);
                        assertThat(s).as(path).isNotNull();
                        assertThat(roIds).as(path + " owner").contains(s.getEphemeralOwner());
                    }
                    Stat s = raw.zk().exists("/ro/rw-before", false);
                    assertThat(s).isNotNull();
                    assertThat(s.getEphemeralOwner()).isEqualTo(rwId);
                });
            }
            if (gauge != null) {
                soft.assertThat(gauge.value()).as("read_only gauge after").isZero();
            }
            numbers.put("roStates", roEvents.states());
            numbers.put("rwStates", rwEvents.states());
            System.out.println("[review21] read-only: " + numbers);
            soft.assertAll();
        }
    }
}
