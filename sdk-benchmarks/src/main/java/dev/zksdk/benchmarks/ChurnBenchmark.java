package dev.zksdk.benchmarks;

import dev.zksdk.ZkException;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;
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
 * Connection churn: one read per request, where each request (a) opens a ZooKeeper session of its own, (b) starts a
 * Curator client of its own, (c) speaks the protocol itself, connect → getData → close with no pause (the lean client
 * of a web worker's extension, {@link LeanClient}), or (d) leases the shared pool's session. This is the front end of production problem P2
 * (a short ZooKeeper connection per web request) against what the SDK does instead.
 *
 * <p>A request is: create the client, wait for its session, {@code getData} of the {@value Workload#DATA_BYTES}-byte
 * node, close. The per-request clients are ZooKeeper's and Curator's as shipped: closing ZooKeeper's NIO client
 * sleeps 100 ms, and a reconnect after the server refused a connection waits up to a second, both as in production.
 * {@link ChurnCounters} says how many TCP connections and sessions each request cost and what the server refused.
 * Run it at 1, 64 and 256 threads ({@code -t}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 3)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class ChurnBenchmark {

    /** The pool the pooled requests lease from: one session, opened before the first iteration. */
    @State(Scope.Benchmark)
    public static class PooledClient {
        ZkSessionPool pool;

        @Setup(Level.Trial)
        public void open(ServerFixture fixture) {
            ConnectCounter.install();
            pool = fixture.asShared(() -> {
                ZkSessionPool p = ZkSessionPool.builder()
                        .connectString(fixture.connectString())
                        .sessionTimeout(Workload.SESSION_TIMEOUT)
                        .connectionTimeout(Workload.CONNECT_TIMEOUT)
                        .name("churn")
                        .build();
                try (ZkLease lease = p.lease()) {
                    lease.getData(Workload.DATA);
                }
                return p;
            });
            fixture.sharedSessions = () -> pool.stats().sessionsOpened();
            if (fixture.sharedConnects.get() == 0) {
                throw new IllegalStateException(
                        "the pool connected without its connection being counted: connections per "
                                + "request would read zero whatever they are");
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            pool.close();
        }
    }

    /** (a) A raw ZooKeeper client per request. */
    @Benchmark
    public byte[] perRequestZooKeeper(ServerFixture fixture, ChurnCounters counters) throws InterruptedException {
        counters.requests++;
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk;
        try {
            zk = new ZooKeeper(fixture.connectString(), (int) Workload.SESSION_TIMEOUT.toMillis(), event -> {
                if (event.getState() == KeeperState.SyncConnected) {
                    connected.countDown();
                }
            });
        } catch (IOException e) {
            counters.failedRequests++;
            return null;
        }
        try {
            if (!connected.await(Workload.CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                counters.failedRequests++;
                return null;
            }
            counters.sessionsCreated++;
            return zk.getData(Workload.DATA, false, null);
        } catch (KeeperException e) {
            counters.failedRequests++;
            return null;
        } finally {
            zk.close();
        }
    }

    /** (b) A Curator client per request. */
    @Benchmark
    public byte[] perRequestCurator(ServerFixture fixture, ChurnCounters counters) throws InterruptedException {
        counters.requests++;
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(fixture.connectString())
                .sessionTimeoutMs((int) Workload.SESSION_TIMEOUT.toMillis())
                .connectionTimeoutMs((int) Workload.CONNECT_TIMEOUT.toMillis())
                .retryPolicy(new RetryNTimes(3, 100))
                .build();
        client.start();
        try {
            if (!client.blockUntilConnected((int) Workload.CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                counters.failedRequests++;
                return null;
            }
            // A client that lives for one request holds one handle, and a handle holds at most one session.
            counters.sessionsCreated++;
            return client.getData().forPath(Workload.DATA);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            counters.failedRequests++;
            return null;
        } finally {
            client.close();
        }
    }

    /** (c) A lease on the pool's shared session per request. */
    /**
     * (c) The per-request client of the incidents ({@link LeanClient}): connect, session, {@code getData}, close, with
     * no thread and no pause, as a web worker's ZooKeeper extension does.
     */
    @Benchmark
    public byte[] perRequestLean(ServerFixture fixture, ChurnCounters counters) {
        counters.requests++;
        try {
            return LeanClient.getData(
                    LeanClient.servers(fixture.connectString()),
                    Workload.DATA,
                    Workload.SESSION_TIMEOUT,
                    Workload.CONNECT_TIMEOUT,
                    new LeanClient.Counts() {
                        @Override
                        public void connected() {
                            ConnectCounter.connectAttempted();
                        }

                        @Override
                        public void sessionCreated() {
                            counters.sessionsCreated++;
                        }
                    });
        } catch (IOException | KeeperException e) {
            counters.failedRequests++;
            return null;
        }
    }

    @Benchmark
    public byte[] pooledLease(PooledClient pooled, ChurnCounters counters) {
        counters.requests++;
        try (ZkLease lease = pooled.pool.lease()) {
            return lease.getData(Workload.DATA);
        } catch (ZkException e) {
            counters.failedRequests++;
            return null;
        }
    }
}
