package dev.zksdk.benchmarks;

import dev.zksdk.ZkLease;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Heap retained per idle ensemble and per held lease (issue 23), read with {@link RetainedHeap} (full collections, the
 * heap in use before and after). Each invocation builds a pool routing {@code ensembles} prefixes to chroots on the
 * servers of {@link ScaleBenchmark.Routed}, connects the first ensemble (the pool's own threads and the first
 * session's classes are then in the "before" reading), connects the others and reads the heap: the difference over
 * {@code ensembles - 1} is the heap of one more connected, idle ensemble (its config, session, Curator and ZooKeeper
 * client, buffers; thread stacks are not heap and not counted). Then it takes {@code leases} leases, each reading once
 * (the ensembles in turn, so that each holds its share of an ensemble lease), and reads the heap again: the difference
 * over {@code leases} is the heap of one held lease. The primary score is the invocation's time (setup of the servers
 * apart); the figures are the counters {@link Retained#bytesPerIdleEnsemble} and {@link Retained#bytesPerHeldLease},
 * one value per iteration.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
@Threads(1)
@Fork(1)
public class ScaleMemoryBenchmark {

    @Param({"100"})
    public int ensembles;

    @Param({"10000"})
    public int leases;

    /** Accepted because the profile runner passes it to every benchmark; {@code process} starts three. */
    @Param({BenchServer.PROCESS})
    public String server;

    private ScaleBenchmark.Routed routed;

    /** One invocation's readings. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Retained {
        public double bytesPerIdleEnsemble;
        public double bytesPerHeldLease;
    }

    @Setup(Level.Trial)
    public void start() {
        if (ensembles < 2) {
            throw new IllegalArgumentException("ensembles must be at least 2 (one is the baseline), was " + ensembles);
        }
        if (leases < 1) {
            throw new IllegalArgumentException("leases must be at least 1, was " + leases);
        }
        // Its own pool is never used (it opens nothing): every invocation builds a pool of its own on these servers.
        routed = ScaleBenchmark.Routed.start(server, ensembles);
    }

    @TearDown(Level.Trial)
    public void stop() {
        if (routed != null) {
            routed.close();
        }
    }

    @Benchmark
    public void measure(Retained retained) {
        try (ScaleBenchmark.Routed pool = routed.withNewPool()) {
            try (ZkLease first = pool.pool.lease()) {
                first.getData(pool.paths[0]);
            }
            long oneEnsemble = RetainedHeap.used();
            pool.openEveryEnsemble();
            long allEnsembles = RetainedHeap.used();
            List<ZkLease> held = new ArrayList<>(leases);
            long listed = RetainedHeap.used();
            for (int i = 0; i < leases; i++) {
                ZkLease lease = pool.pool.lease();
                held.add(lease);
                lease.getData(pool.paths[i % ensembles]);
            }
            long withLeases = RetainedHeap.used();
            retained.bytesPerIdleEnsemble = RetainedHeap.perObject(oneEnsemble, allEnsembles, ensembles - 1);
            retained.bytesPerHeldLease = RetainedHeap.perObject(listed, withLeases, leases);
            held.forEach(ZkLease::close);
        }
    }
}
