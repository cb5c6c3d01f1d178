package dev.zksdk;

import static dev.zksdk.Timings.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.Timings.Call;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.client.ZKClientConfig;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, item 7: one response over the client's {@code jute.maxbuffer} fails that call alone, at once, with an
 * exception naming the path, the limit and the size; it is not retried, so the shared connection drops at most once
 * and the pool's other calls keep working. A separate-process server; a node with 40,000 children of 40-character
 * names, so that its getChildren answer is 1,760,020 bytes against the client's default limit of 1,048,575.
 */
class OversizedResponseIT {

    static final int CHILDREN = 40_000;
    static final int NAME_LENGTH = 40;
    static final String PARENT = "/oversized";
    /** The answer's length prefix: reply header (xid, zxid, err: 16) + vector count (4) + per name (4 + its bytes). */
    static final long RESPONSE_BYTES = 16 + 4 + (long) CHILDREN * (4 + NAME_LENGTH);

    static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(5);
    /** "At once": the plain client fails in ~130 ms; 1 s leaves slack for a loaded 2-core box. */
    static final long AT_ONCE_MS = 1000;
    /** What one reconnect may cost another call of the pool: its reconnect delay, a quarantine, slack. */
    static final long OTHER_CALL_MS = 3000;

    static ProcessEnsemble ensemble;

