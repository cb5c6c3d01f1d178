package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

/**
 * Calls in flight when {@link ZkSessionPool#close()} runs. A write cut by the close may or may not have reached the
 * server: it ends with {@link ZkConnectionLossException} and {@code outcomeUnknown()}, saying the pool was closed (a
 * write already found unknown after a connection loss says why instead); a
 * write that was never sent, and a read, end with {@link IllegalStateException} ("the pool is closed"). Every call ends
 * (none is left waiting for a retry the closed pool no longer runs).
 *
 * <p>History check: every write carries a payload unique in the run and targets a node of its own (a create of a new
 * path, or a setData on a node made for that call only), so the server's state after the close says whether it was
 * applied. Reported OK: applied. Reported as a definite failure: not applied. Outcome unknown: either.
 */
class CloseInFlightIT {

    private static final String ROOT = "/close-in-flight";
    private static final int ASYNC_WRITES = 300;
    private static final int SYNC_WRITERS = 4;

    enum Outcome {
        OK,
        FAILED,
        UNKNOWN,
        UNEXPECTED
    }

    /** One call and what it reported. */
    static final class Call {
        final String kind;
        final String path;
        final byte[] payload;
        volatile Outcome outcome;
        volatile Throwable error;

        Call(String kind, String path, byte[] payload) {
            this.kind = kind;
            this.path = path;
            this.payload = payload;
        }

        boolean isWrite() {
            return !kind.equals("getData");
        }

        void ended(Throwable failure) {
            Throwable e =
                    failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            error = e;
            if (e == null) {
                outcome = Outcome.OK;
            } else if (e instanceof ZkConnectionLossException
                    && ((ZkConnectionLossException) e).outcomeUnknown()
                    && isWrite()) {
                // Cut by the close, or (after the proxy dropped the connections) by the loss itself.
                outcome = Outcome.UNKNOWN;
            } else if (e instanceof IllegalStateException && e.getMessage().contains("pool is closed")) {
                outcome = Outcome.FAILED;
            } else {
                outcome = Outcome.UNEXPECTED;
            }
        }

        @Override
        public String toString() {
            return kind + " " + path + " -> " + outcome + (error == null ? "" : " (" + error + ")");
        }
    }

