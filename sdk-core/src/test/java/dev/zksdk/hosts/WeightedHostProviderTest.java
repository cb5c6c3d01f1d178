package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The selection engine without a network: addresses are 127.0.0.1 literals that are never connected to; time,
 * randomness and sleeping are injected.
 */
class WeightedHostProviderTest {

    private static final String A = "127.0.0.1:21001";
    private static final String B = "127.0.0.1:21002";
    private static final String C = "127.0.0.1:21003";
    private static final String D = "127.0.0.1:21004";
    private static final String E = "127.0.0.1:21005";

    private final TestClock clock = new TestClock();

    private HostsConfig.Builder config(long seed) {
        return HostsConfig.builder().random(new Random(seed)).nanoClock(clock).sleeper(clock);
    }

    private static InetSocketAddress addr(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return InetSocketAddress.createUnresolved(
                hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    private static List<InetSocketAddress> servers(String... hostPorts) {
        List<InetSocketAddress> out = new ArrayList<>();
        for (String s : hostPorts) {
            out.add(addr(s));
        }
        return out;
    }

    private static String key(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    private static Map<String, Double> shares(Map<String, Integer> counts) {
        double total = counts.values().stream().mapToInt(Integer::intValue).sum();
        Map<String, Double> out = new HashMap<>();
        counts.forEach((k, v) -> out.put(k, v / total));
        return out;
    }

    @Test
    void picksFollowWeightsThreeOneOne() {
        SessionSpread spread = new SessionSpread(config(42).weight(A, 3).build());
        ConnectionBudget budget = new ConnectionBudget();
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 10_000; i++) {
            try (WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), spread, budget)) {
                counts.merge(key(p.next(1000)), 1, Integer::sum);
            }
        }
        Map<String, Double> share = shares(counts);
        assertThat(share.get(A)).isCloseTo(0.60, within(0.02));
        assertThat(share.get(B)).isCloseTo(0.20, within(0.02));
        assertThat(share.get(C)).isCloseTo(0.20, within(0.02));
        assertThat(budget.snapshot())
                .as("every closed provider returned its slot")
                .isEmpty();
        assertThat(clock.sleeps).as("a first attempt never sleeps").isEmpty();
    }

    @Test
    void aConnectionAttemptGetsAtMostAThirdOfTheSessionTimeoutWhateverTheNumberOfServers() {
        SessionSpread spread = new SessionSpread(config(7).build());
        ConnectionBudget budget = new ConnectionBudget();
        // ZooKeeper's connect timeout is the session timeout divided by size().
        try (WeightedHostProvider one = new WeightedHostProvider(servers(A), spread, budget)) {
            assertThat(one.serverCount()).isEqualTo(1);
            assertThat(one.size()).isEqualTo(3);
        }
        try (WeightedHostProvider five = new WeightedHostProvider(servers(A, B, C, D, E), spread, budget)) {
            assertThat(five.serverCount()).isEqualTo(5);
            assertThat(five.size()).isEqualTo(5);
        }
    }

    @Test
    void aConnectAttemptTimeoutShortensTheAttemptAndNeverLengthensIt() {
        SessionSpread spread = new SessionSpread(
                config(7).connectAttemptTimeout(Duration.ofSeconds(2)).build());
        ConnectionBudget budget = new ConnectionBudget();
        // 30 s session timeout, 2 s per attempt: 15 attempts' worth, so ZooKeeper's connect timeout is 30 s / 15.
        try (WeightedHostProvider one = new WeightedHostProvider(servers(A), spread, budget, 30_000)) {
            assertThat(one.size()).isEqualTo(15);
            assertThat(one.serverCount()).isEqualTo(1);
        }
        // Rounded up, so an attempt never gets more than the bound: 10 s / 2 s = 5; 11 s / 2 s -> 6 (1.83 s each).
        try (WeightedHostProvider p = new WeightedHostProvider(servers(A, B), spread, budget, 11_000)) {
            assertThat(p.size()).isEqualTo(6);
        }
        // A bound longer than a third of the session timeout changes nothing: 4 s / 3 is already under 2 s.
        try (WeightedHostProvider p = new WeightedHostProvider(servers(A), spread, budget, 4_000)) {
            assertThat(p.size()).isEqualTo(3);
        }
        try (WeightedHostProvider five = new WeightedHostProvider(servers(A, B, C, D, E), spread, budget, 4_000)) {
            assertThat(five.size()).isEqualTo(5);
        }
        // No session timeout known: the bound cannot be applied.
        try (WeightedHostProvider p = new WeightedHostProvider(servers(A), spread, budget)) {
            assertThat(p.size()).isEqualTo(3);
        }
        assertThat(budget.snapshot()).isEmpty();
    }

