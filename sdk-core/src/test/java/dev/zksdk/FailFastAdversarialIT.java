package dev.zksdk;

import static dev.zksdk.Adversary.print;
import static dev.zksdk.Timings.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.Timings.Call;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ProxiedEnsemble;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerProcess;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.CreateMode;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 15, item 1. README: "A call that finds no session connected waits at most
 * {@code connectionTimeout}; after that the ensemble counts as unreachable and calls fail within milliseconds until a
 * session connects again." Outcome table: "no session connects → ZkUnavailableException ... after connectionTimeout";
 * "ensemble known unreachable → within milliseconds". Faults the existing test does not try: every server killed with
 * -9 for long enough that every server is quarantined repeatedly, a lost quorum (servers up, not serving), a
 * partition where TCP connects and nothing answers, a pool whose very first lease meets a dead ensemble.
 */
class FailFastAdversarialIT {

    static final Duration CT = Duration.ofSeconds(2);
    static final long SLACK_MS = 500;
    /** "Within milliseconds", with room for a loaded 2-core box. */
    static final long FAST_MS = 100;
    /** How soon after the ensemble serves again calls must work: reconnect jitter (cap 2 s) + a connect + slack. */
    static final long PROMPT_MS = 5000;

    static final byte[] V = "v".getBytes(StandardCharsets.UTF_8);

    static ProcessEnsemble ensemble;

    @BeforeAll
    static void start() {
        ensemble = ProcessEnsemble.builder().size(3).start();
    }

    @AfterAll
    static void stop() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    @BeforeEach
    void allUp() {
        List<ServerProcess> down =
                ensemble.servers().stream().filter(s -> !s.isAlive()).toList();
        Timings.inParallel(down, ServerProcess::restart);
        ensemble.awaitQuorum(Duration.ofSeconds(60));
    }

    /** Two threads calling in a loop (sync and async reads, new leases) until stopped; every call timed. */
    static final class Callers implements AutoCloseable {
        final Queue<Call> calls = new ConcurrentLinkedQueue<>();
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Thread> threads = new ArrayList<>();

        Callers(ZkSessionPool pool, ZkLease lease, String path) {
            for (int t = 0; t < 3; t++) {
                int kind = t;
                Thread th = new Thread(
                        () -> {
                            while (running.get()) {
                                Call c = switch (kind) {
                                    case 0 -> Timings.time("getData", false, () -> lease.getData(path));
                                    case 1 ->
                                        Timings.timeAsyncJoin("getDataAsync", false, () -> lease.getDataAsync(path));
                                    default ->
                                        Timings.time("lease+exists", false, () -> {
                                            try (ZkLease l = pool.lease()) {
                                                l.exists(path);
                                            }
                                        });
                                };
                                calls.add(c);
                                Adversary.pause(25);
                            }
                        },
                        "ff-caller-" + t);
                th.start();
                threads.add(th);
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }
    }

    static String describe(List<Call> calls) {
        return calls.size() + " calls, ok " + calls.stream().filter(Call::ok).count() + ", max "
                + Timings.maxMillis(calls) + " ms, over " + FAST_MS + " ms: "
                + calls.stream().filter(c -> c.millis() > FAST_MS).count();
    }