    @BeforeAll
    static void startServerAndMakeTheBigNode() throws Exception {
        ensemble = ProcessEnsemble.builder().size(1).start();
        try (RawZooKeeper raw = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30))) {
            raw.zk().create(PARENT, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            // Multi batches of 1,000 creates, a few in flight at once: 40 transactions instead of 40,000.
            Semaphore inFlight = new Semaphore(4);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            int batch = 1000;
            for (int from = 0; from < CHILDREN; from += batch) {
                List<Op> ops = new ArrayList<>();
                for (int i = from; i < Math.min(CHILDREN, from + batch); i++) {
                    ops.add(Op.create(
                            PARENT + "/" + name(i), new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
                }
                inFlight.acquire();
                raw.zk()
                        .multi(
                                ops,
                                (rc, path, ctx, results) -> {
                                    if (rc != 0) {
                                        failed.compareAndSet(
                                                null, KeeperException.create(KeeperException.Code.get(rc), path));
                                    }
                                    inFlight.release();
                                },
                                null);
            }
            assertThat(inFlight.tryAcquire(4, 60, TimeUnit.SECONDS))
                    .as("all batches answered")
                    .isTrue();
            assertThat(failed.get()).as("creating the children").isNull();
            assertThat(raw.zk().getAllChildrenNumber(PARENT)).isEqualTo(CHILDREN);
        }
    }

    @AfterAll
    static void stopServer() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    /** {@code child-} and a zero-padded number: exactly {@link #NAME_LENGTH} characters. */
    static String name(int i) {
        String n = "child-" + String.format("%034d", i);
        if (n.length() != NAME_LENGTH) {
            throw new IllegalStateException(n);
        }
        return n;
    }

    @Test
    void anOversizedResponseFailsThatCallAtOnceWithoutAReconnectStorm() throws Exception {
        int maxBuffer = new ZKClientConfig().getInt("jute.maxbuffer", ZKClientConfig.CLIENT_MAX_PACKET_LENGTH_DEFAULT);
        assertThat(RESPONSE_BYTES)
                .as("the answer exceeds the client's jute.maxbuffer")
                .isGreaterThan(maxBuffer);
        Recorder events = new Recorder();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .name("oversized")
                        .connectString(ensemble.connectString())
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(OPERATION_TIMEOUT)
                                .build())
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease();
                ZkLease other = pool.lease()) {
            other.create("/other", "x".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);

            // Another part of the application keeps using the pool meanwhile.
            AtomicBoolean running = new AtomicBoolean(true);
            Queue<Call> others = new ConcurrentLinkedQueue<>();
            Thread background = new Thread(
                    () -> {
                        while (running.get()) {
                            others.add(Timings.time("other getData", false, () -> other.getData("/other")));
                            BoundedTimeIT.pause(20);
                        }
                    },
                    "other-calls");
            background.start();

            long syncStart = System.nanoTime();
            Call sync = Timings.time("getChildren", false, () -> lease.getChildren(PARENT));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> pool.ensembles().get(0).isConnected());
            long syncSuspended = Timings.countAfter(events, syncStart, SessionState.SUSPENDED);
            long syncReconnected = Timings.countAfter(events, syncStart, SessionState.RECONNECTED);

            long asyncStart = System.nanoTime();
            Call async = Timings.timeAsyncJoin("getChildrenAsync", false, () -> lease.getChildrenAsync(PARENT));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> pool.ensembles().get(0).isConnected());
            long asyncSuspended = Timings.countAfter(events, asyncStart, SessionState.SUSPENDED);
            long asyncReconnected = Timings.countAfter(events, asyncStart, SessionState.RECONNECTED);

            running.set(false);
            background.join(TimeUnit.SECONDS.toMillis(30));
            List<Call> otherCalls = List.copyOf(others);
            List<Call> otherFailed = otherCalls.stream().filter(c -> !c.ok()).toList();
            byte[] afterwards = other.getData("/other");

            System.out.println("FIGURES case7 getChildren answer " + RESPONSE_BYTES + " bytes (" + CHILDREN
                    + " children) vs the client's jute.maxbuffer " + maxBuffer + "; operationTimeout "
                    + OPERATION_TIMEOUT.toMillis() + " ms");
            System.out.println("FIGURES case7 sync:  " + sync + "; connection drops (SUSPENDED) " + syncSuspended
                    + ", RECONNECTED " + syncReconnected);
            System.out.println("FIGURES case7 async: " + async + "; connection drops (SUSPENDED) " + asyncSuspended
                    + ", RECONNECTED " + asyncReconnected);
            System.out.println("FIGURES case7 other calls on the pool meanwhile: " + otherCalls.size() + ", failed "
                    + otherFailed.size() + ", max " + Timings.maxMillis(otherCalls) + " ms"
                    + otherFailed.stream().findFirst().map(c -> ", e.g. " + c).orElse(""));
            System.out.println("FIGURES case7 session events since the first call: "
                    + Timings.after(events, syncStart).stream()
                            .map(t -> t.event().state() + "@" + ms(t.at() - syncStart) + "ms")
                            .toList());
            System.out.flush();

            SoftAssertions soft = new SoftAssertions();
            checkClearFailure(soft, sync, syncSuspended);
            checkClearFailure(soft, async, asyncSuspended);
            soft.assertThat(otherFailed)
                    .as("other calls on the same pool keep working")
                    .isEmpty();
            // One reconnect may hold another call up (the pool's reconnect delay and a 1 s quarantine of the one
            // server);
            // a storm of them holds it up for the oversized call's whole operation timeout.
            soft.assertThat(otherCalls)
                    .as("other calls are held up by one reconnect at most (bound " + OTHER_CALL_MS + " ms)")
                    .allSatisfy(c -> assertThat(c.millis()).as(c.toString()).isLessThan(OTHER_CALL_MS));
            soft.assertThat(afterwards).as("the pool works afterwards").isEqualTo("x".getBytes(StandardCharsets.UTF_8));
            soft.assertAll();
        }
    }

    private static void checkClearFailure(SoftAssertions soft, Call call, long connectionDrops) {
        soft.assertThat(call.error()).as(call.kind() + " fails: " + call).isNotNull();
        soft.assertThat(call.error())
                .as(call.kind() + ": not the misleading 'unavailable, nothing was sent': " + call)
                .isNotInstanceOf(ZkUnavailableException.class);
        soft.assertThat(call.error())
                .as(call.kind() + ": a ZkException: " + call)
                .isInstanceOf(ZkException.class);
        if (call.error() instanceof ZkException) {
            soft.assertThat(((ZkException) call.error()).path())
                    .as(call.kind() + ": its path")
                    .isEqualTo(PARENT);
        }
        String message =
                String.valueOf(call.error() == null ? null : call.error().getMessage());
        soft.assertThat(message)
                .as(call.kind() + ": the message names the path, jute.maxbuffer and the size")
                .contains(PARENT)
                .contains("jute.maxbuffer");
        soft.assertThat(namesSize(message))
                .as(call.kind() + ": the message gives the response size, " + RESPONSE_BYTES + " bytes: " + message)
                .isTrue();
        soft.assertThat(call.millis())
                .as(call.kind() + " fails at once (bound " + AT_ONCE_MS + " ms): " + call)
                .isLessThan(AT_ONCE_MS);
        soft.assertThat(connectionDrops)
                .as(call.kind() + ": the shared connection drops at most once (not retried)")
                .isLessThanOrEqualTo(1);
    }

    /** Whether some number in the message (digits, maybe grouped) is the response's size, give or take its framing. */
    static boolean namesSize(String message) {
        Matcher m = Pattern.compile("\\d[\\d,_ ]*\\d|\\d").matcher(message);
        while (m.find()) {
            String digits = m.group().replaceAll("[,_ ]", "");
            if (digits.length() < 19 && Math.abs(Long.parseLong(digits) - RESPONSE_BYTES) <= 8) {
                return true;
            }
        }
        return false;
    }
}
