package dev.zksdk.hosts;

import static dev.zksdk.hosts.Review21dAdversarialIT.V;
import static dev.zksdk.hosts.Review21dAdversarialIT.allConnected;
import static dev.zksdk.hosts.Review21dAdversarialIT.ids;
import static dev.zksdk.hosts.Review21dAdversarialIT.leasesWithEphemerals;
import static dev.zksdk.hosts.Review21dAdversarialIT.moves;
import static dev.zksdk.hosts.Review21dAdversarialIT.print;
import static dev.zksdk.hosts.Review21dAdversarialIT.sessions;
import static dev.zksdk.hosts.Review21dAdversarialIT.spread;
import static dev.zksdk.hosts.Review21dAdversarialIT.statsMatchCons;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.SessionEvent;
import dev.zksdk.SessionListener;
import dev.zksdk.SessionState;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.testing.LogCapture;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ServerProcess;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 21 item 3 after 8e068e6/9abcf8b: rebalancing from the process-wide counts, with one turn for moves
 * in the whole JVM. Real separate-process servers (kill -9, SIGSTOP); every case checks the ids before and after, the
 * ephemerals' owners through a plain ZooKeeper handle, the pools' stats against each server's {@code cons}, and the
 * move log lines for moves reversed (a move Y-&gt;X after a move X-&gt;Y). Figures on lines starting {@code FIGURES}.
 */
class Review21eAdversarialIT {

