package dev.zksdk;

import static dev.zksdk.Adversary.print;
import static dev.zksdk.Timings.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.Timings.Call;
import dev.zksdk.cache.CachedNode;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.cache.ZkTreeCache;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ProxiedEnsemble;
import dev.zksdk.testing.Recorder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Adversarial review of issue 15, item 7. README: "An answer larger than jute.maxbuffer (the children of a huge node)
 * fails its own call with ZkResponseTooLargeException, without dropping the connection"; outcome table: "answer over
 * jute.maxbuffer → ZkResponseTooLargeException naming the path, the size and the limit; not retried → at once".
 * Beyond the tested getChildren: a node whose DATA is over the client's limit (the server allows 4 MB), and every other
 * form that reads an answer: async, multi with read ops, caches, tree caches, watches that re-read after a reconnect.
 * One server behind a proxy, so a reconnect can be forced.
 */
class OversizedAdversarialIT {

    static final int CHILDREN = 40_000;
    static final String KIDS = "/big-kids";
    static final String DATA = "/big-data";
    static final String DATA_PARENT = "/big-data-parent";
    static final int DATA_BYTES = 2 * 1024 * 1024;
    /**
     * Well inside the 5 s operation timeout the unfixed SDK retried into. Node data over the limit drops the connection
     * (ZooKeeper's client cannot read it), and every form reads the exact size after the reconnect, which
     * ZooKeeper delays by a random pause of up to 1 s: seen in CI at 1,067 ms.
     */
    static final long AT_ONCE_MS = 2000;

    static final int CLIENT_LIMIT =
            new ZKClientConfig().getInt("jute.maxbuffer", ZKClientConfig.CLIENT_MAX_PACKET_LENGTH_DEFAULT);

    static ProcessEnsemble ensemble;