    /**
     * Every server killed with -9 and kept down for 20 s (so that every server fails many connection attempts and is
     * quarantined with a growing backoff), while three threads keep calling. Then the servers are started again: calls
     * must work again promptly once the ensemble serves, not when a quarantine of up to 30 s ends.
     */
    @Test
    void aLongOutageThenTheEnsembleReturnsCallsWorkPromptly() throws Exception {
        Recorder events = new Recorder();
        String path = "/ff-long-" + System.nanoTime();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .name("ff-long")
                        .connectString(ensemble.connectString())
                        .connectionTimeout(CT)
                        .sessionTimeout(Duration.ofSeconds(30))
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(path, V, CreateMode.PERSISTENT);
            Timings.inParallel(ensemble.servers(), ServerProcess::kill9);
            long killed = System.nanoTime();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> !pool.ensembles().get(0).isConnected());
            Call first = Timings.time("first getData", false, () -> lease.getData(path));
            Callers callers = new Callers(pool, lease, path);
            Adversary.pause(Math.max(0, 20_000 - ms(System.nanoTime() - killed))); // the outage's length
            List<Call> duringOutage = List.copyOf(callers.calls);
            // Back: record when the ensemble serves again (a quorum with a leader), and when calls work.
            long restart = System.nanoTime();
            Timings.inParallel(ensemble.servers(), ServerProcess::restart);
            ensemble.awaitQuorum(Duration.ofSeconds(60));
            long serving = System.nanoTime();
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> callers.calls.stream().anyMatch(c -> c.ok() && c.start() - serving >= 0));
            Adversary.pause(3000); // keep calling a while after the first success (measurement window)
            callers.close();
            List<Call> all = List.copyOf(callers.calls);
            long firstOk =
                    all.stream().filter(Call::ok).mapToLong(Call::end).min().orElseThrow();
            List<Call> failedAfterFirstOk =
                    all.stream().filter(c -> !c.ok() && c.start() - firstOk > 0).toList();
            print("FIGURES ff long outage: first call after the loss " + first + " (bound " + CT.toMillis() + " + "
                    + SLACK_MS + "); during the 20 s outage: " + describe(duringOutage));
            print("FIGURES ff long outage: restarted at +" + ms(restart - killed) + " ms, serving after "
                    + ms(serving - restart) + " ms; first successful call " + ms(firstOk - serving)
                    + " ms after the ensemble served (bound " + PROMPT_MS + "); calls failing after the first success: "
                    + failedAfterFirstOk.size()
                    + failedAfterFirstOk.stream().limit(3).map(c -> " " + c).toList());
            print("FIGURES ff long outage events: "
                    + Timings.after(events, killed).stream()
                            .map(t -> t.event().state() + "@" + ms(t.at() - killed) + "ms")
                            .toList());
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(first.error()).as(first.toString()).isInstanceOf(ZkUnavailableException.class);
            soft.assertThat(first.millis())
                    .as("first call waits at most connectionTimeout: " + first)
                    .isLessThanOrEqualTo(CT.toMillis() + SLACK_MS);
            soft.assertThat(duringOutage)
                    .as("calls during the outage fail within " + FAST_MS + " ms")
                    .allSatisfy(c -> assertThat(c.millis()).as(c.toString()).isLessThanOrEqualTo(FAST_MS));
            soft.assertThat(ms(firstOk - serving))
                    .as("calls work again soon after the ensemble serves")
                    .isLessThanOrEqualTo(PROMPT_MS);
            soft.assertThat(failedAfterFirstOk)
                    .as("no call fails once calls work again")
                    .isEmpty();
            soft.assertAll();
        }
    }

    /**
     * Two of three servers killed: the third runs but cannot serve (no quorum; it closes client connections). The first
     * call waits at most connectionTimeout, later ones fail within milliseconds; once a second server is back (quorum),
     * calls work again promptly.
     */
    @Test
    void aLostQuorumFailsFastAndRecoversWhenTheQuorumReturns() throws Exception {
        Recorder events = new Recorder();
        String path = "/ff-quorum-" + System.nanoTime();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .name("ff-quorum")
                        .connectString(ensemble.connectString())
                        .connectionTimeout(CT)
                        .sessionTimeout(Duration.ofSeconds(30))
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(path, V, CreateMode.PERSISTENT);
            List<ServerProcess> servers = ensemble.servers();
            ServerProcess survivor = servers.get(0);
            List<ServerProcess> killed = servers.subList(1, 3);
            Timings.inParallel(killed, ServerProcess::kill9);
            long lostQuorum = System.nanoTime();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> !pool.ensembles().get(0).isConnected());
            long seenDown = System.nanoTime();
            Call first = Timings.time("first getData", false, () -> lease.getData(path));
            Callers callers = new Callers(pool, lease, path);
            Adversary.pause(6000); // the outage's length
            List<Call> during = List.copyOf(callers.calls);
            killed.get(0).restart();
            ensemble.awaitQuorum(Duration.ofSeconds(60));
            long serving = System.nanoTime();
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> callers.calls.stream().anyMatch(c -> c.ok() && c.start() - serving >= 0));
            Adversary.pause(2000);
            callers.close();
            List<Call> all = List.copyOf(callers.calls);
            long firstOk =
                    all.stream().filter(Call::ok).mapToLong(Call::end).min().orElseThrow();
            print("FIGURES ff quorum lost: survivor " + survivor + " alive=" + survivor.isAlive()
                    + "; pool saw the loss "
                    + ms(seenDown - lostQuorum) + " ms after; first call " + first + "; during 6 s: " + describe(during)
                    + "; first success " + ms(firstOk - serving) + " ms after the quorum served");
            print("FIGURES ff quorum lost: slow calls during: "
                    + during.stream().filter(c -> c.millis() > FAST_MS).limit(5).toList());
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(first.millis())
                    .as("first call waits at most connectionTimeout: " + first)
                    .isLessThanOrEqualTo(CT.toMillis() + SLACK_MS);
            soft.assertThat(first.error()).as(first.toString()).isInstanceOf(ZkUnavailableException.class);
            soft.assertThat(during)
                    .as("later calls fail within " + FAST_MS + " ms")
                    .allSatisfy(c -> assertThat(c.millis()).as(c.toString()).isLessThanOrEqualTo(FAST_MS));
            soft.assertThat(ms(firstOk - serving))
                    .as("calls work promptly once the quorum is back")
                    .isLessThanOrEqualTo(PROMPT_MS);
            soft.assertAll();
        }
    }

    /**
     * A partition where TCP connects but nothing ever answers (every proxy frozen) from the start: the pool's very first
     * {@code lease()} must fail within connectionTimeout, later leases and calls within milliseconds; once the network
     * is back, {@code lease()} works promptly.
     */
    @Test
    void aNewPoolAgainstASilentPartitionFailsWithinConnectionTimeoutThenFast() throws Exception {
        try (ProxiedEnsemble proxies = ProxiedEnsemble.of(ensemble.connectString());
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name("ff-partition")
                        .connectString(proxies.connectString())
                        .connectionTimeout(CT)
                        .sessionTimeout(Duration.ofSeconds(12))
                        .build()) {
            proxies.freezeAll();
            Call first = Timings.time("first lease", false, () -> pool.lease().close());
            List<Call> later = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                later.add(Timings.time("lease " + i, false, () -> pool.lease().close()));
                Adversary.pause(200);
            }
            AtomicLong unfrozen = new AtomicLong(System.nanoTime());
            proxies.unfreezeAll();
            unfrozen.set(System.nanoTime());
            List<Call> after = new ArrayList<>();
            long firstOk = -1;
            while (ms(System.nanoTime() - unfrozen.get()) < 20_000) {
                Call c = Timings.time("lease+exists", false, () -> {
                    try (ZkLease l = pool.lease()) {
                        l.exists("/");
                    }
                });
                after.add(c);
                if (c.ok()) {
                    firstOk = ms(c.end() - unfrozen.get());
                    break;
                }
                Adversary.pause(50);
            }
            print("FIGURES ff partition: first lease " + first + "; later leases: "
                    + later.stream().map(Call::millis).toList() + " ms; after unfreezing: first success at " + firstOk
                    + " ms (" + after.size() + " tries, "
                    + after.stream().filter(c -> !c.ok()).limit(3).toList() + ")");
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(first.error()).as(first.toString()).isInstanceOf(ZkUnavailableException.class);
            soft.assertThat(first.millis())
                    .as("first lease within connectionTimeout: " + first)
                    .isLessThanOrEqualTo(CT.toMillis() + SLACK_MS);
            soft.assertThat(later)
                    .as("later leases fail within " + FAST_MS + " ms")
                    .allSatisfy(c -> assertThat(c.millis()).as(c.toString()).isLessThanOrEqualTo(FAST_MS));
            soft.assertThat(firstOk)
                    .as("works again promptly after the partition heals")
                    .isBetween(0L, PROMPT_MS);
            soft.assertAll();
        }
    }

    /**
     * An operation timeout shorter than the connection timeout (1 s vs 4 s), every proxy frozen: README "Every call ends
     * by its operationTimeout"; OperationPolicy "The longest an operation may take in all, its retries included". The
     * first call that finds no connected session must not wait the longer connection timeout.
     */
    @Test
    void anOperationTimeoutShorterThanTheConnectionTimeoutBoundsTheFirstCall() throws Exception {
        Recorder events = new Recorder();
        String path = "/ff-short-op-" + System.nanoTime();
        try (ProxiedEnsemble proxies = ProxiedEnsemble.of(ensemble.connectString());
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name("ff-short-op")
                        .connectString(proxies.connectString())
                        .connectionTimeout(Duration.ofSeconds(4))
                        .sessionTimeout(Duration.ofSeconds(20))
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofSeconds(1))
                                .build())
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(path, V, CreateMode.PERSISTENT);
            proxies.freezeAll();
            proxies.closeAllConnections();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> !pool.ensembles().get(0).isConnected());
            Call sync = Timings.time("getData", false, () -> lease.getData(path));
            Call write = Timings.time("create", true, () -> lease.create(path + "/c", V, CreateMode.PERSISTENT));
            print("FIGURES ff short op timeout (1 s) vs connection timeout (4 s), no reachable server: " + sync + "; "
                    + write);
            proxies.unfreezeAll();
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(sync.millis())
                    .as("the first call ends by its 1 s operation timeout: " + sync)
                    .isLessThanOrEqualTo(1000 + SLACK_MS);
            soft.assertThat(write.millis()).as("and the next: " + write).isLessThanOrEqualTo(1000 + SLACK_MS);
            soft.assertAll();
        }
    }
}
