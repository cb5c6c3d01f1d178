package dev.zksdk.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.benchmarks.CachedReadBenchmark.CheckedCache;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.cache.ZkTreeCache;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cached-read benchmark's guard without JMH: it passes while every read is a hit, and fails the run as soon as a
 * read misses or the cache loads again, so the benchmark cannot quietly measure server reads.
 */
class CachedReadBenchmarkIT {

    private static BenchServer server;
    private static ZkSessionPool pool;

    @BeforeAll
    static void start() {
        server = BenchServer.start(BenchServer.EMBEDDED);
        Workload.prepare(server.connectString());
        pool = ZkSessionPool.builder()
                .connectString(server.connectString())
                .sessionTimeout(Duration.ofSeconds(4))
                .name("cached-read-check")
                .build();
    }

    @AfterAll
    static void stop() {
        if (pool != null) {
            pool.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void hitsPassAndAReloadFailsTheCheck() {
        try (ZkLease lease = pool.lease();
                ZkCache cache = lease.cache(Workload.DATA, CachedReadBenchmark.CONFIG)) {
            CheckedCache checked = CheckedCache.warm(cache, Workload.DATA, server.connectString());
            for (int i = 0; i < 1000; i++) {
                assertThat(cache.get().data()).isEqualTo(Workload.payload());
            }
            checked.verifyOnlyHits();

            // sync + read: one more load, and a new value instance, although the data did not change
            cache.getCurrent(Workload.DATA);

            assertThatThrownBy(checked::verifyOnlyHits)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("0 misses, 1 loads");
        }
    }

    @Test
    void aMissFailsTheCheck() {
        try (ZkLease lease = pool.lease();
                ZkTreeCache tree = lease.treeCache(Workload.ROOT, CachedReadBenchmark.CONFIG)) {
            CheckedCache checked = CheckedCache.warm(tree, Workload.DATA, server.connectString());
            tree.get(Workload.DATA);
            checked.verifyOnlyHits();

            tree.get(Workload.WRITE);

            assertThatThrownBy(checked::verifyOnlyHits)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("1 misses");
        }
    }

    @Test
    void aCacheThatWasNeverReadCountsNoHitAndFailsTheCheck() {
        try (ZkLease lease = pool.lease();
                ZkCache cache = lease.cache(Workload.DATA, CachedReadBenchmark.CONFIG)) {
            CheckedCache checked = CheckedCache.warm(cache, Workload.DATA, server.connectString());

            assertThatThrownBy(checked::verifyOnlyHits)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("0 hits");
        }
    }
}
