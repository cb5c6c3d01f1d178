package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zksdk.cache.ZkCache;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tries to break "bad input fails early, before anything is sent, naming the setting and the value"
 * ({@link IllegalArgumentException}), and "after close() (or the pool's close) every method throws
 * {@link IllegalStateException}", with inputs {@code BadInputIT} and {@code CloseIT} do not try: requests whose parts
 * each fit but whose whole does not, {@link EphemeralNode#setData} with bad data, TTL modes without a TTL, and every
 * method of closed leases, handles, caches and pools. "Nothing sent" is checked where it shows: no node, no
 * disconnection of the shared session.
 */
class BadInputAdversarialIT {

    static final byte[] DATA = "data".getBytes(StandardCharsets.UTF_8);

    TestingServer server;
    RawZooKeeper observer;
    Recorder recorder;
    ZkSessionPool pool;
    ZkLease lease;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        recorder = new Recorder();
        pool = ZkSessionPool.builder()
                .name("adv-bad")
                .connectString(server.getConnectString())
                .sessionTimeout(Duration.ofSeconds(6))
                .connectionTimeout(Duration.ofSeconds(3))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(4))
                        .build())
                .listener(recorder)
                .build();
        lease = pool.lease();
        lease.create("/b", new byte[0], CreateMode.PERSISTENT);
    }

    @AfterEach
    void stop() throws Exception {
        pool.close();
        observer.close();
        server.close();
    }

    // ------------------------------------------------------------------------------ too big as a whole

    /**
     * Each op's data is under the limit, the multi as a whole is far over it (ZooKeeper's server drops a connection
     * whose request is over jute.maxbuffer). It must be refused before sending, not turn into connection losses of the
     * shared session.
     */
    @Test
    void aMultiWhoseOpsFitButWhoseWholeIsOverTheLimitIsRefusedBeforeSending() throws Exception {
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ops.add(Op.create("/b/m" + i, new byte[600_000], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        }
        Throwable thrown = catchThrowable(() -> lease.multi(ops));
        assertNothingSentAndRefused("multi of 3 creates x 600,000 bytes", thrown);
        assertThat(observer.zk().exists("/b/m0", false)).isNull();
    }

    @Test
    void aCreateWhosePathAndDataTogetherAreOverTheLimitIsRefusedBeforeSending() throws Exception {
        String longName = "/b/" + "n".repeat(20_000);
        Throwable thrown = catchThrowable(() -> lease.create(longName, new byte[1_040_000], CreateMode.PERSISTENT));
        assertNothingSentAndRefused("create with a 20,003-char path and 1,040,000 bytes of data", thrown);
    }

    @Test
    void anEphemeralNodesSetDataWithNullOrTooBigDataIsRefusedAndChangesNothing() throws Exception {
        EphemeralNode node = lease.ephemeral("/b/e", DATA);
        Throwable nullData = catchThrowable(() -> node.setData(null));
        Throwable tooBig = catchThrowable(() -> node.setData(new byte[1_048_576]));
        assertThat(nullData)
                .as("EphemeralNode.setData(null)")
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("data");
        assertThat(tooBig)
                .as("EphemeralNode.setData(1 MiB)")
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("data");
        assertThat(node.data()).isEqualTo(DATA);
        assertThat(observer.zk().getData("/b/e", false, null)).isEqualTo(DATA);
        assertThat(recorder.sessionEvents().stream()
                        .filter(e -> e.state() != SessionState.CONNECTED)
                        .toList())
                .as("session events (nothing may have been sent)")
                .isEmpty();
        Throwable nullRegistration = catchThrowable(() -> lease.ephemeral("/b/e2", null));
        assertThat(nullRegistration)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("data");
    }

    @Test
    void ttlModesWithoutATtlAreRefusedNamingTheMode() throws Exception {
        for (CreateMode mode : List.of(CreateMode.PERSISTENT_WITH_TTL, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL)) {
            Throwable thrown = catchThrowable(() -> lease.create("/b/ttl", DATA, mode));
            assertThat(thrown)
                    .as("create(..., %s) (no TTL can be given through this API)", mode)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("mode")
                    .hasMessageContaining(mode.name());
            Throwable async =
                    catchThrowable(() -> lease.createAsync("/b/ttl", DATA, mode).get(10, TimeUnit.SECONDS));
            assertThat(async).as("createAsync(..., %s)", mode).isNotNull();
        }
        assertThat(observer.zk().getChildren("/b", false)).isEmpty();
    }

    @Test
    void anEmptyOrNullAclIsRefusedNamingIt() {
        assertThat(catchThrowable(() -> lease.create("/b/acl", DATA, CreateMode.PERSISTENT, List.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("acl");
        assertThat(catchThrowable(() -> lease.create("/b/acl", DATA, CreateMode.PERSISTENT, (List<ACL>) null)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("acl");
        assertThat(catchThrowable(() -> lease.createAsync("/b/acl", DATA, CreateMode.PERSISTENT, List.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("acl");
    }

    @Test
    void badArgumentsOfAsyncFormsFailWithIllegalArgumentExceptionAndSendNothing() throws Exception {
        Map<String, Supplier<CompletableFuture<?>>> calls = new LinkedHashMap<>();
        calls.put("getDataAsync(\"rel\")", () -> lease.getDataAsync("rel"));
        calls.put("existsAsync(null)", () -> lease.existsAsync(null));
        calls.put("getChildrenAsync(\"/a//b\")", () -> lease.getChildrenAsync("/a//b"));
        calls.put("createAsync(data null)", () -> lease.createAsync("/b/x", null, CreateMode.PERSISTENT));
        calls.put("createAsync(1 MiB)", () -> lease.createAsync("/b/x", new byte[1_048_576], CreateMode.PERSISTENT));
        calls.put("setDataAsync(version -2)", () -> lease.setDataAsync("/b", DATA, -2));
        calls.put("deleteAsync(\"/b/\")", () -> lease.deleteAsync("/b/", -1));
        calls.put("syncAsync(\"\")", () -> lease.syncAsync(""));
        calls.put("multiAsync(empty)", () -> lease.multiAsync(List.of()));
        calls.put("multiAsync(null op)", () -> lease.multiAsync(Arrays.asList(Op.check("/b", -1), null)));
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Supplier<CompletableFuture<?>>> call : calls.entrySet()) {
            Throwable thrown = catchThrowable(() -> call.getValue().get().get(10, TimeUnit.SECONDS));
            Throwable cause = thrown instanceof ExecutionException ? thrown.getCause() : thrown;
            if (!(cause instanceof IllegalArgumentException)) {
                wrong.add(call.getKey() + " -> " + thrown);
            }
        }
        assertThat(wrong)
                .as("async calls with bad arguments that did not fail with IllegalArgumentException")
                .isEmpty();
        assertThat(observer.zk().getChildren("/b", false)).isEmpty();
    }

    // ------------------------------------------------------------------------------------------ closed things

    @Test
    void aClosedLeaseRefusesEveryMethodWithIllegalStateException() throws Exception {
        ZkLease closed = pool.lease();
        closed.close();
        Map<String, Runnable> calls = new LinkedHashMap<>();
        calls.put("getData", () -> closed.getData("/b"));
        calls.put("getChildren", () -> closed.getChildren("/b"));
        calls.put("create", () -> closed.create("/b/c", DATA, CreateMode.PERSISTENT));
        calls.put("create(acl)", () -> closed.create("/b/c", DATA, CreateMode.PERSISTENT, ZooDefs.Ids.OPEN_ACL_UNSAFE));
        calls.put("setData", () -> closed.setData("/b", DATA, -1));
        calls.put("delete", () -> closed.delete("/b/c", -1));
        calls.put("sync", () -> closed.sync("/b"));
        calls.put("multi", () -> closed.multi(List.of(Op.check("/b", -1))));
        calls.put("existsAsync", () -> closed.existsAsync("/b"));
        calls.put("getChildrenAsync", () -> closed.getChildrenAsync("/b"));
        calls.put("createAsync", () -> closed.createAsync("/b/c", DATA, CreateMode.PERSISTENT));
        calls.put("setDataAsync", () -> closed.setDataAsync("/b", DATA, -1));
        calls.put("deleteAsync", () -> closed.deleteAsync("/b/c", -1));
        calls.put("syncAsync", () -> closed.syncAsync("/b"));
        calls.put("multiAsync", () -> closed.multiAsync(List.of(Op.check("/b", -1))));
        calls.put("ephemeral(seq)", () -> closed.ephemeral("/b/s-", DATA, CreateMode.EPHEMERAL_SEQUENTIAL));
        calls.put("watchTree", () -> closed.watchTree("/b", e -> {}));
        calls.put("watchChildren", () -> closed.watchChildren("/b", e -> {}));
        calls.put("cache", () -> closed.cache("/b"));
        calls.put("treeCache", () -> closed.treeCache("/b"));
        calls.put("sessionId", closed::sessionId);
        calls.put("curator", closed::curator);
        assertAllRefused("a closed lease", calls);
        assertThat(observer.zk().getChildren("/b", false).toString()).isEqualTo("[]");
    }

    @Test
    void afterThePoolClosesEveryHandleItGaveOutRefusesWithIllegalStateException() throws Exception {
        EphemeralNode node = lease.ephemeral("/b/e", DATA);
        WatchHandle watch = lease.watch("/b", e -> {});
        ZkCache cache = lease.cache("/b");
        pool.close();
        Map<String, Runnable> calls = new LinkedHashMap<>();
        calls.put("pool.lease()", pool::lease);
        calls.put("pool.lease(config)", () -> pool.lease(pool.defaultEnsemble()));
        calls.put("pool.updateConnectString", () -> pool.updateConnectString(server.getConnectString()));
        calls.put("lease.getData", () -> lease.getData("/b"));
        calls.put("lease.curator()", lease::curator);
        calls.put("lease.sessionId()", lease::sessionId);
        calls.put("EphemeralNode.setData", () -> node.setData(DATA));
        calls.put("cache.get()", cache::get);
        calls.put("cache.getCurrent()", () -> cache.getCurrent("/b"));
        calls.put("cache.getAsync()", () -> cache.getAsync("/b"));
        assertAllRefused("a closed pool", calls);
        // Closing what is already closed is fine.
        watch.close();
        node.close();
        cache.close();
        lease.close();
        pool.closeEphemerals();
        assertThat(node.isPresent()).isFalse();
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private void assertAllRefused(String what, Map<String, Runnable> calls) {
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Runnable> call : calls.entrySet()) {
            Throwable thrown = catchThrowable(() -> call.getValue().run());
            if (!(thrown instanceof IllegalStateException)) {
                wrong.add(call.getKey() + " -> " + (thrown == null ? "returned" : thrown.toString()));
            }
        }
        assertThat(wrong)
                .as("methods of %s that did not throw IllegalStateException", what)
                .isEmpty();
    }

    private static String abbreviate(String message) {
        if (message == null) {
            return "null";
        }
        return message.replaceAll("n{40,}", "nnn...nnn");
    }

    private void assertNothingSentAndRefused(String what, Throwable thrown) throws Exception {
        // A dropped connection shows within a second: the session must stay connected throughout.
        try {
            await().during(Duration.ofSeconds(1))
                    .atMost(Duration.ofSeconds(2))
                    .until(() -> recorder.sessionEvents().stream().allMatch(e -> e.state() == SessionState.CONNECTED));
        } catch (ConditionTimeoutException e) {
            // reported below, with what happened
        }
        List<String> disruptions = recorder.sessionEvents().stream()
                .filter(e -> e.state() != SessionState.CONNECTED)
                .map(e -> e.previousState() + "->" + e.state())
                .toList();
        String outcome = thrown == null
                ? "returned"
                : thrown.getClass().getSimpleName() + ": " + abbreviate(thrown.getMessage());
        assertThat(outcome)
                .as("%s (the shared session meanwhile: %s)", what, disruptions)
                .startsWith(IllegalArgumentException.class.getSimpleName());
        assertThat(disruptions)
                .as("session events after %s (nothing may have been sent)", what)
                .isEmpty();
        assertThat(thrown.getMessage())
                .as("the message names what is too big")
                .containsAnyOf("data", "size", "bytes", "jute.maxbuffer");
    }
}
