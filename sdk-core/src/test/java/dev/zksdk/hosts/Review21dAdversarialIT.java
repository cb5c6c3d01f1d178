package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.SessionEvent;
import dev.zksdk.SessionListener;
import dev.zksdk.SessionState;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkNodeExistsException;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.testing.LogCapture;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 21: the process-wide connection budget and host selection during failovers (57f3fe9, e9017c3).
 * Several pools share a tight {@code perServerConnectionBudget}; servers are killed with kill -9 or stopped with
 * SIGSTOP (leader, followers, two at once, back to back); every case samples each server's own {@code cons} the whole
 * time and checks it against the budget, checks the session ids before and after, the ephemerals' owners and the
 * pools' stats against {@code cons}. Figures on lines starting {@code FIGURES}.
 */
class Review21dAdversarialIT {

    static final byte[] V = "v".getBytes(StandardCharsets.UTF_8);
    static final Duration INTERVAL = Duration.ofMillis(300);
    static final Pattern SID = Pattern.compile("sid=0x([0-9a-f]+)");
    static final String SECRET = "r21d-s3cret-pw";

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
        allUp(ensemble);
    }

    static void allUp(ProcessEnsemble e) {
        e.restoreAll(Duration.ofSeconds(90));
    }

    static void print(String s) {
        System.out.println(s);
        System.out.flush();
    }

    static ZkSessionPool pool(
            ProcessEnsemble e,
            String name,
            int sessions,
            Duration timeout,
            HostsConfig hosts,
            SimpleMeterRegistry reg,
            Queue<String> events) {
        return ZkSessionPool.builder()
                .name(name)
                .connectString(e.connectString())
                .sessionTimeout(timeout)
                .connectionTimeout(Duration.ofSeconds(3))
                .sessionsPerEnsemble(sessions)
                .digest("r21d", SECRET)
                .hosts(hosts)
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(reg))
                .listener(new SessionListener() {
                    @Override
                    public void onStateChange(SessionEvent event) {
                        events.add(name + " " + event);
                    }
                })
                .build();
    }

    static List<SessionStatus> sessions(ZkSessionPool pool) {
        return pool.ensembles().get(0).sessions();
    }

    static Map<Integer, Long> ids(ZkSessionPool pool) {
        Map<Integer, Long> out = new TreeMap<>();
        for (SessionStatus s : sessions(pool)) {
            out.put(s.index(), s.sessionId());
        }
        return out;
    }

    static boolean allConnected(ZkSessionPool... pools) {
        for (ZkSessionPool p : pools) {
            for (SessionStatus s : sessions(p)) {
                if (!s.connected() || s.server() == null) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Connected sessions per server over the pools (every server listed). */
    static Map<String, Integer> spread(ProcessEnsemble e, ZkSessionPool... pools) {
        Map<String, Integer> out = new TreeMap<>();
        for (ServerProcess s : e.servers()) {
            out.put(s.address(), 0);
        }
        for (ZkSessionPool p : pools) {
            for (SessionStatus s : sessions(p)) {
                if (s.connected() && s.server() != null) {
                    out.merge(s.server(), 1, Integer::sum);
                }
            }
        }
        return out;
    }

    static double moves(SimpleMeterRegistry reg) {
        FunctionCounter c = reg.find(MetricNames.HOSTS_REBALANCE_MOVES).functionCounter();
        return c == null ? 0 : c.count();
    }

    /** Session ids (hex) connected to each live server, from its own {@code cons}. */
    static Map<String, Set<String>> cons(ProcessEnsemble e) {
        Map<String, Set<String>> out = new TreeMap<>();
        for (ServerProcess s : e.servers()) {
            Set<String> sids = new HashSet<>();
            if (s.isAlive() && !s.isSuspended()) {
                Matcher m = SID.matcher(s.fourLetter("cons", Duration.ofSeconds(3)));
                while (m.find()) {
                    if (!m.group(1).equals("0")) {
                        sids.add(m.group(1));
                    }
                }
            }
            out.put(s.address(), sids);
        }
        return out;
    }

    /** Samples every server's {@code cons} continuously; records each sample above the budget. */
    static final class Sampler implements AutoCloseable {
        final ProcessEnsemble e;
        final int budget;
        final Map<String, Integer> max = new ConcurrentHashMap<>();
        final Queue<String> overBudget = new ConcurrentLinkedQueue<>();
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread;
        volatile int samples;

        Sampler(ProcessEnsemble e, int budget) {
            this.e = e;
            this.budget = budget;
            thread = new Thread(this::run, "r21d-cons-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        void run() {
            while (running.get()) {
                for (ServerProcess s : e.servers()) {
                    if (!s.isAlive() || s.isSuspended()) {
                        continue;
                    }
                    try {
                        Set<String> sids = new HashSet<>();
                        Matcher m = SID.matcher(s.fourLetter("cons", Duration.ofSeconds(2)));
                        while (m.find()) {
                            if (!m.group(1).equals("0")) {
                                sids.add(m.group(1));
                            }
                        }
                        max.merge(s.address(), sids.size(), Math::max);
                        if (sids.size() > budget) {
                            overBudget.add(s.address() + " " + sids);
                        }
                    } catch (RuntimeException ignored) {
                        // a server going down under the sample
                    }
                }
                samples++;
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L); // a sample every ~20 ms
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
        }
    }

    /** The pool's stats and session statuses agree with where the servers say its sessions are. */
    static void statsMatchCons(ProcessEnsemble e, ZkSessionPool pool) {
        await("stats of " + pool + " match cons").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            Map<String, Set<String>> cons = cons(e);
            Map<String, Integer> fromCons = new TreeMap<>();
            for (SessionStatus st : sessions(pool)) {
                String hex = Long.toHexString(st.sessionId());
                for (Map.Entry<String, Set<String>> en : cons.entrySet()) {
                    if (en.getValue().contains(hex)) {
                        fromCons.merge(en.getKey(), 1, Integer::sum);
                        assertThat(st.server())
                                .as("status server of 0x" + hex + " vs cons")
                                .isEqualTo(en.getKey());
                    }
                }
            }
            Map<String, Integer> stats = new TreeMap<>(pool.stats().connectionsPerServer());
            stats.values().removeIf(v -> v == 0);
            assertThat(stats).as("connectionsPerServer vs cons").isEqualTo(fromCons);
        });
    }

    /** Takes one lease per session (all connected) and creates an ephemeral on each, under {@code dir}. */
    static List<ZkLease> leasesWithEphemerals(ZkSessionPool pool, int n, String dir) {
        ZkLease first = pool.lease();
        await("all of " + pool + " connected")
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
        mkdirs(first, dir);
        for (ZkLease l : leases) {
            l.ephemeral(dir + "/e-" + Long.toHexString(l.sessionId()), V);
        }
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

    /** Each lease's ephemeral exists and is owned by that lease's (unchanged) session. */
    static void ephemeralsOwned(ZkLease reader, List<ZkLease> leases, String dir) {
        await("ephemerals under " + dir + " owned by their sessions")
                .atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .untilAsserted(() -> {
                    for (ZkLease l : leases) {
                        long sid = l.sessionId();
                        Stat st = reader.exists(dir + "/e-" + Long.toHexString(sid));
                        assertThat(st)
                                .as("ephemeral of 0x" + Long.toHexString(sid))
                                .isNotNull();
                        assertThat(st.getEphemeralOwner())
                                .as("owner of the ephemeral of 0x" + Long.toHexString(sid))
                                .isEqualTo(sid);
                    }
                });
    }

    static List<String> lost(Queue<String> events) {
        return events.stream()
                .filter(s -> s.contains("->" + SessionState.LOST.name()) && !s.startsWith("r21d-5c "))
                .toList();
    }

    static ServerProcess busiest(ProcessEnsemble e, Set<ServerProcess> among, ZkSessionPool... pools) {
        Map<String, Integer> sp = spread(e, pools);
        return among.stream()
                .max((x, y) -> Integer.compare(sp.get(x.address()), sp.get(y.address())))
                .orElseThrow();
    }

    /**
     * Two pools of three sessions, budget 3, three servers: with one server down every slot of the other two is taken.
     * Session timeout 10 s. kill -9 of the leader; restart it and, as soon as it serves (sessions moving back to it),
     * kill -9 of a follower holding sessions. Every id kept, every ephemeral owned, {@code cons} never above 3, stats
     * match {@code cons}, the moves settle.
     */
    @Test
    void exactlyEnoughSlotsBackToBackLeaderThenFollowerKillsKeepEveryId() throws Exception {
        int budget = 3;
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(budget)
                .build();
        SimpleMeterRegistry regA = new SimpleMeterRegistry();
        SimpleMeterRegistry regB = new SimpleMeterRegistry();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        // 10 s sessions: the leader's kill costs an election first, which took 11 s under a loaded CI (c19c919: all
        // three of A's sessions expired at 5 s, before any slot question arose).
        try (ZkSessionPool a = pool(ensemble, "r21d-a", 3, Duration.ofSeconds(10), hosts, regA, events);
                ZkSessionPool b = pool(ensemble, "r21d-b", 3, Duration.ofSeconds(10), hosts, regB, events);
                Sampler sampler = new Sampler(ensemble, budget)) {
            List<ZkLease> la = leasesWithEphemerals(a, 3, "/r21d/exact/a");
            List<ZkLease> lb = leasesWithEphemerals(b, 3, "/r21d/exact/b");
            Map<Integer, Long> idsA = ids(a);
            Map<Integer, Long> idsB = ids(b);
            ServerProcess leader = ensemble.leader();
            print("FIGURES exact: spread " + spread(ensemble, a, b) + ", killing the leader " + leader.address());
            long t0 = System.nanoTime();
            leader.kill9();
            await("all six on the two live servers")
                    .atMost(Duration.ofSeconds(40))
                    .until(() -> allConnected(a, b) && spread(ensemble, a, b).get(leader.address()) == 0);
            print("FIGURES exact: after the leader kill, " + (System.nanoTime() - t0) / 1_000_000 + " ms, spread "
                    + spread(ensemble, a, b));
            assertThat(ids(a)).as("ids A after the leader kill").isEqualTo(idsA);
            assertThat(ids(b)).as("ids B after the leader kill").isEqualTo(idsB);
            leader.restart();
            leader.awaitServing(Duration.ofSeconds(60));
            try (ZkLease w = b.lease()) {
                w.setData("/", V, -1);
            }
            await("a move back under way")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> moves(regA) + moves(regB) > 0);
            Set<ServerProcess> others = new HashSet<>(ensemble.servers());
            others.remove(leader);
            ServerProcess second = busiest(ensemble, others, a, b);
            print("FIGURES exact: moves under way (" + (moves(regA) + moves(regB)) + "), spread "
                    + spread(ensemble, a, b) + ", killing " + second.address() + " (leader now "
                    + ensemble.leader().address() + ")");
            second.kill9();
            await("all six on the two live servers again")
                    .atMost(Duration.ofSeconds(40))
                    .until(() -> allConnected(a, b) && spread(ensemble, a, b).get(second.address()) == 0);
            print("FIGURES exact: after the second kill, spread " + spread(ensemble, a, b));
            assertThat(ids(a)).as("ids A after the back-to-back kill").isEqualTo(idsA);
            assertThat(ids(b)).as("ids B after the back-to-back kill").isEqualTo(idsB);
            second.restart();
            second.awaitServing(Duration.ofSeconds(60));
            try (ZkLease w = b.lease()) {
                w.setData("/", V, -1);
            }
            await("spread even")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> allConnected(a, b)
                            && spread(ensemble, a, b).values().stream().allMatch(v -> v == 2));
            double settled = moves(regA) + moves(regB);
            await("no more moves for 10 looks")
                    .during(INTERVAL.multipliedBy(10))
                    .atMost(INTERVAL.multipliedBy(10).plusSeconds(30))
                    .until(() -> moves(regA) + moves(regB) == settled);
            print("FIGURES exact: moves " + settled + ", max cons " + sampler.max + ", samples " + sampler.samples
                    + ", over budget " + sampler.overBudget + ", lost " + lost(events));
            assertThat(ids(a)).as("ids A at the end").isEqualTo(idsA);
            assertThat(ids(b)).as("ids B at the end").isEqualTo(idsB);
            assertThat(lost(events)).as("sessions lost").isEmpty();
            ephemeralsOwned(la.get(0), la, "/r21d/exact/a");
            ephemeralsOwned(la.get(0), lb, "/r21d/exact/b");
            statsMatchCons(ensemble, a);
            statsMatchCons(ensemble, b);
            assertThat(sampler.overBudget)
                    .as("cons samples above the budget " + budget)
                    .isEmpty();
            assertThat(settled).as("moves (no storm)").isLessThanOrEqualTo(12);
            la.forEach(ZkLease::close);
            lb.forEach(ZkLease::close);
        }
    }

    /**
     * One slot short: two pools (3 + 2 sessions), budget 2, three servers; the server with two sessions is killed
     * (kill -9) or frozen (SIGSTOP): four sessions for three free live slots. Session timeout 30 s. The stuck session
     * keeps retrying, says so once at WARN naming the budget, the counts and the setting (no password), {@code cons}
     * never above 2; the server comes back on the same port within the timeout: every id kept.
     */
    @Test
    void oneSlotShortKill9TheStuckSessionWarnsRetriesAndComesBackOnTheSamePort() throws Exception {
        oneSlotShort(false);
    }

    @Test
    void oneSlotShortSigstopTheStuckSessionWarnsRetriesAndComesBack() throws Exception {
        oneSlotShort(true);
    }

    void oneSlotShort(boolean freeze) throws Exception {
        int budget = 2;
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(budget)
                .build();
        SimpleMeterRegistry regA = new SimpleMeterRegistry();
        SimpleMeterRegistry regB = new SimpleMeterRegistry();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        String tag = freeze ? "sigstop" : "kill9";
        try (ZkSessionPool a = pool(ensemble, "r21d-s" + tag, 3, Duration.ofSeconds(30), hosts, regA, events);
                ZkSessionPool b = pool(ensemble, "r21d-t" + tag, 2, Duration.ofSeconds(30), hosts, regB, events);
                Sampler sampler = new Sampler(ensemble, budget)) {
            List<ZkLease> la = leasesWithEphemerals(a, 3, "/r21d/short-" + tag + "/a");
            List<ZkLease> lb = leasesWithEphemerals(b, 2, "/r21d/short-" + tag + "/b");
            await("spread 2/2/1")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> spread(ensemble, a, b).values().stream()
                            .sorted()
                            .toList()
                            .equals(List.of(1, 2, 2)));
            Map<Integer, Long> idsA = ids(a);
            Map<Integer, Long> idsB = ids(b);
            // The victim: a server with two sessions, a follower if one has two (the stuck session needs a quorum).
            Map<String, Integer> sp = spread(ensemble, a, b);
            String leaderAddr = ensemble.leader().address();
            ServerProcess victim = ensemble.servers().stream()
                    .filter(s -> sp.get(s.address()) == 2)
                    .min((x, y) -> Boolean.compare(
                            x.address().equals(leaderAddr), y.address().equals(leaderAddr)))
                    .orElseThrow();
            print("FIGURES short " + tag + ": spread " + sp + ", victim " + victim.address()
                    + (victim.address().equals(leaderAddr) ? " (leader)" : " (follower)"));
            String warn;
            try (LogCapture log = LogCapture.atDebug()) {
                if (freeze) {
                    victim.sigstop();
                } else {
                    victim.kill9();
                }
                await("four connected on the live servers, one stuck")
                        .atMost(Duration.ofSeconds(25))
                        .until(() -> {
                            Map<String, Integer> now = spread(ensemble, a, b);
                            return now.get(victim.address()) == 0
                                    && now.values().stream().mapToInt(i -> i).sum() == 4;
                        });
                await("the WARN naming the budget")
                        .atMost(Duration.ofSeconds(20))
                        .until(() -> log.count(l -> l.contains("WARN") && l.contains("connection budget of")) > 0);
                // Keep it stuck a while: it must keep retrying, warn once, never take a third slot.
                await("stuck for 6 s")
                        .during(Duration.ofSeconds(6))
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> spread(ensemble, a, b).values().stream()
                                        .mapToInt(i -> i)
                                        .sum()
                                == 4);
                List<String> warns = log.lines().stream()
                        .filter(l -> l.contains("WARN") && l.contains("connection budget of"))
                        .toList();
                warn = String.join("\n", warns);
                print("FIGURES short " + tag + ": " + warns.size() + " budget WARN(s):\n" + warn);
                print("FIGURES short " + tag + ": password in the log: "
                        + log.text().contains(SECRET));
                assertThat(warns).as("budget WARNs while one session is stuck").hasSize(1);
                assertThat(warn)
                        .as("the WARN")
                        .contains("connection budget of 2")
                        .contains("perServerConnectionBudget")
                        .contains(victim.address())
                        .doesNotContain(SECRET);
                assertThat(log.text()).as("the whole log").doesNotContain(SECRET);
            }
            if (freeze) {
                victim.sigcont();
            } else {
                victim.restart();
            }
            await("all five connected again").atMost(Duration.ofSeconds(40)).until(() -> allConnected(a, b));
            print("FIGURES short " + tag + ": back, spread " + spread(ensemble, a, b) + ", ids A " + ids(a) + " (were "
                    + idsA + "), B " + ids(b) + " (were " + idsB + "), max cons " + sampler.max + ", over budget "
                    + sampler.overBudget + ", lost " + lost(events));
            assertThat(ids(a)).as("ids A").isEqualTo(idsA);
            assertThat(ids(b)).as("ids B").isEqualTo(idsB);
            assertThat(lost(events)).as("sessions lost").isEmpty();
            ephemeralsOwned(la.get(0), la, "/r21d/short-" + tag + "/a");
            ephemeralsOwned(la.get(0), lb, "/r21d/short-" + tag + "/b");
            statsMatchCons(ensemble, a);
            statsMatchCons(ensemble, b);
            assertThat(sampler.overBudget)
                    .as("cons samples above the budget " + budget)
                    .isEmpty();
            la.forEach(ZkLease::close);
            lb.forEach(ZkLease::close);
        }
    }

    /**
     * Weight 0 on one server: used only when no positive-weight server is usable. Budget 2, one pool of four
     * sessions: the two positive servers are full, the weight-0 server empty. kill -9 of one positive server: its two
     * sessions must take the weight-0 server's free slots (the only live free slots), ids kept; after the restart they
     * move back off it, without a storm.
     */
    @Test
    void aWeightZeroServerWithTheOnlyFreeSlotsTakesTheFailoverAndIsLeftAfter() throws Exception {
        int budget = 2;
        ServerProcess zero = ensemble.servers().get(2);
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(budget)
                .weight(zero.address(), 0)
                .build();
        SimpleMeterRegistry reg = new SimpleMeterRegistry();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        try (ZkSessionPool p = pool(ensemble, "r21d-w0", 4, Duration.ofSeconds(6), hosts, reg, events);
                Sampler sampler = new Sampler(ensemble, budget)) {
            List<ZkLease> l = leasesWithEphemerals(p, 4, "/r21d/w0");
            Map<Integer, Long> ids = ids(p);
            Map<String, Integer> before = spread(ensemble, p);
            print("FIGURES w0: spread " + before + " (weight 0 on " + zero.address() + ")");
            assertThat(before.get(zero.address()))
                    .as("sessions on the weight-0 server")
                    .isZero();
            ServerProcess victim = ensemble.servers().get(0);
            victim.kill9();
            await("all four connected without " + victim.address())
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> allConnected(p) && spread(ensemble, p).get(victim.address()) == 0);
            print("FIGURES w0: after the kill, spread " + spread(ensemble, p));
            assertThat(ids(p)).as("ids after the kill").isEqualTo(ids);
            assertThat(spread(ensemble, p).get(zero.address()))
                    .as("on the weight-0 server")
                    .isEqualTo(2);
            victim.restart();
            victim.awaitServing(Duration.ofSeconds(60));
            try (ZkLease w = p.lease()) {
                w.setData("/", V, -1);
            }
            await("the weight-0 server left")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> allConnected(p) && spread(ensemble, p).get(zero.address()) == 0);
            double settled = moves(reg);
            await("no more moves for 10 looks")
                    .during(INTERVAL.multipliedBy(10))
                    .atMost(INTERVAL.multipliedBy(10).plusSeconds(30))
                    .until(() -> moves(reg) == settled);
            print("FIGURES w0: end spread " + spread(ensemble, p) + ", moves " + settled + ", max cons " + sampler.max
                    + ", lost " + lost(events));
            assertThat(ids(p)).as("ids at the end").isEqualTo(ids);
            assertThat(lost(events)).as("sessions lost").isEmpty();
            assertThat(settled).as("moves").isLessThanOrEqualTo(4);
            ephemeralsOwned(l.get(0), l, "/r21d/w0");
            statsMatchCons(ensemble, p);
            assertThat(sampler.overBudget)
                    .as("cons samples above the budget " + budget)
                    .isEmpty();
            l.forEach(ZkLease::close);
        }
    }

    /**
     * Six pools of one session each (budget 2, three servers: 2/2/2). kill -9 of one server: its two sessions move to
     * the others (3/3 is within no budget: so budget 3 here), the server restarts. Each pool on its own is even (one
     * session), the process is not (3/3/0). Issue 21: the pool notices skew "(its own sessions, and the process-wide
     * budget's counts)" and the spread is even again within a bounded time. The six pools decide from the same process
     * counts: with no more than one move of the process under way at a time, none overshoots (3/0/3) and moves back, so
     * 0/3/3 is evened out in the two moves it needs (letting the pools decide at once, 4 and 5 moves were seen, one
     * session moved to the restarted server and back).
     */
    @Test
    void sixOneSessionPoolsAreEvenedOutAfterAFailover() throws Exception {
        int budget = 3;
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(budget)
                .build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        List<ZkSessionPool> pools = new ArrayList<>();
        List<ZkLease> leases = new ArrayList<>();
        List<SimpleMeterRegistry> regs = new ArrayList<>();
        try (Sampler sampler = new Sampler(ensemble, budget)) {
            for (int i = 0; i < 6; i++) {
                SimpleMeterRegistry reg = new SimpleMeterRegistry();
                regs.add(reg);
                ZkSessionPool p = pool(ensemble, "r21d-one" + i, 1, Duration.ofSeconds(6), hosts, reg, events);
                pools.add(p);
                leases.addAll(leasesWithEphemerals(p, 1, "/r21d/one"));
            }
            ZkSessionPool[] all = pools.toArray(new ZkSessionPool[0]);
            Map<String, Integer> before = spread(ensemble, all);
            ServerProcess victim = ensemble.servers().stream()
                    .max((x, y) -> Integer.compare(before.get(x.address()), before.get(y.address())))
                    .orElseThrow();
            print("FIGURES one-session pools: spread " + before + ", killing " + victim.address());
            victim.kill9();
            await("all on the live servers")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> allConnected(all) && spread(ensemble, all).get(victim.address()) == 0);
            victim.restart();
            victim.awaitServing(Duration.ofSeconds(60));
            try (ZkLease w = pools.get(0).lease()) {
                w.setData("/", V, -1);
            }
            double movesAtRestart =
                    regs.stream().mapToDouble(Review21dAdversarialIT::moves).sum();
            long restarted = System.nanoTime();
            Map<String, Integer> last = new TreeMap<>();
            try {
                await("the process's spread at most 1 apart")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> {
                            Map<String, Integer> sp = spread(ensemble, all);
                            last.clear();
                            last.putAll(sp);
                            return allConnected(all)
                                    && sp.values().stream()
                                                            .mapToInt(v -> v)
                                                            .max()
                                                            .orElse(0)
                                                    - sp.values().stream()
                                                            .mapToInt(v -> v)
                                                            .min()
                                                            .orElse(0)
                                            <= 1;
                        });
            } finally {
                print("FIGURES one-session pools: " + (System.nanoTime() - restarted) / 1_000_000
                        + " ms after the restart (and a write), spread " + last + ", max cons " + sampler.max
                        + ", lost " + lost(events) + ", moves since the restart "
                        + (regs.stream()
                                        .mapToDouble(Review21dAdversarialIT::moves)
                                        .sum()
                                - movesAtRestart));
            }
            // Six pools decide from the same process counts: none may overshoot (3/0/3, 1/3/2, ...) and move back. The
            // spread stays even, with no further move, for ten looks; 0/3/3 needs two moves (one more if a move's
            // reconnect failed and it was made again).
            double[] settled = {-1};
            await("no moves for 10 looks, the spread even")
                    .during(INTERVAL.multipliedBy(10))
                    .atMost(INTERVAL.multipliedBy(10).plusSeconds(30))
                    .until(() -> {
                        double m = regs.stream()
                                .mapToDouble(Review21dAdversarialIT::moves)
                                .sum();
                        boolean same = m == settled[0];
                        settled[0] = m;
                        Map<String, Integer> sp = spread(ensemble, all);
                        return same
                                && allConnected(all)
                                && Collections.max(sp.values()) - Collections.min(sp.values()) <= 1;
                    });
            double moved = settled[0] - movesAtRestart;
            print("FIGURES one-session pools: settled at " + spread(ensemble, all) + " after " + moved + " moves");
            assertThat(moved).as("moves after the restart (2 needed)").isBetween(2.0, 3.0);
            assertThat(lost(events)).as("sessions lost").isEmpty();
            assertThat(sampler.overBudget)
                    .as("cons samples above the budget " + budget)
                    .isEmpty();
            ephemeralsOwned(leases.get(0), leases, "/r21d/one");
        } finally {
            leases.forEach(ZkLease::close);
            pools.forEach(ZkSessionPool::close);
        }
    }

    /**
     * No free slot anywhere: six pools of one session, budget 2, three servers (2/2/2, every slot taken). The leader
     * is killed (kill -9) or frozen (SIGSTOP): its two sessions are stuck and warn. Then two pools on the live servers
     * are closed: the stuck sessions must take the freed slots ("unless that server or a slot elsewhere comes back")
     * within their 10 s session timeout, ids kept, ephemerals owned, {@code cons} never above 2.
     */
    @Test
    void stuckSessionsTakeSlotsFreedElsewhereKill9Leader() throws Exception {
        stuckThenFreed(false);
    }

    @Test
    void stuckSessionsTakeSlotsFreedElsewhereSigstopLeader() throws Exception {
        stuckThenFreed(true);
    }

    void stuckThenFreed(boolean freeze) throws Exception {
        int budget = 2;
        String tag = freeze ? "sigstop" : "kill9";
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(budget)
                .build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        List<ZkSessionPool> pools = new ArrayList<>();
        Map<ZkSessionPool, ZkLease> leases = new java.util.LinkedHashMap<>();
        String dir = "/r21d/freed-" + tag;
        try (Sampler sampler = new Sampler(ensemble, budget)) {
            for (int i = 0; i < 6; i++) {
                ZkSessionPool p = pool(
                        ensemble,
                        "r21d-f" + tag + i,
                        1,
                        Duration.ofSeconds(10),
                        hosts,
                        new SimpleMeterRegistry(),
                        events);
                pools.add(p);
                leases.put(p, leasesWithEphemerals(p, 1, dir).get(0));
            }
            ZkSessionPool[] all = pools.toArray(new ZkSessionPool[0]);
            await("2/2/2")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> allConnected(all)
                            && spread(ensemble, all).values().stream().allMatch(v -> v == 2));
            ServerProcess leader = ensemble.leader();
            List<ZkSessionPool> stuck = pools.stream()
                    .filter(p -> leader.address().equals(sessions(p).get(0).server()))
                    .toList();
            List<ZkSessionPool> live =
                    pools.stream().filter(p -> !stuck.contains(p)).toList();
            Map<ZkSessionPool, Long> idsStuck = new java.util.HashMap<>();
            stuck.forEach(p -> idsStuck.put(p, sessions(p).get(0).sessionId()));
            print("FIGURES freed " + tag + ": spread " + spread(ensemble, all) + ", leader " + leader.address());
            try (LogCapture log = LogCapture.atDebug()) {
                long t0 = System.nanoTime();
                if (freeze) {
                    leader.sigstop();
                } else {
                    leader.kill9();
                }
                if (!freeze) {
                    // kill -9: refused at once, the stuck sessions warn within a second or two. SIGSTOP: the
                    // sessions only notice after their read timeout (2/3 of 10 s), so the slots are freed at once.
                    await("two budget WARNs")
                            .atMost(Duration.ofSeconds(8))
                            .until(() -> log.count(l -> l.contains("WARN") && l.contains("connection budget of")) >= 2);
                }
                long warnedMs = (System.nanoTime() - t0) / 1_000_000;
                ZkSessionPool c1 = live.get(0);
                ZkSessionPool c2 = live.get(live.size() - 1);
                String freedOn = sessions(c1).get(0).server() + ", "
                        + sessions(c2).get(0).server();
                leases.remove(c1).close();
                leases.remove(c2).close();
                c1.close();
                c2.close();
                List<ZkSessionPool> rest = new ArrayList<>(pools);
                rest.remove(c1);
                rest.remove(c2);
                ZkSessionPool[] restA = rest.toArray(new ZkSessionPool[0]);
                try {
                    await("the stuck sessions on the freed slots")
                            .atMost(Duration.ofSeconds(freeze ? 20 : 9))
                            .until(() -> stuck.stream().allMatch(p -> {
                                SessionStatus st = sessions(p).get(0);
                                return st.connected() && !leader.address().equals(st.server());
                            }));
                } finally {
                    print("FIGURES freed " + tag + ": WARNs after " + warnedMs + " ms; freed slots on " + freedOn
                            + "; " + (System.nanoTime() - t0) / 1_000_000 + " ms after the fault: spread "
                            + spread(ensemble, restA) + ", stuck ids " + idsStuck.values() + " now "
                            + stuck.stream().map(p -> sessions(p).get(0)).toList() + ", lost " + lost(events)
                            + ", over budget " + sampler.overBudget + ", budget WARNs "
                            + log.count(l -> l.contains("WARN") && l.contains("connection budget of")));
                }
                for (ZkSessionPool p : stuck) {
                    assertThat(sessions(p).get(0).sessionId()).as("id of " + p).isEqualTo(idsStuck.get(p));
                }
                assertThat(lost(events)).as("sessions lost").isEmpty();
                ZkLease reader = leases.get(stuck.get(0));
                ephemeralsOwned(reader, new ArrayList<>(leases.values()), dir);
                assertThat(sampler.overBudget)
                        .as("cons samples above the budget " + budget)
                        .isEmpty();
                for (ZkSessionPool p : rest) {
                    statsMatchCons(ensemble, p);
                }
            }
        } finally {
            leases.values().forEach(ZkLease::close);
            pools.forEach(ZkSessionPool::close);
        }
    }

    /**
     * Five separate-process servers, three pools of three sessions, budget 3: with two servers down every slot of the
     * other three is taken. kill -9 of the leader and a follower at once; during that failover one pool is closed and
     * a new one of three sessions built (its slots are the closed pool's). Ids of the two kept pools unchanged, the
     * new pool connected, {@code cons} never above 3, stats match {@code cons} after both servers are back.
     */
    @Test
    void fiveServersLeaderAndFollowerKilledAtOnceWhileAPoolIsClosedAndAnotherBuilt() throws Exception {
        int budget = 3;
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(budget)
                .build();
        try (ProcessEnsemble five = ProcessEnsemble.builder().size(5).start()) {
            SimpleMeterRegistry reg = new SimpleMeterRegistry();
            SimpleMeterRegistry regB = new SimpleMeterRegistry();
            Queue<String> events = new ConcurrentLinkedQueue<>();
            ZkSessionPool c = pool(five, "r21d-5c", 3, Duration.ofSeconds(6), hosts, new SimpleMeterRegistry(), events);
            ZkSessionPool d = null;
            try (ZkSessionPool a = pool(five, "r21d-5a", 3, Duration.ofSeconds(6), hosts, reg, events);
                    ZkSessionPool b = pool(five, "r21d-5b", 3, Duration.ofSeconds(6), hosts, regB, events);
                    Sampler sampler = new Sampler(five, budget)) {
                List<ZkLease> la = leasesWithEphemerals(a, 3, "/r21d/five/a");
                List<ZkLease> lb = leasesWithEphemerals(b, 3, "/r21d/five/b");
                List<ZkLease> lc = leasesWithEphemerals(c, 3, "/r21d/five/c");
                Map<Integer, Long> idsA = ids(a);
                Map<Integer, Long> idsB = ids(b);
                ServerProcess leader = five.leader();
                Set<ServerProcess> followers = new HashSet<>(five.servers());
                followers.remove(leader);
                ServerProcess follower = busiest(five, followers, a, b, c);
                print("FIGURES five: spread " + spread(five, a, b, c) + ", killing the leader " + leader.address()
                        + " and the follower " + follower.address());
                leader.kill9();
                follower.kill9();
                lc.forEach(ZkLease::close);
                c.close();
                d = pool(five, "r21d-5d", 3, Duration.ofSeconds(6), hosts, new SimpleMeterRegistry(), events);
                ZkSessionPool dd = d;
                await("A, B and the new D all on the three live servers")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> {
                            dd.stats(); // D's sessions start on demand: lease once below
                            return allConnected(a, b)
                                    && spread(five, a, b).get(leader.address()) == 0
                                    && spread(five, a, b).get(follower.address()) == 0;
                        });
                List<ZkLease> ld = leasesWithEphemerals(d, 3, "/r21d/five/d");
                print("FIGURES five: after the double kill, spread " + spread(five, a, b, d) + ", ids A " + ids(a)
                        + " (were " + idsA + "), B " + ids(b) + " (were " + idsB + ")");
                assertThat(ids(a)).as("ids A after the double kill").isEqualTo(idsA);
                assertThat(ids(b)).as("ids B after the double kill").isEqualTo(idsB);
                Map<Integer, Long> idsD = ids(d);
                leader.restart();
                follower.restart();
                leader.awaitServing(Duration.ofSeconds(60));
                follower.awaitServing(Duration.ofSeconds(60));
                try (ZkLease w = a.lease()) {
                    w.setData("/", V, -1);
                }
                await("all connected with both servers back")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> allConnected(a, b, dd));
                List<String> history = new ArrayList<>();
                try (LogCapture log = LogCapture.atDebug()) {
                    try {
                        double[] settled = {-1};
                        await("no moves for 10 looks")
                                .during(INTERVAL.multipliedBy(10))
                                .atMost(INTERVAL.multipliedBy(10).plusSeconds(40))
                                .pollInterval(Duration.ofMillis(200))
                                .until(() -> {
                                    double m = moves(reg) + moves(regB);
                                    String now = "moves A " + moves(reg) + " B " + moves(regB) + " spread "
                                            + spread(five, a, b, dd);
                                    if (history.isEmpty()
                                            || !history.get(history.size() - 1).equals(now)) {
                                        history.add(now);
                                    }
                                    boolean same = m == settled[0];
                                    settled[0] = m;
                                    return same;
                                });
                    } finally {
                        List<String> moveLines = log.lines().stream()
                                .filter(l -> l.contains("rebalancing: moving"))
                                .map(l -> l.length() > 300 ? l.substring(0, 300) : l)
                                .toList();
                        print("FIGURES five: history " + history.size() + " changes, first "
                                + history.subList(0, Math.min(8, history.size())) + ", last "
                                + history.get(history.size() - 1) + "\nFIGURES five: " + moveLines.size()
                                + " move lines, first 12:\n"
                                + String.join("\n", moveLines.subList(0, Math.min(12, moveLines.size()))));
                    }
                }
                print("FIGURES five: settled, spread A " + spread(five, a) + ", B " + spread(five, b) + ", D "
                        + spread(five, d));
                print("FIGURES five: end spread " + spread(five, a, b, d) + ", max cons " + sampler.max
                        + ", samples " + sampler.samples + ", over budget " + sampler.overBudget + ", lost "
                        + lost(events));
                assertThat(ids(a)).as("ids A at the end").isEqualTo(idsA);
                assertThat(ids(b)).as("ids B at the end").isEqualTo(idsB);
                assertThat(ids(d)).as("ids D at the end").isEqualTo(idsD);
                assertThat(lost(events)).as("sessions lost").isEmpty();
                ephemeralsOwned(la.get(0), la, "/r21d/five/a");
                ephemeralsOwned(la.get(0), lb, "/r21d/five/b");
                ephemeralsOwned(la.get(0), ld, "/r21d/five/d");
                statsMatchCons(five, a);
                statsMatchCons(five, b);
                statsMatchCons(five, d);
                assertThat(sampler.overBudget)
                        .as("cons samples above the budget " + budget)
                        .isEmpty();
                la.forEach(ZkLease::close);
                lb.forEach(ZkLease::close);
                ld.forEach(ZkLease::close);
            } finally {
                c.close();
                if (d != null) {
                    d.close();
                }
            }
        }
    }
}
