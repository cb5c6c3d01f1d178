package dev.zksdk.benchmarks;

import com.github.benmanes.caffeine.cache.stats.CacheStats;
import dev.zksdk.ZkLease;
import dev.zksdk.cache.CacheConfig;
import dev.zksdk.cache.CachedNode;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.cache.ZkTreeCache;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reading the {@value Workload#DATA_BYTES}-byte node {@link Workload#DATA} as a user reads "the current data": from
 * a {@link ZkCache} of that node ({@code cache.get().data()}), from a {@link ZkTreeCache} of its parent
 * ({@code tree.get(child).data()}), uncached through a lease ({@code lease.getData}), and from a raw ZooKeeper
 * handle. {@link CachedNode#data()} hands out a copy of the cached bytes, so the cached reads include that copy, as
 * every user's read does.
 *
 * <p>The raw handle, the pool and the per-thread leases are {@link OverheadBenchmark}'s. Each cache is shared by
 * every thread, as an application shares one. A cached figure means something only if every measured read was served
 * from memory, so the caches check themselves: setup fails unless the cache's value equals what the server holds and
 * a second read returns the very same value as a hit; after every iteration the run fails if the cache counted a miss
 * or a load since setup, or no longer returns the value it loaded then (a watch-triggered reload would replace it).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class CachedReadBenchmark {

    /** Statistics are the caches' own proof that the measured reads were hits: turned on whatever the default. */
    static final CacheConfig CONFIG = CacheConfig.builder().recordStats(true).build();

    /** A warmed cache of {@link Workload#DATA}, checked after every iteration. */
    @State(Scope.Benchmark)
    public static class NodeCache {
        ZkCache cache;
        private CheckedCache checked;

        @Setup(Level.Trial)
        public void open(OverheadBenchmark.SdkPool sdk, ServerFixture fixture) {
            try (ZkLease lease = sdk.pool.lease()) {
                cache = lease.cache(Workload.DATA, CONFIG);
            }
            checked = CheckedCache.warm(cache, Workload.DATA, fixture.connectString());
        }

        @TearDown(Level.Iteration)
        public void check() {
            checked.verifyOnlyHits();
        }

        @TearDown(Level.Trial)
        public void close() {
            cache.close();
        }
    }

    /** A warmed cache of the subtree at {@link Workload#ROOT}, read at its child {@link Workload#DATA}. */
    @State(Scope.Benchmark)
    public static class TreeCache {
        ZkTreeCache cache;
        private CheckedCache checked;

        @Setup(Level.Trial)
        public void open(OverheadBenchmark.SdkPool sdk, ServerFixture fixture) {
            try (ZkLease lease = sdk.pool.lease()) {
                cache = lease.treeCache(Workload.ROOT, CONFIG);
            }
            checked = CheckedCache.warm(cache, Workload.DATA, fixture.connectString());
        }

        @TearDown(Level.Iteration)
        public void check() {
            checked.verifyOnlyHits();
        }

        @TearDown(Level.Trial)
        public void close() {
            cache.close();
        }
    }

    /** A cache with the value it served after warming and its statistics at that moment. */
    static final class CheckedCache {
        private final ZkCache cache;
        private final String path;
        private final CachedNode loaded;
        private final CacheStats atStart;

        private CheckedCache(ZkCache cache, String path, CachedNode loaded, CacheStats atStart) {
            this.cache = cache;
            this.path = path;
            this.loaded = loaded;
            this.atStart = atStart;
        }

        /**
         * Loads {@code path} into {@code cache} and proves it is served from memory.
         *
         * @throws IllegalStateException when the cache's value differs from the server's, or a second read is not a hit
         *     returning the same value
         */
        static CheckedCache warm(ZkCache cache, String path, String connectString) {
            Stat serverStat = new Stat();
            byte[] serverData = readFromServer(connectString, path, serverStat);
            CachedNode first = cache.get(path);
            if (first == null
                    || !Arrays.equals(first.data(), serverData)
                    || !first.stat().equals(serverStat)) {
                throw new IllegalStateException(cache + " loaded " + first + " for " + path
                        + ", but the server holds version "
                        + serverStat.getVersion() + " (mzxid 0x" + Long.toHexString(serverStat.getMzxid()) + ", "
                        + serverData.length + " bytes)");
            }
            CacheStats before = cache.stats();
            CachedNode second = cache.get(path);
            CacheStats after = cache.stats();
            if (second != first
                    || after.hitCount() != before.hitCount() + 1
                    || after.missCount() != before.missCount()) {
                throw new IllegalStateException(cache + " did not serve its loaded value of " + path + " from memory: "
                        + (second == first ? "same" : "another") + " value, stats before " + before + ", after "
                        + after);
            }
            return new CheckedCache(cache, path, first, after);
        }

        /**
         * @throws IllegalStateException when the cache missed or loaded since it was warmed, counted no hit, or serves
         *     another value than the one it loaded then
         */
        void verifyOnlyHits() {
            CacheStats now = cache.stats();
            long misses = now.missCount() - atStart.missCount();
            long loads = now.loadCount() - atStart.loadCount();
            long hits = now.hitCount() - atStart.hitCount();
            if (misses != 0 || loads != 0 || hits <= 0) {
                throw new IllegalStateException(
                        cache + " did not serve the measured reads of " + path + " from memory: " + hits + " hits, "
                                + misses + " misses, " + loads + " loads since it was warmed");
            }
            CachedNode served = cache.get(path);
            if (served != loaded) {
                throw new IllegalStateException(cache + " now serves " + served + " for " + path + " instead of the "
                        + loaded + " it was warmed with");
            }
        }

        private static byte[] readFromServer(String connectString, String path, Stat stat) {
            ZooKeeper zk = Workload.connect(connectString);
            try {
                return zk.getData(path, false, stat);
            } catch (KeeperException e) {
                throw new IllegalStateException("could not read " + path + " to check the cache against: " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while reading " + path, e);
            } finally {
                close(zk);
            }
        }

        private static void close(ZooKeeper zk) {
            try {
                zk.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Benchmark
    public byte[] cachedRead(NodeCache node) {
        return node.cache.get().data();
    }

    @Benchmark
    public byte[] treeCacheRead(TreeCache tree) {
        return tree.cache.get(Workload.DATA).data();
    }

    @Benchmark
    public byte[] uncachedRead(OverheadBenchmark.SdkLease sdk) {
        return sdk.lease.getData(Workload.DATA);
    }

    @Benchmark
    public byte[] rawHandleRead(OverheadBenchmark.RawHandle raw) throws KeeperException, InterruptedException {
        return raw.zk.getData(Workload.DATA, false, null);
    }
}