    @Test
    void duplicatesInTheConnectStringFoldIntoWeight() {
        SessionSpread spread = new SessionSpread(config(7).build());
        ConnectionBudget budget = new ConnectionBudget();
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 9_000; i++) {
            try (WeightedHostProvider p = new WeightedHostProvider(servers(A, B, A), spread, budget)) {
                if (i == 0) {
                    assertThat(p.serverCount()).isEqualTo(2);
                    assertThat(p.weights()).containsExactly(Map.entry(A, 2), Map.entry(B, 1));
                }
                counts.merge(key(p.next(1000)), 1, Integer::sum);
            }
        }
        assertThat(shares(counts).get(A)).isCloseTo(2.0 / 3, within(0.02));
    }

    @Test
    void weightZeroServerIsUsedOnlyWhenEveryOtherIsQuarantined() {
        SessionSpread spread = new SessionSpread(config(3).weight(C, 0).build());
        ConnectionBudget budget = new ConnectionBudget();
        for (int i = 0; i < 1_000; i++) {
            try (WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), spread, budget)) {
                assertThat(key(p.next(1000))).isNotEqualTo(C);
            }
        }
        try (WeightedHostProvider reporter = new WeightedHostProvider(servers(A, B, C), spread, budget)) {
            reporter.markFailed(addr(A));
            reporter.markFailed(addr(B));
        }
        try (WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), spread, budget)) {
            assertThat(key(p.next(1000))).isEqualTo(C);
        }
        clock.advance(HostsConfig.DEFAULT_QUARANTINE_INITIAL_BACKOFF.plusMillis(1));
        for (int i = 0; i < 100; i++) {
            try (WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), spread, budget)) {
                assertThat(key(p.next(1000)))
                        .as("quarantine over: back to positive weights")
                        .isIn(A, B);
            }
        }
    }

    @Test
    void nextWithoutOnConnectedQuarantinesTheServerAndMovesOn() {
        SessionSpread spread = new SessionSpread(config(11).build());
        WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), spread, new ConnectionBudget());
        String first = key(p.next(1000));
        String second = key(p.next(1000));
        assertThat(second).isNotEqualTo(first);
        assertThat(spread.isQuarantined(first)).isTrue();
        assertThat(spread.stats().quarantined()).containsOnlyKeys(first);
        assertThat(spread.stats().connectAttempts()).isEqualTo(2);
        assertThat(spread.stats().connectFailures()).isEqualTo(1);
        p.close();
    }

    @Test
    void droppedConnectionIsNotAFailure() {
        SessionSpread spread = new SessionSpread(config(12).build());
        WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), spread, new ConnectionBudget());
        String first = key(p.next(1000));
        p.onConnected();
        assertThat(p.isConnected()).isTrue();
        p.next(1000);
        assertThat(spread.isQuarantined(first)).isFalse();
        assertThat(spread.stats().connectFailures()).isZero();
        assertThat(clock.sleeps)
                .as("ZooKeeper already jitters reconnects after a drop")
                .isEmpty();
        p.close();
    }

    @Test
    void quarantineBackoffDoublesPerFailedRoundUpToTheMaximumAndResetsOnSuccess() {
        SessionSpread spread = new SessionSpread(config(5)
                .quarantineInitialBackoff(Duration.ofSeconds(1))
                .quarantineMaxBackoff(Duration.ofSeconds(4))
                .build());
        WeightedHostProvider p = new WeightedHostProvider(servers(A), spread, new ConnectionBudget());
        p.next(1000);
        Duration[] expected = {
            Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(4)
        };
        for (Duration d : expected) {
            assertThat(key(p.next(1000))).as("the only server is retried").isEqualTo(A);
            assertThat(spread.stats().quarantined()).containsExactly(Map.entry(A, d));
            clock.advance(d.minusMillis(1));
            assertThat(spread.isQuarantined(A)).isTrue();
            clock.advance(Duration.ofMillis(1));
            assertThat(spread.isQuarantined(A)).as("quarantine expires").isFalse();
            assertThat(spread.stats().quarantined()).isEmpty();
        }

        p.onConnected();
        p.next(1000);
        p.next(1000);
        assertThat(spread.stats().quarantined())
                .as("a success resets the backoff")
                .containsExactly(Map.entry(A, Duration.ofSeconds(1)));
        p.close();
    }

    @Test
    void failuresDuringAQuarantineRenewItWithoutGrowingIt() {
        SessionSpread spread = new SessionSpread(config(6)
                .quarantineInitialBackoff(Duration.ofSeconds(1))
                .quarantineMaxBackoff(Duration.ofSeconds(8))
                .build());
        ConnectionBudget budget = new ConnectionBudget();
        List<WeightedHostProvider> siblings = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            WeightedHostProvider p = new WeightedHostProvider(servers(A), spread, budget);
            p.next(1000);
            siblings.add(p);
        }
        // five sessions were connecting to A when it turned out to be down
        for (WeightedHostProvider p : siblings) {
            p.next(1000);
            clock.advance(Duration.ofMillis(100));
        }
        assertThat(spread.stats().connectFailures()).isEqualTo(5);
        assertThat(spread.stats().quarantined())
                .as("renewed by the last failure, still one round")
                .containsExactly(Map.entry(A, Duration.ofMillis(900)));
        clock.advance(Duration.ofMillis(900));
        siblings.get(0).next(1000);
        assertThat(spread.stats().quarantined())
                .as("the next round doubles")
                .containsExactly(Map.entry(A, Duration.ofSeconds(2)));
        siblings.forEach(WeightedHostProvider::close);
    }

    @Test
    void afterAFailedAttemptAnotherServerIsTriedAtOnceAndTheDelayStartsAfterAWholeRound() {
        SessionSpread spread = new SessionSpread(config(5).build());
        try (WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), spread, new ConnectionBudget())) {
            Set<String> tried = new HashSet<>();
            tried.add(key(p.next(1000)));
            tried.add(key(p.next(1000))); // the first failed: the next server at once
            tried.add(key(p.next(1000))); // the second failed: the third server at once
            assertThat(tried).containsExactlyInAnyOrder(A, B, C);
            assertThat(clock.sleeps).as("no delay within the first round").isEmpty();
            p.next(1000); // a whole round failed
            assertThat(clock.sleeps).hasSize(1);
            assertThat(clock.sleeps.get(0)).isBetween(0L, Duration.ofMillis(100).toNanos() - 1);
        }
    }

    @Test
    void reconnectDelaysAreFullJitterGrowingToTheCap() {
        long base = Duration.ofMillis(100).toNanos();
        long cap = Duration.ofSeconds(1).toNanos();
        HostsConfig cfg = config(99)
                .reconnectJitterBase(Duration.ofNanos(base))
                .reconnectJitterCap(Duration.ofNanos(cap))
                .build();
        List<Long> atCap = new ArrayList<>();
        for (int run = 0; run < 300; run++) {
            clock.sleeps.clear();
            try (WeightedHostProvider p =
                    new WeightedHostProvider(servers(A), new SessionSpread(cfg), new ConnectionBudget())) {
                p.next(1000);
                for (int k = 1; k <= 8; k++) {
                    p.next(1000);
                }
            }
            assertThat(clock.sleeps).hasSize(8);
            for (int k = 1; k <= 8; k++) {
                long bound = Math.min(cap, base << (k - 1));
                assertThat(clock.sleeps.get(k - 1))
                        .as("delay after failure %d", k)
                        .isBetween(0L, bound - 1);
                if (bound == cap) {
                    atCap.add(clock.sleeps.get(k - 1));
                }
            }
        }
        double mean = atCap.stream().mapToLong(Long::longValue).average().orElseThrow();
        assertThat(mean / cap).as("uniform over [0, cap): mean near half").isCloseTo(0.5, within(0.03));
        assertThat(atCap.stream().mapToLong(Long::longValue).max().orElseThrow())
                .isGreaterThan(cap * 95 / 100);
        assertThat(atCap.stream().mapToLong(Long::longValue).min().orElseThrow())
                .isLessThan(cap * 5 / 100);
    }

    /**
     * A handle connected to a read-only server calls {@code next(0)} while connected to find a read-write one (ZooKeeper's
     * {@code ClientCnxn.pingRwServer}): each probe goes to another server in turn and moves nothing; when ZooKeeper then
     * connects to the probed server (without another {@code next}), the session's slot and place move there.
     */
    @Test
    void readOnlyProbesWhileConnectedMoveNothingUntilZooKeeperConnectsToTheProbedServer() {
        SessionSpread spread = new SessionSpread(config(3).build());
        ConnectionBudget budget = new ConnectionBudget();
        try (WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), spread, budget)) {
            String ro = key(p.next(1000));
            p.onConnected();
            Set<String> probed = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                String target = key(p.next(0));
                if (i % 2 == 1) {
                    assertThat(target)
                            .as("the probe after one that found nothing goes to the read-only server itself")
                            .isEqualTo(ro);
                } else {
                    assertThat(target)
                            .as("a probe goes to another server when one is not known to fail")
                            .isNotEqualTo(ro);
                    probed.add(target);
                }
                assertThat(p.currentServer()).isEqualTo(ro);
                assertThat(p.isConnected()).isTrue();
                assertThat(budget.snapshot()).containsExactly(Map.entry(ro, 1));
            }
            assertThat(probed).as("the other servers in turn").hasSize(2);
            assertThat(spread.stats().connectFailures()).isZero();
            // Both other servers were probed without being found read-write: backed off (1 s, the initial quarantine).
            assertThat(key(p.next(0)))
                    .as("both others within their probe backoff")
                    .isEqualTo(ro);
            clock.advance(Duration.ofMillis(1001));

            // The last probe found a read-write server: ZooKeeper drops the read-only connection and connects there.
            String rw = key(p.next(0));
            p.onConnected();
            assertThat(p.currentServer()).isEqualTo(rw);
            assertThat(p.isConnected()).isTrue();
            assertThat(budget.snapshot()).containsExactly(Map.entry(rw, 1));
            assertThat(spread.stats().connectFailures()).isZero();

            // A probe followed by an ordinary reconnect (the read-only connection dropped by itself): no switch.
            String probe = key(p.next(0));
            String next = key(p.next(1000));
            p.onConnected();
            assertThat(p.currentServer()).isEqualTo(next);
            assertThat(budget.snapshot()).containsExactly(Map.entry(next, 1));
            assertThat(probe).isNotEqualTo(rw);
        }
        assertThat(budget.snapshot()).isEmpty();
        assertThat(clock.sleeps).as("probes never sleep").isEmpty();
    }

    /**
     * A read-only probe (ZooKeeper's {@code isro}, 1 s timeout on the handle's send thread) never goes to a server known
     * to be failing: a quarantined server, or one a probe did not find read-write within a backoff that doubles per
     * such probe in a row; the read-only server itself is handed out instead. A server back from its backoff is probed
     * again, and connecting to it resets its backoff.
     */
    @Test
    void readOnlyProbesSkipQuarantinedServersAndBackOffFromServersThatWereNotReadWrite() {
        SessionSpread spread = new SessionSpread(config(3)
                .quarantineInitialBackoff(Duration.ofSeconds(1))
                .quarantineMaxBackoff(Duration.ofSeconds(4))
                .build());
        ConnectionBudget budget = new ConnectionBudget();
        try (WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), spread, budget)) {
            String ro = key(p.next(1000));
            p.onConnected();
            List<String> others = new ArrayList<>(List.of(A, B, C));
            others.remove(ro);
            String silent = others.get(0);
            String other = others.get(1);
            spread.recordFailure(silent);
            spread.recordFailure(other);
            for (int i = 0; i < 5; i++) {
                assertThat(key(p.next(0)))
                        .as("both others quarantined: the read-only server itself")
                        .isEqualTo(ro);
            }
            clock.advance(Duration.ofMillis(1001));
            spread.recordFailure(other); // still failing for the pool's other sessions
            assertThat(key(p.next(0))).as("quarantine over").isEqualTo(silent);
            assertThat(key(p.next(0))).as("after a probe that found nothing").isEqualTo(ro);
            // The silent server's probe backoff: 1 s, then 2 s, then 4 s (the cap), 4 s.
            long[] backoffs = {1000, 2000, 4000, 4000};
            for (long backoff : backoffs) {
                clock.advance(Duration.ofMillis(backoff - 1));
                spread.recordFailure(other);
                assertThat(key(p.next(0)))
                        .as("within %d ms of the last probe", backoff)
                        .isEqualTo(ro);
                clock.advance(Duration.ofMillis(1));
                spread.recordFailure(other);
                assertThat(key(p.next(0)))
                        .as("%d ms after the last probe", backoff)
                        .isEqualTo(silent);
                assertThat(key(p.next(0))).isEqualTo(ro);
            }
            // It answers read-write at last: ZooKeeper connects there; its backoff is gone.
            clock.advance(Duration.ofSeconds(4));
            spread.recordFailure(other);
            assertThat(key(p.next(0))).isEqualTo(silent);
            p.onConnected();
            assertThat(p.currentServer()).isEqualTo(silent);
            assertThat(budget.snapshot()).containsExactly(Map.entry(silent, 1));
        }
        assertThat(clock.sleeps).as("probes never sleep").isEmpty();
    }

    @Test
    void noDelayWhenZooKeeperAsksForNone() {
        try (WeightedHostProvider p = new WeightedHostProvider(
                servers(A, B), new SessionSpread(config(1).build()), new ConnectionBudget())) {
            for (int i = 0; i < 5; i++) {
                p.next(0);
            }
        }
        assertThat(clock.sleeps).isEmpty();
    }

    @Test
    void budgetCapsConnectionsPerServerAndExhaustionFailsNamingTheBudget() {
        SessionSpread spread =
                new SessionSpread(config(21).perServerConnectionBudget(2).build());
        ConnectionBudget budget = new ConnectionBudget();
        List<WeightedHostProvider> providers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            providers.add(new WeightedHostProvider(servers(A, B, C), spread, budget));
        }
        assertThat(budget.snapshot()).containsExactly(Map.entry(A, 2), Map.entry(B, 2), Map.entry(C, 2));
        assertThatThrownBy(() -> new WeightedHostProvider(servers(A, B, C), spread, budget))
                .isInstanceOf(ConnectionBudgetExhaustedException.class)
                .hasMessageContaining("perServerConnectionBudget=2")
                .hasMessageContaining("{127.0.0.1:21001=2, 127.0.0.1:21002=2, 127.0.0.1:21003=2}")
                .satisfies(e -> assertThat(((ConnectionBudgetExhaustedException) e).budget())
                        .isEqualTo(2));

        String freed = providers.get(0).currentServer();
        providers.get(0).close();
        WeightedHostProvider seventh = new WeightedHostProvider(servers(A, B, C), spread, budget);
        assertThat(seventh.currentServer()).isEqualTo(freed);
        assertThat(key(seventh.next(1000))).isEqualTo(freed);
        assertThat(budget.snapshot()).containsExactly(Map.entry(A, 2), Map.entry(B, 2), Map.entry(C, 2));
    }

    @Test
    void aFailingSessionNeverMovesOntoAServerAtItsBudget() {
        HostsConfig cfg = config(8).perServerConnectionBudget(1).build();
        ConnectionBudget budget = new ConnectionBudget();
        // two pools (two spreads) share the process-wide budget
        WeightedHostProvider p1 = new WeightedHostProvider(servers(A, B), new SessionSpread(cfg), budget);
        WeightedHostProvider p2 = new WeightedHostProvider(servers(A, B), new SessionSpread(cfg), budget);
        assertThat(p1.currentServer()).isNotEqualTo(p2.currentServer());
        assertThatThrownBy(() -> new WeightedHostProvider(servers(A, B), new SessionSpread(cfg), budget))
                .isInstanceOf(ConnectionBudgetExhaustedException.class);
        String mine = p1.currentServer();
        for (int i = 0; i < 20; i++) {
            assertThat(key(p1.next(1000)))
                    .as("the other server is at its budget")
                    .isEqualTo(mine);
            assertThat(budget.snapshot()).containsExactly(Map.entry(A, 1), Map.entry(B, 1));
        }
        p2.close();
        p1.next(1000);
        assertThat(p1.currentServer())
                .as("the freed server is taken once the own one is quarantined")
                .isNotEqualTo(mine);
        assertThat(budget.snapshot()).containsOnlyKeys(p1.currentServer()).containsValue(1);
        p1.close();
        assertThat(budget.snapshot()).isEmpty();
    }

    @Test
    void budgetIsNeverExceededUnderConcurrentChurn() throws Exception {
        int limit = 3;
        HostsConfig cfg = config(13).perServerConnectionBudget(limit).build();
        ConnectionBudget budget = new ConnectionBudget();
        SessionSpread[] pools = {new SessionSpread(cfg), new SessionSpread(cfg)};
        AtomicBoolean running = new AtomicBoolean(true);
        ConcurrentLinkedQueue<Map<String, Integer>> violations = new ConcurrentLinkedQueue<>();
        AtomicInteger refused = new AtomicInteger();
        Thread monitor = new Thread(() -> {
            while (running.get()) {
                Map<String, Integer> s = budget.snapshot();
                if (s.values().stream().anyMatch(v -> v > limit)) {
                    violations.add(s);
                }
            }
        });
        monitor.start();
        ExecutorService workers = Executors.newFixedThreadPool(4);
        CountDownLatch start = new CountDownLatch(1);
        // Every worker first takes its three sessions and holds them until all have tried: 12 wanted on 3 servers x
        // 3 slots, so at least 3 are refused whatever the interleaving, and the churn starts from a full budget.
        CyclicBarrier holding = new CyclicBarrier(4);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int seed = t;
            done.add(workers.submit(() -> {
                Random r = new Random(seed);
                SessionSpread spread = pools[seed % 2];
                WeightedHostProvider[] mine = new WeightedHostProvider[3];
                start.await();
                for (int i = 0; i < mine.length; i++) {
                    try {
                        mine[i] = new WeightedHostProvider(servers(A, B, C), spread, budget);
                    } catch (ConnectionBudgetExhaustedException e) {
                        refused.incrementAndGet();
                    }
                }
                holding.await(30, TimeUnit.SECONDS);
                for (int i = 0; i < 5_000; i++) {
                    int which = r.nextInt(mine.length);
                    if (mine[which] == null) {
                        try {
                            mine[which] = new WeightedHostProvider(servers(A, B, C), spread, budget);
                        } catch (ConnectionBudgetExhaustedException e) {
                            refused.incrementAndGet();
                        }
                        continue;
                    }
                    switch (r.nextInt(5)) {
                        case 0, 1 -> mine[which].next(1000);
                        case 2, 3 -> mine[which].onConnected();
                        default -> {
                            mine[which].close();
                            mine[which] = null;
                        }
                    }
                }
                for (WeightedHostProvider p : mine) {
                    if (p != null) {
                        p.close();
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : done) {
            f.get(60, TimeUnit.SECONDS);
        }
        running.set(false);
        monitor.join();
        workers.shutdown();
        assertThat(refused.get()).as("the budget was actually reached").isPositive();
        assertThat(violations).isEmpty();
        assertThat(budget.snapshot()).isEmpty();
        assertThat(pools[0].stats().sessionsPerServer()).isEmpty();
        assertThat(pools[1].stats().sessionsPerServer()).isEmpty();
    }

    @Test
    void sessionsOfOnePoolLandOnDistinctServers() {
        for (long seed = 0; seed < 50; seed++) {
            SessionSpread spread = new SessionSpread(config(seed).weight(A, 3).build());
            ConnectionBudget budget = new ConnectionBudget();
            Set<String> used = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                used.add(key(new WeightedHostProvider(servers(A, B, C), spread, budget).next(1000)));
            }
            assertThat(used).as("seed %d", seed).containsExactlyInAnyOrder(A, B, C);
            new WeightedHostProvider(servers(A, B, C), spread, budget);
            assertThat(spread.stats().sessionsPerServer().values()).containsExactlyInAnyOrder(1, 1, 2);
        }
    }

    @Test
    void aSessionWhoseConnectionDroppedTriesAnotherServerFirstEvenAtTheCostOfTheSpread() {
        SessionSpread spread = new SessionSpread(config(17).build());
        ConnectionBudget budget = new ConnectionBudget();
        List<WeightedHostProvider> ps = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), spread, budget);
            p.next(1000);
            p.onConnected();
            ps.add(p);
        }
        assertThat(spread.stats().connectionsPerServer())
                .containsOnly(Map.entry(A, 1), Map.entry(B, 1), Map.entry(C, 1));
        String before = ps.get(0).currentServer();
        // The server it left has no other session, but it may be the reason the connection dropped (stopped, hung):
        // a session that went back to it first could spend its remaining time there.
        String after = key(ps.get(0).next(1000));
        assertThat(after).as("not the server it just left").isNotEqualTo(before);
        assertThat(spread.stats().sessionsPerServer()).containsEntry(after, 2).doesNotContainKey(before);
    }

    /** One client per iteration, connected according to the old weights, then told about the new list. */
    private Map<String, Integer> rebalance(
            HostsConfig cfg, String[] before, String[] after, int clients, Map<String, Integer> movedFrom) {
        ConnectionBudget budget = new ConnectionBudget();
        Map<String, Integer> finalServers = new HashMap<>();
        for (int i = 0; i < clients; i++) {
            try (WeightedHostProvider p = new WeightedHostProvider(servers(before), new SessionSpread(cfg), budget)) {
                InetSocketAddress current = p.next(1000);
                p.onConnected();
                String where = key(current);
                if (p.updateServerList(servers(after), current)) {
                    movedFrom.merge(where, 1, Integer::sum);
                    where = key(p.next(1000));
                    p.onConnected();
                }
                finalServers.merge(where, 1, Integer::sum);
            }
        }
        return finalServers;
    }

    @Test
    void growingEnsembleMovesOnlyTheShareTheNewServersNeed() {
        Map<String, Integer> moved = new HashMap<>();
        Map<String, Integer> after =
                rebalance(config(31).build(), new String[] {A, B, C}, new String[] {A, B, C, D, E}, 10_000, moved);
        int movedTotal = moved.values().stream().mapToInt(Integer::intValue).sum();
        assertThat(movedTotal / 10_000.0)
                .as("1 - 3/5 of the sessions move, as in StaticHostProvider")
                .isCloseTo(0.4, within(0.02));
        for (String s : new String[] {A, B, C, D, E}) {
            assertThat(shares(after).get(s)).as(s).isCloseTo(0.2, within(0.015));
        }
        assertThat(after.get(D) + after.get(E))
                .as("every mover went to a new server")
                .isEqualTo(movedTotal);
    }

    @Test
    void weightedGrowthReachesTheNewWeights() {
        HostsConfig cfg = config(32).weight(D, 3).build();
        Map<String, Integer> moved = new HashMap<>();
        Map<String, Integer> after = rebalance(cfg, new String[] {A, B, C}, new String[] {A, B, C, D}, 12_000, moved);
        Map<String, Double> share = shares(after);
        assertThat(share.get(D)).isCloseTo(0.5, within(0.02));
        for (String s : new String[] {A, B, C}) {
            assertThat(share.get(s)).isCloseTo(1.0 / 6, within(0.015));
        }
        assertThat(moved.values().stream().mapToInt(Integer::intValue).sum() / 12_000.0)
                .isCloseTo(0.5, within(0.02));
    }

    @Test
    void sessionsOnRemovedServersMoveAndTheOthersStay() {
        Map<String, Integer> moved = new HashMap<>();
        Map<String, Integer> after =
                rebalance(config(33).build(), new String[] {A, B, C, D}, new String[] {A, B, E}, 12_000, moved);
        assertThat(moved).containsOnlyKeys(C, D);
        int movers = moved.get(C) + moved.get(D);
        assertThat(movers / 12_000.0).isCloseTo(0.5, within(0.02));
        // StaticHostProvider's probOld = |old kept| (N_old - N_new) / (N_new (N_old - |old kept|)) = 1/3
        int toOld = after.get(A) + after.get(B) - (12_000 - movers);
        assertThat(toOld / (double) movers).isCloseTo(1.0 / 3, within(0.03));
        for (String s : new String[] {A, B, E}) {
            assertThat(shares(after).get(s)).isCloseTo(1.0 / 3, within(0.02));
        }
    }

    @Test
    void shrinkingEnsembleKeepsSessionsOnRemainingServers() {
        Map<String, Integer> moved = new HashMap<>();
        rebalance(config(34).build(), new String[] {A, B, C, D}, new String[] {A, B, C}, 2_000, moved);
        assertThat(moved).containsOnlyKeys(D);
    }

    @Test
    void aSessionToldToMoveIsNoLongerConnectedAndItsMoveIsNotAFailure() {
        SessionSpread spread = new SessionSpread(config(35).build());
        try (WeightedHostProvider p = new WeightedHostProvider(servers(A), spread, new ConnectionBudget())) {
            InetSocketAddress current = p.next(1000);
            p.onConnected();
            assertThat(p.updateServerList(servers(B), current))
                    .as("its server was removed")
                    .isTrue();
            assertThat(p.isConnected()).isFalse();
            assertThat(spread.stats().connectionsPerServer()).isEmpty();
            assertThat(key(p.next(1000))).isEqualTo(B);
            assertThat(spread.stats().connectFailures()).isZero();
            assertThat(spread.isQuarantined(A)).isFalse();
            assertThat(clock.sleeps).isEmpty();
        }
    }

    @Test
    void updateServerListRejectsAnEmptyList() {
        try (WeightedHostProvider p =
                new WeightedHostProvider(servers(A), new SessionSpread(config(1).build()), new ConnectionBudget())) {
            assertThatThrownBy(() -> p.updateServerList(List.of(), null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("serverAddresses");
        }
    }

    @Test
    void aServerQuarantinedLongAgoIsTriedOnceTheOthersFailedInARow() {
        SessionSpread spread = new SessionSpread(config(43).build());
        ConnectionBudget budget = new ConnectionBudget();
        // A's outage: failed by the pool's other sessions, again each time its quarantine ended, so that it is
        // quarantined for far longer than a server failing for the first time.
        try (WeightedHostProvider reporter = new WeightedHostProvider(servers(A, B, C), spread, budget)) {
            for (int i = 0; i < 5; i++) {
                reporter.markFailed(addr(A));
                Duration quarantine = spread.stats().quarantined().get(A);
                clock.advance(quarantine);
            }
            reporter.markFailed(addr(A));
        }
        Duration aQuarantine = spread.stats().quarantined().get(A);
        assertThat(aQuarantine).isGreaterThan(HostsConfig.DEFAULT_QUARANTINE_INITIAL_BACKOFF.multipliedBy(4));

        WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), spread, budget);
        String first = key(p.next(1000));
        assertThat(first).isNotEqualTo(A);
        p.onConnected();
        // A is back, the other two become unreachable: the connection drops, then attempts on B and C each run out
        // their bound (2 s here, longer than a first quarantine), so the server failed first is out of quarantine
        // again when the next one fails.
        Duration attemptBound = HostsConfig.DEFAULT_QUARANTINE_INITIAL_BACKOFF.multipliedBy(2);
        List<String> tried = new ArrayList<>();
        tried.add(key(p.next(1000)));
        clock.advance(attemptBound);
        tried.add(key(p.next(1000)));
        clock.advance(attemptBound);
        assertThat(tried)
                .as("the first attempts go to the servers not quarantined")
                .doesNotContain(A);
        assertThat(spread.isQuarantined(A)).isTrue();
        assertThat(key(p.next(1000)))
                .as("after failed attempts on all servers but A (%s), A is tried though still quarantined", tried)
                .isEqualTo(A);
        p.close();
    }

    /**
     * After failed attempts on all servers but one, a session takes the servers in turn; one of them at its connection
     * budget must not stop the turn. Budget 1 on three servers: another pool's session holds B. The session's server A
     * dies, it goes to C (its leader election under way: refused), back to A (dead), and from then on its turn is
     * between C (free) and B (full): it must get to C again, not keep returning to A, the server it holds, whose
     * attempts fail until the session expires (the two-pools case of Review21cAdversarialIT lost a session so).
     */
    @Test
    void takingTheServersInTurnSkipsOnesAtTheirBudgetInsteadOfStayingOnADeadServer() {
        HostsConfig cfg = config(44).perServerConnectionBudget(1).build();
        ConnectionBudget budget = new ConnectionBudget();
        try (WeightedHostProvider other = new WeightedHostProvider(servers(B), new SessionSpread(cfg), budget);
                WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), new SessionSpread(cfg), budget)) {
            assertThat(other.currentServer()).isEqualTo(B);
            String dead = key(p.next(1000));
            p.onConnected();
            String electing = dead.equals(A) ? C : A;
            List<String> tried = new ArrayList<>();
            tried.add(key(p.next(1000))); // the connection to the dead server dropped
            tried.add(key(p.next(1000))); // refused by the electing server
            assertThat(tried).as("attempts after the drop").containsExactly(electing, dead);
            for (int i = 0; i < 4; i++) {
                tried.add(key(p.next(1000)));
                assertThat(budget.snapshot())
                        .as("budget after attempt %s", tried)
                        .containsEntry(B, 1)
                        .containsEntry(tried.get(tried.size() - 1), 1)
                        .hasSize(2);
            }
            assertThat(tried.subList(2, 6))
                    .as("attempts once failed on all servers but one (%s): in turn over those with a free slot", tried)
                    .containsExactly(electing, dead, electing, dead);
        }
        assertThat(budget.snapshot()).isEmpty();
    }

    /**
     * The budget is a hard limit: with every other server at its budget, a session whose server keeps failing stays
     * on the slot it holds and tries it again, and says so once (until it connects again) at WARN, naming the budget
     * and the counts.
     */
    @Test
    void aSessionWithNoFreeSlotElsewhereKeepsItsServerAndSaysSoOnce() {
        HostsConfig cfg = config(45).perServerConnectionBudget(1).build();
        ConnectionBudget budget = new ConnectionBudget();
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(WeightedHostProvider.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs =
                new ch.qos.logback.core.read.ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        try (WeightedHostProvider onB = new WeightedHostProvider(servers(B), new SessionSpread(cfg), budget);
                WeightedHostProvider onC = new WeightedHostProvider(servers(C), new SessionSpread(cfg), budget);
                WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), new SessionSpread(cfg), budget)) {
            assertThat(key(p.next(1000))).isEqualTo(A);
            p.onConnected();
            List<String> tried = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                tried.add(key(p.next(1000)));
            }
            assertThat(tried).as("B and C at their budget").containsOnly(A);
            assertThat(budget.snapshot()).containsOnly(Map.entry(A, 1), Map.entry(B, 1), Map.entry(C, 1));
            List<String> warnings = logs.list.stream()
                    .filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                    .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                    .filter(m -> m.contains("connection budget"))
                    .toList();
            assertThat(warnings).as("said once").hasSize(1);
            assertThat(warnings.get(0))
                    .contains(A)
                    .contains("connection budget of 1")
                    .contains("{127.0.0.1:21001=1, 127.0.0.1:21002=1, 127.0.0.1:21003=1}")
                    .contains("perServerConnectionBudget");
            // Connected again, then failing again: said again.
            p.onConnected();
            for (int i = 0; i < 4; i++) {
                p.next(1000);
            }
            assertThat(logs.list.stream()
                            .filter(e -> e.getFormattedMessage().contains("connection budget of 1"))
                            .count())
                    .as("said again after a connection")
                    .isEqualTo(2);
        } finally {
            logger.detachAppender(logs);
        }
    }

    @Test
    void markFailedQuarantinesForTheWholePoolWithoutCountingTwice() {
        SessionSpread spread = new SessionSpread(config(41).build());
        ConnectionBudget budget = new ConnectionBudget();
        WeightedHostProvider p = new WeightedHostProvider(servers(A, B, C), spread, budget);
        InetSocketAddress first = p.next(1000);
        p.markFailed(first);
        assertThat(spread.isQuarantined(key(first))).isTrue();
        String second = key(p.next(1000));
        assertThat(second).isNotEqualTo(key(first));
        assertThat(spread.stats().connectFailures()).isEqualTo(1);
        for (int i = 0; i < 100; i++) {
            try (WeightedHostProvider sibling = new WeightedHostProvider(servers(A, B, C), spread, budget)) {
                assertThat(key(sibling.next(1000))).isNotEqualTo(key(first));
            }
        }
        assertThatThrownBy(() -> p.markFailed(addr("127.0.0.1:9")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("127.0.0.1:9")
                .hasMessageContaining(A);
        p.close();
    }

    @Test
    void closeReturnsTheSlotOnceAndEndsTheProvider() {
        SessionSpread spread = new SessionSpread(config(51).build());
        ConnectionBudget budget = new ConnectionBudget();
        WeightedHostProvider p = new WeightedHostProvider(servers(A, B), spread, budget);
        p.next(1000);
        p.onConnected();
        assertThat(budget.snapshot()).hasSize(1);
        assertThat(spread.stats().connectionsPerServer()).hasSize(1);
        p.close();
        p.close();
        assertThat(budget.snapshot()).isEmpty();
        assertThat(spread.stats().sessionsPerServer()).isEmpty();
        assertThat(p.currentServer()).isNull();
        assertThat(p.isClosed()).isTrue();
        p.onConnected();
        assertThatThrownBy(() -> p.next(1000))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> p.updateServerList(servers(A), null)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> p.markFailed(addr(A))).isInstanceOf(IllegalStateException.class);
        assertThat(budget.snapshot()).isEmpty();
    }

    @Test
    void badConstructorArgumentsAreRejected() {
        SessionSpread spread = new SessionSpread(config(1).weight(A, 0).build());
        ConnectionBudget budget = new ConnectionBudget();
        assertThatThrownBy(() -> new WeightedHostProvider(List.of(), spread, budget))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("serverAddresses must not be empty");
        assertThatThrownBy(() -> new WeightedHostProvider(servers(A, A), spread, budget))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(A)
                .hasMessageContaining("weight 0");
        assertThatThrownBy(() -> new WeightedHostProvider(servers(A), null, budget))
                .hasMessageContaining("spread");
        assertThatThrownBy(() -> new WeightedHostProvider(servers(A), spread, null))
                .hasMessageContaining("budget");
        assertThat(budget.snapshot()).isEmpty();
    }
}
