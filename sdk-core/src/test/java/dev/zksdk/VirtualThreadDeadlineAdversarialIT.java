package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.VirtualThreads;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 20 (review20): synchronous calls from virtual threads against a frozen server, attacking the deadline
 * timing wheel: 10k virtual callers, deadlines around plausible slot boundaries, replies arriving just before the
 * deadline, interrupts, close() during waits. Meant for JDK 21+ (run with -Djvm=.../temurin-25.../java); skipped before.
 */
class VirtualThreadDeadlineAdversarialIT {

    private static TestingServer server;

    @BeforeAll
    static void start() throws Exception {
        server = InProcessEnsembles.startServer();
        try (ZkSessionPool pool = pool(server.getConnectString(), Duration.ofSeconds(5));
                ZkLease lease = pool.lease()) {
            lease.create("/n", "x".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static ZkSessionPool pool(String connect, Duration operationTimeout) {
        return pool(connect, operationTimeout, Duration.ofSeconds(20));
    }

    private static ZkSessionPool pool(String connect, Duration operationTimeout, Duration sessionTimeout) {
        return ZkSessionPool.builder()
                .connectString(connect)
                .sessionTimeout(sessionTimeout)
                .connectionTimeout(Duration.ofSeconds(3))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(operationTimeout)
                        .maxInFlight(20_000)
                        .build())
                .build();
    }

    private record Outcome(long elapsedNanos, Throwable error) {}

    /** Starts {@code n} virtual threads each doing one getData; returns their outcomes once all ended. */
    private static List<Outcome> virtualReads(ZkSessionPool pool, int n, Duration joinBound) throws Exception {
        ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            threads.add(VirtualThreads.newVirtualThread(
                    () -> {
                        long t0 = System.nanoTime();
                        Throwable error = null;
                        try (ZkLease lease = pool.lease()) {
                            lease.getData("/n");
                        } catch (Throwable e) {
                            error = e;
                        }
                        outcomes.add(new Outcome(System.nanoTime() - t0, error));
                    },
                    "vt-" + i));
        }
        threads.forEach(Thread::start);
        Awaitility.await().atMost(joinBound).until(() -> outcomes.size() == n);
        return new ArrayList<>(outcomes);
    }

    /** Parked: a caller that holds its lease and waits is waiting for its call's answer. */
    private static boolean waiting(Thread t) {
        Thread.State state = t.getState();
        return state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING;
    }

    private static Map<String, Integer> kinds(List<Outcome> outcomes) {
        Map<String, Integer> kinds = new TreeMap<>();
        outcomes.forEach(
                o -> kinds.merge(o.error() == null ? "ok" : o.error().getClass().getSimpleName(), 1, Integer::sum));
        return kinds;
    }

    private static String samples(List<Outcome> outcomes) {
        Map<String, String> first = new TreeMap<>();
        outcomes.stream()
                .filter(o -> o.error() != null)
                .forEach(o -> first.putIfAbsent(
                        o.error().getClass().getSimpleName(),
                        String.valueOf(o.error().getMessage())));
        return first.toString();
    }

    private static long maxMs(List<Outcome> outcomes) {
        return outcomes.stream().mapToLong(Outcome::elapsedNanos).max().orElse(0) / 1_000_000;
    }

    private static long minMs(List<Outcome> outcomes) {
        return outcomes.stream().mapToLong(Outcome::elapsedNanos).min().orElse(0) / 1_000_000;
    }

    @Test
    void tenThousandVirtualThreadsOnAFrozenServerAllEndByTheirDeadline() throws Exception {
        assumeTrue(VirtualThreads.available(), "needs JDK 21+");
        Duration timeout = Duration.ofMillis(1500);
        try (ZkProxy proxy = ZkProxy.to(server.getConnectString());
                ZkSessionPool pool = pool(proxy.connectString(), timeout)) {
            try (ZkLease lease = pool.lease()) {
                lease.getData("/n");
            }
            proxy.freeze();
            long t0 = System.nanoTime();
            List<Outcome> outcomes = virtualReads(pool, 10_000, Duration.ofSeconds(20));
            long wallMs = (System.nanoTime() - t0) / 1_000_000;
            long[] sorted = outcomes.stream()
                    .mapToLong(o -> o.elapsedNanos() / 1_000_000)
                    .sorted()
                    .toArray();
            long p99 = sorted[(int) (sorted.length * 0.99)];
            System.out.printf(
                    "review20 10k: kinds=%s min=%d ms p50=%d p99=%d max=%d ms wall=%d ms%n",
                    kinds(outcomes), minMs(outcomes), sorted[sorted.length / 2], p99, maxMs(outcomes), wallMs);
            assertThat(kinds(outcomes)).containsOnlyKeys("ZkConnectionLossException");
            // Ends by the deadline (1 s of slack for 10k threads on 2 loaded cores), and not long before it.
            // (max seen 1541 and 2542 ms in two runs at load average 8-12: the tail is the machine's, so p99 is
            // checked)
            assertThat(p99).isLessThanOrEqualTo(timeout.toMillis() + 1000);
            assertThat(maxMs(outcomes)).isLessThanOrEqualTo(timeout.toMillis() + 2000);
            assertThat(minMs(outcomes)).isGreaterThanOrEqualTo(timeout.toMillis() - 5);
            proxy.unfreeze();
        }
    }

    @Test
    void deadlinesAroundSlotBoundariesNeitherFireEarlyNorLate() throws Exception {
        assumeTrue(VirtualThreads.available(), "needs JDK 21+");
        long[] timeoutsMs = {1, 2, 9, 10, 11, 63, 64, 65, 99, 100, 101, 255, 256, 257, 511, 512, 513, 1000, 1024, 1025};
        Map<Long, String> violations = new ConcurrentHashMap<>();
        Map<Long, String> summary = new TreeMap<>();
        try (ZkProxy proxy = ZkProxy.to(server.getConnectString())) {
            List<ZkSessionPool> pools = new ArrayList<>();
            try {
                for (long ms : timeoutsMs) {
                    // The breaker opens after 4 failures by default: a read whose virtual thread starts after the
                    // first 4 timed out (a loaded machine starts 200 of them over more than 10 ms) is refused by it
                    // with ZkUnavailableException, and says nothing of deadlines. This case is about deadlines alone.
                    ZkSessionPool pool = ZkSessionPool.builder()
                            .connectString(proxy.connectString())
                            .sessionTimeout(Duration.ofSeconds(20))
                            .connectionTimeout(Duration.ofSeconds(3))
                            .operationPolicy(OperationPolicy.builder()
                                    .operationTimeout(Duration.ofMillis(Math.max(ms, 1)))
                                    .maxInFlight(20_000)
                                    .breakerSlidingWindow(1_000)
                                    .breakerMinimumCalls(1_000)
                                    .build())
                            .build();
                    pools.add(pool);
                }
                // connect every pool first: a 1 ms operation timeout is not a connect timeout
                for (ZkSessionPool pool : pools) {
                    try (ZkLease lease = pool.lease()) {
                        lease.sessionId();
                    }
                }
                proxy.freeze();
                for (int i = 0; i < timeoutsMs.length; i++) {
                    long ms = timeoutsMs[i];
                    List<Outcome> outcomes = virtualReads(pools.get(i), 200, Duration.ofSeconds(10));
                    summary.put(
                            ms,
                            kinds(outcomes) + (ms == 1 ? samples(outcomes) : "") + " min=" + minMs(outcomes) + " max="
                                    + maxMs(outcomes));
                    long early = outcomes.stream()
                            .filter(o -> o.elapsedNanos() < TimeUnit.MILLISECONDS.toNanos(ms) - 500_000)
                            .count();
                    if (early > 0
                            || maxMs(outcomes) > ms + 500
                            || !java.util.Set.of("ZkConnectionLossException", "ZkUnavailableException")
                                    .containsAll(kinds(outcomes).keySet())
                            || (ms > 2 && kinds(outcomes).containsKey("ZkUnavailableException"))) {
                        violations.put(ms, early + " early; " + summary.get(ms));
                    }
                }
            } finally {
                proxy.unfreeze();
                pools.forEach(ZkSessionPool::close);
            }
        }
        System.out.println("review20 boundaries: " + summary);
        assertThat(violations)
                .as("timeouts (ms) whose calls ended early, late or otherwise")
                .isEmpty();
    }

    @Test
    void aReplyArrivingJustBeforeTheDeadlineSucceeds() throws Exception {
        assumeTrue(VirtualThreads.available(), "needs JDK 21+");
        // one-way latency 150 ms: a round trip takes ~300 ms, inside a 400 ms operation timeout
        try (ZkProxy proxy = ZkProxy.to(server.getConnectString());
                ZkSessionPool pool = pool(proxy.connectString(), Duration.ofMillis(400))) {
            try (ZkLease lease = pool.lease()) {
                lease.getData("/n");
            }
            proxy.latency(Duration.ofMillis(150));
            List<Outcome> single = virtualReads(pool, 1, Duration.ofSeconds(10));
            System.out.printf(
                    "review20 near-deadline single: kinds=%s ms=%d %s%n",
                    kinds(single), maxMs(single), samples(single));
            // control: the same 500 reads on a raw ZooKeeper handle through the same proxy
            org.apache.zookeeper.ZooKeeper raw =
                    new org.apache.zookeeper.ZooKeeper(proxy.connectString(), 20_000, e -> {});
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> raw.getState().isConnected());
            ConcurrentLinkedQueue<Long> rawMs = new ConcurrentLinkedQueue<>();
            long r0 = System.nanoTime();
            for (int i = 0; i < 500; i++) {
                raw.getData("/n", false, (rc, p, c, d, st) -> rawMs.add((System.nanoTime() - r0) / 1_000_000), null);
            }
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> rawMs.size() == 500);
            raw.close();
            long rawMax = rawMs.stream().mapToLong(Long::longValue).max().orElse(0);
            long rawOver = rawMs.stream().filter(x -> x > 400).count();
            System.out.printf(
                    "review20 near-deadline raw control: max=%d ms, %d of 500 over 400 ms%n", rawMax, rawOver);
            // The proxy delays buffers one after another (the raw control above), so concurrent calls measure the
            // fixture; one call at a time, each a ~335 ms round trip inside the 400 ms deadline, 20 times.
            List<Outcome> outcomes = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                outcomes.addAll(virtualReads(pool, 1, Duration.ofSeconds(10)));
            }
            System.out.printf(
                    "review20 near-deadline sequential: kinds=%s min=%d max=%d %s%n",
                    kinds(outcomes), minMs(outcomes), maxMs(outcomes), samples(outcomes));
            assertThat(kinds(outcomes)).containsOnlyKeys("ok");
        }
    }

    @Test
    void anInterruptedVirtualCallerEndsAtOnceAndStaysInterrupted() throws Exception {
        assumeTrue(VirtualThreads.available(), "needs JDK 21+");
        try (ZkProxy proxy = ZkProxy.to(server.getConnectString());
                ZkSessionPool pool = pool(proxy.connectString(), Duration.ofSeconds(15))) {
            try (ZkLease lease = pool.lease()) {
                lease.getData("/n");
            }
            proxy.freeze();
            AtomicReference<Throwable> error = new AtomicReference<>();
            AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
            AtomicReference<Long> elapsed = new AtomicReference<>();
            Thread t = VirtualThreads.newVirtualThread(
                    () -> {
                        try (ZkLease lease = pool.lease()) {
                            lease.getData("/n");
                        } catch (Throwable e) {
                            error.set(e);
                        }
                        stillInterrupted.set(Thread.currentThread().isInterrupted());
                    },
                    "vt-interrupt");
            t.start();
            // interrupt once the call waits for its answer: the caller holds its lease and is parked
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> pool.stats().activeLeases() == 1 && waiting(t));
            long t0 = System.nanoTime();
            t.interrupt();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> stillInterrupted.get() != null);
            elapsed.set((System.nanoTime() - t0) / 1_000_000);
            proxy.unfreeze();
            System.out.printf("review20 interrupt: %s after %d ms%n", error.get(), elapsed.get());
            assertThat(error.get()).isInstanceOf(ZkInterruptedException.class);
            assertThat(stillInterrupted.get()).isTrue();
            assertThat(elapsed.get()).isLessThan(1000);
        }
    }

    @Test
    void closeDuringTwoThousandVirtualWaitsEndsThemAll() throws Exception {
        assumeTrue(VirtualThreads.available(), "needs JDK 21+");
        try (ZkProxy proxy = ZkProxy.to(server.getConnectString())) {
            // a 6 s session: ZooKeeper's read timeout (2/3 of it, 4 s) is what close() was seen to wait for
            ZkSessionPool pool = pool(proxy.connectString(), Duration.ofSeconds(30), Duration.ofSeconds(6));
            try (ZkLease lease = pool.lease()) {
                lease.getData("/n");
            }
            proxy.freeze();
            ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
            int n = 2000;
            List<Thread> callers = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Thread caller = VirtualThreads.newVirtualThread(
                        () -> {
                            long t0 = System.nanoTime();
                            Throwable error = null;
                            try (ZkLease lease = pool.lease()) {
                                lease.getData("/n");
                            } catch (Throwable e) {
                                error = e;
                            }
                            outcomes.add(new Outcome(System.nanoTime() - t0, error));
                        },
                        "vt-close-" + i);
                callers.add(caller);
                caller.start();
            }
            // close once every call waits for its answer: each caller holds its lease and is parked
            Awaitility.await()
                    .atMost(Duration.ofSeconds(15))
                    .until(() -> pool.stats().activeLeases() == n
                            && callers.stream().allMatch(VirtualThreadDeadlineAdversarialIT::waiting));
            long c0 = System.nanoTime();
            Thread closer = new Thread(pool::close, "closer");
            closer.start();
            Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> outcomes.size() == n);
            long endedMs = (System.nanoTime() - c0) / 1_000_000;
            closer.join(TimeUnit.SECONDS.toMillis(15));
            long closedMs = (System.nanoTime() - c0) / 1_000_000;
            proxy.unfreeze();
            List<Outcome> list = new ArrayList<>(outcomes);
            System.out.printf(
                    "review20 close: kinds=%s all ended %d ms after close(); close returned by %d ms (alive=%s)%n",
                    kinds(list), endedMs, closedMs, closer.isAlive());
            System.out.println("review20 close samples: " + samples(list));
            assertThat(closer.isAlive()).isFalse();
            // close() waits at most 2 s for the frozen server's answer to the session's close, then drops the
            // connection: every call in flight ends then (was: ZooKeeper's read timeout, 2/3 of the session timeout)
            assertThat(endedMs).isLessThan(3500);
            // the documented outcome of a call the closing pool ends: IllegalStateException ("the pool is closed")
            assertThat(list)
                    .allSatisfy(o -> assertThat(o.error())
                            .satisfiesAnyOf(
                                    e -> assertThat(e).isInstanceOf(ZkException.class),
                                    e -> assertThat(e)
                                            .isInstanceOf(IllegalStateException.class)
                                            .hasMessageContaining("closed")));
        }
    }

    @Test
    void closeOnAFrozenServerWithNothingInFlight() throws Exception {
        try (ZkProxy proxy = ZkProxy.to(server.getConnectString())) {
            // a 6 s session: ZooKeeper's read timeout (2/3 of it, 4 s) is what close() was seen to wait for
            ZkSessionPool pool = pool(proxy.connectString(), Duration.ofSeconds(30), Duration.ofSeconds(6));
            try (ZkLease lease = pool.lease()) {
                lease.getData("/n");
            }
            proxy.freeze();
            long c0 = System.nanoTime();
            pool.close();
            long closedMs = (System.nanoTime() - c0) / 1_000_000;
            proxy.unfreeze();
            System.out.printf("review20 idle close on frozen server: %d ms%n", closedMs);
            // at most 2 s for the server's answer to the close, then the connection is dropped (was 4 s here:
            // ZooKeeper's
            // read timeout; 13 s with a 20 s session)
            assertThat(closedMs).isLessThan(3500);
        }
    }

    /** README: bad input fails early, before anything is sent, naming the setting and the value. */
    @Test
    void anUnknownTlsProtocolFailsEarlyNamingIt() throws Exception {
        dev.zksdk.testing.TestPki pki = dev.zksdk.testing.TestPki.shared();
        try (dev.zksdk.testing.SecureServer secure = dev.zksdk.testing.SecureServer.start(pki, Map.of())) {
            long t0 = System.nanoTime();
            Throwable thrown = null;
            try (ZkSessionPool pool = ZkSessionPool.builder()
                            .connectString(secure.secureConnectString())
                            .connectionTimeout(Duration.ofSeconds(3))
                            .tls(dev.zksdk.security.TlsConfig.builder()
                                    .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword())
                                    .trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword())
                                    .enabledProtocols("TLSv1.9")
                                    .build())
                            .build();
                    ZkLease lease = pool.lease()) {
                lease.exists("/");
            } catch (Throwable e) {
                thrown = e;
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            StringBuilder chain = new StringBuilder();
            for (Throwable c = thrown; c != null; c = c.getCause()) {
                chain.append(c).append(" <- ");
            }
            System.out.printf("review20 TLSv1.9 pool: after %d ms: %s%n", ms, chain);
            assertThat(thrown).isInstanceOf(IllegalArgumentException.class);
            assertThat(chain.toString()).contains("TLSv1.9");
        }
    }

    /** zk-sdk-test as an outside user: a release whose jars are in no repository fails start() at once, saying how. */
    @Test
    void aServerVersionWithoutJarsFailsAtOnceNamingWhatIsMissing() {
        long t0 = System.nanoTime();
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> {
            try (dev.zksdk.testing.ProcessEnsemble e = dev.zksdk.testing.ProcessEnsemble.builder()
                    .size(1)
                    .serverVersion("3.7.1")
                    .start()) {
                e.connectString();
            }
        });
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("review20 3.7.1 without jars: %d ms: %s%n", ms, thrown);
        assertThat(thrown)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("3.7.1")
                .hasMessageContaining("org.apache.zookeeper:zookeeper:3.7.1")
                .hasMessageContaining("dependency:get");
        assertThat(ms).isLessThan(3000);
    }
}
