package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.zksdk.cache.ZkCache;
import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerProcess;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ZooKeeper's read-only mode ({@link EnsembleConfig.Builder#canBeReadOnly(boolean)}) against three separate server
 * processes with {@code readonlymode.enabled=true}: two are killed, so the client reaches only a minority; then they
 * are restarted.
 */
class ReadOnlyModeIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);
    static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(20);
    static final byte[] V1 = "v1".getBytes(StandardCharsets.UTF_8);
    static final byte[] V2 = "v2".getBytes(StandardCharsets.UTF_8);
    static final byte[] MEMBER = "member".getBytes(StandardCharsets.UTF_8);

    ProcessEnsemble ensemble;
    SimpleMeterRegistry registry;
    ZkSessionPool pool;
    final Recorder events = new Recorder();

    @BeforeEach
    void start() {
        ensemble = ProcessEnsemble.builder()
                .size(3)
                .jvmOption("-Dreadonlymode.enabled=true")
                // Read-only servers serve only local sessions (ZooKeeper 3.7+): without them no session is accepted.
                .extraConfig("localSessionsEnabled=true")
                .extraConfig("localSessionsUpgradingEnabled=true")
                .start();
        registry = new SimpleMeterRegistry();
        pool = readOnlyPool("read-only", events)
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                .build();
    }

    @AfterEach
    void stop() {
        if (pool != null) {
            pool.close();
        }
        if (ensemble != null) {
            ensemble.close();
        }
    }

    private ZkSessionPool.Builder readOnlyPool(String name, Recorder listener) {
        return ZkSessionPool.builder()
                .name(name)
                .connectString(ensemble.connectString())
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(CONNECTION_TIMEOUT)
                .canBeReadOnly(true)
                .listener(listener);
    }

    @Test
    void aMinorityServesReadsRefusesWritesAtOnceAndTheSessionGoesBackToReadWrite() throws Exception {
        long sessionId;
        String survivor;
        ZkCache cache;
        try (ZkLease lease = pool.lease()) {
            lease.create("/ro", new byte[0], CreateMode.PERSISTENT);
            lease.create("/ro/config", V1, CreateMode.PERSISTENT);
            lease.ephemeral("/ro/member", MEMBER);
            sessionId = lease.sessionId();
            cache = lease.cache("/ro/config");
            assertThat(cache.get().data()).isEqualTo(V1);
        }
        survivor = pool.ensembles().get(0).sessions().get(0).server();
        events.clear();

        // The client now reaches one server of three: no quorum. That server turns read-only. It refuses the session
        // the client had (a global session: ZooKeeper 3.7+, ZOOKEEPER-3863), which therefore expires; the new session
        // is a local one of the read-only server.
        for (ServerProcess s : ensemble.servers()) {
            if (!s.address().equals(survivor)) {
                s.kill9();
            }
        }
        await().atMost(Duration.ofSeconds(40)).until(() -> events.saw(SessionState.READ_ONLY));
        SessionEvent readOnly = events.first(SessionState.READ_ONLY).orElseThrow();
        long readOnlyId = readOnly.sessionIdAfter();
        assertThat(readOnlyId).isNotEqualTo(sessionId);

        EnsembleStatus status = pool.ensembles().get(0);
        assertThat(status.readOnlySessions()).isEqualTo(1);
        assertThat(status.isConnected()).isTrue();
        assertThat(status.sessions().get(0).state()).isEqualTo(SessionState.READ_ONLY);
        assertThat(status.sessions().get(0).server()).isEqualTo(survivor);
        Gauge readOnlyGauge = registry.find(MetricNames.SESSIONS_STATE)
                .tag("state", "read_only")
                .gauge();
        assertThat(readOnlyGauge).isNotNull();
        assertThat(readOnlyGauge.value()).isEqualTo(1.0);

        try (ZkLease lease = pool.lease()) {
            assertThat(lease.sessionId()).isEqualTo(readOnlyId);
            // Reads, and the cache, are served by the read-only server.
            assertThat(lease.getData("/ro/config")).isEqualTo(V1);
            assertThat(lease.getChildren("/ro")).contains("config");
            assertThat(cache.get().data()).isEqualTo(V1);

            // Writes fail at once with NOTREADONLY: not retried until the connection timeout.
            long t0 = System.nanoTime();
            ZkException refused = catchThrowableOfType(ZkException.class, () -> lease.setData("/ro/config", V2, -1));
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(refused.code()).isEqualTo(Code.NOTREADONLY);
            assertThat(refused).isNotInstanceOf(ZkConnectionLossException.class);
            assertThat(took).isLessThan(CONNECTION_TIMEOUT.dividedBy(4));

            // An ephemeral cannot be created on a read-only server: it fails at once and is not kept for recovery.
            t0 = System.nanoTime();
            ZkException noEphemeral =
                    catchThrowableOfType(ZkException.class, () -> lease.ephemeral("/ro/other", MEMBER));
            took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(noEphemeral.code()).isEqualTo(Code.NOTREADONLY);
            assertThat(took).isLessThan(CONNECTION_TIMEOUT.dividedBy(4));
        }
        assertThat(pool.ensembles().get(0).ownedEphemerals()).isEqualTo(1);

        // The majority comes back: the session leaves read-only mode. Its read-only session was local to that server,
        // so read-write it is a new session, and the pool's ephemeral is re-created in it.
        for (ServerProcess s : ensemble.servers()) {
            if (!s.isAlive()) {
                s.restart();
            }
        }
        await().atMost(Duration.ofSeconds(60))
                .until(() -> pool.ensembles().get(0).isConnected()
                        && pool.ensembles().get(0).readOnlySessions() == 0);
        long readWriteId;
        try (ZkLease lease = pool.lease()) {
            readWriteId = lease.sessionId();
            lease.setData("/ro/config", V2, -1);
            assertThat(lease.getData("/ro/config")).isEqualTo(V2);
        }
        assertThat(readWriteId).isNotIn(sessionId, readOnlyId);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> events.recoveries().stream().anyMatch(r -> r.newSessionId() == readWriteId));
        await().atMost(Duration.ofSeconds(10)).until(() -> cache.get().data(), data -> Arrays.equals(data, V2));

        try (RawZooKeeper observer = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30))) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                Stat member = observer.zk().exists("/ro/member", false);
                assertThat(member).isNotNull();
                assertThat(member.getEphemeralOwner()).isEqualTo(readWriteId);
            });
            assertThat(observer.zk().exists("/ro/other", false))
                    .as("refused while read-only, never created later")
                    .isNull();
        }
        assertThat(readOnlyGauge.value()).isZero();
        try (ZkLease lease = pool.lease()) {
            lease.ephemeral("/ro/other", MEMBER);
        }
    }

    /**
     * Writes sent among reads in flight on a read-only session. ZooKeeper's read-only server answers a write at once,
     * ahead of the reads still in its pipeline, and ZooKeeper's client drops the connection on that out-of-order
     * answer ("Xid out of order"): the read-only session (a local one) was lost. The pool refuses such writes itself,
     * unsent: every write is NOTREADONLY, every read is served, and the session stays, without a disconnect.
     */
    @Test
    void writesAmongReadsInFlightOnAReadOnlySessionCostNothing() throws Exception {
        try (ZkLease lease = pool.lease()) {
            lease.create("/ro", new byte[0], CreateMode.PERSISTENT);
            lease.create("/ro/config", V1, CreateMode.PERSISTENT);
        }
        String survivor = pool.ensembles().get(0).sessions().get(0).server();
        for (ServerProcess s : ensemble.servers()) {
            if (!s.address().equals(survivor)) {
                s.kill9();
            }
        }
        await().atMost(Duration.ofSeconds(40)).until(() -> events.saw(SessionState.READ_ONLY));
        long readOnlyId = events.first(SessionState.READ_ONLY).orElseThrow().sessionIdAfter();
        events.clear();

        int reads = 0;
        int refusedWrites = 0;
        List<String> wrong = new ArrayList<>();
        try (ZkLease lease = pool.lease()) {
            assertThat(lease.sessionId()).isEqualTo(readOnlyId);
            for (int round = 0; round < 20; round++) {
                List<CompletableFuture<byte[]>> inFlight = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    inFlight.add(lease.getDataAsync("/ro/config").toCompletableFuture());
                }
                CompletableFuture<Stat> write =
                        lease.setDataAsync("/ro/config", V2, -1).toCompletableFuture();
                for (int i = 0; i < 50; i++) {
                    inFlight.add(lease.getDataAsync("/ro/config").toCompletableFuture());
                }
                for (CompletableFuture<byte[]> read : inFlight) {
                    try {
                        assertThat(read.join()).isEqualTo(V1);
                        reads++;
                    } catch (CompletionException e) {
                        wrong.add("read: " + e.getCause());
                    }
                }
                try {
                    write.join();
                    wrong.add("write applied on a read-only session");
                } catch (CompletionException e) {
                    if (e.getCause() instanceof ZkException
                            && !(e.getCause() instanceof ZkConnectionLossException)
                            && ((ZkException) e.getCause()).code() == Code.NOTREADONLY) {
                        refusedWrites++;
                    } else {
                        wrong.add("write: " + e.getCause());
                    }
                }
            }
            assertThat(lease.sessionId()).isEqualTo(readOnlyId);
        }
        System.out.printf(
                "[read-only] %d reads served, %d writes refused, events %s, wrong %s%n",
                reads, refusedWrites, events.states(), wrong);
        assertThat(wrong).isEmpty();
        assertThat(reads).isEqualTo(20 * 100);
        assertThat(refusedWrites).isEqualTo(20);
        assertThat(events.saw(SessionState.SUSPENDED))
                .as("the read-only session's connection was dropped: %s", events.states())
                .isFalse();
        assertThat(pool.ensembles().get(0).sessions().get(0).state()).isEqualTo(SessionState.READ_ONLY);
    }
}
