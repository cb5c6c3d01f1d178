package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 21 item 3 (rebalancing after failover) and item 2 (zones), from the README and the public API:
 * sessions moved while holding ephemerals, watches, an SDK lock and a Curator LeaderLatch; a flapping server; a target
 * frozen with SIGSTOP right after a session moved to it; two pools sharing the process's connection budget; the stats
 * against the servers' own {@code cons}; bad settings. Three separate-process servers. Figures on lines starting
 * {@code FIGURES}.
 */
class Review21cAdversarialIT {

    static final byte[] V = "v".getBytes(StandardCharsets.UTF_8);
    static final Duration INTERVAL = Duration.ofMillis(300);
    static final Pattern SID = Pattern.compile("sid=0x([0-9a-f]+)");

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
        ensemble.restoreAll(Duration.ofSeconds(60));
    }

    static void print(String s) {
        System.out.println(s);
        System.out.flush();
    }

    static ZkSessionPool pool(
            String name,
            int sessions,
            Duration timeout,
            HostsConfig hosts,
            SimpleMeterRegistry reg,
            Queue<SessionEvent> events) {
        return ZkSessionPool.builder()
                .name(name)
                .connectString(ensemble.connectString())
                .sessionTimeout(timeout)
                .connectionTimeout(Duration.ofSeconds(3))
                .sessionsPerEnsemble(sessions)
                .hosts(hosts)
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(reg))
                .listener(new SessionListener() {
                    @Override
                    public void onStateChange(SessionEvent event) {
                        events.add(event);
                    }
                })
                .build();
    }

    static List<SessionStatus> sessions(ZkSessionPool pool) {
        return pool.ensembles().get(0).sessions();
    }

    /** Connected sessions per server; null while one is not connected. */
    static Map<String, Integer> spread(ZkSessionPool... pools) {
        Map<String, Integer> out = new TreeMap<>();
        for (ServerProcess s : ensemble.servers()) {
            out.put(s.address(), 0);
        }
        for (ZkSessionPool p : pools) {
            for (SessionStatus s : sessions(p)) {
                if (!s.connected() || s.server() == null) {
                    return null;
                }
                out.merge(s.server(), 1, Integer::sum);
            }
        }
        return out;
    }

    static int imbalance(Map<String, Integer> spread) {
        return spread.values().stream().mapToInt(i -> i).max().orElse(0)
                - spread.values().stream().mapToInt(i -> i).min().orElse(0);
    }

    static double moves(SimpleMeterRegistry reg) {
        FunctionCounter c = reg.find(MetricNames.HOSTS_REBALANCE_MOVES).functionCounter();
        assertThat(c).as(MetricNames.HOSTS_REBALANCE_MOVES).isNotNull();
        return c.count();
    }

    static Map<Long, Long> ids(ZkSessionPool pool) {
        Map<Long, Long> out = new TreeMap<>();
        for (SessionStatus s : sessions(pool)) {
            out.put((long) s.index(), s.sessionId());
        }
        return out;
    }

    /** Session ids (hex, no 0x) connected to each server, from the server's own {@code cons}. */
    static Map<String, Set<String>> cons() {
        Map<String, Set<String>> out = new TreeMap<>();
        for (ServerProcess s : ensemble.servers()) {
            Set<String> sids = new HashSet<>();
            if (s.isAlive() && !s.isSuspended()) {
                Matcher m = SID.matcher(s.fourLetter("cons", Duration.ofSeconds(5)));
                while (m.find()) {
                    sids.add(m.group(1));
                }
            }
            out.put(s.address(), sids);
        }
        return out;
    }

    /** The pool's stats and session statuses agree with where the servers say its sessions are. */
    static void statsMatchCons(ZkSessionPool pool) {
        await("stats match cons").atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            Map<String, Set<String>> cons = cons();
            Map<String, Integer> fromCons = new TreeMap<>();
            for (SessionStatus st : sessions(pool)) {
                String hex = Long.toHexString(st.sessionId());
                for (Map.Entry<String, Set<String>> e : cons.entrySet()) {
                    if (e.getValue().contains(hex)) {
                        fromCons.merge(e.getKey(), 1, Integer::sum);
                        assertThat(st.server())
                                .as("status server of 0x" + hex + " vs cons")
                                .isEqualTo(e.getKey());
                    }
                }
            }
            Map<String, Integer> stats = new TreeMap<>(pool.stats().connectionsPerServer());
            stats.values().removeIf(v -> v == 0);
            assertThat(stats).as("connectionsPerServer vs cons").isEqualTo(fromCons);
        });
    }

    static List<ZkLease> leasePerSession(ZkSessionPool pool, int n) {
        ZkLease first = pool.lease();
        await("all connected")
                .atMost(Duration.ofSeconds(60))
                .until(() -> sessions(pool).stream().allMatch(SessionStatus::connected));
        List<ZkLease> leases = new ArrayList<>();
        leases.add(first);
        for (int i = 1; i < n; i++) {
            leases.add(pool.lease());
        }
        assertThat(leases.stream().map(ZkLease::sessionId).distinct().count())
                .as("one lease per session")
                .isEqualTo(n);
        return leases;
    }

    static void mkdirs(ZkLease l, String path) {
        String p = "";
        for (String part : path.substring(1).split("/")) {
            p += "/" + part;
            if (l.exists(p) == null) {
                try {
                    l.create(p, V, CreateMode.PERSISTENT);
                } catch (ZkNodeExistsException ignored) {
                    // raced
                }
            }
        }
    }

    /** Kills the given server, waits for the pool's sessions to leave it, restarts it (serving). */
    static void failOver(ServerProcess s, ZkSessionPool... pools) {
        boolean leading = ensemble.leader().address().equals(s.address());
        print("FIGURES killing " + s.address() + (leading ? " (the leader)" : " (a follower)") + ", spread "
                + spread(pools));
        s.kill9();
        await("no session on killed " + s.address())
                .atMost(Duration.ofSeconds(40))
                .until(() -> {
                    Map<String, Integer> now = spread(pools);
                    return now != null && now.get(s.address()) == 0;
                });
        print("FIGURES killed " + s.address() + ", spread " + spread(pools));
    }

    /** The epoch of the ensemble's leader (the high half of the zxid its srvr reports). */
    static long leaderEpoch() {
        String srvr = ensemble.leader().fourLetter("srvr");
        for (String line : srvr.split("\n")) {
            if (line.startsWith("Zxid:")) {
                return Long.decode(line.substring(5).trim()) >>> 32;
            }
        }
        throw new IllegalStateException("no Zxid in srvr: " + srvr);
    }

    @Test
    void movesKeepIdsEphemeralsWatchesAndTheSdkLockWhileCuratorLatchesPay() throws Exception {
        int n = 6;
        SimpleMeterRegistry reg = new SimpleMeterRegistry();
        Queue<SessionEvent> events = new ConcurrentLinkedQueue<>();
        try (ZkSessionPool pool = pool(
                "r21c-move",
                n,
                Duration.ofSeconds(15),
                HostsConfig.builder().rebalance(INTERVAL).build(),
                reg,
                events)) {
            List<ZkLease> leases = leasePerSession(pool, n);
            String dir = "/r21c/move";
            mkdirs(leases.get(0), dir);
            Map<Long, Integer> watchFired = new ConcurrentHashMap<>();
            AtomicInteger latchLosses = new AtomicInteger();
            AtomicInteger latchGains = new AtomicInteger();
            List<LeaderLatch> latches = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ZkLease l = leases.get(i);
                l.ephemeral(dir + "/e" + i, V);
                if (l.exists(dir + "/w" + i) == null) {
                    l.create(dir + "/w" + i, V, CreateMode.PERSISTENT);
                }
                long sid = l.sessionId();
                l.watch(dir + "/w" + i, ev -> watchFired.merge(sid, 1, Integer::sum));
                LeaderLatch latch = new LeaderLatch(l.curator(), dir + "/latch", "s" + i);
                latch.addListener(new LeaderLatchListener() {
                    @Override
                    public void isLeader() {
                        latchGains.incrementAndGet();
                    }

                    @Override
                    public void notLeader() {
                        latchLosses.incrementAndGet();
                    }
                });
                latch.start();
                latches.add(latch);
            }
            Queue<String> lockLost = new ConcurrentLinkedQueue<>();
            ZkLock lock = leases.get(0).lock(dir + "/lock", new LeadershipListener() {
                @Override
                public void onLost(FencingToken token, SessionState cause) {
                    lockLost.add(token + " " + cause);
                }
            });
            assertThat(lock.acquire(Duration.ofSeconds(20))).as("lock acquired").isNotNull();
            await("a Curator leader")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> latches.stream().anyMatch(LeaderLatch::hasLeadership));
            Map<Long, Long> idsBefore = ids(pool);
            long lockSid = leases.get(0).sessionId();
            Supplier<String> lockServer = () -> sessions(pool).stream()
                    .filter(s -> s.sessionId() == lockSid)
                    .findFirst()
                    .orElseThrow()
                    .server();
            String lockHome = lockServer.get();
            // Kill a server that neither holds the lock's session nor leads: a failover SUSPENDs the sessions on the
            // killed server legitimately, and the leader's death suspends every session while the others elect (the
            // CI run of b0b030e lost the lock's turn so, before any move, when the test could still pick the leader).
            ServerProcess leader = ensemble.leader();
            ServerProcess victim = ensemble.servers().stream()
                    .filter(s -> !s.address().equals(lockHome) && !s.address().equals(leader.address()))
                    .findFirst()
                    .orElseThrow();
            long epochBefore = leaderEpoch();
            failOver(victim, pool);
            String lockHomeAfterFailover = lockServer.get();
            await("settled").atMost(Duration.ofSeconds(30)).until(() -> spread(pool) != null);
            long epochAfter = leaderEpoch();
            if (epochAfter == epochBefore) {
                assertThat(lockLost)
                        .as("SDK lock turns lost by the failover of a follower without the lock's session")
                        .isEmpty();
            } else {
                // A leader election meanwhile (seen in CI under load: every session SUSPENDED before the kill, the
                // epoch 3 -> 4) suspends every session, the lock's too, and its turn is rightly reported lost; the
                // lock is won again, and what follows (the moves) must lose nothing more.
                print("FIGURES move: a leader election during the failover (epoch " + epochBefore + " -> " + epochAfter
                        + "): lock turns lost then " + lockLost);
                await("the lock held again").atMost(Duration.ofSeconds(30)).until(lock::isHeld);
                lockLost.clear();
            }
            double movesBefore = moves(reg);
            events.clear();
            int lossesBefore = latchLosses.get();
            int gainsBefore = latchGains.get();
            long t0 = System.nanoTime();
            victim.restart();
            victim.awaitServing(Duration.ofSeconds(60));
            await("even spread after restart").atMost(Duration.ofSeconds(60)).until(() -> {
                Map<String, Integer> sp = spread(pool);
                return sp != null && imbalance(sp) <= 1;
            });
            long evenMs = (System.nanoTime() - t0) / 1_000_000;
            double movesMade = moves(reg) - movesBefore;
            long suspended = events.stream()
                    .filter(e -> e.state() == SessionState.SUSPENDED)
                    .count();
            long notSame = events.stream().filter(e -> !e.sameSession()).count();
            print("FIGURES move: even after " + evenMs + " ms, moves " + movesMade + ", spread " + spread(pool)
                    + ", SUSPENDED events " + suspended + ", id changes " + notSame + ", Curator latch losses "
                    + (latchLosses.get() - lossesBefore) + " gains " + (latchGains.get() - gainsBefore)
                    + ", lock lost " + lockLost);
            assertThat(ids(pool)).as("session ids kept").isEqualTo(idsBefore);
            assertThat(notSame).as("events with a new session").isZero();
            assertThat(movesMade).as("moves to even out").isGreaterThanOrEqualTo(1.0);
            assertThat(lockServer.get()).as("lock's session not moved").isEqualTo(lockHomeAfterFailover);
            assertThat(lockLost).as("SDK lock turns lost").isEmpty();
            assertThat(lock.isHeld()).as("lock held").isTrue();
            // Ephemerals owned by their sessions.
            for (int i = 0; i < n; i++) {
                Stat st = leases.get(i).exists(dir + "/e" + i);
                assertThat(st).as("ephemeral e" + i).isNotNull();
                assertThat(st.getEphemeralOwner())
                        .as("owner of e" + i)
                        .isEqualTo(leases.get(i).sessionId());
            }
            // Watches still fire on every session (moved or not).
            Map<Long, Integer> firedBefore = new HashMap<>(watchFired);
            try (ZkLease w = pool.lease()) {
                for (int i = 0; i < n; i++) {
                    w.setData(dir + "/w" + i, V, -1);
                }
            }
            await("every watch fired after the moves")
                    .atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> {
                        for (ZkLease l : leases) {
                            assertThat(watchFired.getOrDefault(l.sessionId(), 0))
                                    .as("watch of 0x" + Long.toHexString(l.sessionId()))
                                    .isGreaterThan(firedBefore.getOrDefault(l.sessionId(), 0));
                        }
                    });
            // No further moves once even (no ping-pong).
            double settled = moves(reg);
            await("no move for 10 looks once even")
                    .during(INTERVAL.multipliedBy(10))
                    .atMost(INTERVAL.multipliedBy(10).plusSeconds(20))
                    .until(() -> moves(reg) == settled);
            statsMatchCons(pool);
            for (LeaderLatch l : latches) {
                l.close();
            }
            lock.release();
            for (ZkLease l : leases) {
                l.close();
            }
        }
    }

    @Test
    void aFlappingServerCausesBoundedMovesAndNoStorm() throws Exception {
        int n = 6;
        int cycles = 4;
        SimpleMeterRegistry reg = new SimpleMeterRegistry();
        Queue<SessionEvent> events = new ConcurrentLinkedQueue<>();
        try (ZkSessionPool pool = pool(
                "r21c-flap",
                n,
                Duration.ofSeconds(15),
                HostsConfig.builder().rebalance(INTERVAL).build(),
                reg,
                events)) {
            List<ZkLease> leases = leasePerSession(pool, n);
            String dir = "/r21c/flap";
            mkdirs(leases.get(0), dir);
            for (int i = 0; i < n; i++) {
                leases.get(i).ephemeral(dir + "/e" + i, V);
            }
            Map<Long, Long> idsBefore = ids(pool);
            ServerProcess flapper = ensemble.servers().get(2);
            long t0 = System.nanoTime();
            for (int c = 0; c < cycles; c++) {
                flapper.kill9();
                await("no session on killed").atMost(Duration.ofSeconds(40)).until(() -> {
                    Map<String, Integer> now = spread(pool);
                    return now != null && now.get(flapper.address()) == 0;
                });
                flapper.restart();
                flapper.awaitServing(Duration.ofSeconds(60));
                ensemble.awaitQuorum(Duration.ofSeconds(60));
                try (ZkLease w = pool.lease()) {
                    w.setData(dir, V, -1); // a write, so the restarted follower is not behind the sessions
                }
                // Kill it again as soon as a session was moved back to it.
                await("a session moved back to the restarted server")
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(20))
                        .until(() -> sessions(pool).stream()
                                .anyMatch(st -> flapper.address().equals(st.server())));
                print("FIGURES flap " + c + ": moves so far " + moves(reg) + ", spread " + spread(pool));
            }
            await("even after flapping").atMost(Duration.ofSeconds(60)).until(() -> {
                Map<String, Integer> sp = spread(pool);
                return sp != null && imbalance(sp) <= 1;
            });
            double total = moves(reg);
            double minutes = (System.nanoTime() - t0) / 60e9;
            print("FIGURES flapping: " + cycles + " kill -9 cycles in " + String.format("%.2f", minutes)
                    + " min, moves " + total + " (" + String.format("%.1f", total / minutes) + "/min), spread "
                    + spread(pool) + ", SUSPENDED "
                    + events.stream()
                            .filter(e -> e.state() == SessionState.SUSPENDED)
                            .count());
            // Each restart (and the final settling) moves at most n/3 (rounded up) sessions back.
            assertThat(total).as("moves over " + cycles + " flaps").isLessThanOrEqualTo((cycles + 1) * ((n + 2) / 3.0));
            assertThat(ids(pool)).as("ids kept").isEqualTo(idsBefore);
            double settled = moves(reg);
            await("no move for 10 looks once even")
                    .during(INTERVAL.multipliedBy(10))
                    .atMost(INTERVAL.multipliedBy(10).plusSeconds(20))
                    .until(() -> moves(reg) == settled);
            for (int i = 0; i < n; i++) {
                assertThat(leases.get(i).exists(dir + "/e" + i).getEphemeralOwner())
                        .as("e" + i)
                        .isEqualTo(leases.get(i).sessionId());
            }
            statsMatchCons(pool);
            leases.forEach(ZkLease::close);
        }
    }

    @Test
    void aTargetFrozenRightAfterASessionMovedToItLosesNoSession() throws Exception {
        int n = 6;
        Duration timeout = Duration.ofSeconds(6);
        SimpleMeterRegistry reg = new SimpleMeterRegistry();
        Queue<SessionEvent> events = new ConcurrentLinkedQueue<>();
        try (ZkSessionPool pool = pool(
                "r21c-frozen",
                n,
                timeout,
                HostsConfig.builder().rebalance(INTERVAL).build(),
                reg,
                events)) {
            List<ZkLease> leases = leasePerSession(pool, n);
            String dir = "/r21c/frozen";
            mkdirs(leases.get(0), dir);
            for (int i = 0; i < n; i++) {
                leases.get(i).ephemeral(dir + "/e" + i, V);
            }
            Map<Long, Long> idsBefore = ids(pool);
            ServerProcess target = ensemble.servers().get(0);
            failOver(target, pool);
            target.restart();
            target.awaitServing(Duration.ofSeconds(60));
            await("a session moved to the restarted server")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> sessions(pool).stream()
                            .anyMatch(s -> target.address().equals(s.server())));
            target.sigstop();
            long t0 = System.nanoTime();
            double movesAtFreeze = moves(reg);
            try {
                await("every session connected elsewhere while the target is frozen")
                        .atMost(timeout.plusSeconds(15))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> {
                            Map<String, Integer> sp = spread(pool);
                            return sp != null && sp.get(target.address()) == 0;
                        });
                long backMs = (System.nanoTime() - t0) / 1_000_000;
                await("stays off the frozen server")
                        .during(Duration.ofSeconds(4))
                        .atMost(Duration.ofSeconds(20))
                        .until(() -> {
                            Map<String, Integer> sp = spread(pool);
                            return sp == null || sp.get(target.address()) == 0;
                        });
                double movesDuringFreeze = moves(reg) - movesAtFreeze;
                print("FIGURES frozen target: sessions off it " + backMs + " ms after SIGSTOP, moves while frozen "
                        + movesDuringFreeze + ", spread " + spread(pool) + ", LOST "
                        + events.stream()
                                .filter(e -> e.state() == SessionState.LOST)
                                .count());
                assertThat(movesDuringFreeze).as("moves to/while frozen").isLessThanOrEqualTo(1.0);
                assertThat(ids(pool)).as("ids kept while frozen").isEqualTo(idsBefore);
            } finally {
                target.sigcont();
            }
            await("even after SIGCONT").atMost(Duration.ofSeconds(60)).until(() -> {
                Map<String, Integer> sp = spread(pool);
                return sp != null && imbalance(sp) <= 1;
            });
            assertThat(ids(pool)).as("ids kept").isEqualTo(idsBefore);
            for (int i = 0; i < n; i++) {
                assertThat(leases.get(i).exists(dir + "/e" + i).getEphemeralOwner())
                        .as("e" + i)
                        .isEqualTo(leases.get(i).sessionId());
            }
            statsMatchCons(pool);
            leases.forEach(ZkLease::close);
        }
    }

    /**
     * Two pools of 4 sessions on a shared budget of 4 per server, 3 servers: with one server down the 8 sessions fill
     * every slot of the other two exactly, so a session failing over can only take the slot another one left. When the
     * server of the second failover is the leader (as it usually is here), every session is suspended; in the CI run
     * of 684b472, and in 1 of 3 runs of the case before the fix, one of pool B's sessions came back with a new id: it held the dead leader's slot after failing on the
     * electing members, and its turn over the servers stopped at the full one it had tried longest ago, sending it back
     * to the dead server until it expired, while the other live server had a free slot (fixed in
     * {@code WeightedHostProvider}; {@code BudgetTurnIT} shows it alone).
     */
    @Test
    void twoPoolsSharingTheBudgetNeitherFightNorExceedItAndCloseDuringMoves() throws Exception {
        int n = 4;
        int budget = 4;
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(budget)
                .build();
        SimpleMeterRegistry regA = new SimpleMeterRegistry();
        SimpleMeterRegistry regB = new SimpleMeterRegistry();
        Queue<SessionEvent> events = new ConcurrentLinkedQueue<>();
        ZkSessionPool a = pool("r21c-a", n, Duration.ofSeconds(15), hosts, regA, events);
        ZkSessionPool b = pool("r21c-b", n, Duration.ofSeconds(15), hosts, regB, events);
        Map<String, Integer> maxCons = new ConcurrentHashMap<>();
        AtomicBoolean sampling = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (sampling.get()) {
                try {
                    cons().forEach((k, v) -> maxCons.merge(k, v.size(), Math::max));
                } catch (RuntimeException ignored) {
                    // a server down
                }
            }
        });
        sampler.setDaemon(true);
        try {
            List<ZkLease> la = leasePerSession(a, n);
            List<ZkLease> lb = leasePerSession(b, n);
            Map<Long, Long> idsA = ids(a);
            Map<Long, Long> idsB = ids(b);
            sampler.start();
            ServerProcess victim = ensemble.servers().get(1);
            failOver(victim, a, b);
            print("FIGURES two pools, after the first failover: ids A " + ids(a) + " B " + ids(b) + " (were " + idsA
                    + ", " + idsB + ")");
            // Each phase checked on its own, so that a lost session names the phase that lost it.
            assertThat(ids(a)).as("ids A after the first failover").isEqualTo(idsA);
            assertThat(ids(b)).as("ids B after the first failover").isEqualTo(idsB);
            victim.restart();
            victim.awaitServing(Duration.ofSeconds(60));
            await("combined spread even").atMost(Duration.ofSeconds(60)).until(() -> {
                Map<String, Integer> sp = spread(a, b);
                return sp != null && imbalance(sp) <= 2 && sp.get(victim.address()) > 0;
            });
            // A pool's repair of its own spread may follow the moves that even the combined spread (CI of b152d24:
            // A repaired 3 s after B's second move): counted as settled once no move came for 3 looks.
            double[] seen = {moves(regA) + moves(regB)};
            long[] since = {System.nanoTime()};
            await("no move for 3 looks")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        double now = moves(regA) + moves(regB);
                        if (now != seen[0]) {
                            seen[0] = now;
                            since[0] = System.nanoTime();
                            return false;
                        }
                        return System.nanoTime() - since[0]
                                > INTERVAL.multipliedBy(3).toNanos();
                    });
            double settledA = moves(regA);
            double settledB = moves(regB);
            await("neither pool moves for 10 looks")
                    .during(INTERVAL.multipliedBy(10))
                    .atMost(INTERVAL.multipliedBy(10).plusSeconds(30))
                    .until(() -> moves(regA) == settledA && moves(regB) == settledB);
            print("FIGURES two pools: moves A " + settledA + " B " + settledB + ", combined spread " + spread(a, b)
                    + ", A " + spread(a) + ", B " + spread(b) + ", max cons seen " + maxCons);
            assertThat(ids(a)).as("ids A after the moves").isEqualTo(idsA);
            assertThat(ids(b)).as("ids B after the moves").isEqualTo(idsB);
            assertThat(maxCons.values())
                    .as("connections per server vs budget " + budget)
                    .allMatch(v -> v <= budget);
            assertThat(settledA + settledB).as("moves of both pools").isLessThanOrEqualTo(2 * n);
            statsMatchCons(a);
            statsMatchCons(b);
            // Close A while B is moving: fail over again and close A as soon as the victim is back.
            la.forEach(ZkLease::close);
            failOver(ensemble.servers().get(2), a, b);
            print("FIGURES two pools, after the second failover: ids B " + ids(b));
            assertThat(ids(b))
                    .as("ids B after the second failover (every slot of the two live servers taken)")
                    .isEqualTo(idsB);
            Set<String> hexA = new HashSet<>();
            idsA.values().forEach(id -> hexA.add(Long.toHexString(id)));
            ensemble.servers().get(2).restart();
            ensemble.servers().get(2).awaitServing(Duration.ofSeconds(60));
            try (ZkLease w = b.lease()) {
                w.setData("/", V, -1); // a write, so the restarted follower is not behind the sessions
            }
            await("a move under way")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> moves(regA) > settledA || moves(regB) > settledB);
            long t0 = System.nanoTime();
            a.close();
            long closeMs = (System.nanoTime() - t0) / 1_000_000;
            print("FIGURES close during moves: " + closeMs + " ms");
            assertThat(closeMs).as("close time").isLessThan(ZkSessionPool.DEFAULT_CLOSE_TIMEOUT.toMillis() + 8000);
            await("A's sessions gone from every server")
                    .atMost(Duration.ofSeconds(30))
                    .until(() ->
                            cons().values().stream().noneMatch(s -> s.stream().anyMatch(hexA::contains)));
            await("B even alone").atMost(Duration.ofSeconds(60)).until(() -> {
                Map<String, Integer> sp = spread(b);
                return sp != null && imbalance(sp) <= 1;
            });
            assertThat(ids(b)).as("ids B").isEqualTo(idsB);
            lb.forEach(ZkLease::close);
        } finally {
            sampling.set(false);
            sampler.join(10_000);
            a.close();
            b.close();
        }
    }

    @Test
    void badRebalanceAndZoneSettingsAreRefusedNamingTheSettingAndValue() {
        List<String> problems = new ArrayList<>();
        check(
                problems,
                "rebalance(0)",
                "rebalance",
                "0",
                () -> HostsConfig.builder().rebalance(Duration.ZERO));
        check(
                problems,
                "rebalance(-1s)",
                "rebalance",
                "-",
                () -> HostsConfig.builder().rebalance(Duration.ofSeconds(-1)));
        check(
                problems,
                "rebalance(null)",
                "rebalance",
                "null",
                () -> HostsConfig.builder().rebalance(null));
        check(
                problems,
                "fallbackSessionLifetime(0)",
                "fallbackSessionLifetime",
                "0",
                () -> HostsConfig.builder().fallbackSessionLifetime(Duration.ZERO));
        check(
                problems,
                "fallbackSessionLifetime(-5s)",
                "fallbackSessionLifetime",
                "-",
                () -> HostsConfig.builder().fallbackSessionLifetime(Duration.ofSeconds(-5)));
        check(
                problems,
                "clientZone(\" \")",
                "clientZone",
                "",
                () -> HostsConfig.builder().clientZone(" "));
        check(
                problems,
                "clientZone(null)",
                "clientZone",
                "null",
                () -> HostsConfig.builder().clientZone(null));
        check(
                problems,
                "serverZone(h, \"\")",
                "serverZone",
                "",
                () -> HostsConfig.builder().serverZone("h:2181", ""));
        print("FIGURES bad settings problems: " + problems);
        assertThat(problems).as("settings not refused or not named").isEmpty();
    }

    static void check(List<String> problems, String what, String setting, String value, Runnable r) {
        try {
            r.run();
            problems.add(what + " accepted");
        } catch (IllegalArgumentException | NullPointerException e) {
            print("FIGURES " + what + " -> " + e);
            String m = String.valueOf(e.getMessage());
            if (!m.contains(setting) || !m.contains(value)) {
                problems.add(what + " message '" + m + "'");
            }
        }
    }

    @Test
    void zonesWithRebalancingOffAreRefused() throws Exception {
        // README: moving back "is the rebalancing's move ... so rebalancing must be on"; build() refuses other
        // contradictory settings (quarantineMaxBackoff < quarantineInitialBackoff) but not this one.
        ServerProcess zoneServer = ensemble.servers().get(0);
        HostsConfig.Builder hb = HostsConfig.builder()
                .clientZone("a")
                .fallbackSessionLifetime(Duration.ofSeconds(1))
                .noRebalance();
        hb.serverZone(zoneServer.address(), "a");
        HostsConfig hosts;
        try {
            hosts = hb.build();
        } catch (IllegalArgumentException refused) {
            print("FIGURES zones + noRebalance refused: " + refused);
            assertThat(refused).hasMessageContaining("clientZone").hasMessageContaining("noRebalance");
            return;
        }
        SimpleMeterRegistry reg = new SimpleMeterRegistry();
        try (ZkSessionPool pool =
                pool("r21c-zone-norebalance", 2, Duration.ofSeconds(15), hosts, reg, new ConcurrentLinkedQueue<>())) {
            List<ZkLease> leases = leasePerSession(pool, 2);
            failOver(zoneServer, pool);
            zoneServer.restart();
            zoneServer.awaitServing(Duration.ofSeconds(60));
            try (ZkLease w = pool.lease()) {
                w.setData("/", V, -1);
            }
            long t0 = System.nanoTime();
            boolean back = false;
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    Map<String, Integer> sp = spread(pool);
                    return sp != null && sp.get(zoneServer.address()) == 2;
                });
                back = true;
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                // still outside the zone
            }
            print("FIGURES zones + noRebalance accepted (" + hosts.rebalanceInterval() + "); lifetime 1 s; after "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms back in zone: " + back + ", spread " + spread(pool));
            leases.forEach(ZkLease::close);
            assertThat(back)
                    .as("sessions back in the zone with rebalancing off")
                    .isTrue();
        }
    }

    @Test
    void aZoneServerAtItsBudgetIsNotOverfilledByMovesBack() throws Exception {
        ServerProcess zoneServer = ensemble.servers().get(0);
        HostsConfig.Builder hb = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(2)
                .clientZone("a")
                .fallbackSessionLifetime(Duration.ofSeconds(1));
        hb.serverZone(zoneServer.address(), "a");
        hb.serverZone(ensemble.servers().get(1).address(), "b");
        hb.serverZone(ensemble.servers().get(2).address(), "b");
        SimpleMeterRegistry reg = new SimpleMeterRegistry();
        Queue<SessionEvent> events = new ConcurrentLinkedQueue<>();
        try (ZkSessionPool pool = pool("r21c-zone-budget", 3, Duration.ofSeconds(15), hb.build(), reg, events)) {
            List<ZkLease> leases = leasePerSession(pool, 3);
            Map<Long, Long> idsBefore = ids(pool);
            Map<String, Integer> maxCons = new ConcurrentHashMap<>();
            long end = System.nanoTime() + Duration.ofSeconds(8).toNanos();
            while (System.nanoTime() < end) {
                cons().forEach((k, v) -> maxCons.merge(k, v.size(), Math::max));
            }
            print("FIGURES zone at budget: spread " + spread(pool) + ", moves " + moves(reg) + ", max cons "
                    + maxCons + ", SUSPENDED "
                    + events.stream()
                            .filter(e -> e.state() == SessionState.SUSPENDED)
                            .count());
            assertThat(maxCons.get(zoneServer.address()))
                    .as("zone server connections vs budget 2")
                    .isLessThanOrEqualTo(2);
            assertThat(spread(pool).get(zoneServer.address()))
                    .as("zone server filled to its budget")
                    .isEqualTo(2);
            assertThat(moves(reg))
                    .as("moves back to a full zone server (lifetime 1 s, 8 s)")
                    .isLessThanOrEqualTo(1.0);
            assertThat(ids(pool)).as("ids kept").isEqualTo(idsBefore);
            statsMatchCons(pool);
            leases.forEach(ZkLease::close);
        }
    }

    @Test
    void aZoneServerFrozenAsSessionsMoveBackLosesNoSession() throws Exception {
        ServerProcess zoneServer = ensemble.servers().get(0);
        HostsConfig.Builder hb = HostsConfig.builder()
                .rebalance(INTERVAL)
                .clientZone("a")
                .fallbackSessionLifetime(Duration.ofSeconds(2));
        hb.serverZone(zoneServer.address(), "a");
        hb.serverZone(ensemble.servers().get(1).address(), "b");
        hb.serverZone(ensemble.servers().get(2).address(), "b");
        SimpleMeterRegistry reg = new SimpleMeterRegistry();
        Queue<SessionEvent> events = new ConcurrentLinkedQueue<>();
        Duration timeout = Duration.ofSeconds(6);
        try (ZkSessionPool pool = pool("r21c-zone-frozen", 3, timeout, hb.build(), reg, events)) {
            List<ZkLease> leases = leasePerSession(pool, 3);
            String dir = "/r21c/zone";
            mkdirs(leases.get(0), dir);
            for (int i = 0; i < 3; i++) {
                leases.get(i).ephemeral(dir + "/e" + i, V);
            }
            assertThat(spread(pool).get(zoneServer.address()))
                    .as("all in the zone")
                    .isEqualTo(3);
            Map<Long, Long> idsBefore = ids(pool);
            failOver(zoneServer, pool);
            zoneServer.restart();
            zoneServer.awaitServing(Duration.ofSeconds(60));
            await("one moved back")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> sessions(pool).stream()
                            .anyMatch(s -> zoneServer.address().equals(s.server())));
            zoneServer.sigstop();
            long t0 = System.nanoTime();
            try {
                await("all off the frozen zone server")
                        .atMost(timeout.plusSeconds(15))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> {
                            Map<String, Integer> sp = spread(pool);
                            return sp != null && sp.get(zoneServer.address()) == 0;
                        });
                long offMs = (System.nanoTime() - t0) / 1_000_000;
                double m0 = moves(reg);
                await("stays off while frozen")
                        .during(Duration.ofSeconds(5))
                        .atMost(Duration.ofSeconds(20))
                        .until(() -> {
                            Map<String, Integer> sp = spread(pool);
                            return sp == null || sp.get(zoneServer.address()) == 0;
                        });
                print("FIGURES zone frozen: off it after " + offMs + " ms, moves while frozen " + (moves(reg) - m0)
                        + ", spread " + spread(pool));
                assertThat(ids(pool)).as("ids while frozen").isEqualTo(idsBefore);
            } finally {
                zoneServer.sigcont();
            }
            await("all back in the zone").atMost(Duration.ofSeconds(60)).until(() -> {
                Map<String, Integer> sp = spread(pool);
                return sp != null && sp.get(zoneServer.address()) == 3;
            });
            assertThat(ids(pool)).as("ids kept").isEqualTo(idsBefore);
            for (int i = 0; i < 3; i++) {
                assertThat(leases.get(i).exists(dir + "/e" + i).getEphemeralOwner())
                        .as("e" + i)
                        .isEqualTo(leases.get(i).sessionId());
            }
            statsMatchCons(pool);
            leases.forEach(ZkLease::close);
        }
    }

    @Test
    void aCuratorLatchOnAMovedSessionQuantified() throws Exception {
        ServerProcess a = ensemble.servers().get(0);
        ServerProcess b = ensemble.servers().get(1);
        try (dev.zksdk.testing.ProxiedEnsemble proxies =
                dev.zksdk.testing.ProxiedEnsemble.of(a.address() + "," + b.address())) {
            dev.zksdk.testing.ZkProxy toB = proxies.proxies().get(1);
            toB.freeze();
            SimpleMeterRegistry reg = new SimpleMeterRegistry();
            Queue<SessionEvent> events = new ConcurrentLinkedQueue<>();
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .name("r21c-latch")
                    .connectString(proxies.connectString())
                    .sessionTimeout(Duration.ofSeconds(15))
                    .sessionsPerEnsemble(2)
                    .hosts(HostsConfig.builder().rebalance(INTERVAL).build())
                    .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(reg))
                    .listener(new SessionListener() {
                        @Override
                        public void onStateChange(SessionEvent event) {
                            events.add(event);
                        }
                    })
                    .build()) {
                List<ZkLease> leases = leasePerSession(pool, 2);
                ZkLease curatorLease = leases.get(0);
                ZkLeadership pinned = leases.get(1).leaderElection("/r21c/latch-pin", new LeadershipListener() {});
                await("pinned leads").atMost(Duration.ofSeconds(20)).until(pinned::isLeader);
                Queue<Long> changes = new ConcurrentLinkedQueue<>();
                LeaderLatch latch = new LeaderLatch(curatorLease.curator(), "/r21c/latch", "only");
                latch.addListener(new LeaderLatchListener() {
                    @Override
                    public void isLeader() {
                        changes.add(System.nanoTime());
                    }

                    @Override
                    public void notLeader() {
                        changes.add(-System.nanoTime());
                    }
                });
                latch.start();
                await("latch leads").atMost(Duration.ofSeconds(20)).until(latch::hasLeadership);
                long sid = curatorLease.sessionId();
                events.clear();
                changes.clear();
                toB.unfreeze();
                await("the latch's session moved")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> moves(reg) >= 1);
                await("latch leads again").atMost(Duration.ofSeconds(30)).until(latch::hasLeadership);
                List<Long> ch = new ArrayList<>(changes);
                long lostAt =
                        ch.stream().filter(x -> x < 0).mapToLong(x -> -x).min().orElse(0);
                long regainedAt =
                        ch.stream().filter(x -> x > 0).mapToLong(x -> x).max().orElse(0);
                print("FIGURES Curator LeaderLatch on a moved session: moves " + moves(reg) + ", notLeader "
                        + ch.stream().filter(x -> x < 0).count() + ", isLeader "
                        + ch.stream().filter(x -> x > 0).count() + ", leaderless for "
                        + (lostAt == 0 ? 0 : (regainedAt - lostAt) / 1_000_000) + " ms, session events "
                        + events.stream()
                                .map(e -> e.previousState() + "->" + e.state())
                                .toList());
                assertThat(curatorLease.sessionId()).as("same session").isEqualTo(sid);
                assertThat(pinned.isLeader()).as("SDK election not moved").isTrue();
                latch.close();
                pinned.close();
                leases.forEach(ZkLease::close);
            }
        }
    }
}