    @Test
    void writesCutByCloseAreReportedOutcomeUnknownAndReadsPoolClosed() throws Exception {
        try (TestingServer server = InProcessEnsembles.startServer();
                ZkProxy proxy = ZkProxy.to(server.getConnectString());
                RawZooKeeper oracle = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30))) {
            List<Call> calls = run(proxy, oracle.zk(), false);
            checkAgainstServer(calls, oracle.zk());
        }
    }

    @Test
    void writesWaitingToRetryAfterAConnectionLossEndWhenThePoolCloses() throws Exception {
        try (TestingServer server = InProcessEnsembles.startServer();
                ZkProxy proxy = ZkProxy.to(server.getConnectString());
                RawZooKeeper oracle = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30))) {
            List<Call> calls = run(proxy, oracle.zk(), true);
            checkAgainstServer(calls, oracle.zk());
        }
    }

    /**
     * Sends a burst of asynchronous writes and reads (and keeps synchronous writers busy) through a proxy that delays
     * every answer, then closes the pool while they are in flight. Before the close, the proxy stops all traffic (a
     * server that no longer answers; ZooKeeper would otherwise answer every request sent before the close's own); with
     * {@code cutFirst} it drops every connection instead, so that the writes lost in flight wait to be retried (a long
     * backoff) when the close comes.
     */
    private static List<Call> run(ZkProxy proxy, ZooKeeper oracle, boolean cutFirst) throws Exception {
        oracle.create(ROOT, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        List<Op> setTargets = new ArrayList<>();
        for (int i = 0; i < ASYNC_WRITES; i++) {
            setTargets.add(
                    Op.create(ROOT + "/s-" + i, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        }
        oracle.multi(setTargets);
        OperationPolicy.Builder policy = OperationPolicy.builder();
        AtomicInteger suspended = new AtomicInteger();
        if (cutFirst) {
            // The calls lost with the connection wait out a backoff when the pool closes.
            policy.retryInitialBackoff(Duration.ofSeconds(2)).retryMaxBackoff(Duration.ofSeconds(2));
        }
        ZkSessionPool pool = ZkSessionPool.builder()
                .name("close-in-flight")
                .connectString(proxy.connectString())
                .sessionsPerEnsemble(2)
                .sessionTimeout(Duration.ofSeconds(10))
                // The frozen server never answers the close: each session's close waits this long, not 2 s.
                .closeTimeout(Duration.ofMillis(300))
                .operationPolicy(policy.build())
                .listener(new SessionListener() {
                    @Override
                    public void onStateChange(SessionEvent event) {
                        if (event.state() == SessionState.SUSPENDED) {
                            suspended.incrementAndGet();
                        }
                    }
                })
                .build();
        List<Call> calls = new ArrayList<>();
        List<CompletableFuture<?>> ends = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger syncDone = new AtomicInteger();
        List<Thread> writers = new ArrayList<>();
        try {
            ZkLease first = pool.lease();
            ZkLease second = pool.lease();
            first.exists(ROOT);
            second.exists(ROOT);
            List<Call> syncCalls = Collections.synchronizedList(new ArrayList<>());
            for (int w = 0; w < SYNC_WRITERS; w++) {
                ZkLease lease = w % 2 == 0 ? first : second;
                String name = "sync" + w;
                Thread t = new Thread(
                        () -> {
                            for (int n = 0; !stop.get(); n++) {
                                String path = ROOT + "/" + name + "-" + n;
                                Call c = new Call("create", path, payload(name + "-" + n));
                                syncCalls.add(c);
                                try {
                                    first.getData(ROOT); // keeps reads and writes mixed on the session
                                    lease.create(path, c.payload, CreateMode.PERSISTENT);
                                    c.ended(null);
                                } catch (RuntimeException e) {
                                    c.ended(e);
                                    if (c.outcome != Outcome.OK) {
                                        syncDone.incrementAndGet();
                                        return;
                                    }
                                }
                            }
                            syncDone.incrementAndGet();
                        },
                        "close-in-flight-writer-" + w);
                writers.add(t);
                t.start();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> syncCalls.size() >= 4 * SYNC_WRITERS);
            // Every answer now takes a while: what is sent from here is in flight when the pool closes.
            proxy.latency(Duration.ofMillis(100));
            for (int i = 0; i < ASYNC_WRITES; i++) {
                ZkLease lease = i % 2 == 0 ? first : second;
                Call create = new Call("create", ROOT + "/c-" + i, payload("c-" + i));
                Call set = new Call("setData", ROOT + "/s-" + i, payload("s-" + i));
                Call read = new Call("getData", ROOT + "/s-" + i, null);
                calls.add(create);
                calls.add(set);
                calls.add(read);
                ends.add(lease.createAsync(create.path, create.payload, CreateMode.PERSISTENT)
                        .whenComplete((v, e) -> create.ended(e)));
                ends.add(lease.setDataAsync(set.path, set.payload, -1).whenComplete((v, e) -> set.ended(e)));
                ends.add(lease.getDataAsync(read.path).whenComplete((v, e) -> read.ended(e)));
            }
            if (cutFirst) {
                proxy.closeAllConnections();
                // Both sessions saw the loss: the writes sent were lost in flight and wait for their retry's backoff.
                await().atMost(Duration.ofSeconds(5)).until(() -> suspended.get() >= 2);
            } else {
                // The server stops answering: some writes have reached it, others not; none has its answer, and the
                // close's own request gets none either (the close drops the connections after its bound).
                proxy.freeze();
            }
            stop.set(true);
            pool.close();
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(ends).allMatch(CompletableFuture::isDone));
            for (Thread t : writers) {
                t.join(Duration.ofSeconds(10).toMillis());
                assertThat(t.isAlive()).as("%s ended", t.getName()).isFalse();
            }
            calls.addAll(syncCalls);
        } finally {
            stop.set(true);
            pool.close();
        }
        return calls;
    }

    private static void checkAgainstServer(List<Call> calls, ZooKeeper oracle) throws Exception {
        Map<String, Long> counts = calls.stream()
                .collect(Collectors.groupingBy(c -> c.kind + " " + c.outcome, TreeMap::new, Collectors.counting()));
        System.out.println("CloseInFlightIT outcomes: " + counts);
        List<Call> unexpected = calls.stream()
                .filter(c -> c.outcome == null || c.outcome == Outcome.UNEXPECTED)
                .collect(Collectors.toList());
        assertThat(unexpected).as("calls that ended otherwise than promised").isEmpty();
        assertThat(calls.stream().filter(c -> !c.isWrite() && c.outcome == Outcome.UNKNOWN))
                .isEmpty();
        // The close cut writes in flight, and said so: the test exercised what it checks.
        assertThat(calls.stream()
                        .filter(c -> c.isWrite()
                                && c.outcome == Outcome.UNKNOWN
                                && c.error.getMessage().contains("the pool was closed while it was in flight")))
                .as("writes reported outcome unknown by the close")
                .isNotEmpty();
        List<String> lies = new ArrayList<>();
        for (Call c : calls) {
            if (!c.isWrite()) {
                continue;
            }
            byte[] onServer;
            try {
                onServer = oracle.getData(c.path, false, null);
            } catch (KeeperException.NoNodeException e) {
                onServer = null;
            }
            boolean applied = onServer != null && Arrays.equals(onServer, c.payload);
            if (c.outcome == Outcome.OK && !applied) {
                lies.add(c + ": reported OK, not on the server");
            }
            if (c.outcome == Outcome.FAILED && applied) {
                lies.add(c + ": reported failed, on the server");
            }
        }
        assertThat(lies).as("outcomes the server contradicts").isEmpty();
    }

    private static byte[] payload(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
