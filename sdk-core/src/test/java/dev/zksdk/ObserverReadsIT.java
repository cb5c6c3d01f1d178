package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.QuorumLink;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ServerConnections;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Reads from observers ({@link EnsembleConfig.Builder#readsFromObservers(int)}) against a separate-process ensemble of
 * three participants and one observer, whose quorum link to the leader goes through proxies ({@link QuorumLink}) so
 * the test can make it lag.
 *
 * <p>What must hold: the pool keeps its lease session on a participant and its read session on the observer; a
 * lease's plain reads are served by the observer (its connection's received-packet count grows by at least the number
 * of reads); a read after a write the pool completed sees it even while the observer is behind (a plain ZooKeeper
 * client on the observer, reading at the same moment, still sees the old value: proof the lag is real); the lease's
 * asynchronous write followed at once by a read is seen by it; ephemerals, watches and caches stay on the participant
 * session; the per-role gauge counts each; and with the observer killed (kill -9), every read still succeeds, on the
 * lease's session, then moves back to the observer once it is back.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ObserverReadsIT {

    static final int OBSERVER = 4;
    /** Added to each direction of the observer's quorum link while a test wants it behind. */
    static final Duration LATENCY = Duration.ofMillis(300);
    /** 20 ticks of 200 ms: the observer stays with the leader with round trips up to about 4 s. */
    static final int SYNC_LIMIT = 20;

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(10);
    static final int READS = 20;
    /** Write-read pairs under lag: each read waits for one sync through the slowed link, about a second. */
    static final int LAGGED_PAIRS = 12;

    static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(8);

    static ProcessEnsemble ensemble;
    static QuorumLink link;
    static String observer;
    static List<String> participants;
    static SimpleMeterRegistry registry;
    static ZkSessionPool pool;

    @BeforeAll
    static void start() {
        ensemble = ProcessEnsemble.builder()
                .size(4)
                .observers(OBSERVER)
                .syncLimit(SYNC_LIMIT)
                .proxiedQuorumLink(OBSERVER)
                .start();
        link = ensemble.quorumLink(OBSERVER);
        observer = ensemble.server(OBSERVER).address();
        participants = List.of(
                ensemble.server(1).address(),
                ensemble.server(2).address(),
                ensemble.server(3).address());
        assertThat(ensemble.server(OBSERVER).mode()).contains("observer");
        registry = new SimpleMeterRegistry();
        pool = ZkSessionPool.builder()
                .connectString(ensemble.connectString())
                .observers(observer)
                .readsFromObservers(1)
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(CONNECTION_TIMEOUT)
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                .build();
        try (ZkLease lease = pool.lease()) {
            lease.create("/obs", new byte[0], CreateMode.PERSISTENT);
        }
        awaitReadSessionOnObserver();
    }

    @AfterAll
    static void stop() {
        if (pool != null) {
            pool.close();
        }
        if (ensemble != null) {
            ensemble.close();
        }
    }

    /** The lease session on a participant, the read session on the observer, and the per-role gauge says so. */
    @Test
    @Order(1)
    void leaseSessionIsOnAParticipantAndReadSessionOnTheObserver() {
        try (ZkLease lease = pool.lease()) {
            long leaseSession = lease.sessionId();
            assertThat(ServerConnections.sessionIds(observer)).doesNotContain(leaseSession);
            assertThat(participants.stream()
                            .anyMatch(p -> ServerConnections.sessionIds(p).contains(leaseSession)))
                    .as("the lease's session %s is on a participant", Long.toHexString(leaseSession))
                    .isTrue();
        }
        assertThat(connectedGauge("observer")).isEqualTo(1.0);
        assertThat(connectedGauge("participant")).isEqualTo(1.0);
        assertThat(pool.stats().openSessions()).isEqualTo(2);
    }

    /**
     * With the observer a latency behind, each write on the lease (a participant session) is followed at once by a
     * plain read on the observer (stale: the lag is real) and by the lease's read, which must return the write and be
     * served by the observer.
     */
    @Test
    @Order(2)
    void readAfterWriteOnTheObserverSeesTheWriteWhileTheObserverLags() throws Exception {
        String key = "/obs/ryw";
        long readSession = readSessionId();
        try (ZkLease lease = pool.lease();
                RawZooKeeper raw = RawZooKeeper.connect(observer, SESSION_TIMEOUT)) {
            lease.create(key, bytes(-1), CreateMode.PERSISTENT);
            await().atMost(Duration.ofSeconds(10)).until(() -> raw.zk().exists(key, false) != null);
            link.latency(LATENCY);
            try {
                long receivedBefore = received(readSession);
                int rawStale = 0;
                List<String> wrong = new ArrayList<>();
                for (int i = 0; i < LAGGED_PAIRS; i++) {
                    lease.setData(key, bytes(i), -1);
                    if (!new String(raw.zk().getData(key, false, null), StandardCharsets.UTF_8).equals("v" + i)) {
                        rawStale++;
                    }
                    String got = new String(
                            i % 2 == 0
                                    ? lease.getData(key)
                                    : lease.getDataAsync(key).get(30, TimeUnit.SECONDS),
                            StandardCharsets.UTF_8);
                    if (!got.equals("v" + i)) {
                        wrong.add("write " + i + " read " + got);
                    }
                }
                long served = received(readSession) - receivedBefore;
                assertThat(rawStale)
                        .as("a plain client on the observer saw the old value right after most writes (lag is real)")
                        .isGreaterThanOrEqualTo(LAGGED_PAIRS / 2);
                assertThat(wrong)
                        .as("lease reads that missed the write before them")
                        .isEmpty();
                assertThat(served)
                        .as("packets the observer received on the pool's read session during %d reads", LAGGED_PAIRS)
                        .isGreaterThanOrEqualTo(LAGGED_PAIRS);
            } finally {
                link.latency(Duration.ZERO);
            }
        }
    }

    /** An asynchronous write not waited for, then a read on the same lease: the read comes after it, and sees it. */
    @Test
    @Order(3)
    void readRightAfterTheLeasesOwnAsyncWriteSeesIt() throws Exception {
        String key = "/obs/async";
        try (ZkLease lease = pool.lease()) {
            lease.create(key, bytes(-1), CreateMode.PERSISTENT);
            link.latency(LATENCY);
            try {
                List<String> wrong = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    CompletableFuture<?> write = lease.setDataAsync(key, bytes(i), -1);
                    String got = new String(lease.getData(key), StandardCharsets.UTF_8);
                    write.get(30, TimeUnit.SECONDS);
                    if (!got.equals("v" + i)) {
                        wrong.add("write " + i + " read " + got);
                    }
                }
                assertThat(wrong).isEmpty();
            } finally {
                link.latency(Duration.ZERO);
            }
        }
    }

    /** Ephemerals, watches and caches are session-bound work: on the lease's participant session, never the observer. */
    @Test
    @Order(4)
    void ephemeralsWatchesAndCachesStayOnTheLeaseSession() throws Exception {
        List<WatchEvent> events = new CopyOnWriteArrayList<>();
        try (ZkLease lease = pool.lease()) {
            lease.create("/obs/bound", new byte[0], CreateMode.PERSISTENT);
            long leaseSession = lease.sessionId();
            try (EphemeralNode node = lease.ephemeral("/obs/bound/me", bytes(1));
                    WatchHandle watch = lease.watch("/obs/bound", events::add);
                    var cache = lease.cache("/obs/bound")) {
                assertThat(lease.exists(node.path()).getEphemeralOwner()).isEqualTo(leaseSession);
                assertThat(ServerConnections.sessionIds(observer)).doesNotContain(leaseSession);
                assertThat(lease.curator().getZookeeperClient().getZooKeeper().getSessionId())
                        .isEqualTo(leaseSession);
                lease.setData("/obs/bound", bytes(2), -1);
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> events.stream().anyMatch(e -> e.type() == WatchEvent.Type.DATA_CHANGED));
                assertThat(ServerConnections.watchCount(observer))
                        .as("watches on the observer")
                        .isZero();
                int onParticipants = participants.stream()
                        .mapToInt(ServerConnections::watchCount)
                        .sum();
                assertThat(onParticipants).isPositive();
                assertThat(cache).isNotNull();
            }
        }
    }

    /**
     * kill -9 of the observer: every read succeeds (on the lease's session) while it is down, the per-role gauge shows
     * no observer session connected, and once the observer is back the read session reconnects there and serves
     * reads again.
     */
    /**
     * The observer's quorum link frozen: the observer still serves its clients but learns nothing, so a read after a
     * write waits for its sync until the observer gives up on the leader ({@code syncLimit * tickTime}, 4 s here) and
     * drops its clients; the read then runs on the lease's session and returns the write. No read fails.
     */
    @Test
    @Order(5)
    void readsSucceedWhileTheObserverIsCutOffFromItsLeader() {
        String key = "/obs/frozen";
        try (ZkLease lease = pool.lease()) {
            lease.create(key, bytes(-1), CreateMode.PERSISTENT);
            link.freeze();
            try {
                long slowestNanos = 0;
                for (int i = 0; i < 5; i++) {
                    lease.setData(key, bytes(i), -1);
                    long t0 = System.nanoTime();
                    assertThat(lease.getData(key)).isEqualTo(bytes(i));
                    slowestNanos = Math.max(slowestNanos, System.nanoTime() - t0);
                }
                System.out.printf(
                        "ObserverReadsIT: slowest of 5 reads with the observer's quorum link frozen: %.1f ms%n",
                        slowestNanos / 1e6);
            } finally {
                link.unfreeze();
            }
            awaitReadSessionOnObserver();
            assertThat(lease.getData(key)).isEqualTo(bytes(4));
        }
    }

    @Test
    @Order(6)
    void readsFallBackToTheLeaseSessionWhileTheObserverIsDownAndReturnAfter() {
        String key = "/obs/fallback";
        try (ZkLease lease = pool.lease()) {
            lease.create(key, bytes(-1), CreateMode.PERSISTENT);
            ensemble.server(OBSERVER).kill9();
            List<String> wrong = new ArrayList<>();
            long slowestNanos = 0;
            for (int i = 0; i < READS; i++) {
                lease.setData(key, bytes(i), -1);
                long t0 = System.nanoTime();
                String got = new String(lease.getData(key), StandardCharsets.UTF_8);
                slowestNanos = Math.max(slowestNanos, System.nanoTime() - t0);
                if (!got.equals("v" + i)) {
                    wrong.add("write " + i + " read " + got);
                }
            }
            System.out.printf(
                    "ObserverReadsIT: slowest of %d reads right after kill -9 of the observer: %.1f ms%n",
                    READS, slowestNanos / 1e6);
            assertThat(wrong).isEmpty();
            // Behaviour, not speed: a read that waited for the dead observer's session to connect again would take the
            // whole connection timeout before falling back.
            assertThat(Duration.ofNanos(slowestNanos))
                    .as("slowest read after the kill (a read waiting for the observer takes the connection timeout)")
                    .isLessThan(CONNECTION_TIMEOUT.dividedBy(2));
            await().atMost(Duration.ofSeconds(30)).until(() -> connectedGauge("observer") == 0.0);
            assertThat(lease.getData(key)).isEqualTo(bytes(READS - 1));
            assertThat(lease.existsAsync(key).join()).isNotNull();

            ensemble.server(OBSERVER).restart();
            ensemble.server(OBSERVER).awaitServing(Duration.ofSeconds(60));
            awaitReadSessionOnObserver();
            long readSession = readSessionId();
            long before = received(readSession);
            for (int i = 0; i < READS; i++) {
                assertThat(lease.getData(key)).isEqualTo(bytes(READS - 1));
            }
            assertThat(received(readSession) - before).isGreaterThanOrEqualTo(READS);
        }
    }

    static void awaitReadSessionOnObserver() {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> pool.stats().connectionsPerServer().getOrDefault(observer, 0) == 1
                        && ServerConnections.sessionIds(observer).size() == 1);
        Map<String, Integer> perServer = pool.stats().connectionsPerServer();
        assertThat(perServer.values().stream().mapToInt(Integer::intValue).sum())
                .as("sessions per server %s", perServer)
                .isEqualTo(2);
    }

    /** The pool's one session on the observer. */
    static long readSessionId() {
        return ServerConnections.sessionIds(observer).iterator().next();
    }

    private static final Pattern RECEIVED = Pattern.compile("recved=(\\d+)");

    /** Packets the observer received on {@code session}'s connection, from its {@code cons}. */
    static long received(long session) {
        String cons = ensemble.server(OBSERVER).fourLetter("cons");
        String sid = "sid=0x" + Long.toHexString(session) + ",";
        for (String line : cons.split("\n")) {
            if (line.contains(sid)) {
                Matcher m = RECEIVED.matcher(line);
                if (m.find()) {
                    return Long.parseLong(m.group(1));
                }
            }
        }
        throw new AssertionError(
                "no connection of session 0x" + Long.toHexString(session) + " on the observer: " + cons);
    }

    static double connectedGauge(String role) {
        Gauge g = registry.find(MetricNames.SESSIONS_CONNECTED)
                .tag(MetricNames.TAG_ROLE, role)
                .gauge();
        assertThat(g)
                .as("gauge %s{role=%s}", MetricNames.SESSIONS_CONNECTED, role)
                .isNotNull();
        return g.value();
    }

    static byte[] bytes(int i) {
        return ("v" + i).getBytes(StandardCharsets.UTF_8);
    }
}
