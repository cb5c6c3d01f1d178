package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerConnections;
import dev.zksdk.testing.ServerProcess;
import dev.zksdk.testing.SessionLeases;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A connect string changed at runtime ({@link ZkSessionPool#updateConnectString}): sessions keep their ids and move
 * only as far as they must, sessions made after an expiry use the new list, and bad input changes nothing.
 */
class ConnectStringUpdateIT {

    private static final String CLIENT = "127.0.0.1";
    private static TestingCluster cluster;
    private static String a;
    private static String b;
    private static String c;

    @BeforeAll
    static void startCluster() {
        cluster = InProcessEnsembles.startCluster(3);
        List<String> servers = new ArrayList<>();
        for (InstanceSpec spec : cluster.getInstances()) {
            servers.add(CLIENT + ":" + spec.getPort());
        }
        a = servers.get(0);
        b = servers.get(1);
        c = servers.get(2);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        cluster.close();
    }

    private static ZkSessionPool pool(String connect, int sessions, Recorder events) {
        return ZkSessionPool.builder()
                .connectString(connect)
                // Long enough that a loaded machine does not drop a connection on its own: every move here is the
                // change's.
                .sessionTimeout(Duration.ofSeconds(10))
                .connectionTimeout(Duration.ofSeconds(15))
                .sessionsPerEnsemble(sessions)
                .hosts(HostsConfig.builder().sessionCreationRate(100).build())
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(30))
                        .breakerFailureRateThreshold(100f)
                        .build())
                .listener(events)
                .build();
    }

    /** One lease per session: held leases go to the session with the fewest (not in index order). */
    private static List<ZkLease> leaseEach(ZkSessionPool pool, EnsembleConfig ensemble, int sessions) {
        return SessionLeases.oneOnEachSession(
                () -> pool.lease(ensemble), () -> SessionLeases.connected(pool) >= sessions, sessions);
    }

    private static List<Long> ids(List<ZkLease> leases) {
        return leases.stream().map(ZkLease::sessionId).collect(Collectors.toList());
    }

    private static EnsembleStatus status(ZkSessionPool pool, EnsembleConfig ensemble) {
        return pool.ensembles().stream()
                .filter(e -> e.connectString().equals(ensemble.connectString())
                        && e.requestedSessionTimeout().equals(ensemble.sessionTimeout()))
                .findFirst()
                .orElseThrow();
    }

    /** Each session's server by index; null while it is not connected. */
    private static List<String> serversBySession(ZkSessionPool pool, EnsembleConfig ensemble) {
        return status(pool, ensemble).sessions().stream()
                .map(SessionStatus::server)
                .collect(Collectors.toList());
    }

    private static int total(Map<String, Integer> perServer) {
        return perServer.values().stream().mapToInt(Integer::intValue).sum();
    }

    private static void assertNoSessionLost(Recorder events) {
        assertThat(events.sessionEvents()).noneMatch(e -> e.state() == SessionState.LOST);
        assertThat(events.sessionEvents()).noneMatch(SessionEvent::newSession);
    }

    @Test
    void addingServersMovesAShareOfTheSessionsEachKeepingItsSession() {
        int sessions = 12;
        Recorder events = new Recorder();
        try (ZkSessionPool pool = pool(a, sessions, events)) {
            List<ZkLease> leases = leaseEach(pool, pool.defaultEnsemble(), sessions);
            List<Long> ids = ids(leases);
            assertThat(pool.stats().connectionsPerServer()).containsOnlyKeys(a).containsEntry(a, sessions);

            pool.updateConnectString(a + "," + b + "," + c);

            // Each session stays on A with probability 1/3: all twelve stay about once in half a million runs.
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                Map<String, Integer> now = pool.stats().connectionsPerServer();
                return total(now) == sessions && now.getOrDefault(a, 0) < sessions;
            });
            await().atMost(Duration.ofSeconds(30))
                    .ignoreExceptions()
                    .until(() -> ServerConnections.connectionsFrom(b, CLIENT)
                                    + ServerConnections.connectionsFrom(c, CLIENT)
                            == sessions - pool.stats().connectionsPerServer().getOrDefault(a, 0));
            System.out.println("after adding B and C: " + pool.stats().connectionsPerServer());
            for (int i = 0; i < sessions; i++) {
                assertThat(leases.get(i).exists("/")).isNotNull();
                assertThat(leases.get(i).sessionId()).as("session %d", i).isEqualTo(ids.get(i));
            }
            assertNoSessionLost(events);
            assertThat(pool.stats().sessionsOpened()).isEqualTo(sessions);

            // The ensemble keeps its identity: the config it was built with still leases it, and reports it.
            assertThat(pool.currentConnectString()).isEqualTo(a + "," + b + "," + c);
            assertThat(pool.ensembles()).hasSize(1);
            assertThat(pool.ensembles().get(0).connectString()).isEqualTo(a);
            try (ZkLease again = pool.lease(EnsembleConfig.builder()
                    .connectString(a)
                    .sessionTimeout(Duration.ofSeconds(10))
                    .connectionTimeout(Duration.ofSeconds(15))
                    .sessionsPerEnsemble(sessions)
                    .build())) {
                assertThat(ids).contains(again.sessionId());
            }
            leases.forEach(ZkLease::close);
        }
    }

    @Test
    void removingAServerMovesEverySessionOnItOnlyThoseAndLeasesKeepWorking() throws Exception {
        int sessions = 9;
        Recorder events = new Recorder();
        try (ZkSessionPool pool = pool(a + "," + b + "," + c, sessions, events);
                ZkSessionPool setup = ZkSessionPool.builder().connectString(b).build();
                ZkLease setupLease = setup.lease()) {
            setupLease.create("/removal", new byte[0], CreateMode.PERSISTENT);
            List<ZkLease> leases = leaseEach(pool, pool.defaultEnsemble(), sessions);
            List<Long> ids = ids(leases);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> total(pool.stats().connectionsPerServer()) == sessions);
            List<String> before = serversBySession(pool, pool.defaultEnsemble());
            assertThat(before)
                    .as("the pool spreads its sessions, so some are on A")
                    .contains(a);
            events.clear();

            // Reads and writes on every session, before, during and after the change. A session that moves loses its
            // connection: a write in flight then may honestly report its outcome unknown, and the server must hold
            // either
            // that write or the one before it (this loop is the only writer). Nothing else may fail.
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong done = new AtomicLong();
            AtomicLong unknown = new AtomicLong();
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            Thread loop = new Thread(
                    () -> {
                        String[] known = new String[sessions];
                        for (long n = 0; !stop.get(); n++) {
                            int i = (int) (n % sessions);
                            ZkLease lease = leases.get(i);
                            String path = "/removal/s" + i;
                            String value = Long.toString(n);
                            try {
                                try {
                                    if (n < sessions) {
                                        lease.create(
                                                path, value.getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
                                    } else {
                                        lease.setData(path, value.getBytes(StandardCharsets.UTF_8), -1);
                                    }
                                } catch (ZkConnectionLossException e) {
                                    if (!e.outcomeUnknown() || n < sessions) {
                                        throw e;
                                    }
                                    unknown.incrementAndGet();
                                    String held = new String(lease.getData(path), StandardCharsets.UTF_8);
                                    if (!held.equals(value) && !held.equals(known[i])) {
                                        failures.add(new AssertionError("after an outcome-unknown write of " + value
                                                + " to " + path + " the server holds " + held
                                                + ", neither it nor the previous value " + known[i]));
                                    }
                                    known[i] = held;
                                    continue;
                                }
                                if (!new String(lease.getData(path), StandardCharsets.UTF_8).equals(value)) {
                                    failures.add(new AssertionError("read back a different value at " + path));
                                }
                                known[i] = value;
                                done.incrementAndGet();
                            } catch (RuntimeException e) {
                                failures.add(e);
                            }
                        }
                    },
                    "connstr-loop");
            loop.start();
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> done.get() >= 20);
                pool.updateConnectString(b + "," + c);

                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    Map<String, Integer> now = pool.stats().connectionsPerServer();
                    return total(now) == sessions && !now.containsKey(a);
                });
                // The server agrees: nothing of ours is left on A.
                await().atMost(Duration.ofSeconds(30))
                        .ignoreExceptions()
                        .until(() -> ServerConnections.connectionsFrom(a, CLIENT) == 0);
                long afterMove = done.get();
                await().atMost(Duration.ofSeconds(30)).until(() -> done.get() >= afterMove + 2L * sessions);
            } finally {
                stop.set(true);
                loop.join(60_000);
            }
            assertThat(failures)
                    .as(
                            "operations failed during the change (%d writes in flight at a move reported their "
                                    + "outcome unknown)",
                            unknown.get())
                    .isEmpty();

            List<String> after = serversBySession(pool, pool.defaultEnsemble());
            for (int i = 0; i < sessions; i++) {
                assertThat(leases.get(i).sessionId()).as("session %d", i).isEqualTo(ids.get(i));
                assertThat(after.get(i)).as("session %d", i).isIn(b, c);
                if (!before.get(i).equals(a)) {
                    // B and C each held a third and now should hold half: no session of theirs had to move.
                    assertThat(after.get(i))
                            .as("session %d was on %s", i, before.get(i))
                            .isEqualTo(before.get(i));
                    int index = i;
                    assertThat(events.sessionEvents()).as("session %d", i).noneMatch(e -> e.sessionIndex() == index);
                }
            }
            assertNoSessionLost(events);
            assertThat(pool.stats().sessionsOpened()).isEqualTo(sessions);
            leases.forEach(ZkLease::close);
        }
    }

    @Test
    void aSessionMadeAfterAnExpiryConnectsOnlyToServersOfTheNewList() throws Exception {
        int sessions = 3;
        Recorder events = new Recorder();
        try (ZkSessionPool pool = pool(a, sessions, events)) {
            List<ZkLease> leases = leaseEach(pool, pool.defaultEnsemble(), sessions);
            List<Long> ids = ids(leases);
            // Another ensemble of the same pool, changed on its own.
            EnsembleConfig other = EnsembleConfig.builder()
                    .connectString(a)
                    .sessionTimeout(Duration.ofSeconds(5))
                    .connectionTimeout(Duration.ofSeconds(15))
                    .build();
            ZkLease otherLease = pool.lease(other);
            long otherId = otherLease.sessionId();

            pool.updateConnectString(b);
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> serversBySession(pool, pool.defaultEnsemble()).stream()
                            .allMatch(b::equals));
            assertThat(serversBySession(pool, other)).containsExactly(a);

            pool.updateConnectString(other, c);
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> serversBySession(pool, other).equals(List.of(c)));
            assertThat(otherLease.sessionId()).isEqualTo(otherId);
            assertThat(pool.currentConnectString(other)).isEqualTo(c);
            assertThat(pool.currentConnectString()).isEqualTo(b);
            try (ZkLease again = pool.lease(other)) {
                assertThat(again.sessionId())
                        .as("the config it was leased with still leases it")
                        .isEqualTo(otherId);
            }
            assertNoSessionLost(events);

            // The config still says A, and so does Curator's connect string: a new handle made from either lands on A.
            ZooKeeper zk = leases.get(0).curator().getZookeeperClient().getZooKeeper();
            // The pool's session the first lease is pinned to (whichever connected first, not necessarily index 0).
            int first = status(pool, pool.defaultEnsemble()).sessions().stream()
                    .filter(st -> st.sessionId() == ids.get(0))
                    .findFirst()
                    .orElseThrow()
                    .index();
            ForcedExpiry.expireSession(b, zk.getSessionId(), zk.getSessionPasswd());
            await().atMost(Duration.ofSeconds(60))
                    .ignoreExceptions()
                    .until(() ->
                            leases.get(0).exists("/") != null && leases.get(0).sessionId() != ids.get(0));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> b.equals(
                            serversBySession(pool, pool.defaultEnsemble()).get(first)));
            assertThat(events.sessionEvents())
                    .anyMatch(e -> e.sessionIndex() == first
                            && e.newSession()
                            && e.sessionIdBefore() == ids.get(0)
                            && b.equals(e.server()));
            assertThat(leases.get(1).sessionId()).isEqualTo(ids.get(1));
            assertThat(leases.get(2).sessionId()).isEqualTo(ids.get(2));
            await().atMost(Duration.ofSeconds(30))
                    .ignoreExceptions()
                    .until(() -> ServerConnections.connectionsFrom(a, CLIENT) == 0);
            assertThat(pool.stats().connectionsPerServer())
                    .containsOnlyKeys(b, c)
                    .containsEntry(b, 3)
                    .containsEntry(c, 1);
            otherLease.close();
            leases.forEach(ZkLease::close);
        }
    }

    @Test
    void badInputFailsNamingTheSettingAndTheValueAndChangesNothing() {
        int sessions = 3;
        Recorder events = new Recorder();
        String chrooted = a + "," + b + "," + c + "/connstr";
        try (ZkSessionPool setup = ZkSessionPool.builder().connectString(a).build();
                ZkLease lease = setup.lease()) {
            if (lease.exists("/connstr") == null) {
                lease.create("/connstr", new byte[0], CreateMode.PERSISTENT);
            }
        }
        ZkSessionPool pool = pool(chrooted, sessions, events);
        try {
            List<ZkLease> leases = leaseEach(pool, pool.defaultEnsemble(), sessions);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> total(pool.stats().connectionsPerServer()) == sessions);
            EnsembleStatus before = status(pool, pool.defaultEnsemble());
            events.clear();

            String[] malformed = {
                a + "," + b + ":x/connstr", a + ",/connstr", " ", b + ",," + c + "/connstr", "127.0.0.1/connstr"
            };
            for (String bad : malformed) {
                assertThatThrownBy(() -> pool.updateConnectString(bad))
                        .as("'%s'", bad)
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("connectString")
                        .hasMessageContaining("'" + bad + "'");
            }
            assertThatThrownBy(() -> pool.updateConnectString(b + "/elsewhere"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("connectString '" + b + "/elsewhere'")
                    .hasMessageContaining("'/elsewhere'")
                    .hasMessageContaining("'/connstr'");
            assertThatThrownBy(() -> pool.updateConnectString(b))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("connectString '" + b + "'")
                    .hasMessageContaining("'/connstr'");
            assertThatThrownBy(() -> pool.updateConnectString(null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("connectString must not be null");
            EnsembleConfig neverLeased = EnsembleConfig.of(a);
            assertThatThrownBy(() -> pool.updateConnectString(neverLeased, b))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(neverLeased.toString());

            assertThat(pool.currentConnectString()).isEqualTo(chrooted);
            assertThat(status(pool, pool.defaultEnsemble())).isEqualTo(before);
            for (ZkLease l : leases) {
                assertThat(l.exists("/")).isNotNull();
            }
            assertThat(status(pool, pool.defaultEnsemble())).isEqualTo(before);
            assertThat(events.sessionEvents())
                    .as("no session so much as reconnected")
                    .isEmpty();
        } finally {
            pool.close();
        }
        assertThatThrownBy(() -> pool.updateConnectString(b + "/connstr"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThat(pool.currentConnectString()).isEqualTo(chrooted);
    }

    /**
     * With {@code followEnsembleChanges}: a runtime change replaces the membership followed so far and is not undone
     * when sessions read that membership again; a later reconfiguration replaces it in turn.
     */
    @Test
    void aRuntimeChangeWinsOverTheMembershipReadBeforeAndALaterReconfigurationStillApplies() throws Exception {
        int sessions = 6;
        Recorder events = new Recorder();
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder()
                        .size(3)
                        .reconfigEnabled(true)
                        .jvmOption("-Dzookeeper.skipACL=yes")
                        .start();
                ZkSessionPool pool = pool(ensemble.connectString(), sessions, events)) {
            ServerProcess leader = ensemble.leader();
            List<ServerProcess> followers =
                    ensemble.servers().stream().filter(s -> s != leader).collect(Collectors.toList());
            ServerProcess dropped = followers.get(0);
            ServerProcess removed = followers.get(1);
            List<ZkLease> leases = leaseEach(pool, pool.defaultEnsemble(), sessions);
            List<Long> ids = ids(leases);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> total(pool.stats().connectionsPerServer()) == sessions);

            pool.updateConnectString(ensemble.connectString(leader.id(), removed.id()));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                Map<String, Integer> now = pool.stats().connectionsPerServer();
                return total(now) == sessions && !now.containsKey(dropped.address());
            });
            // Every session that moved reconnected and read the membership (all three members) again; a round trip on
            // each session after its reconnect comes back after that read was handled.
            for (ZkLease lease : leases) {
                assertThat(lease.exists("/")).isNotNull();
                assertThat(lease.exists("/")).isNotNull();
            }
            assertThat(pool.currentConnectString()).isEqualTo(ensemble.connectString(leader.id(), removed.id()));
            assertThat(pool.stats().connectionsPerServer()).doesNotContainKey(dropped.address());

            // A reconfiguration after the change: the membership is now the leader and the member the change dropped.
            reconfig(ensemble.connectString(leader.id(), dropped.id()), String.valueOf(removed.id()));
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                Map<String, Integer> now = pool.stats().connectionsPerServer();
                return total(now) == sessions && !now.containsKey(removed.address());
            });
            Set<String> membership =
                    new HashSet<>(List.of(pool.currentConnectString().split(",")));
            assertThat(membership).containsExactlyInAnyOrder(leader.address(), dropped.address());
            for (int i = 0; i < sessions; i++) {
                assertThat(leases.get(i).exists("/")).isNotNull();
                assertThat(leases.get(i).sessionId()).as("session %d", i).isEqualTo(ids.get(i));
            }
            assertNoSessionLost(events);
            assertThat(pool.stats().sessionsOpened()).isEqualTo(sessions);
            leases.forEach(ZkLease::close);
        }
    }

    private static void reconfig(String connect, String leaving) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeperAdmin admin = new ZooKeeperAdmin(connect, 10_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        try {
            assertThat(connected.await(20, TimeUnit.SECONDS)).isTrue();
            // A member that has only just synced with the leader may not ack the new configuration in time.
            await().atMost(Duration.ofSeconds(60))
                    .ignoreException(KeeperException.NewConfigNoQuorum.class)
                    .until(() -> {
                        String config = new String(admin.getConfig(false, null), StandardCharsets.UTF_8);
                        if (config.contains("server." + leaving + "=")) {
                            admin.reconfigure(null, leaving, null, -1, null);
                        }
                        return true;
                    });
        } finally {
            admin.close();
        }
    }
}