    static final Duration INTERVAL = Duration.ofMillis(300);
    static final Pattern MOVE = Pattern.compile("moving session 0x([0-9a-f]+) from (\\S+) \\(.*\\) to (\\S+) \\(");

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
        Review21dAdversarialIT.allUp(ensemble);
        print("FIGURES budget before the case: " + budgetOf(ensemble));
    }

    /** The process-wide budget's counts for the servers of {@code e}. */
    static Map<String, Integer> budgetOf(ProcessEnsemble e) {
        Map<String, Integer> out = new TreeMap<>();
        for (ServerProcess s : e.servers()) {
            out.put(s.address(), ConnectionBudget.shared().count(s.address()));
        }
        return out;
    }

    /** Every pool of the case closed: the process-wide budget must hold no slot on the ensemble's servers. */
    @AfterEach
    void noSlotLeft() {
        Map<String, Integer> last = new TreeMap<>();
        try {
            await("the process's budget empty after every pool closed")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> {
                        last.clear();
                        last.putAll(budgetOf(ensemble));
                        return last.values().stream().allMatch(v -> v == 0);
                    });
        } finally {
            print("FIGURES budget after the case: " + last);
        }
    }

    static ZkSessionPool pool(
            ProcessEnsemble e,
            String name,
            int n,
            Duration timeout,
            HostsConfig h,
            SimpleMeterRegistry reg,
            Queue<String> events) {
        return Review21dAdversarialIT.pool(e, name, n, timeout, h, reg, events);
    }

    /** Moves named by the INFO lines: {session, from, to}. */
    static List<String[]> moveLines(LogCapture log) {
        List<String[]> out = new ArrayList<>();
        for (String l : log.lines()) {
            Matcher m = MOVE.matcher(l);
            if (m.find()) {
                out.add(new String[] {m.group(1), m.group(2), m.group(3)});
            }
        }
        return out;
    }

    /** Moves Y-&gt;X that follow a move X-&gt;Y (any session): a move reversed. */
    static List<String> reversals(List<String[]> moves) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < moves.size(); i++) {
            for (int j = 0; j < i; j++) {
                if (moves.get(i)[1].equals(moves.get(j)[2]) && moves.get(i)[2].equals(moves.get(j)[1])) {
                    out.add("#" + j + " 0x" + moves.get(j)[0] + " " + moves.get(j)[1] + "->" + moves.get(j)[2]
                            + " then #" + i + " 0x" + moves.get(i)[0] + " " + moves.get(i)[1] + "->" + moves.get(i)[2]);
                    break;
                }
            }
        }
        return out;
    }

    static String fmt(List<String[]> moves) {
        StringBuilder b = new StringBuilder();
        for (String[] m : moves) {
            b.append(" 0x")
                    .append(m[0])
                    .append(' ')
                    .append(m[1])
                    .append("->")
                    .append(m[2])
                    .append(';');
        }
        return b.toString();
    }

    /** Max minus min over the servers of the process's connected sessions per unit of weight. */
    static double skew(Map<String, Integer> spread, Map<String, Integer> weights) {
        double max = -1;
        double min = Double.MAX_VALUE;
        for (Map.Entry<String, Integer> e : spread.entrySet()) {
            double v = (double) e.getValue() / weights.getOrDefault(e.getKey(), 1);
            max = Math.max(max, v);
            min = Math.min(min, v);
        }
        return max - min;
    }

    static List<String> lost(Queue<String> events) {
        return events.stream()
                .filter(s -> s.contains("->" + SessionState.LOST.name()))
                .toList();
    }

    /** Every lease's ephemeral exists, owned by its session, as a plain ZooKeeper handle sees it. */
    static void ownersByRaw(ProcessEnsemble e, Map<ZkLease, String> ephemerals) {
        try (RawZooKeeper raw = RawZooKeeper.connect(e.connectString(), Duration.ofSeconds(10))) {
            await("ephemerals owned by their sessions (raw handle)")
                    .atMost(Duration.ofSeconds(30))
                    .ignoreExceptions()
                    .untilAsserted(() -> {
                        for (Map.Entry<ZkLease, String> en : ephemerals.entrySet()) {
                            Stat st = raw.zk().exists(en.getValue(), false);
                            assertThat(st).as(en.getValue()).isNotNull();
                            assertThat(st.getEphemeralOwner())
                                    .as("owner of " + en.getValue())
                                    .isEqualTo(en.getKey().sessionId());
                        }
                    });
        }
    }

    static Map<ZkLease, String> ephemerals(List<ZkLease> leases, String dir) {
        Map<ZkLease, String> out = new LinkedHashMap<>();
        for (ZkLease l : leases) {
            out.put(l, dir + "/e-" + Long.toHexString(l.sessionId()));
        }
        return out;
    }

    static double sum(List<SimpleMeterRegistry> regs) {
        return regs.stream().mapToDouble(Review21dAdversarialIT::moves).sum();
    }

    static ServerProcess busiest(ProcessEnsemble e, ZkSessionPool... pools) {
        Map<String, Integer> sp = spread(e, pools);
        return e.servers().stream()
                .max((x, y) -> Integer.compare(sp.get(x.address()), sp.get(y.address())))
                .orElseThrow();
    }

    /** Awaits max-min &lt;= 1 per unit of weight, then ten looks without a move; returns ms to even. */
    static long awaitEvenAndSettled(
            String tag,
            ProcessEnsemble e,
            Map<String, Integer> weights,
            List<SimpleMeterRegistry> regs,
            Duration bound,
            ZkSessionPool... pools) {
        long t0 = System.nanoTime();
        Map<String, Integer> last = new TreeMap<>();
        try {
            await(tag + ": the process's spread at most 1 apart per unit of weight")
                    .atMost(bound)
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        Map<String, Integer> sp = spread(e, pools);
                        last.clear();
                        last.putAll(sp);
                        return allConnected(pools) && skew(sp, weights) <= 1.0 + 1e-9;
                    });
        } finally {
            print("FIGURES " + tag + ": " + (System.nanoTime() - t0) / 1_000_000 + " ms to even, spread " + last
                    + ", moves " + sum(regs));
        }
        long evenMs = (System.nanoTime() - t0) / 1_000_000;
        double[] settled = {-1};
        await(tag + ": no moves for 10 looks, the spread even")
                .during(INTERVAL.multipliedBy(10))
                .atMost(INTERVAL.multipliedBy(10).plusSeconds(30))
                .until(() -> {
                    double m = sum(regs);
                    boolean same = m == settled[0];
                    settled[0] = m;
                    return same && allConnected(pools) && skew(spread(e, pools), weights) <= 1.0 + 1e-9;
                });
        return evenMs;
    }

    /**
     * Seven pools of 1, 1, 1, 2, 2 and 5 sessions with rebalancing on and one pool of 2 with it off (14 sessions,
     * budget 8). kill -9 of the busiest server and restart: the process (the off pool counted) must end at most 1
     * apart, the off pool never moved, no move reversed, every id kept, every ephemeral owned, no session lost.
     */
    @Test
    void mixedPoolSizesAndAnOffPoolEndEvenWithoutReversedMoves() throws Exception {
        HostsConfig on = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(8)
                .build();
        HostsConfig off =
                HostsConfig.builder().noRebalance().perServerConnectionBudget(8).build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        int[] sizes = {1, 1, 1, 2, 2, 5};
        List<ZkSessionPool> pools = new ArrayList<>();
        List<SimpleMeterRegistry> regs = new ArrayList<>();
        Map<ZkLease, String> eph = new LinkedHashMap<>();
        List<ZkLease> leases = new ArrayList<>();
        SimpleMeterRegistry offReg = new SimpleMeterRegistry();
        try (LogCapture log = LogCapture.atDebug()) {
            for (int i = 0; i < sizes.length; i++) {
                SimpleMeterRegistry reg = new SimpleMeterRegistry();
                regs.add(reg);
                ZkSessionPool p = pool(ensemble, "r21e-m" + i, sizes[i], Duration.ofSeconds(8), on, reg, events);
                pools.add(p);
                List<ZkLease> l = leasesWithEphemerals(p, sizes[i], "/r21e/mixed/" + i);
                leases.addAll(l);
                eph.putAll(ephemerals(l, "/r21e/mixed/" + i));
            }
            ZkSessionPool offPool = pool(ensemble, "r21e-off", 2, Duration.ofSeconds(8), off, offReg, events);
            pools.add(offPool);
            List<ZkLease> lo = leasesWithEphemerals(offPool, 2, "/r21e/mixed/off");
            leases.addAll(lo);
            eph.putAll(ephemerals(lo, "/r21e/mixed/off"));
            ZkSessionPool[] all = pools.toArray(new ZkSessionPool[0]);
            Map<ZkSessionPool, Map<Integer, Long>> idsBefore = new HashMap<>();
            pools.forEach(p -> idsBefore.put(p, ids(p)));
            // the off pool's sessions: kill a server holding one so that it lands skewed
            ServerProcess victim = busiest(ensemble, all);
            print("FIGURES mixed: spread " + spread(ensemble, all) + ", off pool " + spread(ensemble, offPool)
                    + ", killing " + victim.address());
            victim.kill9();
            await("all on the live servers")
                    .atMost(Duration.ofSeconds(40))
                    .until(() -> allConnected(all) && spread(ensemble, all).get(victim.address()) == 0);
            print("FIGURES mixed: after the kill " + spread(ensemble, all) + ", off pool " + spread(ensemble, offPool));
            int linesBefore = moveLines(log).size();
            victim.restart();
            victim.awaitServing(Duration.ofSeconds(60));
            try (ZkLease w = pools.get(0).lease()) {
                w.setData("/", V, -1);
            }
            long evenMs;
            try {
                evenMs = awaitEvenAndSettled("mixed", ensemble, Map.of(), regs, Duration.ofSeconds(45), all);
            } finally {
                List<String[]> mv = moveLines(log);
                print("FIGURES mixed: end spread " + spread(ensemble, all) + ", off pool " + spread(ensemble, offPool)
                        + ", per pool "
                        + pools.stream().map(p -> spread(ensemble, p).values()).toList()
                        + ", moves " + mv.size() + ":" + fmt(mv) + ", reversed " + reversals(mv) + ", lost "
                        + lost(events));
            }
            List<String[]> mv =
                    moveLines(log).subList(linesBefore, moveLines(log).size());
            assertThat(moves(offReg))
                    .as("moves of the pool with rebalancing off")
                    .isZero();
            assertThat(reversals(mv)).as("moves reversed").isEmpty();
            assertThat(lost(events)).as("sessions lost").isEmpty();
            for (ZkSessionPool p : pools) {
                assertThat(ids(p)).as("ids of " + p).isEqualTo(idsBefore.get(p));
                statsMatchCons(ensemble, p);
            }
            ownersByRaw(ensemble, eph);
            print("FIGURES mixed: even " + evenMs + " ms after the restart and a write");
        } finally {
            leases.forEach(ZkLease::close);
            pools.forEach(ZkSessionPool::close);
        }
    }

    /**
     * Two ensembles in one JVM, each with six one-session pools. A follower of A and B's leader are killed (kill -9);
     * A's is restarted. On ensemble A (session timeout 30 s), the moment a move to A's restarted server is counted,
     * that server is frozen (SIGSTOP): the moved session cannot connect there; only then is B's restarted. The single JVM-wide turn is kept by that move until
     * its session connects elsewhere, closes or 30 s pass; B (session timeout 6 s) needs two moves. Measured: how long
     * after the stuck move the next move of the JVM came and when B was even; B must not wait A's session timeout.
     * After SIGCONT, A evens out too; no session lost, ids kept, ephemerals owned on both.
     */
    @Test
    void aMoveStuckOnOneEnsembleDoesNotStarveAnotherEnsemble() throws Exception {
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(6)
                .build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        List<ZkSessionPool> pa = new ArrayList<>();
        List<ZkSessionPool> pb = new ArrayList<>();
        List<SimpleMeterRegistry> ra = new ArrayList<>();
        List<SimpleMeterRegistry> rb = new ArrayList<>();
        List<ZkLease> la = new ArrayList<>();
        List<ZkLease> lb = new ArrayList<>();
        try (ProcessEnsemble b = ProcessEnsemble.builder().size(3).start();
                LogCapture log = LogCapture.atDebug()) {
            for (int i = 0; i < 6; i++) {
                SimpleMeterRegistry r = new SimpleMeterRegistry();
                ra.add(r);
                ZkSessionPool p = pool(ensemble, "r21e-A" + i, 1, Duration.ofSeconds(30), hosts, r, events);
                pa.add(p);
                la.addAll(leasesWithEphemerals(p, 1, "/r21e/two/a"));
                SimpleMeterRegistry r2 = new SimpleMeterRegistry();
                rb.add(r2);
                ZkSessionPool q = pool(b, "r21e-B" + i, 1, Duration.ofSeconds(6), hosts, r2, events);
                pb.add(q);
                lb.addAll(leasesWithEphemerals(q, 1, "/r21e/two/b"));
            }
            ZkSessionPool[] allA = pa.toArray(new ZkSessionPool[0]);
            ZkSessionPool[] allB = pb.toArray(new ZkSessionPool[0]);
            Map<ZkSessionPool, Map<Integer, Long>> idsBefore = new HashMap<>();
            pa.forEach(p -> idsBefore.put(p, ids(p)));
            pb.forEach(p -> idsBefore.put(p, ids(p)));
            ServerProcess leaderA = ensemble.leader();
            ServerProcess leaderB = b.leader();
            ServerProcess va = ensemble.servers().stream()
                    .filter(s -> s != leaderA)
                    .max((x, y) -> Integer.compare(
                            spread(ensemble, allA).get(x.address()),
                            spread(ensemble, allA).get(y.address())))
                    .orElseThrow();
            // B's leader, killed now and restarted only once A's move froze.
            ServerProcess vb = leaderB;
            print("FIGURES two: A " + spread(ensemble, allA) + " killing " + va.address() + "; B " + spread(b, allB)
                    + " killing its leader " + vb.address());
            va.kill9();
            vb.kill9();
            await("A and B on their live servers")
                    .atMost(Duration.ofSeconds(40))
                    .until(() -> allConnected(allA)
                            && allConnected(allB)
                            && spread(ensemble, allA).get(va.address()) == 0
                            && spread(b, allB).get(vb.address()) == 0);
            double movesA0 = sum(ra);
            double movesB0 = sum(rb);
            int lines0 = moveLines(log).size();
            va.restart();
            va.awaitServing(Duration.ofSeconds(60));
            try (ZkLease w = pa.get(0).lease()) {
                w.setData("/", V, -1);
            }
            await("a move on A")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(2))
                    .until(() -> sum(ra) > movesA0);
            va.sigstop();
            long stuck = System.nanoTime();
            // B's killed leader is restarted only now, so that B certainly needs moves while A's move is frozen (with
            // it restarted earlier, B was sometimes even before the freeze: CI, 2026-12-07, skew 0).
            double skewAtStuck = skew(spread(b, allB), Map.of());
            double movesAtStuck = sum(ra) + sum(rb);
            double movesBAtStuck = sum(rb);
            String bAtStuck = spread(b, allB).toString();
            String aAtStuck = spread(ensemble, allA).toString();
            vb.restart();
            vb.awaitServing(Duration.ofSeconds(60));
            try (ZkLease w = pb.get(0).lease()) {
                w.setData("/", V, -1);
            }
            long wroteB = (System.nanoTime() - stuck) / 1_000_000;
            AtomicLong nextMoveMs = new AtomicLong(-1);
            AtomicLong firstBMoveMs = new AtomicLong(-1);
            AtomicLong movedAConnectedMs = new AtomicLong(-1);
            AtomicLong evenBMs = new AtomicLong(-1);
            try {
                await("B even and A's moved session connected again")
                        .atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(20))
                        .until(() -> {
                            long ms = (System.nanoTime() - stuck) / 1_000_000;
                            if (nextMoveMs.get() < 0 && sum(ra) + sum(rb) > movesAtStuck) {
                                nextMoveMs.set(ms);
                            }
                            if (firstBMoveMs.get() < 0 && sum(rb) > movesBAtStuck) {
                                firstBMoveMs.set(ms);
                            }
                            if (movedAConnectedMs.get() < 0 && allConnected(allA)) {
                                movedAConnectedMs.set(ms);
                            }
                            Map<String, Integer> sp = spread(b, allB);
                            if (evenBMs.get() < 0 && allConnected(allB) && skew(sp, Map.of()) <= 1) {
                                evenBMs.set(ms);
                            }
                            return evenBMs.get() >= 0 && movedAConnectedMs.get() >= 0;
                        });
            } finally {
                print("FIGURES two: A's move frozen at its target " + va.address() + " (A then " + aAtStuck
                        + "); B then "
                        + bAtStuck + " (" + (movesBAtStuck - movesB0)
                        + " B moves before), B's leader restarted and B written " + wroteB
                        + " ms after the freeze; next move in the JVM after " + nextMoveMs + " ms, first B move after "
                        + firstBMoveMs + " ms; A's sessions all connected again after " + movedAConnectedMs
                        + " ms; B even after " + evenBMs + " ms: " + spread(b, allB) + "; A " + spread(ensemble, allA)
                        + "; moves A " + (sum(ra) - movesA0) + " B " + (sum(rb) - movesB0) + "; lost " + lost(events));
            }
            assertThat(skewAtStuck)
                    .as("B's skew when A's move froze (B must still need moves)")
                    .isGreaterThanOrEqualTo(2.0);
            assertThat(evenBMs.get())
                    .as("ms until B even after A's move froze (A's session timeout 30 s)")
                    .isLessThan(15_000);
            va.sigcont();
            try {
                awaitEvenAndSettled("two/A after SIGCONT", ensemble, Map.of(), ra, Duration.ofSeconds(60), allA);
            } finally {
                List<String[]> mv = moveLines(log);
                print("FIGURES two: moves " + mv.size() + " (" + lines0 + " before the kills):" + fmt(mv)
                        + " reversed after the kills " + reversals(mv.subList(lines0, mv.size())));
            }
            assertThat(reversals(moveLines(log).subList(lines0, moveLines(log).size())))
                    .as("moves reversed after the kills")
                    .isEmpty();
            assertThat(lost(events)).as("sessions lost").isEmpty();
            for (ZkSessionPool p : idsBefore.keySet()) {
                assertThat(ids(p)).as("ids of " + p).isEqualTo(idsBefore.get(p));
            }
            ownersByRaw(ensemble, ephemerals(la, "/r21e/two/a"));
            ownersByRaw(b, ephemerals(lb, "/r21e/two/b"));
            for (ZkSessionPool p : pa) {
                statsMatchCons(ensemble, p);
            }
            for (ZkSessionPool p : pb) {
                statsMatchCons(b, p);
            }
        } finally {
            la.forEach(ZkLease::close);
            lb.forEach(ZkLease::close);
            pa.forEach(ZkSessionPool::close);
            pb.forEach(ZkSessionPool::close);
        }
    }

    /**
     * Six one-session pools, a failover (kill -9, restart): the moment the first move is counted, the pool that made it
     * is closed (its move under way, the JVM's turn held by it) and two new one-session pools are built. The closed
     * session must leave every server's {@code cons} and its ephemeral must go (within 10 s when its close was answered,
     * by its expiry when the close timeout ran out first); the turn must not stay with the closed
     * move: the seven pools end at most 1 apart, the new pools connected, the others' ids kept, nothing lost.
     */
    @Test
    void closingThePoolWhoseMoveIsUnderWayAndBuildingNewPools() throws Exception {
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(6)
                .build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        List<ZkSessionPool> pools = new ArrayList<>();
        List<SimpleMeterRegistry> regs = new ArrayList<>();
        Map<ZkSessionPool, ZkLease> leases = new LinkedHashMap<>();
        try (LogCapture log = LogCapture.atDebug()) {
            for (int i = 0; i < 6; i++) {
                SimpleMeterRegistry r = new SimpleMeterRegistry();
                regs.add(r);
                ZkSessionPool p = pool(ensemble, "r21e-c" + i, 1, Duration.ofSeconds(20), hosts, r, events);
                pools.add(p);
                leases.put(p, leasesWithEphemerals(p, 1, "/r21e/close").get(0));
            }
            ZkSessionPool[] all = pools.toArray(new ZkSessionPool[0]);
            ServerProcess victim = busiest(ensemble, all);
            victim.kill9();
            await("all on the live servers")
                    .atMost(Duration.ofSeconds(40))
                    .until(() -> allConnected(all) && spread(ensemble, all).get(victim.address()) == 0);
            double[] before =
                    regs.stream().mapToDouble(Review21dAdversarialIT::moves).toArray();
            int lines0 = moveLines(log).size();
            victim.restart();
            victim.awaitServing(Duration.ofSeconds(60));
            try (ZkLease w = pools.get(0).lease()) {
                w.setData("/", V, -1);
            }
            int[] mover = {-1};
            await("a move")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(2))
                    .until(() -> {
                        for (int i = 0; i < regs.size(); i++) {
                            if (moves(regs.get(i)) > before[i]) {
                                mover[0] = i;
                                return true;
                            }
                        }
                        return false;
                    });
            ZkSessionPool closed = pools.get(mover[0]);
            SessionStatus movedStatus = sessions(closed).get(0);
            long closedId = movedStatus.sessionId();
            long t0 = System.nanoTime();
            leases.remove(closed).close();
            closed.close();
            long closeMs = (System.nanoTime() - t0) / 1_000_000;
            pools.remove(closed);
            regs.remove(mover[0]);
            Map<ZkSessionPool, Map<Integer, Long>> idsBefore = new HashMap<>();
            pools.forEach(p -> idsBefore.put(p, ids(p)));
            List<ZkSessionPool> fresh = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                SimpleMeterRegistry r = new SimpleMeterRegistry();
                regs.add(r);
                ZkSessionPool p = pool(ensemble, "r21e-new" + i, 1, Duration.ofSeconds(20), hosts, r, events);
                fresh.add(p);
                leases.put(p, leasesWithEphemerals(p, 1, "/r21e/close").get(0));
            }
            pools.addAll(fresh);
            print("FIGURES close: closed pool " + mover[0] + " (session " + movedStatus + ") in " + closeMs
                    + " ms with its move under way; new pools built, "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms after the close, spread "
                    + spread(ensemble, pools.toArray(new ZkSessionPool[0])));
            ZkSessionPool[] rest = pools.toArray(new ZkSessionPool[0]);
            // The close reaches the server once the move has connected; when the close timeout ran out first (a slow
            // reconnect on a loaded machine), the connection is dropped and the session goes at its expiry, as
            // ZkSessionPool.close documents.
            String closedLabel = "r21e-c" + mover[0] + "-e";
            boolean closeGivenUp = log.lines().stream()
                    .anyMatch(l -> l.contains(closedLabel) && l.contains("did not answer the session's close"));
            print("FIGURES close: the close "
                    + (closeGivenUp ? "ran out its timeout; the session goes at its expiry" : "was answered"));
            try (RawZooKeeper raw = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(10))) {
                await("the closed session gone from cons and its ephemeral deleted")
                        .atMost(closeGivenUp ? Duration.ofSeconds(20 + 10) : Duration.ofSeconds(10))
                        .ignoreExceptions()
                        .until(() -> Review21dAdversarialIT.cons(ensemble).values().stream()
                                        .noneMatch(s -> s.contains(Long.toHexString(closedId)))
                                && raw.zk().exists("/r21e/close/e-" + Long.toHexString(closedId), false) == null);
            }
            long evenMs;
            try {
                evenMs = awaitEvenAndSettled("close", ensemble, Map.of(), regs, Duration.ofSeconds(40), rest);
            } finally {
                List<String[]> mv = moveLines(log);
                print("FIGURES close: " + (System.nanoTime() - t0) / 1_000_000 + " ms after the close, spread "
                        + spread(ensemble, rest) + ", moves " + mv.size() + " (" + lines0 + " before the restart):"
                        + fmt(mv) + " reversed after the restart " + reversals(mv.subList(lines0, mv.size()))
                        + ", lost " + lost(events));
            }
            print("FIGURES close: even " + evenMs + " ms after the settle wait began");
            List<String[]> after = moveLines(log);
            assertThat(reversals(after.subList(lines0, after.size())))
                    .as("moves reversed")
                    .isEmpty();
            assertThat(lost(events)).as("sessions lost").isEmpty();
            for (ZkSessionPool p : idsBefore.keySet()) {
                assertThat(ids(p)).as("ids of " + p).isEqualTo(idsBefore.get(p));
            }
            for (ZkSessionPool p : rest) {
                statsMatchCons(ensemble, p);
            }
            ownersByRaw(ensemble, ephemerals(new ArrayList<>(leases.values()), "/r21e/close"));
        } finally {
            leases.values().forEach(ZkLease::close);
            pools.forEach(ZkSessionPool::close);
        }
    }

    /**
     * Weights 2:1:1 (the heavy one a follower), eight one-session pools (4/2/2 is even per unit of weight). kill -9 of
     * the heavy server and restart: the sessions go back to it (0/4/4 to 4/2/2), none reversed, nothing lost.
     */
    @Test
    void weightsTwoOneOneEndProportionalAfterTheHeavyServerFails() throws Exception {
        weighted(true);
    }

    /**
     * As above, but kill -9 of a light (weight 1) server and restart: its sessions land on the two others, the heavy
     * one among them, and must come back so that the spread is proportional again. A one-session pool on the heavy
     * server has, on its own, 0.5 per unit of weight there; moving to a light server makes that 1: "its own spread
     * grows", so no session ever leaves the heavy server.
     */
    @Test
    void weightsTwoOneOneEndProportionalAfterALightServerFails() throws Exception {
        weighted(false);
    }

    void weighted(boolean killHeavy) throws Exception {
        ServerProcess leader = ensemble.leader();
        ServerProcess heavy =
                ensemble.servers().stream().filter(s -> s != leader).findFirst().orElseThrow();
        Map<String, Integer> weights = new HashMap<>();
        ensemble.servers().forEach(s -> weights.put(s.address(), s == heavy ? 2 : 1));
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(8)
                .weight(heavy.address(), 2)
                .build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        List<ZkSessionPool> pools = new ArrayList<>();
        List<SimpleMeterRegistry> regs = new ArrayList<>();
        List<ZkLease> leases = new ArrayList<>();
        try (LogCapture log = LogCapture.atDebug()) {
            for (int i = 0; i < 8; i++) {
                SimpleMeterRegistry r = new SimpleMeterRegistry();
                regs.add(r);
                ZkSessionPool p = pool(ensemble, "r21e-w" + i, 1, Duration.ofSeconds(8), hosts, r, events);
                pools.add(p);
                leases.addAll(leasesWithEphemerals(p, 1, "/r21e/w"));
            }
            ZkSessionPool[] all = pools.toArray(new ZkSessionPool[0]);
            Map<ZkSessionPool, Map<Integer, Long>> idsBefore = new HashMap<>();
            pools.forEach(p -> idsBefore.put(p, ids(p)));
            await("all connected").atMost(Duration.ofSeconds(30)).until(() -> allConnected(all));
            Map<String, Integer> initial = spread(ensemble, all);
            ServerProcess victim = killHeavy
                    ? heavy
                    : ensemble.servers().stream()
                            .filter(s -> s != heavy)
                            .max((x, y) -> Integer.compare(initial.get(x.address()), initial.get(y.address())))
                            .orElseThrow();
            print("FIGURES weights: heavy " + heavy.address() + ", initial spread " + initial + ", killing "
                    + victim.address());
            victim.kill9();
            await("all on the live servers")
                    .atMost(Duration.ofSeconds(40))
                    .until(() -> allConnected(all) && spread(ensemble, all).get(victim.address()) == 0);
            print("FIGURES weights: after the kill " + spread(ensemble, all));
            double m0 = sum(regs);
            int lines0 = moveLines(log).size();
            victim.restart();
            victim.awaitServing(Duration.ofSeconds(60));
            try (ZkLease w = pools.get(0).lease()) {
                w.setData("/", V, -1);
            }
            try {
                awaitEvenAndSettled("weights", ensemble, weights, regs, Duration.ofSeconds(40), all);
            } finally {
                List<String[]> mv = moveLines(log);
                print("FIGURES weights: end spread " + spread(ensemble, all) + ", moves since the restart "
                        + (sum(regs) - m0) + ":" + fmt(mv.subList(lines0, mv.size())) + " reversed "
                        + reversals(mv.subList(lines0, mv.size())) + ", lost " + lost(events));
            }
            assertThat(spread(ensemble, all).get(heavy.address()))
                    .as("sessions on the weight-2 server")
                    .isEqualTo(4);
            List<String[]> mv = moveLines(log);
            assertThat(reversals(mv.subList(lines0, mv.size())))
                    .as("moves reversed")
                    .isEmpty();
            if (killHeavy) {
                assertThat(sum(regs) - m0)
                        .as("moves after the restart (4 needed)")
                        .isBetween(4.0, 6.0);
            }
            assertThat(lost(events)).as("sessions lost").isEmpty();
            for (ZkSessionPool p : pools) {
                assertThat(ids(p)).as("ids of " + p).isEqualTo(idsBefore.get(p));
                statsMatchCons(ensemble, p);
            }
            ownersByRaw(ensemble, ephemerals(leases, "/r21e/w"));
        } finally {
            leases.forEach(ZkLease::close);
            pools.forEach(ZkSessionPool::close);
        }
    }

    /**
     * Six one-session pools whose listeners call back into the SDK on every SUSPENDED and RECONNECTED (a new lease, an
     * exists and a getData on it, an ephemeral created and closed on RECONNECTED), the events of moves. Every callback
     * must return (none stuck), the RECONNECTED ones must succeed, the spread ends even, nothing is lost.
     */
    @Test
    void listenersCallingBackIntoTheSdkOnMoveEvents() throws Exception {
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(6)
                .build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        Queue<String> outcomes = new ConcurrentLinkedQueue<>();
        AtomicInteger started = new AtomicInteger();
        AtomicInteger finished = new AtomicInteger();
        AtomicInteger reconnectedFailed = new AtomicInteger();
        AtomicLong slowestMs = new AtomicLong();
        List<ZkSessionPool> pools = new ArrayList<>();
        List<SimpleMeterRegistry> regs = new ArrayList<>();
        List<ZkLease> leases = new ArrayList<>();
        try (LogCapture log = LogCapture.atDebug()) {
            for (int i = 0; i < 6; i++) {
                SimpleMeterRegistry r = new SimpleMeterRegistry();
                regs.add(r);
                ZkSessionPool p = pool(ensemble, "r21e-l" + i, 1, Duration.ofSeconds(8), hosts, r, events);
                pools.add(p);
                leases.addAll(leasesWithEphemerals(p, 1, "/r21e/listen"));
                String name = "r21e-l" + i;
                p.addListener(new SessionListener() {
                    @Override
                    public void onStateChange(SessionEvent ev) {
                        if (ev.state() != SessionState.SUSPENDED && ev.state() != SessionState.RECONNECTED) {
                            return;
                        }
                        started.incrementAndGet();
                        long t = System.nanoTime();
                        String what;
                        try (ZkLease l = p.lease()) {
                            Stat st = l.exists("/r21e/listen");
                            byte[] d = l.getData("/r21e/listen");
                            what = "ok exists=" + (st != null) + " data=" + d.length;
                            if (ev.state() == SessionState.RECONNECTED) {
                                l.ephemeral("/r21e/listen/cb-" + Long.toHexString(l.sessionId()) + "-" + t, V)
                                        .close();
                                what += " ephemeral ok";
                            }
                        } catch (RuntimeException e) {
                            what = "failed " + e;
                            if (ev.state() == SessionState.RECONNECTED) {
                                reconnectedFailed.incrementAndGet();
                            }
                        }
                        long ms = (System.nanoTime() - t) / 1_000_000;
                        slowestMs.accumulateAndGet(ms, Math::max);
                        outcomes.add(name + " " + ev.state() + " " + ms + " ms " + what);
                        finished.incrementAndGet();
                    }
                });
            }
            ZkSessionPool[] all = pools.toArray(new ZkSessionPool[0]);
            Map<ZkSessionPool, Map<Integer, Long>> idsBefore = new HashMap<>();
            pools.forEach(p -> idsBefore.put(p, ids(p)));
            ServerProcess victim = busiest(ensemble, all);
            victim.kill9();
            await("all on the live servers")
                    .atMost(Duration.ofSeconds(40))
                    .until(() -> allConnected(all) && spread(ensemble, all).get(victim.address()) == 0);
            double m0 = sum(regs);
            int out0 = outcomes.size();
            int lines0 = moveLines(log).size();
            victim.restart();
            victim.awaitServing(Duration.ofSeconds(60));
            try (ZkLease w = pools.get(0).lease()) {
                w.setData("/", V, -1);
            }
            try {
                awaitEvenAndSettled("listen", ensemble, Map.of(), regs, Duration.ofSeconds(40), all);
                await("every callback returned")
                        .atMost(Duration.ofSeconds(20))
                        .until(() -> started.get() == finished.get());
            } finally {
                print("FIGURES listen: moves " + (sum(regs) - m0) + ", callbacks started " + started + " finished "
                        + finished + ", slowest " + slowestMs + " ms, RECONNECTED failed " + reconnectedFailed
                        + ", since the restart " + outcomes.stream().skip(out0).toList() + ", lost " + lost(events)
                        + ", moves " + fmt(moveLines(log)) + " (" + lines0 + " before the restart), reversed after"
                        + " the restart "
                        + reversals(
                                moveLines(log).subList(lines0, moveLines(log).size())));
            }
            assertThat(sum(regs) - m0).as("moves").isGreaterThanOrEqualTo(2);
            assertThat(reconnectedFailed.get())
                    .as("callbacks on RECONNECTED that failed")
                    .isZero();
            assertThat(lost(events)).as("sessions lost").isEmpty();
            assertThat(reversals(moveLines(log).subList(lines0, moveLines(log).size())))
                    .as("moves reversed after the restart")
                    .isEmpty();
            for (ZkSessionPool p : pools) {
                assertThat(ids(p)).as("ids of " + p).isEqualTo(idsBefore.get(p));
                statsMatchCons(ensemble, p);
            }
            ownersByRaw(ensemble, ephemerals(leases, "/r21e/listen"));
        } finally {
            leases.forEach(ZkLease::close);
            pools.forEach(ZkSessionPool::close);
        }
    }

    /**
     * Two kinds of pools in one JVM on the same ensemble: eight one-session pools weighting one follower 2 (2:1:1) and
     * eight with equal weights (each a legitimate HostsConfig). The process's counts are shared, each pool judges them
     * with its own weights: the 2:1:1 pools move towards the heavy server while it has fewer than about twice the
     * others, the equal ones move off it while it has 2 more than another. The heavy server is killed (kill -9) and
     * restarted, so that both kinds move sessions back to it (with the placement by the process's counts the pools
     * start spread so that neither kind moves; judged by each pool's own weights, the moves back then went on in both
     * directions: 6/5/5 to 7/4/5 and back). After 10 s to settle, the moves must stop (no session moved back and
     * forth) for the next 15 s.
     */
    @Test
    void poolsWithDifferentWeightsForTheSameServersDoNotMoveSessionsBackAndForth() throws Exception {
        ServerProcess leader = ensemble.leader();
        ServerProcess heavy =
                ensemble.servers().stream().filter(s -> s != leader).findFirst().orElseThrow();
        HostsConfig weighted = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(20)
                .weight(heavy.address(), 2)
                .build();
        HostsConfig equal = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(20)
                .build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        List<ZkSessionPool> pools = new ArrayList<>();
        List<SimpleMeterRegistry> regs = new ArrayList<>();
        List<ZkLease> leases = new ArrayList<>();
        try (LogCapture log = LogCapture.atDebug()) {
            for (int i = 0; i < 16; i++) {
                SimpleMeterRegistry r = new SimpleMeterRegistry();
                regs.add(r);
                ZkSessionPool p = pool(
                        ensemble, "r21e-mw" + i, 1, Duration.ofSeconds(8), i % 2 == 0 ? weighted : equal, r, events);
                pools.add(p);
                leases.addAll(leasesWithEphemerals(p, 1, "/r21e/mw"));
            }
            ZkSessionPool[] all = pools.toArray(new ZkSessionPool[0]);
            Map<ZkSessionPool, Map<Integer, Long>> idsBefore = new HashMap<>();
            pools.forEach(p -> idsBefore.put(p, ids(p)));
            print("FIGURES mixed weights: heavy " + heavy.address() + ", spread at start " + spread(ensemble, all)
                    + ", moves during the build " + sum(regs) + ": " + fmt(moveLines(log)));
            heavy.kill9();
            await("every session on the light servers")
                    .atMost(Duration.ofSeconds(40))
                    .until(() -> allConnected(all) && spread(ensemble, all).get(heavy.address()) == 0);
            int built = moveLines(log).size();
            double mBuilt = sum(regs);
            heavy.restart();
            heavy.awaitServing(Duration.ofSeconds(60));
            try (ZkLease w = pools.get(0).lease()) {
                w.setData("/", V, -1);
            }
            await("10 s to settle")
                    .pollDelay(Duration.ofSeconds(10))
                    .atMost(Duration.ofSeconds(12))
                    .until(() -> true);
            double m10 = sum(regs);
            int lines10 = moveLines(log).size();
            String at10 = spread(ensemble, all).toString();
            await("15 s observed")
                    .pollDelay(Duration.ofSeconds(15))
                    .atMost(Duration.ofSeconds(17))
                    .until(() -> true);
            double m25 = sum(regs);
            List<String[]> mv = moveLines(log);
            List<String[]> late = mv.subList(lines10, mv.size());
            List<String> revAfterBuild = reversals(mv.subList(built, mv.size()));
            print("FIGURES mixed weights: moves in the first 10 s " + m10 + " (spread then " + at10
                    + "), in the next 15 s "
                    + (m25 - m10) + ", spread now " + spread(ensemble, all) + "; weighted pools "
                    + spread(
                            ensemble,
                            pools.stream()
                                    .filter(p -> pools.indexOf(p) % 2 == 0)
                                    .toArray(ZkSessionPool[]::new))
                    + ", equal pools "
                    + spread(
                            ensemble,
                            pools.stream()
                                    .filter(p -> pools.indexOf(p) % 2 == 1)
                                    .toArray(ZkSessionPool[]::new))
                    + "; late moves (first 12):" + fmt(late.subList(0, Math.min(12, late.size()))) + " reversed "
                    + reversals(mv).size() + " (first 4: "
                    + reversals(mv).subList(0, Math.min(4, reversals(mv).size()))
                    + "), lost " + lost(events));
            assertThat(m25 - m10)
                    .as("moves between 10 s and 25 s after the pools were built")
                    .isLessThanOrEqualTo(1.0);
            print("FIGURES mixed weights: after the restart " + (m25 - mBuilt) + " moves:"
                    + fmt(mv.subList(built, mv.size())) + " reversed " + revAfterBuild);
            assertThat(revAfterBuild)
                    .as("moves reversed after the heavy server's restart")
                    .isEmpty();
            assertThat(lost(events)).as("sessions lost").isEmpty();
            for (ZkSessionPool p : pools) {
                assertThat(ids(p)).as("ids of " + p).isEqualTo(idsBefore.get(p));
            }
        } finally {
            leases.forEach(ZkLease::close);
            pools.forEach(ZkSessionPool::close);
        }
    }

    /**
     * Six one-session pools, each with a worker creating sequential nodes back to back (a 3 ms pause between calls):
     * requests start all the time, so a move decided while a session looked idle races a request that starts just
     * before the connection is dropped. A failover (kill -9, restart) makes the pools move. Every create a caller was
     * told succeeded must exist, no node may exist that no caller was told of (a create redone after the move), and
     * no call may fail because of a move; the spread still ends even.
     */
    @Test
    void requestsStartingWhileSessionsAreMovedAreNeitherLostNorDoubled() throws Exception {
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .perServerConnectionBudget(6)
                .build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        List<ZkSessionPool> pools = new ArrayList<>();
        List<SimpleMeterRegistry> regs = new ArrayList<>();
        List<ZkLease> leases = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean run = new java.util.concurrent.atomic.AtomicBoolean(true);
        List<Queue<String>> created = new ArrayList<>();
        try (LogCapture log = LogCapture.atDebug()) {
            for (int i = 0; i < 6; i++) {
                SimpleMeterRegistry r = new SimpleMeterRegistry();
                regs.add(r);
                ZkSessionPool p = pool(ensemble, "r21e-s" + i, 1, Duration.ofSeconds(8), hosts, r, events);
                pools.add(p);
                List<ZkLease> l = leasesWithEphemerals(p, 1, "/r21e/seq/p" + i);
                leases.addAll(l);
                ZkLease lease = l.get(0);
                Queue<String> mine = new ConcurrentLinkedQueue<>();
                created.add(mine);
                String dir = "/r21e/seq/p" + i;
                Thread t = new Thread(
                        () -> {
                            while (run.get()) {
                                try {
                                    mine.add(lease.create(
                                                    dir + "/n-",
                                                    V,
                                                    org.apache.zookeeper.CreateMode.PERSISTENT_SEQUENTIAL)
                                            .substring(dir.length() + 1));
                                } catch (RuntimeException e) {
                                    failures.add(dir + " " + e);
                                }
                                java.util.concurrent.locks.LockSupport.parkNanos(3_000_000L);
                            }
                        },
                        "r21e-seq-" + i);
                t.setDaemon(true);
                workers.add(t);
            }
            ZkSessionPool[] all = pools.toArray(new ZkSessionPool[0]);
            Map<ZkSessionPool, Map<Integer, Long>> idsBefore = new HashMap<>();
            pools.forEach(p -> idsBefore.put(p, ids(p)));
            ServerProcess victim = busiest(ensemble, all);
            victim.kill9();
            await("all on the live servers")
                    .atMost(Duration.ofSeconds(40))
                    .until(() -> allConnected(all) && spread(ensemble, all).get(victim.address()) == 0);
            workers.forEach(Thread::start);
            double m0 = sum(regs);
            victim.restart();
            victim.awaitServing(Duration.ofSeconds(60));
            long evenMs = -1;
            try {
                evenMs = awaitEvenAndSettled("seq", ensemble, Map.of(), regs, Duration.ofSeconds(45), all);
            } finally {
                run.set(false);
                for (Thread t : workers) {
                    t.join(20_000);
                }
                print("FIGURES seq: moves " + (sum(regs) - m0) + ", even after " + evenMs + " ms, spread "
                        + spread(ensemble, all) + ", creates reported "
                        + created.stream().mapToInt(Queue::size).sum()
                        + ", failures " + failures.size() + " "
                        + failures.stream().limit(5).toList() + ", lost "
                        + lost(events));
            }
            List<String> mismatches = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                java.util.Set<String> onServer =
                        new java.util.TreeSet<>(leases.get(0).getChildren("/r21e/seq/p" + i));
                onServer.removeIf(n -> n.startsWith("e-"));
                java.util.Set<String> reported = new java.util.TreeSet<>(created.get(i));
                if (!onServer.equals(reported)) {
                    java.util.Set<String> extra = new java.util.TreeSet<>(onServer);
                    extra.removeAll(reported);
                    java.util.Set<String> missing = new java.util.TreeSet<>(reported);
                    missing.removeAll(onServer);
                    mismatches.add("p" + i + ": on the server but never reported " + extra + ", reported but absent "
                            + missing);
                }
            }
            print("FIGURES seq: mismatches " + mismatches);
            assertThat(mismatches)
                    .as("sequential nodes: reported vs on the server")
                    .isEmpty();
            assertThat(failures).as("calls failed during the moves").isEmpty();
            assertThat(sum(regs) - m0).as("moves").isGreaterThanOrEqualTo(1.0);
            assertThat(lost(events)).as("sessions lost").isEmpty();
            for (ZkSessionPool p : pools) {
                assertThat(ids(p)).as("ids of " + p).isEqualTo(idsBefore.get(p));
            }
        } finally {
            run.set(false);
            leases.forEach(ZkLease::close);
            pools.forEach(ZkSessionPool::close);
        }
    }
}