    @BeforeAll
    static void startAndFill() throws Exception {
        ensemble = ProcessEnsemble.builder()
                .size(1)
                .jvmOption("-Djute.maxbuffer=4194304")
                .jvmOption("-Xmx256m")
                .start();
        ZooKeeper zk = bigClient();
        try {
            zk.create(KIDS, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            Semaphore inFlight = new Semaphore(4);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            for (int from = 0; from < CHILDREN; from += 1000) {
                List<Op> ops = new ArrayList<>();
                for (int i = from; i < Math.min(CHILDREN, from + 1000); i++) {
                    ops.add(Op.create(
                            KIDS + "/" + OversizedResponseIT.name(i),
                            new byte[0],
                            ZooDefs.Ids.OPEN_ACL_UNSAFE,
                            CreateMode.PERSISTENT));
                }
                inFlight.acquire();
                zk.multi(
                        ops,
                        (rc, path, ctx, results) -> {
                            if (rc != 0) {
                                failed.compareAndSet(null, KeeperException.create(KeeperException.Code.get(rc), path));
                            }
                            inFlight.release();
                        },
                        null);
            }
            assertThat(inFlight.tryAcquire(4, 60, TimeUnit.SECONDS)).isTrue();
            assertThat(failed.get())
                    .as("creating the children: %s", String.valueOf(failed.get()))
                    .isNull();
            zk.create(DATA, bigData(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create(DATA_PARENT, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create(DATA_PARENT + "/big", bigData(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create(DATA_PARENT + "/small", new byte[] {1}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create(
                    "/small", "x".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertThat(zk.exists(DATA, false).getDataLength())
                    .as("the big node's size on the server")
                    .isEqualTo(DATA_BYTES);
        } finally {
            zk.close();
        }
    }

    /** A plain client whose jute.maxbuffer allows the huge answers. */
    static ZooKeeper bigClient() throws Exception {
        return bigClient(ensemble);
    }

    /** A plain client of {@code ensemble} whose jute.maxbuffer allows the huge answers. */
    static ZooKeeper bigClient(ProcessEnsemble ensemble) throws Exception {
        ZKClientConfig big = new ZKClientConfig();
        big.setProperty("jute.maxbuffer", "8388608");
        CompletableFuture<Void> connected = new CompletableFuture<>();
        ZooKeeper zk = new ZooKeeper(
                ensemble.connectString(),
                30_000,
                e -> {
                    if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                        connected.complete(null);
                    }
                },
                big);
        connected.get(30, TimeUnit.SECONDS);
        return zk;
    }

    static byte[] bigData() {
        byte[] b = new byte[DATA_BYTES];
        Arrays.fill(b, (byte) 'z');
        return b;
    }

    /** Whether a value is the node's whole data (2 MB) or all of its children (40,000 or more). */
    static boolean complete(Object v) {
        if (v instanceof byte[] b) {
            return b.length == DATA_BYTES;
        }
        if (v instanceof CachedNode n) {
            return n.data() != null && n.data().length == DATA_BYTES;
        }
        if (v instanceof List<?> l && l.size() == 1 && l.get(0) instanceof OpResult.GetDataResult r) {
            return complete(r.getData());
        }
        if (v instanceof List<?> l && l.size() == 1 && l.get(0) instanceof OpResult.GetChildrenResult r) {
            return r.getChildren().size() >= CHILDREN;
        }
        return v instanceof List<?> l && l.size() >= CHILDREN;
    }

    static String describeValue(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof byte[] b) {
            return "byte[" + b.length + "]" + (b.length > 0 ? " first byte '" + (char) b[0] + "'" : "");
        }
        if (v instanceof List<?> l) {
            return "list of " + l.size() + (l.isEmpty() ? "" : ", first " + describeValue(l.get(0)));
        }
        if (v instanceof OpResult.GetDataResult r) {
            return "GetDataResult " + describeValue(r.getData());
        }
        if (v instanceof OpResult.GetChildrenResult r) {
            return "GetChildrenResult " + describeValue(r.getChildren());
        }
        if (v instanceof OpResult.ErrorResult r) {
            return "ErrorResult " + KeeperException.Code.get(r.getErr());
        }
        if (v instanceof CachedNode n) {
            return "CachedNode " + describeValue(n.data());
        }
        return v.getClass().getSimpleName() + " "
                + String.valueOf(v).substring(0, Math.min(80, String.valueOf(v).length()));
    }

    @AfterAll
    static void stop() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    enum Form {
        GET_CHILDREN_SYNC,
        GET_CHILDREN_ASYNC,
        GET_DATA_SYNC,
        GET_DATA_ASYNC,
        GET_NODE_SYNC,
        GET_NODE_ASYNC,
        MULTI_GET_CHILDREN,
        MULTI_GET_DATA,
        CACHE_GET_BIG_DATA,
        CACHE_GET_CURRENT_BIG_DATA,
        TREE_CACHE_CHILDREN_OF_BIG_PARENT,
        TREE_CACHE_BIG_DATA_CHILD,
        WATCH_CHILDREN_THEN_GET_CHILDREN
    }

    /**
     * Each form on its own pool: the call fails alone and at once with {@link ZkResponseTooLargeException} naming path,
     * size and limit; the connection drops at most once (README: not at all); another lease keeps reading meanwhile.
     */
    @ParameterizedTest
    @EnumSource(Form.class)
    void anOversizedAnswerFailsItsOwnCallAtOnce(Form form) throws Exception {
        Recorder events = new Recorder();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .name("big-" + form.name().toLowerCase().replace('_', '-'))
                        .connectString(ensemble.connectString())
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofSeconds(5))
                                .build())
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease();
                ZkLease other = pool.lease()) {
            AtomicBoolean running = new AtomicBoolean(true);
            Queue<Call> others = new ConcurrentLinkedQueue<>();
            Thread bg = new Thread(() -> {
                while (running.get()) {
                    others.add(Timings.time("other getData", false, () -> other.getData("/small")));
                    Adversary.pause(20);
                }
            });
            bg.start();
            Adversary.pause(200);
            List<AutoCloseable> closeables = new ArrayList<>();
            long start = System.nanoTime();
            String expectedPath = switch (form) {
                case GET_CHILDREN_SYNC,
                        GET_CHILDREN_ASYNC,
                        MULTI_GET_CHILDREN,
                        TREE_CACHE_CHILDREN_OF_BIG_PARENT,
                        WATCH_CHILDREN_THEN_GET_CHILDREN -> KIDS;
                case TREE_CACHE_BIG_DATA_CHILD -> DATA_PARENT + "/big";
                default -> DATA;
            };
            AtomicReference<Object> value = new AtomicReference<>();
            Call call = switch (form) {
                case GET_CHILDREN_SYNC -> Timings.time(form.name(), false, () -> value.set(lease.getChildren(KIDS)));
                case GET_CHILDREN_ASYNC ->
                    Timings.timeAsyncJoin(
                            form.name(),
                            false,
                            () -> lease.getChildrenAsync(KIDS).thenApply(v -> {
                                value.set(v);
                                return v;
                            }));
                case GET_DATA_SYNC -> Timings.time(form.name(), false, () -> value.set(lease.getData(DATA)));
                case GET_DATA_ASYNC ->
                    Timings.timeAsyncJoin(
                            form.name(),
                            false,
                            () -> lease.getDataAsync(DATA).thenApply(v -> {
                                value.set(v);
                                return v;
                            }));
                case GET_NODE_SYNC -> Timings.time(form.name(), false, () -> value.set(lease.getNode(DATA)));
                case GET_NODE_ASYNC ->
                    Timings.timeAsyncJoin(
                            form.name(),
                            false,
                            () -> lease.getNodeAsync(DATA).thenApply(v -> {
                                value.set(v);
                                return v;
                            }));
                case MULTI_GET_CHILDREN ->
                    Timings.time(form.name(), false, () -> value.set(lease.multi(List.of(Op.getChildren(KIDS)))));
                case MULTI_GET_DATA ->
                    Timings.time(form.name(), false, () -> value.set(lease.multi(List.of(Op.getData(DATA)))));
                case CACHE_GET_BIG_DATA ->
                    Timings.time(form.name(), false, () -> {
                        ZkCache c = lease.cache(DATA);
                        closeables.add(c);
                        value.set(c.get());
                    });
                case CACHE_GET_CURRENT_BIG_DATA ->
                    Timings.time(form.name(), false, () -> {
                        ZkCache c = lease.cache(DATA);
                        closeables.add(c);
                        value.set(c.getCurrent(DATA));
                    });
                case TREE_CACHE_CHILDREN_OF_BIG_PARENT ->
                    Timings.time(form.name(), false, () -> {
                        ZkTreeCache t = lease.treeCache(KIDS);
                        closeables.add(t);
                        value.set(t.getChildren(KIDS));
                    });
                case TREE_CACHE_BIG_DATA_CHILD ->
                    Timings.time(form.name(), false, () -> {
                        ZkTreeCache t = lease.treeCache(DATA_PARENT);
                        closeables.add(t);
                        t.get(DATA_PARENT + "/small");
                        value.set(t.get(DATA_PARENT + "/big"));
                    });
                case WATCH_CHILDREN_THEN_GET_CHILDREN ->
                    Timings.time(form.name(), false, () -> {
                        WatchHandle w = lease.watchChildren(KIDS, e -> {});
                        closeables.add(w);
                        value.set(lease.getChildren(KIDS));
                    });
            };
            // Let the pool settle (a reconnect after the drop, if any), then count; keep the other reader going.
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> pool.ensembles().get(0).isConnected());
            Adversary.pause(3000);
            running.set(false);
            bg.join(10_000);
            long suspended = Timings.countAfter(events, start, SessionState.SUSPENDED);
            List<Call> otherCalls = List.copyOf(others);
            List<Call> otherFailed = otherCalls.stream().filter(c -> !c.ok()).toList();
            String msg = call.error() == null ? "" : String.valueOf(call.error().getMessage());
            print("FIGURES oversized " + form + ": " + call + " value " + describeValue(value.get())
                    + "; connection drops (SUSPENDED) " + suspended
                    + "; other reader: " + otherCalls.size() + " calls, failed " + otherFailed.size() + ", max "
                    + Timings.maxMillis(otherCalls) + " ms; events "
                    + Timings.after(events, start).stream()
                            .map(t -> t.event().state() + "@" + ms(t.at() - start) + "ms")
                            .toList()
                    + (call.error() instanceof ZkResponseTooLargeException z
                            ? "; responseBytes=" + z.responseBytes() + " limitBytes=" + z.limitBytes()
                            : ""));
            for (AutoCloseable c : closeables) {
                c.close();
            }
            SoftAssertions soft = new SoftAssertions();
            if (call.ok()) {
                soft.assertThat(complete(value.get()))
                        .as(form + " returned OK, so its value must be the whole answer, not "
                                + describeValue(value.get()))
                        .isTrue();
            }
            soft.assertThat(call.error()).as(form + ": " + call).isInstanceOf(ZkResponseTooLargeException.class);
            soft.assertThat(call.millis()).as(form + " at once: " + call).isLessThan(AT_ONCE_MS);
            if (call.error() instanceof ZkResponseTooLargeException z) {
                soft.assertThat(z.path()).as(form + " path").isEqualTo(expectedPath);
                soft.assertThat(z.limitBytes()).as(form + " limit").isEqualTo(CLIENT_LIMIT);
                soft.assertThat(msg)
                        .as(form + " message names the path and jute.maxbuffer")
                        .contains(expectedPath)
                        .contains("jute.maxbuffer");
                soft.assertThat(z.responseBytes())
                        .as(form + " response size known or a lower bound over the limit")
                        .isGreaterThan(CLIENT_LIMIT);
            }
            soft.assertThat(suspended)
                    .as(form + ": connection drops (README: 'without dropping the connection'; issue: "
                            + "at most one reconnect)")
                    .isLessThanOrEqualTo(1);
            soft.assertThat(otherFailed)
                    .as(form + ": another lease keeps working")
                    .isEmpty();
            soft.assertAll();
        }
    }

    /**
     * After an oversized answer, the things that re-read on their own must not turn it into a storm: a children watch
     * and a tree cache on the huge node, a cache on the huge data, then forced reconnects (the proxy cuts the connection
     * three times) and changes to the huge nodes (a child added, the data rewritten). Counted: connection drops beyond
     * the three forced ones.
     */
    @Test
    void watchesAndCachesOnHugeNodesDoNotStormAfterReconnectsOrChanges() throws Exception {
        Recorder events = new Recorder();
        try (ProxiedEnsemble proxies = ProxiedEnsemble.of(ensemble.connectString());
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name("big-storm")
                        .connectString(proxies.connectString())
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofSeconds(5))
                                .build())
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            List<String> userFailures = new ArrayList<>();
            WatchHandle kidsWatch = lease.watchChildren(KIDS, e -> {});
            WatchHandle dataWatch = lease.watch(DATA, e -> {});
            ZkTreeCache tree = lease.treeCache(KIDS);
            ZkCache cache = lease.cache(DATA);
            for (Supplier<Object> s : List.<Supplier<Object>>of(
                    () -> tree.getChildren(KIDS), cache::get, () -> lease.getChildren(KIDS))) {
                try {
                    s.get();
                } catch (RuntimeException e) {
                    userFailures.add(Timings.describe(e));
                }
            }
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> pool.ensembles().get(0).isConnected());
            long start = System.nanoTime();
            // Three forced reconnects.
            for (int i = 0; i < 3; i++) {
                proxies.closeAllConnections();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> Timings.countAfter(events, start, SessionState.RECONNECTED)
                                        >= Timings.countAfter(events, start, SessionState.SUSPENDED)
                                && pool.ensembles().get(0).isConnected());
                Adversary.pause(1500);
            }
            long afterReconnects = System.nanoTime();
            // Changes on the huge nodes (by someone else).
            try (ZkSessionPool writer = ZkSessionPool.builder()
                            .name("big-writer")
                            .connectString(ensemble.connectString())
                            .build();
                    ZkLease w = writer.lease()) {
                for (int i = 0; i < 3; i++) {
                    w.create(KIDS + "/zz-added-" + i + "-" + System.nanoTime(), new byte[0], CreateMode.PERSISTENT);
                    Adversary.pause(700);
                }
            }
            Adversary.pause(2000);
            long afterChildren = System.nanoTime();
            // The huge data rewritten twice (by a plain client whose own limit allows it).
            ZooKeeper big = bigClient();
            try {
                for (int i = 0; i < 2; i++) {
                    byte[] d = bigData();
                    d[0] = (byte) ('a' + i);
                    big.setData(DATA, d, -1);
                    Adversary.pause(1500);
                }
            } finally {
                big.close();
            }
            Adversary.pause(2000);
            long suspendedReconnects = Timings.countAfter(events, start, SessionState.SUSPENDED)
                    - Timings.countAfter(events, afterReconnects, SessionState.SUSPENDED);
            long suspendedChanges = Timings.countAfter(events, afterReconnects, SessionState.SUSPENDED)
                    - Timings.countAfter(events, afterChildren, SessionState.SUSPENDED);
            long suspendedDataChanges = Timings.countAfter(events, afterChildren, SessionState.SUSPENDED);
            boolean connectedNow = pool.ensembles().get(0).isConnected();
            Call read = Timings.time("small read afterwards", false, () -> lease.getData("/small"));
            print("FIGURES oversized storm: first reads " + userFailures + "; 3 forced disconnects -> SUSPENDED "
                    + suspendedReconnects + "; 3 children added to the huge node -> SUSPENDED " + suspendedChanges
                    + "; huge data rewritten twice -> SUSPENDED " + suspendedDataChanges + "; connected now "
                    + connectedNow + "; " + read + "; events "
                    + Timings.after(events, start).stream()
                            .map(t -> t.event().state() + "@" + ms(t.at() - start) + "ms")
                            .toList());
            kidsWatch.close();
            dataWatch.close();
            tree.close();
            cache.close();
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(suspendedReconnects)
                    .as("3 forced disconnects cause 3 connection drops, no more")
                    .isLessThanOrEqualTo(3);
            soft.assertThat(suspendedChanges)
                    .as("children added to the huge node cause no connection drop")
                    .isZero();
            soft.assertThat(suspendedDataChanges)
                    .as("rewrites of the huge data (watched, cached) cause no connection drop")
                    .isZero();
            soft.assertThat(read.ok()).as(read.toString()).isTrue();
            soft.assertAll();
        }
    }
}
