package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerProcess;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real server faults on a three-member ensemble of separate processes: kill -9, SIGSTOP, quorum loss. Each ends with
 * the pool's ephemeral present and owned by its live session, and its watch delivering.
 */
class RecoveryUnderServerFaultsIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(4);
    static ProcessEnsemble ensemble;

    Recorder recorder;
    ZkSessionPool pool;
    ZkLease lease;
    ZkSessionPool observerPool;
    ZkLease observer;
    String base;
    static int run;

    @BeforeAll
    static void startEnsemble() {
        ensemble = ProcessEnsemble.builder().size(3).start();
    }

    @AfterAll
    static void stopEnsemble() {
        ensemble.close();
    }

    @BeforeEach
    void start() {
        ensemble.restoreAll(Duration.ofSeconds(60));
        recorder = new Recorder();
        pool = ZkSessionPool.builder()
                .name("faults")
                .connectString(ensemble.connectString())
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(10))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(30))
                        .breakerFailureRateThreshold(100f)
                        .build())
                .listener(recorder)
                .build();
        lease = pool.lease();
        // A separate pool (its own session) plays the independent observer and the writer.
        observerPool = ZkSessionPool.builder()
                .name("observer")
                .connectString(ensemble.connectString())
                .sessionTimeout(Duration.ofSeconds(30))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(60))
                        .breakerFailureRateThreshold(100f)
                        .build())
                .build();
        observer = observerPool.lease();
        base = "/faults-" + (++run);
        observer.create(base, new byte[0], CreateMode.PERSISTENT);
        observer.create(base + "/config", "0".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
    }

    @AfterEach
    void stop() {
        lease.close();
        pool.close();
        observer.close();
        observerPool.close();
    }

    private ServerProcess connectedServer() {
        await().atMost(Duration.ofSeconds(20))
                .until(() -> !pool.stats().connectionsPerServer().isEmpty());
        String address = pool.stats().connectionsPerServer().keySet().iterator().next();
        return ensemble.servers().stream()
                .filter(s -> s.address().equals(address))
                .findFirst()
                .orElseThrow();
    }

    private void assertEphemeralAndWatchSurvived(EphemeralNode me, String value) {
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
            Stat s = observer.exists(me.path());
            return s != null && s.getEphemeralOwner() == lease.sessionId() && me.isPresent();
        });
        assertThat(observer.getChildren(base + "/services")).containsExactly("me");
        recorder.clear(Recorder.Kind.WATCH_EVENT);
        observer.setData(base + "/config", value.getBytes(StandardCharsets.UTF_8), -1);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> recorder.saw(WatchEvent.Type.DATA_CHANGED, base + "/config"));
    }

    @Test
    void killingTheLeaderWithSigkill() {
        EphemeralNode me = lease.ephemeral(base + "/services/me", new byte[0]);
        lease.watch(base + "/config", recorder);
        ensemble.leader().kill9();
        assertEphemeralAndWatchSurvived(me, "after-leader-kill");
    }

    @Test
    void killingTheServerThePoolIsConnectedTo() {
        EphemeralNode me = lease.ephemeral(base + "/services/me", new byte[0]);
        lease.watch(base + "/config", recorder);
        long session = lease.sessionId();
        ServerProcess connected = connectedServer();
        connected.kill9();
        await().atMost(Duration.ofSeconds(20)).until(() -> recorder.saw(SessionState.RECONNECTED));
        assertEphemeralAndWatchSurvived(me, "after-connected-kill");
        // Another member took over the session within its timeout: the same session survived.
        assertThat(lease.sessionId()).isEqualTo(session);
        assertThat(connectedServer()).isNotSameAs(connected);
    }

    @Test
    void stoppingTheLeaderLongerThanAnElection() throws Exception {
        EphemeralNode me = lease.ephemeral(base + "/services/me", new byte[0]);
        lease.watch(base + "/config", recorder);
        ServerProcess leader = ensemble.leader();
        leader.sigstop();
        // The others elect a new leader while this one is frozen (tickTime 200 ms, syncLimit 5: ~1 s to notice).
        await().atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .until(() -> ensemble.servers().stream()
                        .filter(s -> s != leader)
                        .anyMatch(s -> s.mode().orElse("").equals("leader")));
        assertEphemeralAndWatchSurvived(me, "during-stop");
        leader.sigcont();
        assertEphemeralAndWatchSurvived(me, "after-stop");
    }

    @Test
    void losingTheQuorumPastTheSessionTimeoutAndGettingItBack() throws Exception {
        EphemeralNode me = lease.ephemeral(base + "/services/me", new byte[0]);
        lease.watch(base + "/config", recorder);
        long session = lease.sessionId();
        List<ServerProcess> servers = ensemble.servers();
        servers.get(0).kill9();
        servers.get(1).kill9();
        await().atMost(Duration.ofSeconds(20)).until(() -> recorder.saw(SessionState.SUSPENDED));
        // Longer than the session timeout without a quorum: the client gives the session up (LOST).
        await().atMost(Duration.ofSeconds(30)).until(() -> recorder.saw(SessionState.LOST));
        servers.get(0).restart();
        servers.get(1).restart();
        ensemble.awaitQuorum(Duration.ofSeconds(60));
        // A new session replaced the lost one: recovery ran and the watch was told to resync.
        await().atMost(Duration.ofSeconds(60))
                .until(() -> !recorder.recoveries().isEmpty());
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count(WatchEvent.Type.RESYNC) == 1);
        assertThat(lease.sessionId()).isNotEqualTo(session);
        assertEphemeralAndWatchSurvived(me, "after-quorum-loss");
    }

    private static void untilDone(Runnable read) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            try {
                read.run();
                return;
            } catch (ZkException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            }
        }
    }

    @Test
    void watchListenersConvergeOnTheServerStateThroughFaults() throws Exception {
        String tree = base + "/tree";
        observer.create(tree, new byte[0], CreateMode.PERSISTENT);
        for (int i = 0; i < 10; i++) {
            observer.create(tree + "/n" + i, "0".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
        }
        // The listener's view: the last value it read per node, re-reading everything on RESYNC.
        Map<String, String> view = new ConcurrentHashMap<>();
        ZkLease reader = pool.lease();
        Runnable readAll = () -> {
            for (int i = 0; i < 10; i++) {
                String p = tree + "/n" + i;
                view.put(p, new String(reader.getData(p), StandardCharsets.UTF_8));
            }
        };
        readAll.run();
        // A careful listener: a read that fails during a fault (the breaker may refuse it at once) is tried again,
        // since
        // no further event may come for that node.
        lease.watchTree(tree, event -> {
            if (event.type() == WatchEvent.Type.RESYNC) {
                untilDone(readAll);
            } else if (event.type() == WatchEvent.Type.DATA_CHANGED) {
                untilDone(
                        () -> view.put(event.path(), new String(reader.getData(event.path()), StandardCharsets.UTF_8)));
            }
        });
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writer = new Thread(
                () -> {
                    Random random = new Random(42);
                    int value = 0;
                    while (writing.get()) {
                        try {
                            observer.setData(
                                    tree + "/n" + random.nextInt(10),
                                    String.valueOf(++value).getBytes(StandardCharsets.UTF_8),
                                    -1);
                        } catch (ZkException e) {
                            // the ensemble is being hurt on purpose
                        }
                    }
                },
                "writer");
        writer.start();
        try {
            ServerProcess connected = connectedServer();
            connected.kill9();
            await().atMost(Duration.ofSeconds(20)).until(() -> recorder.saw(SessionState.RECONNECTED));
            connected.restart();
            ensemble.awaitQuorum(Duration.ofSeconds(60));
            ZooKeeperFacts.expire(lease, ensemble.connectString());
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> !recorder.recoveries().isEmpty());
            ServerProcess leader = ensemble.leader();
            leader.sigstop();
            TimeUnit.MILLISECONDS.sleep(1500);
            leader.sigcont();
            ensemble.awaitQuorum(Duration.ofSeconds(60));
        } finally {
            writing.set(false);
            writer.join();
        }
        Map<String, String> server = new HashMap<>();
        for (int i = 0; i < 10; i++) {
            String p = tree + "/n" + i;
            server.put(p, new String(observer.getData(p), StandardCharsets.UTF_8));
        }
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(view).isEqualTo(server));
        reader.close();
    }
}
