package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.InProcessEnsembles;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Curator recipes work on pooled sessions, across two pools (two processes' worth of sessions). */
class CuratorRecipesIT {

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
    void interProcessMutexOnLeasesOfTwoPoolsGivesMutualExclusion() throws Exception {
        try (ZkSessionPool a = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .build();
                ZkSessionPool b = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .build();
                ZkLease la = a.lease();
                ZkLease lb = b.lease()) {
            assertThat(la.sessionId()).isNotEqualTo(lb.sessionId());
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger maxInside = new AtomicInteger();
            AtomicInteger entries = new AtomicInteger();
            ExecutorService executor = Executors.newFixedThreadPool(8);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                CuratorFramework curator = (t % 2 == 0 ? la : lb).curator();
                futures.add(executor.submit(() -> {
                    InterProcessMutex mutex = new InterProcessMutex(curator, "/locks/resource");
                    for (int i = 0; i < 15; i++) {
                        if (!mutex.acquire(30, TimeUnit.SECONDS)) {
                            throw new AssertionError("lock not acquired in 30 s");
                        }
                        try {
                            int now = inside.incrementAndGet();
                            maxInside.accumulateAndGet(now, Math::max);
                            entries.incrementAndGet();
                            Thread.yield();
                            inside.decrementAndGet();
                        } finally {
                            mutex.release();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(2, TimeUnit.MINUTES);
            }
            executor.shutdown();
            assertThat(entries.get()).isEqualTo(8 * 15);
            assertThat(maxInside.get()).isEqualTo(1);
        }
    }

    @Test
    void leaderLatchOnLeasesOfTwoPoolsElectsExactlyOneLeader() throws Exception {
        try (ZkSessionPool a = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .build();
                ZkSessionPool b = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .build();
                ZkLease la = a.lease();
                ZkLease lb = b.lease()) {
            LeaderLatch latchA = new LeaderLatch(la.curator(), "/leader", "a");
            LeaderLatch latchB = new LeaderLatch(lb.curator(), "/leader", "b");
            latchA.start();
            latchB.start();
            await().atMost(Duration.ofSeconds(20)).until(() -> latchA.hasLeadership() || latchB.hasLeadership());
            // Both have joined the election, and exactly one of them leads.
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> latchA.getParticipants().size() == 2);
            assertThat(latchA.hasLeadership() ^ latchB.hasLeadership()).isTrue();
            String leader = latchA.getLeader().getId();
            assertThat(latchB.getLeader().getId()).isEqualTo(leader);
            LeaderLatch current = latchA.hasLeadership() ? latchA : latchB;
            LeaderLatch other = current == latchA ? latchB : latchA;
            current.close();
            await().atMost(Duration.ofSeconds(20)).until(other::hasLeadership);
            other.close();
        }
    }

    @Test
    void theSharedCuratorCannotBeClosedByALeaseHolder() {
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .build();
                ZkLease lease = pool.lease()) {
            CuratorFramework curator = lease.curator();
            // A namespace view of the shared client: Curator itself refuses its close().
            assertThatThrownBy(curator::close).isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> curator.getZookeeperClient().close())
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("shared");
            assertThat(lease.exists("/")).isNotNull();
            try (ZkLease another = pool.lease()) {
                assertThat(another.exists("/")).isNotNull();
            }
        }
    }
}
