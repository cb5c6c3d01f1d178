package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ZkProxy;
import io.github.resilience4j.bulkhead.BulkheadFullException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code ...Async} path on a real server: the results of the synchronous forms, the same exception classes (with
 * the same code and path), the in-flight limit, and no thread per call.
 */
class AsyncOperationsIT {

    static final Duration WAIT = Duration.ofSeconds(15);

    TestingServer server;
    ZkProxy proxy;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
    }

    @AfterEach
    void stop() throws Exception {
        proxy.unfreeze();
        proxy.close();
        server.close();
    }

    private ZkSessionPool pool(OperationPolicy policy) {
        return ZkSessionPool.builder()
                .connectString(proxy.connectString())
                .sessionTimeout(Duration.ofSeconds(10))
                .connectionTimeout(Duration.ofSeconds(5))
                .operationPolicy(policy)
                .build();
    }

    @Test
    void asyncOperationsReturnWhatTheSynchronousOnesReturn() throws Exception {
        try (ZkSessionPool pool = pool(OperationPolicy.defaults());
                ZkLease lease = pool.lease()) {
            assertThat(get(lease.createAsync("/a", bytes("1"), CreateMode.PERSISTENT)))
                    .isEqualTo("/a");
            String sequential = get(lease.createAsync("/a/s-", new byte[0], CreateMode.PERSISTENT_SEQUENTIAL));
            assertThat(sequential).matches("/a/.*s-\\d{10}");
            assertThat(get(lease.getDataAsync("/a"))).isEqualTo(bytes("1"));
            Stat stat = get(lease.existsAsync("/a"));
            assertThat(stat).isEqualTo(lease.exists("/a"));
            assertThat(get(lease.existsAsync("/missing"))).isNull();
            assertThat(get(lease.getChildrenAsync("/a"))).containsExactlyElementsOf(lease.getChildren("/a"));
            Stat set = get(lease.setDataAsync("/a", bytes("2"), stat.getVersion()));
            assertThat(set.getVersion()).isEqualTo(stat.getVersion() + 1);
            assertThat(lease.getData("/a")).isEqualTo(bytes("2"));
            get(lease.syncAsync("/a"));
            List<OpResult> results = get(lease.multiAsync(List.of(
                    Op.create("/b", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                    Op.setData("/a", bytes("3"), -1))));
            assertThat(results).hasSize(2);
            assertThat(lease.getData("/a")).isEqualTo(bytes("3"));
            get(lease.deleteAsync(sequential, -1));
            get(lease.deleteAsync("/b", -1));
            assertThat(lease.exists("/b")).isNull();
        }
    }

    @Test
    void asyncFailuresHaveTheExceptionClassesOfTheSynchronousForms() throws Exception {
        try (ZkSessionPool pool = pool(OperationPolicy.defaults());
                ZkLease lease = pool.lease()) {
            lease.create("/full", new byte[0], CreateMode.PERSISTENT);
            lease.create("/full/child", new byte[0], CreateMode.PERSISTENT);

            sameFailure(
                    () -> lease.getData("/missing"),
                    () -> lease.getDataAsync("/missing"),
                    ZkNoNodeException.class,
                    Code.NONODE,
                    "/missing");
            sameFailure(
                    () -> lease.getChildren("/missing"),
                    () -> lease.getChildrenAsync("/missing"),
                    ZkNoNodeException.class,
                    Code.NONODE,
                    "/missing");
            sameFailure(
                    () -> lease.create("/full", new byte[0], CreateMode.PERSISTENT),
                    () -> lease.createAsync("/full", new byte[0], CreateMode.PERSISTENT),
                    ZkNodeExistsException.class,
                    Code.NODEEXISTS,
                    "/full");
            sameFailure(
                    () -> lease.create("/no/parent", new byte[0], CreateMode.PERSISTENT),
                    () -> lease.createAsync("/no/parent", new byte[0], CreateMode.PERSISTENT),
                    ZkNoNodeException.class,
                    Code.NONODE,
                    "/no/parent");
            sameFailure(
                    () -> lease.setData("/full", new byte[0], 42),
                    () -> lease.setDataAsync("/full", new byte[0], 42),
                    ZkBadVersionException.class,
                    Code.BADVERSION,
                    "/full");
            sameFailure(
                    () -> {
                        lease.delete("/full", -1);
                        return null;
                    },
                    () -> lease.deleteAsync("/full", -1),
                    ZkNotEmptyException.class,
                    Code.NOTEMPTY,
                    "/full");
            sameFailure(
                    () -> lease.multi(List.of(Op.delete("/missing", -1))),
                    () -> lease.multiAsync(List.of(Op.delete("/missing", -1))),
                    ZkNoNodeException.class,
                    Code.NONODE,
                    "/missing");

            // Bad arguments are refused before anything is sent, by both forms alike: thrown, not a failed future.
            assertThatThrownBy(() -> lease.getDataAsync("no-slash"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("no-slash");
            assertThatThrownBy(() -> lease.setDataAsync("/full", new byte[0], -2))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("-2");
        }
    }

    @Test
    void aFullBulkheadFailsAnAsyncCallAtOnceWithUnavailable() throws Exception {
        OperationPolicy oneInFlight = OperationPolicy.builder()
                .maxInFlight(1)
                .operationTimeout(Duration.ofSeconds(30))
                .build();
        try (ZkSessionPool pool = pool(oneInFlight);
                ZkLease lease = pool.lease()) {
            lease.create("/held", bytes("h"), CreateMode.PERSISTENT);
            proxy.freeze();
            CompletableFuture<byte[]> holding = lease.getDataAsync("/held");
            CompletableFuture<byte[]> refused = lease.getDataAsync("/held");

            // Completed on the pool's completion threads, so a moment after the call returns: well within the 30 s
            // the frozen server would hold it.
            await("refused without waiting for the frozen server")
                    .atMost(Duration.ofSeconds(5))
                    .until(refused::isDone);
            Throwable asyncFailure = catchThrowable(refused::join).getCause();
            assertThat(asyncFailure)
                    .isInstanceOf(ZkUnavailableException.class)
                    .hasCauseInstanceOf(BulkheadFullException.class)
                    .hasMessageContaining("maxInFlight");
            assertThat(((ZkException) asyncFailure).code()).isEqualTo(Code.CONNECTIONLOSS);
            assertThat(((ZkException) asyncFailure).path()).isEqualTo("/held");
            assertThatThrownBy(() -> lease.getData("/held"))
                    .as("the synchronous form fails alike")
                    .isInstanceOf(ZkUnavailableException.class)
                    .hasCauseInstanceOf(BulkheadFullException.class);
            assertThat(holding).isNotDone();

            proxy.unfreeze();
            assertThat(holding.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(bytes("h"));
            assertThat(get(lease.getDataAsync("/held")))
                    .as("the slot is free again")
                    .isEqualTo(bytes("h"));
        }
    }

    @Test
    void manyCallsInFlightTakeNoThreadEach() throws Exception {
        try (ZkSessionPool pool = pool(OperationPolicy.defaults());
                ZkLease lease = pool.lease()) {
            lease.create("/many", bytes("m"), CreateMode.PERSISTENT);
            int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            proxy.freeze();
            List<CompletableFuture<byte[]>> inFlight = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                inFlight.add(lease.getDataAsync("/many"));
            }
            assertThat(inFlight).noneMatch(CompletableFuture::isDone);
            int threadsDuring = ManagementFactory.getThreadMXBean().getThreadCount();
            proxy.unfreeze();
            for (CompletableFuture<byte[]> f : inFlight) {
                assertThat(f.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(bytes("m"));
            }
            assertThat(threadsDuring - threadsBefore)
                    .as("threads started for 500 calls in flight")
                    .isLessThan(10);
        }
    }

    /**
     * A stage chained to an async call without an executor runs off ZooKeeper's threads, so it may call the SDK's
     * synchronous methods: an ephemeral registration (which needs ZooKeeper's event thread for its confirmation) and a
     * read-your-writes read from inside the stage finish in their usual time, not at their timeouts.
     */
    @Test
    void aStageChainedToAnAsyncCallMayCallTheSdkSynchronously() throws Exception {
        try (ZkSessionPool pool = pool(OperationPolicy.defaults());
                ZkLease lease = pool.lease()) {
            lease.create("/chained", bytes("c"), CreateMode.PERSISTENT);
            long started = System.nanoTime();
            CompletableFuture<String> chained = lease.getDataAsync("/chained").thenApply(data -> {
                String thread = Thread.currentThread().getName();
                try (EphemeralNode node = lease.ephemeral("/chained/e", data)) {
                    return thread + " " + new String(lease.getData(node.path()), StandardCharsets.UTF_8);
                }
            });
            String result = chained.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertThat(result).endsWith(" c").doesNotContain("EventThread").doesNotContain("SendThread");
            assertThat(tookMillis)
                    .as("ms for a registration inside a chained stage (the connection timeout is 5,000)")
                    .isLessThan(4_000);
            assertThat(lease.exists("/chained/e")).as("closed inside the stage").isNull();
        }
    }

    private static <T> void sameFailure(
            Supplier<?> sync,
            Supplier<CompletableFuture<T>> async,
            Class<? extends ZkException> type,
            Code code,
            String path) {
        Throwable syncFailure = catchThrowable(sync::get);
        assertThat(syncFailure).isInstanceOf(type);
        Throwable asyncFailure = catchThrowable(() -> async.get().get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertThat(asyncFailure).isInstanceOf(ExecutionException.class);
        Throwable cause = asyncFailure.getCause();
        assertThat(cause).as("async failure of " + path).isExactlyInstanceOf(syncFailure.getClass());
        assertThat(((ZkException) cause).code()).isEqualTo(code).isEqualTo(((ZkException) syncFailure).code());
        assertThat(((ZkException) cause).path()).isEqualTo(path).isEqualTo(((ZkException) syncFailure).path());
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
