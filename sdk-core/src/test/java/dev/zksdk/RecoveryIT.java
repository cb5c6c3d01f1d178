package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.FourLetterWords;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerConnections;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.KillSession;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Session-expiry recovery on a real server, with the faults between pool and server made by a proxy or by forcing
 * expiry. After each fault the observer (a client not behind the proxy) decides what the server holds.
 */
class RecoveryIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(4); // read timeout ~2.7 s
    static final byte[] DATA = "host-1".getBytes(StandardCharsets.UTF_8);

    TestingServer server;
    ZkProxy proxy;
    RawZooKeeper observer;
    Recorder recorder;
    ZkSessionPool pool;
    ZkLease lease;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        recorder = new Recorder();
        pool = ZkSessionPool.builder()
                .name("recovery")
                .connectString(proxy.connectString())
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(10))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(20))
                        .breakerFailureRateThreshold(100f)
                        .build())
                .listener(recorder)
                .build();
        lease = pool.lease();
    }

    @AfterEach
    void stop() throws Exception {
        lease.close();
        pool.close();
        observer.close();
        proxy.close();
        server.close();
    }

    private Stat observed(String path) throws Exception {
        return observer.zk().exists(path, false);
    }

    private void awaitOwnedByLiveSession(String path) {
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
            Stat s = observed(path);
            return s != null && s.getEphemeralOwner() == lease.sessionId();
        });
    }

    @Test
    void freezeShorterThanTheReadTimeoutChangesNothing() throws Exception {
        EphemeralNode me = lease.ephemeral("/svc/a", DATA);
        WatchHandle watch = lease.watch("/config", recorder);
        long session = lease.sessionId();
        recorder.clear();

        proxy.freeze();
        observer.zk()
                .create(
                        "/config",
                        "1".getBytes(StandardCharsets.UTF_8),
                        ZooDefs.Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT);
        // Shorter than the ~2.7 s read timeout: the client never notices (the fault's length is the scenario).
        TimeUnit.MILLISECONDS.sleep(1200);
        proxy.unfreeze();

        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.saw(WatchEvent.Type.CREATED, "/config"));
        assertThat(recorder.sessionEvents()).isEmpty();
        assertThat(recorder.count(WatchEvent.Type.RESYNC)).isZero();
        assertThat(lease.sessionId()).isEqualTo(session);
        assertThat(me.isPresent()).isTrue();
        assertThat(observed("/svc/a").getEphemeralOwner()).isEqualTo(session);
        watch.close();
    }

    @Test
    void freezeBetweenReadTimeoutAndSessionTimeoutKeepsSessionEphemeralAndWatches() throws Exception {
        EphemeralNode me = lease.ephemeral("/svc/a", DATA);
        lease.create("/config", "0".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
        lease.watch("/config", recorder);
        long session = lease.sessionId();
        List<WatchedEvent> deletions = observeDeletions("/svc/a");

        proxy.freeze();
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.saw(SessionState.SUSPENDED));
        assertThat(me.isPresent()).as("ownership is unknown while suspended").isFalse();
        proxy.unfreeze();
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.saw(SessionState.RECONNECTED));

        observer.zk().setData("/config", "1".getBytes(StandardCharsets.UTF_8), -1);
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.saw(WatchEvent.Type.DATA_CHANGED, "/config"));
        assertThat(lease.sessionId()).isEqualTo(session);
        assertThat(deletions).isEmpty();
        assertThat(observed("/svc/a").getEphemeralOwner()).isEqualTo(session);
        assertThat(me.isPresent()).isTrue();
        assertThat(recorder.count(WatchEvent.Type.RESYNC)).isZero();
        assertThat(recorder.recoveries()).isEmpty();
    }

    @Test
    void changesMadeWhileDisconnectedWithinTheSessionAreDeliveredAfterTheReconnect() throws Exception {
        lease.create("/config", "0".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
        lease.create("/members", new byte[0], CreateMode.PERSISTENT);
        Recorder node = new Recorder();
        Recorder children = new Recorder();
        Recorder tree = new Recorder();
        lease.watch("/config", node);
        lease.watch("/absent", node);
        lease.watchChildren("/members", children);
        lease.watchTree("/members", tree);
        long session = lease.sessionId();

        proxy.freeze();
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.saw(SessionState.SUSPENDED));
        // ZooKeeper re-adds persistent watches on reconnect but does not replay what changed in between.
        observer.zk().setData("/config", "1".getBytes(StandardCharsets.UTF_8), -1);
        observer.zk().create("/absent", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        observer.zk().create("/members/m1", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        proxy.unfreeze();
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.saw(SessionState.RECONNECTED));

        await().atMost(Duration.ofSeconds(10))
                .until(() -> node.saw(WatchEvent.Type.DATA_CHANGED, "/config")
                        && node.saw(WatchEvent.Type.CREATED, "/absent")
                        && children.saw(WatchEvent.Type.CHILDREN_CHANGED, "/members")
                        && tree.saw(WatchEvent.Type.RESYNC, "/members"));
        assertThat(lease.sessionId()).isEqualTo(session);
        assertThat(node.watchEvents()).noneMatch(e -> e.type() == WatchEvent.Type.RESYNC);
        assertThat(children.watchEvents()).noneMatch(e -> e.type() == WatchEvent.Type.RESYNC);
        // And the watches go on as before.
        observer.zk().setData("/config", "2".getBytes(StandardCharsets.UTF_8), -1);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> node.watchEvents().stream()
                                .filter(e -> e.equals(new WatchEvent(WatchEvent.Type.DATA_CHANGED, "/config")))
                                .count()
                        == 2);
    }

    @Test
    void freezeLongerThanTheSessionTimeoutRecoversEphemeralAndWatchOnTheNewSession() throws Exception {
        EphemeralNode me = lease.ephemeral("/svc/a", DATA);
        lease.create("/config", "0".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
        lease.watch("/config", recorder);
        long oldSession = lease.sessionId();
        List<WatchedEvent> deletions = observeDeletions("/svc/a");

        proxy.freeze();
        // The server expires the session and deletes its ephemeral.
        await().atMost(Duration.ofSeconds(20)).until(() -> !deletions.isEmpty());
        assertThat(observed("/svc/a")).isNull();
        proxy.unfreeze();

        await().atMost(Duration.ofSeconds(30))
                .until(() -> !recorder.recoveries().isEmpty());
        long newSession = lease.sessionId();
        assertThat(newSession).isNotEqualTo(oldSession);
        RecoveryEvent recovered = recorder.recoveries().get(0);
        assertThat(recovered.oldSessionId()).isEqualTo(oldSession);
        assertThat(recovered.newSessionId()).isEqualTo(newSession);
        assertThat(recovered.ephemeralsRecreated()).isEqualTo(1);
        assertThat(recovered.watchesRearmed()).isEqualTo(1);
        assertThat(recovered.complete()).isTrue();
        assertThat(observed("/svc/a").getEphemeralOwner()).isEqualTo(newSession);
        assertThat(observer.zk().getData("/svc/a", false, null)).isEqualTo(DATA);
        assertThat(me.isPresent()).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> recorder.count(WatchEvent.Type.RESYNC) == 1);

        observer.zk().setData("/config", "after".getBytes(StandardCharsets.UTF_8), -1);
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.saw(WatchEvent.Type.DATA_CHANGED, "/config"));
        assertThat(pool.stats().sessionsOpened()).isEqualTo(2);
    }

    @Test
    void parentsRemovedWhileTheSessionWasGoneAreRecreatedWithEveryChild() throws Exception {
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String path = (i % 2 == 0 ? "/registry/a/" : "/registry/b/deeper/") + "member-" + i;
            lease.ephemeral(path, DATA);
            paths.add(path);
        }
        long oldSession = lease.sessionId();
        List<WatchedEvent> deletions = observeDeletions(paths.get(paths.size() - 1));

        proxy.freeze();
        await().atMost(Duration.ofSeconds(20)).until(() -> !deletions.isEmpty());
        // Expired: the server removed every ephemeral; an operator cleans the emptied directories up meanwhile.
        for (String dir : List.of("/registry/b/deeper", "/registry/b", "/registry/a")) {
            observer.zk().delete(dir, -1);
        }
        assertThat(observed("/registry/a")).isNull();
        proxy.unfreeze();

        await().atMost(Duration.ofSeconds(30))
                .until(() -> !recorder.recoveries().isEmpty());
        RecoveryEvent recovered = recorder.recoveries().get(0);
        assertThat(recovered.oldSessionId()).isEqualTo(oldSession);
        assertThat(recovered.ephemeralsRecreated()).isEqualTo(20);
        assertThat(recovered.complete()).isTrue();
        long newSession = lease.sessionId();
        for (String path : paths) {
            assertThat(observed(path).getEphemeralOwner()).as(path).isEqualTo(newSession);
        }
        assertThat(observer.zk().getChildren("/registry/a", false)).hasSize(10);
        assertThat(observer.zk().getChildren("/registry/b/deeper", false)).hasSize(10);
    }

    @Test
    void serverSideExpiryRecreatesEphemeralsAndDeliversResyncAfterRearming() throws Exception {
        lease.ephemeral("/svc/a", DATA);
        EphemeralNode seq = lease.ephemeral("/svc/member-", DATA, CreateMode.EPHEMERAL_SEQUENTIAL);
        List<String> pathChanges = new CopyOnWriteArrayList<>();
        seq.onPathChange(pathChanges::add);
        String firstSeqPath = seq.path();
        lease.watchTree("/tree", recorder);
        // A listener that writes on RESYNC: the watch must already be armed, so its own write comes back as an event.
        lease.watch("/resync-probe", event -> {
            if (event.type() == WatchEvent.Type.RESYNC) {
                try (ZkLease l = pool.lease()) {
                    l.create("/resync-probe", new byte[0], CreateMode.PERSISTENT);
                }
            } else {
                recorder.onEvent(event);
            }
        });
        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
        long oldSession = zk.getSessionId();

        ForcedExpiry.expireSession(server.getConnectString(), oldSession, zk.getSessionPasswd());

        await().atMost(Duration.ofSeconds(30))
                .until(() -> !recorder.recoveries().isEmpty());
        long newSession = lease.sessionId();
        assertThat(newSession).isNotEqualTo(oldSession);
        assertThat(observed("/svc/a").getEphemeralOwner()).isEqualTo(newSession);
        assertThat(observed(seq.path()).getEphemeralOwner()).isEqualTo(newSession);
        assertThat(seq.path()).isNotEqualTo(firstSeqPath);
        assertThat(observed(firstSeqPath)).isNull();
        await().atMost(Duration.ofSeconds(5)).until(() -> pathChanges.contains(seq.path()));
        assertThat(observer.zk().getChildren("/svc", false)).hasSize(2);
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.saw(WatchEvent.Type.CREATED, "/resync-probe"));
        observer.zk().create("/tree", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        observer.zk().create("/tree/x", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.saw(WatchEvent.Type.CREATED, "/tree/x"));
        assertThat(recorder.saw(WatchEvent.Type.RESYNC, "/tree")).isTrue();
    }

    @Test
    void clientSideExpiryLeavesTheOldNodeButEndsWithExactlyOneOwnedByTheLiveSession() throws Exception {
        EphemeralNode node = lease.ephemeral("/svc/a", DATA);
        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
        long oldSession = zk.getSessionId();

        // The client believes its session expired; on the server it lives on (and keeps its node) until it times out.
        // The node is not deleted by the pool (by the time a delete arrives it may be another client's): the new
        // session
        // waits for the server to expire the old one, reporting the registration missing meanwhile.
        KillSession.kill(zk);

        await().atMost(Duration.ofSeconds(30))
                .until(() -> !recorder.recoveries().isEmpty());
        long newSession = lease.sessionId();
        assertThat(newSession).isNotEqualTo(oldSession);
        long deadline = System.nanoTime() + SESSION_TIMEOUT.plusSeconds(10).toNanos();
        boolean sawOldNode = false;
        while (true) {
            Stat stat = observed("/svc/a");
            assertThat(observer.zk().getChildren("/svc", false)).hasSizeLessThanOrEqualTo(1);
            if (stat != null) {
                assertThat(stat.getEphemeralOwner()).isIn(oldSession, newSession);
                if (stat.getEphemeralOwner() == newSession) {
                    break;
                }
                sawOldNode = true;
                assertThat(node.isPresent()).isFalse();
            }
            assertThat(System.nanoTime())
                    .as("the node is owned by the live session once the server expired the old one")
                    .isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(20);
        }
        await().atMost(Duration.ofSeconds(5)).until(node::isPresent);
        assertThat(observer.zk().getChildren("/svc", false)).containsExactly("a");
        // ZooKeeper's injectSessionExpiration queues the Expired event before it marks the handle closed: on a loaded
        // machine Curator can close the old handle in between, which then still sends closeSession, and the server
        // deletes the old node at once. Only while the old node was there is the registration missing.
        if (sawOldNode) {
            assertThat(recorder.missingPaths()).contains("/svc/a");
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> recorder.restoredPaths().contains("/svc/a"));
        }
    }

    @Test
    void aNodeOfAnotherLiveSessionIsNeverTakenOver() throws Exception {
        observer.zk().create("/svc", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        observer.zk().create("/svc/taken", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        assertThatThrownBy(() -> lease.ephemeral("/svc/taken", DATA))
                .isInstanceOf(ZkNodeExistsException.class)
                .hasMessageContaining("owned by session 0x" + Long.toHexString(observer.sessionId()));
        assertThat(observed("/svc/taken").getEphemeralOwner()).isEqualTo(observer.sessionId());

        // After an expiry, someone else grabs our path: a conflict is reported; when they let go, ours comes back.
        EphemeralNode mine = lease.ephemeral("/svc/mine", DATA);
        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
        long oldSession = zk.getSessionId();
        proxy.freeze();
        ForcedExpiry.expireSession(server.getConnectString(), oldSession, zk.getSessionPasswd());
        await().atMost(Duration.ofSeconds(10)).until(() -> observed("/svc/mine") == null);
        observer.zk().create("/svc/mine", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        proxy.unfreeze();

        await().atMost(Duration.ofSeconds(30))
                .until(() -> recorder.conflictPaths().contains("/svc/mine"));
        assertThat(observed("/svc/mine").getEphemeralOwner()).isEqualTo(observer.sessionId());
        assertThat(mine.isPresent()).isFalse();
        observer.zk().delete("/svc/mine", -1);
        awaitOwnedByLiveSession("/svc/mine");
        assertThat(mine.isPresent()).isTrue();
    }

    @Test
    void closingAWatchRemovesItFromTheServer() throws Exception {
        String address = server.getConnectString();
        WatchHandle node = lease.watch("/w/node", recorder);
        WatchHandle tree = lease.watchTree("/w", recorder);
        WatchHandle twin = lease.watch("/w/node", recorder);
        // wchp lists the server's watches by path.
        assertThat(watchedPaths(address)).contains("/w/node", "/w");
        twin.close();
        // The other handle on the same path keeps the server's watch.
        assertThat(watchedPaths(address)).contains("/w/node", "/w");
        node.close();
        tree.close();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> !watchedPaths(address).contains("/w/node")
                        && !watchedPaths(address).contains("/w"));
        observer.zk().create("/w", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        observer.zk().create("/w/node", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        assertThat(lease.exists("/w/node")).isNotNull();
        assertThat(recorder.watchEvents()).isEmpty();
    }

    private static Set<String> watchedPaths(String address) {
        Set<String> paths = new HashSet<>();
        for (String line : FourLetterWords.send(address, "wchp").split("\n")) {
            if (line.startsWith("/")) {
                paths.add(line.trim());
            }
        }
        return paths;
    }

    @Test
    void closingAnEphemeralDeletesItAndStopsRecoveringIt() throws Exception {
        EphemeralNode me = lease.ephemeral("/svc/a", DATA);
        me.setData("v2".getBytes(StandardCharsets.UTF_8));
        assertThat(observer.zk().getData("/svc/a", false, null)).isEqualTo("v2".getBytes(StandardCharsets.UTF_8));
        EphemeralNode other = lease.ephemeral("/svc/b", DATA);
        me.close();
        assertThat(observed("/svc/a")).isNull();

        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
        ForcedExpiry.expireSession(server.getConnectString(), zk.getSessionId(), zk.getSessionPasswd());
        await().atMost(Duration.ofSeconds(30))
                .until(() -> !recorder.recoveries().isEmpty());
        awaitOwnedByLiveSession("/svc/b");
        assertThat(observed("/svc/a")).isNull();
        assertThat(other.data()).isEqualTo(DATA);
    }

    @Test
    void twentyExpiriesInARowLeaveExactlyOneNodeEachAndNothingAccumulates() throws Exception {
        for (int i = 0; i < 5; i++) {
            lease.ephemeral("/svc/n" + i, DATA);
        }
        lease.create("/config", new byte[0], CreateMode.PERSISTENT);
        lease.watch("/config", recorder);
        lease.watchTree("/svc", e -> {});
        String serverAddress = server.getConnectString();
        // Warm-up expiry so one-time threads and the recovery machinery exist before counting.
        expireAndAwaitRecovery(1);
        int threadsBefore = poolThreadCount();
        long watchesBefore = ServerConnections.watchCount(serverAddress);

        for (int round = 2; round <= 21; round++) {
            expireAndAwaitRecovery(round);
            long live = lease.sessionId();
            List<String> children = observer.zk().getChildren("/svc", false);
            assertThat(children).as("round %d", round).containsExactlyInAnyOrder("n0", "n1", "n2", "n3", "n4");
            for (String child : children) {
                assertThat(observed("/svc/" + child).getEphemeralOwner()).isEqualTo(live);
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> poolThreadCount() <= threadsBefore);
        assertThat(poolThreadCount()).isLessThanOrEqualTo(threadsBefore);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> ServerConnections.watchCount(serverAddress) <= watchesBefore);
        assertThat(recorder.count(WatchEvent.Type.RESYNC)).isEqualTo(21);
        observer.zk().setData("/config", "x".getBytes(StandardCharsets.UTF_8), -1);
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.saw(WatchEvent.Type.DATA_CHANGED, "/config"));
        assertThat(pool.stats().sessionsOpened()).isEqualTo(22);
    }

    @Test
    void recoveryCutShortByAnotherConnectionLossResumesWithoutDuplicates() throws Exception {
        int n = 300;
        for (int i = 0; i < n; i++) {
            lease.ephemeral("/many/e" + i, DATA);
        }
        lease.watch("/config", recorder);
        // The moment the replacement session connects, cut the connection again: the first recovery pass is
        // interrupted somewhere in its 300 creates, and the next connection has to finish it.
        pool.addListener(new SessionListener() {
            @Override
            public void onStateChange(SessionEvent event) {
                if (event.newSession() && !cutOnce) {
                    cutOnce = true;
                    proxy.closeAllConnections();
                }
            }
        });
        ZooKeeperFacts.expire(lease, server.getConnectString());
        await().atMost(Duration.ofSeconds(60))
                .until(() -> !recorder.recoveries().isEmpty());
        assertThat(cutOnce).isTrue();
        long live = lease.sessionId();
        List<String> children = observer.zk().getChildren("/many", false);
        assertThat(children).hasSize(n).doesNotHaveDuplicates();
        for (String child : children) {
            assertThat(observed("/many/" + child).getEphemeralOwner()).isEqualTo(live);
        }
        RecoveryEvent recovered = recorder.recoveries().get(0);
        assertThat(recovered.ephemeralsRecreated()).isEqualTo(n);
        assertThat(recovered.newSessionId()).isEqualTo(live);
        await().atMost(Duration.ofSeconds(5)).until(() -> recorder.count(WatchEvent.Type.RESYNC) == 1);
    }

    private volatile boolean cutOnce;

    private void expireAndAwaitRecovery(int expectedRecoveries) throws Exception {
        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
        ForcedExpiry.expireSession(server.getConnectString(), zk.getSessionId(), zk.getSessionPasswd());
        await().atMost(Duration.ofSeconds(30)).until(() -> recorder.recoveries().size() >= expectedRecoveries);
    }

    private static int poolThreadCount() {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("recovery-"))
                .count();
    }

    private List<WatchedEvent> observeDeletions(String path) throws Exception {
        List<WatchedEvent> deletions = new CopyOnWriteArrayList<>();
        observer.zk()
                .addWatch(
                        path,
                        new Watcher() {
                            @Override
                            public void process(WatchedEvent e) {
                                if (e.getType() == Event.EventType.NodeDeleted) {
                                    deletions.add(e);
                                }
                            }
                        },
                        AddWatchMode.PERSISTENT);
        return deletions;
    }
}
