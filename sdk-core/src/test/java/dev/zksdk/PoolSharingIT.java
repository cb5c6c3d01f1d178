package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ServerConnections;
import dev.zksdk.testing.VirtualThreads;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Leases are free: many threads leasing and closing all the time share the pool's few long-lived sessions. */
class PoolSharingIT {

    static TestingServer server;

    @BeforeAll
    static void start() {
        server = InProcessEnsembles.startServer();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void sixtyFourThreadsLeasingFiveHundredTimesEachOpenExactlyTheConfiguredSessions() throws Exception {
        int baseline = ServerConnections.connectionsFrom(server.getConnectString(), "127.0.0.1");
        try (ZkSessionPool pool = ZkSessionPool.builder()
                .connectString(server.getConnectString())
                .sessionTimeout(Duration.ofSeconds(10))
                .sessionsPerEnsemble(2)
                .build()) {
            try (ZkLease setup = pool.lease()) {
                setup.create("/shared", "v".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
            }
            int threads = 64;
            int cycles = 500;
            AtomicInteger ops = new AtomicInteger();
            AtomicInteger maxConnections = new AtomicInteger();
            ExecutorService executor = VirtualThreads.executor(threads);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(executor.submit(() -> {
                    for (int i = 0; i < cycles; i++) {
                        try (ZkLease lease = pool.lease()) {
                            assertThat(lease.getData("/shared")).isEqualTo("v".getBytes(StandardCharsets.UTF_8));
                            ops.incrementAndGet();
                        }
                        if (thread == 0 && i % 50 == 0) {
                            // Sampled while the load runs: the server never sees more than the pool's two sessions.
                            int seen = ServerConnections.connectionsFrom(server.getConnectString(), "127.0.0.1")
                                    - baseline;
                            maxConnections.accumulateAndGet(seen, Math::max);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(5, TimeUnit.MINUTES);
            }
            executor.shutdown();

            assertThat(ops.get()).isEqualTo(threads * cycles);
            PoolStats stats = pool.stats();
            assertThat(stats.sessionsOpened()).isEqualTo(2);
            assertThat(stats.openSessions()).isEqualTo(2);
            assertThat(stats.activeLeases()).isZero();
            assertThat(stats.connectionsPerServer())
                    .containsOnlyKeys(server.getConnectString())
                    .containsEntry(server.getConnectString(), 2);
            assertThat(maxConnections.get()).isLessThanOrEqualTo(2);
            assertThat(ServerConnections.connectionsFrom(server.getConnectString(), "127.0.0.1") - baseline)
                    .isEqualTo(2);
        }
    }

    @Test
    void leasesSpreadOverSessionsAndStayPinnedToOne() {
        try (ZkSessionPool pool = ZkSessionPool.builder()
                .connectString(server.getConnectString())
                .sessionsPerEnsemble(3)
                .build()) {
            List<Long> ids = new ArrayList<>();
            List<ZkLease> leases = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                ZkLease lease = pool.lease();
                leases.add(lease);
                ids.add(lease.sessionId());
            }
            assertThat(ids.stream().distinct().count()).isEqualTo(3);
            // Pinned: the same lease reports the same session every time.
            for (int i = 0; i < leases.size(); i++) {
                assertThat(leases.get(i).sessionId()).isEqualTo(ids.get(i));
            }
            assertThat(pool.stats().activeLeases()).isEqualTo(6);
            leases.forEach(ZkLease::close);
            assertThat(pool.stats().activeLeases()).isZero();
        }
    }

    @Test
    void equalEnsembleConfigsShareSessionsAndDifferentOnesDoNot() {
        try (ZkSessionPool pool =
                ZkSessionPool.builder().connectString(server.getConnectString()).build()) {
            long a;
            long b;
            long c;
            try (ZkLease l1 = pool.lease();
                    ZkLease l2 = pool.lease(EnsembleConfig.of(server.getConnectString()))) {
                a = l1.sessionId();
                b = l2.sessionId();
            }
            EnsembleConfig other = EnsembleConfig.builder()
                    .connectString(server.getConnectString())
                    .sessionTimeout(Duration.ofSeconds(9))
                    .build();
            try (ZkLease l3 = pool.lease(other)) {
                c = l3.sessionId();
            }
            assertThat(a).isEqualTo(b);
            assertThat(c).isNotEqualTo(a);
            assertThat(pool.stats().sessionsOpened()).isEqualTo(2);
        }
    }
}
