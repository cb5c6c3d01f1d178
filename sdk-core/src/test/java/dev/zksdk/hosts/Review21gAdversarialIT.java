package dev.zksdk.hosts;

import static dev.zksdk.hosts.Review21dAdversarialIT.allConnected;
import static dev.zksdk.hosts.Review21dAdversarialIT.ephemeralsOwned;
import static dev.zksdk.hosts.Review21dAdversarialIT.ids;
import static dev.zksdk.hosts.Review21dAdversarialIT.leasesWithEphemerals;
import static dev.zksdk.hosts.Review21dAdversarialIT.print;
import static dev.zksdk.hosts.Review21dAdversarialIT.sessions;
import static dev.zksdk.hosts.Review21dAdversarialIT.spread;
import static dev.zksdk.hosts.Review21fAdversarialIT.attemptsTo;
import static dev.zksdk.hosts.Review21fAdversarialIT.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.SessionEvent;
import dev.zksdk.SessionListener;
import dev.zksdk.SessionState;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.metrics.EnsembleView;
import dev.zksdk.metrics.MetricsTracker;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.testing.LogCapture;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Review 21g: silent (SIGSTOPped) members kept quarantined while silent, thawed, frozen again, kill -9 while frozen and
 * restarted; the process-wide watch of a silent server after every pool is closed; three pools weighted 2:1:1, 1:2:1
 * and 0:1:1 through a kill -9 and restart (moves counted, reversed moves, a settled window); a client zone whose only
 * server freezes (fallback lifetime over while it is still silent). Three separate-process servers, member 3 with a
 * four-letter-word whitelist that leaves out {@code srvr}. Figures on lines starting {@code FIGURES}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class Review21gAdversarialIT {

    static final Duration INTERVAL = Duration.ofMillis(300);
    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(9);
    static final Pattern MOVE =
            Pattern.compile("rebalancing: moving session 0x([0-9a-f]+) from (\\S+) .* to (\\S+) \\(");

    static ProcessEnsemble ensemble;
    static final Map<String, EnsembleView> VIEWS = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() {
        ensemble = ProcessEnsemble.builder()
                .size(3)
                .secureClientPort(dev.zksdk.testing.TestPki.shared())
                .extraConfig(3, "4lw.commands.whitelist=ruok,cons,stat,mntr")
                .start();
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
        await("the process's budget empty before the case")
                .atMost(Duration.ofSeconds(15))
                .until(() -> ensemble.servers().stream()
                        .allMatch(s -> ConnectionBudget.shared().count(s.address()) == 0));
    }

    static ZkSessionPool pool(String name, int n, HostsConfig h, Queue<String> events) {
        return pool(name, ensemble.connectString(), n, h, events);
    }

    static ZkSessionPool pool(String name, String connect, int n, HostsConfig h, Queue<String> events) {
        return ZkSessionPool.builder()
                .name(name)
                .connectString(connect)
                .followEnsembleChanges(false)
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(3))
                .sessionsPerEnsemble(n)
                .hosts(h)
                .metricsTrackerFactory(pv -> new MetricsTracker() {
                    @Override
                    public void ensembleStarted(EnsembleView view) {
                        VIEWS.put(name, view);
                    }
                })
                .listener(new SessionListener() {
                    @Override
                    public void onStateChange(SessionEvent event) {
                        events.add(name + " " + event);
                    }
                })
                .build();
    }

    static List<String> lost(Queue<String> events) {
        return events.stream().filter(s -> s.contains(SessionState.LOST.name())).toList();
    }

    static long moves(String name) {
        EnsembleView v = VIEWS.get(name);
        return v == null ? 0 : v.hosts().rebalanceMoves();
    }

    static Set<String> hungWatches(int port) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.startsWith("zksdk-hung-watch-") && n.endsWith(":" + port))
                .collect(Collectors.toSet());
    }

    static ServerProcess busiest(ZkSessionPool... pools) {
        Map<String, Integer> sp = spread(ensemble, pools);
        return ensemble.servers().stream()
                .max((x, y) -> Integer.compare(sp.get(x.address()), sp.get(y.address())))
                .orElseThrow();
    }

    static boolean even(ZkSessionPool... pools) {
        if (!allConnected(pools)) {
            return false;
        }
        Map<String, Integer> sp = spread(ensemble, pools);
        return java.util.Collections.max(sp.values()) - java.util.Collections.min(sp.values()) <= 1;
    }

    // ---------------------------------------------------------------- 0. a whitelist without srvr

    /**
     * Member 3's {@code 4lw.commands.whitelist} leaves out {@code srvr}. A real server still answers it (ZooKeeper adds
     * srvr to every whitelist), so "srvr is not executed because it is not in the whitelist" never comes from a server
     * of this line; a 6-session pool is evened out onto member 3 after its kill -9 and restart, ids kept.
     */
    @Test
    @Order(0)
    void aMemberWhoseWhitelistLeavesOutSrvrStillAnswersAndIsRebalancedTo() {
        ServerProcess three = ensemble.server(3);
        String srvr = three.fourLetter("srvr", Duration.ofSeconds(3));
        String conf = three.fourLetter("conf", Duration.ofSeconds(3));
        print("FIGURES r21g-0 member 3 (" + three.version() + ") srvr: "
                + srvr.lines().limit(2).toList() + "; conf: "
                + conf.lines().limit(1).toList());
        assertThat(srvr).contains("Zxid:");
        HostsConfig hosts = HostsConfig.builder().rebalance(INTERVAL).build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        try (ZkSessionPool p = pool("r21g-0", 6, hosts, events)) {
            p.lease().close();
            await("even at start").atMost(Duration.ofSeconds(30)).until(() -> even(p));
            Map<Integer, Long> idsBefore = ids(p);
            three.kill9();
            await("off member 3")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> allConnected(p) && spread(ensemble, p).get(three.address()) == 0);
            three.restart();
            long t0 = System.nanoTime();
            await("even again").atMost(Duration.ofSeconds(30)).until(() -> even(p));
            print("FIGURES r21g-0 even again " + ms(System.nanoTime() - t0) + " ms after member 3's restart: "
                    + spread(ensemble, p));
            assertThat(ids(p)).isEqualTo(idsBefore);
            assertThat(lost(events)).isEmpty();
        }
    }

    // ---------------------------------------------------------------- 1. the watch of a silent server

    /**
     * A member frozen under an idle pool P1 (default quarantineMaxBackoff, 30 s): its session leaves at ZooKeeper's
     * read timeout and the server is watched ({@code zksdk-hung-watch-<server>}). P1, the only pool of the process, is
     * closed while the member is still frozen; then P2 is built with quarantineMaxBackoff 3 s, and the member is thawed
     * once a watch of P2's found it still silent (or after 10 s without one). Must hold: no thread of the closed pool
     * keeps probing the server (gone within 5 s of close); P2's quarantine of a silent server lasts no more than its
     * own quarantineMaxBackoff past the thaw: P2 uses the thawed member within 3 s + 1.5 s (probe) + 3 s (looks,
     * margin). Found: the closed pool's watch lived on with its 30 s maximum, and P2 left the thawed member unused
     * 12.9 s and 25.7 s (two runs).
     */
    @Test
    @Order(1)
    void aWatchOutlivingItsClosedPoolGovernsTheNextPoolsQuarantine() {
        HostsConfig hosts = HostsConfig.builder().rebalance(INTERVAL).build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        ServerProcess x = null;
        try (LogCapture log = LogCapture.atDebug()) {
            ZkSessionPool p = pool("r21g-w", 3, hosts, events);
            String xa;
            int port;
            try {
                p.lease().close();
                await("all 3 connected").atMost(Duration.ofSeconds(30)).until(() -> allConnected(p));
                x = busiest(p);
                xa = x.address();
                port = x.clientPort();
                long t0 = System.nanoTime();
                x.sigstop();
                await("the watch of the frozen member")
                        .atMost(Duration.ofSeconds(20))
                        .until(() -> !hungWatches(port).isEmpty());
                long watched = System.nanoTime() - t0;
                await("sessions back on the others")
                        .atMost(Duration.ofSeconds(20))
                        .until(() -> allConnected(p) && spread(ensemble, p).get(xa) == 0);
                print("FIGURES r21g-1 watch of " + xa + " after " + ms(watched) + " ms; threads " + hungWatches(port));
            } finally {
                p.close();
            }
            long c0 = System.nanoTime();
            boolean gone = awaitGone(port, Duration.ofSeconds(5));
            Set<String> left = hungWatches(port);
            print("FIGURES r21g-1 pool closed; watch threads " + (gone ? "gone" : "still alive") + " after "
                    + ms(System.nanoTime() - c0) + " ms: " + left);
            // P2, stricter quarantine, built while the member is still frozen
            HostsConfig strict = HostsConfig.builder()
                    .rebalance(INTERVAL)
                    .quarantineMaxBackoff(Duration.ofSeconds(3))
                    .build();
            try (ZkSessionPool p2 = pool("r21g-w2", 3, strict, events)) {
                p2.lease().close();
                await("P2 connected").atMost(Duration.ofSeconds(30)).until(() -> allConnected(p2));
                int from = log.lines().size();
                Pattern still = Pattern.compile(
                        Pattern.quote(xa) + ", left as hung, still silent to srvr .*: quarantined (\\d+) ms more");
                long[] extended = {-1};
                // With the closed pool's watch gone, the frozen member meets P2's own settings: a watch of P2's may
                // extend its quarantine (at most 3 s at a time) or none may run; either is recorded, for 10 s.
                try {
                    await("a probe of a watch finding it still silent")
                            .atMost(Duration.ofSeconds(10))
                            .pollInterval(Duration.ofMillis(20))
                            .until(() -> {
                                List<String> lines = log.lines();
                                for (int i = from; i < lines.size(); i++) {
                                    Matcher m = still.matcher(lines.get(i));
                                    if (m.find()) {
                                        extended[0] = Long.parseLong(m.group(1));
                                        return true;
                                    }
                                }
                                return false;
                            });
                } catch (org.awaitility.core.ConditionTimeoutException none) {
                    // no watch of P2's: P2 met the member only through failed connects, with its own backoff
                }
                assertThat(extended[0])
                        .as("an extension by P2's watch, ms (-1: none)")
                        .isLessThanOrEqualTo(3_000);
                Duration q = VIEWS.get("r21g-w2").hosts().quarantined().get(xa);
                x.sigcont();
                long t1 = System.nanoTime();
                await("P2 uses the thawed member")
                        .atMost(Duration.ofSeconds(45))
                        .until(() -> spread(ensemble, p2).get(xa) > 0);
                long used = System.nanoTime() - t1;
                print("FIGURES r21g-1 P2 (quarantineMaxBackoff 3 s): a probe extended " + xa + "'s quarantine by "
                        + extended[0] + " ms (P2's view: " + q + " left); thawed then: P2 used it after " + ms(used)
                        + " ms; lost " + lost(events));
                assertThat(lost(events)).isEmpty();
                assertThat(left)
                        .as("watch threads of " + xa + " 5 s after the last pool closed")
                        .isEmpty();
                assertThat(ms(used))
                        .as("thawed member unused by P2 (quarantineMaxBackoff 3 s)")
                        .isLessThanOrEqualTo(3_000 + 1_500 + 3_000);
            }
        } finally {
            if (x != null && x.isSuspended()) {
                x.sigcont();
            }
        }
    }

    static boolean awaitGone(int port, Duration d) {
        try {
            await().atMost(d).until(() -> hungWatches(port).isEmpty());
            return true;
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- 2. silent, thawed, frozen again, killed

    /**
     * Six sessions with ephemerals, quarantineMaxBackoff 8 s. The busiest member frozen for 14 s (past several probes
     * of its watch): no connection attempt to it after the sessions left; thawed: used again within 8 s (the longest
     * quarantine) + 1.5 s (the probe) + 5 s (looks, margin); frozen again at once: left again; kill -9 while frozen,
     * restarted: used again within 15 s. Every id kept, every ephemeral owned, nothing lost.
     */
    @Test
    @Order(2)
    void aFrozenMemberIsNotTriedWhileSilentThawedFrozenAgainKilledAndRestarted() {
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .quarantineMaxBackoff(Duration.ofSeconds(8))
                .build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        ServerProcess x = null;
        try (LogCapture log = LogCapture.atDebug();
                ZkSessionPool p = pool("r21g-f", 6, hosts, events)) {
            List<ZkLease> leases = leasesWithEphemerals(p, 6, "/r21g/f");
            await("even at start").atMost(Duration.ofSeconds(30)).until(() -> even(p));
            Map<Integer, Long> idsBefore = ids(p);
            x = busiest(p);
            ServerProcess fx = x;
            String xa = x.address();
            // round 1: frozen 14 s
            x.sigstop();
            long t0 = System.nanoTime();
            await("left the frozen member")
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> allConnected(p) && spread(ensemble, p).get(xa) == 0);
            long left = System.nanoTime() - t0;
            int from = log.lines().size();
            await().pollDelay(Duration.ofSeconds(14))
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> true);
            int attemptsWhileSilent = attemptsTo(log, from, x.clientPort());
            long stillSilent = log.count(l -> l.contains(xa) && l.contains("still silent to srvr"));
            x.sigcont();
            long t1 = System.nanoTime();
            await("the thawed member used again")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> spread(ensemble, p).get(xa) > 0);
            long usedAgain = System.nanoTime() - t1;
            print("FIGURES r21g-2 " + xa + " frozen: left after " + ms(left) + " ms; attempts to it in 11 s of silence "
                    + attemptsWhileSilent + "; 'still silent' probes " + stillSilent + "; thawed: used again after "
                    + ms(usedAgain) + " ms");
            // round 2: frozen again as soon as it is used, then kill -9 while frozen
            x.sigstop();
            await("left the member frozen again")
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> allConnected(p) && spread(ensemble, p).get(xa) == 0);
            int from2 = log.lines().size();
            await().pollDelay(Duration.ofSeconds(4))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> true);
            int attempts2 = attemptsTo(log, from2, x.clientPort());
            x.kill9();
            x.restart();
            long t2 = System.nanoTime();
            await("the restarted member used again")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> spread(ensemble, p).get(xa) > 0);
            long usedAfterRestart = System.nanoTime() - t2;
            await("even again").atMost(Duration.ofSeconds(30)).until(() -> even(p));
            print("FIGURES r21g-2 frozen again: attempts in 4 s " + attempts2 + "; kill -9 + restart: used again after "
                    + ms(usedAfterRestart) + " ms; spread " + spread(ensemble, p) + "; moves " + moves("r21g-f")
                    + "; lost " + lost(events));
            assertThat(ids(p)).isEqualTo(idsBefore);
            ephemeralsOwned(leases.get(0), leases, "/r21g/f");
            assertThat(lost(events)).isEmpty();
            assertThat(attemptsWhileSilent).as("attempts to the silent member").isZero();
            assertThat(attempts2).as("attempts to the member frozen again").isZero();
            assertThat(ms(usedAgain)).isLessThanOrEqualTo(8_000 + 1_500 + 5_000);
            assertThat(ms(usedAfterRestart)).isLessThanOrEqualTo(15_000);
            leases.forEach(ZkLease::close);
        } finally {
            if (x != null && x.isSuspended()) {
                x.sigcont();
            }
        }
    }

    // ---------------------------------------------------------------- 3. three pools, three weightings

    /**
     * Pools A (4 sessions, 2:1:1), B (4, 1:2:1), C (2, 0:1:1); member 2 killed (-9) and restarted once all is settled.
     * Must hold: C never on member 1; once settled (no move for 3 s), no move in the next 15 s; no session moved straight
     * back (A to B then B to A of the same session); each pool within one session per server of its own weighted share;
     * nothing lost, every id and ephemeral kept.
     */
    @Test
    @Order(3)
    void threePoolsWeightedDifferentlyConvergeWithoutPingPong() {
        List<ServerProcess> s = ensemble.servers();
        String a1 = s.get(0).address();
        String a2 = s.get(1).address();
        String a3 = s.get(2).address();
        HostsConfig ha = HostsConfig.builder()
                .rebalance(INTERVAL)
                .weight(a1, 2)
                .weight(a2, 1)
                .weight(a3, 1)
                .build();
        HostsConfig hb = HostsConfig.builder()
                .rebalance(INTERVAL)
                .weight(a1, 1)
                .weight(a2, 2)
                .weight(a3, 1)
                .build();
        HostsConfig hc = HostsConfig.builder()
                .rebalance(INTERVAL)
                .weight(a1, 0)
                .weight(a2, 1)
                .weight(a3, 1)
                .build();
        Map<String, int[]> weights =
                Map.of("r21g-a", new int[] {2, 1, 1}, "r21g-b", new int[] {1, 2, 1}, "r21g-c", new int[] {0, 1, 1});
        Queue<String> events = new ConcurrentLinkedQueue<>();
        try (LogCapture log = LogCapture.atDebug();
                ZkSessionPool pa = pool("r21g-a", 4, ha, events);
                ZkSessionPool pb = pool("r21g-b", 4, hb, events);
                ZkSessionPool pc = pool("r21g-c", 2, hc, events)) {
            ZkSessionPool[] all = {pa, pb, pc};
            List<ZkLease> la = leasesWithEphemerals(pa, 4, "/r21g/w");
            List<ZkLease> lb = leasesWithEphemerals(pb, 4, "/r21g/w");
            List<ZkLease> lc = leasesWithEphemerals(pc, 2, "/r21g/w");
            List<ZkLease> leases = new ArrayList<>(la);
            leases.addAll(lb);
            leases.addAll(lc);
            settle(all);
            List<Map<Integer, Long>> idsBefore = List.of(ids(pa), ids(pb), ids(pc));
            String before = perPool(all);
            int from = log.lines().size();
            ServerProcess two = s.get(1);
            two.kill9();
            await("all on 1 and 3")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> allConnected(all) && spread(ensemble, all).get(a2) == 0);
            two.restart();
            long t0 = System.nanoTime();
            long settledAt = settle(all);
            long m0 = moves("r21g-a") + moves("r21g-b") + moves("r21g-c");
            String settled = perPool(all);
            await().pollDelay(Duration.ofSeconds(15))
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> true);
            long m1 = moves("r21g-a") + moves("r21g-b") + moves("r21g-c");
            List<String[]> moveLines = new ArrayList<>();
            List<String> lines = log.lines();
            for (int i = from; i < lines.size(); i++) {
                Matcher m = MOVE.matcher(lines.get(i));
                if (m.find()) {
                    moveLines.add(new String[] {m.group(1), m.group(2), m.group(3)});
                }
            }
            int reversed = 0;
            Map<String, String[]> lastMove = new HashMap<>();
            for (String[] mv : moveLines) {
                String[] prev = lastMove.put(mv[0], mv);
                if (prev != null && prev[1].equals(mv[2]) && prev[2].equals(mv[1])) {
                    reversed++;
                }
            }
            print("FIGURES r21g-3 before the kill " + before + "; after the restart settled in "
                    + ms(settledAt - t0) + " ms: " + settled + "; moves logged " + moveLines.size() + ", reversed "
                    + reversed + "; moves in the 8 s after settling " + (m1 - m0) + "; process spread "
                    + spread(ensemble, all) + "; lost " + lost(events));
            assertThat(lost(events)).isEmpty();
            assertThat(List.of(ids(pa), ids(pb), ids(pc))).isEqualTo(idsBefore);
            ephemeralsOwned(la.get(0), leases, "/r21g/w");
            assertThat(m1 - m0).as("moves once settled").isZero();
            assertThat(reversed).as("moves straight back").isZero();
            assertThat(countOn(pc, a1)).as("C on its weight-0 server").isZero();
            for (ZkSessionPool p : all) {
                String name = nameOf(p, all);
                int[] w = weights.get(name);
                int n = sessions(p).size();
                int sum = w[0] + w[1] + w[2];
                for (int i = 0; i < 3; i++) {
                    double share = (double) n * w[i] / sum;
                    assertThat((double) countOn(p, s.get(i).address()))
                            .as(name + " on member " + (i + 1) + " (share " + share + "): " + perPool(all))
                            .isBetween(share - 1.0, share + 1.0);
                }
            }
            leases.forEach(ZkLease::close);
        }
    }

    static String nameOf(ZkSessionPool p, ZkSessionPool[] all) {
        return p == all[0] ? "r21g-a" : p == all[1] ? "r21g-b" : "r21g-c";
    }

    static int countOn(ZkSessionPool p, String server) {
        int n = 0;
        for (SessionStatus st : sessions(p)) {
            if (server.equals(st.server())) {
                n++;
            }
        }
        return n;
    }

    static String perPool(ZkSessionPool[] all) {
        StringBuilder b = new StringBuilder();
        for (ZkSessionPool p : all) {
            Map<String, Integer> m = new TreeMap<>();
            for (ServerProcess sp : ensemble.servers()) {
                m.put("m" + sp.id(), countOn(p, sp.address()));
            }
            b.append(nameOf(p, all)).append(m).append(' ');
        }
        return b.toString().trim();
    }

    /** Waits until every session is connected and no move was made for 3 s; returns when it settled (nanoTime). */
    static long settle(ZkSessionPool[] all) {
        long[] last = {-1, System.nanoTime()};
        await("settled")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    long m = 0;
                    for (ZkSessionPool p : all) {
                        m += moves(nameOf(p, all));
                    }
                    if (m != last[0] || !allConnected(all)) {
                        last[0] = m;
                        last[1] = System.nanoTime();
                        return false;
                    }
                    return System.nanoTime() - last[1] > 3_000_000_000L;
                });
        return last[1];
    }

    // ---------------------------------------------------------------- 4. a zone's only server frozen

    /**
     * Client zone "z" holding only member 1 (the others in "y"), fallback lifetime 2 s, three sessions. Member 1
     * frozen: the sessions fall back; it stays frozen 12 s (six lifetimes): no attempt to it (a move back must first
     * have its srvr answered), nothing lost; thawed: all three back on it within 2 s (lifetime, up to 2.5 s with the
     * jitter) + 8 s (quarantine and probe) + 5 s margin, same ids; fallbackSessions 0 then.
     */
    @Test
    @Order(4)
    void aZoneWhoseOnlyServerFreezesIsNotTriedWhileSilent() {
        List<ServerProcess> s = ensemble.servers();
        ServerProcess z = s.get(0);
        HostsConfig hosts = HostsConfig.builder()
                .rebalance(INTERVAL)
                .quarantineMaxBackoff(Duration.ofSeconds(8))
                .clientZone("z")
                .serverZone(z.address(), "z")
                .serverZone(s.get(1).address(), "y")
                .serverZone(s.get(2).address(), "y")
                .fallbackSessionLifetime(Duration.ofSeconds(2))
                .build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        try (LogCapture log = LogCapture.atDebug();
                ZkSessionPool p = pool("r21g-z", 3, hosts, events)) {
            List<ZkLease> leases = leasesWithEphemerals(p, 3, "/r21g/z");
            await("all in the zone")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> allConnected(p) && spread(ensemble, p).get(z.address()) == 3);
            Map<Integer, Long> idsBefore = ids(p);
            z.sigstop();
            long t0 = System.nanoTime();
            await("fallen back")
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> allConnected(p) && spread(ensemble, p).get(z.address()) == 0);
            long fell = System.nanoTime() - t0;
            long fallback = VIEWS.get("r21g-z").hosts().fallbackSessions();
            int from = log.lines().size();
            await().pollDelay(Duration.ofSeconds(12))
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> true);
            int attempts = attemptsTo(log, from, z.clientPort());
            long zoneMoves = log.count(l -> l.contains("r21g-z: zone z: moving session"));
            z.sigcont();
            long t1 = System.nanoTime();
            await("back in the zone")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> allConnected(p) && spread(ensemble, p).get(z.address()) == 3);
            long back = System.nanoTime() - t1;
            print("FIGURES r21g-4 zone server frozen: fell back after " + ms(fell) + " ms (fallbackSessions "
                    + fallback + "); attempts to it in 12 s of silence " + attempts + ", zone moves logged " + zoneMoves
                    + "; thawed: all back after " + ms(back) + " ms; fallbackSessions "
                    + VIEWS.get("r21g-z").hosts().fallbackSessions() + "; lost " + lost(events));
            assertThat(fallback).isEqualTo(3);
            assertThat(attempts).as("attempts to the silent zone server").isZero();
            assertThat(lost(events)).isEmpty();
            assertThat(ids(p)).isEqualTo(idsBefore);
            ephemeralsOwned(leases.get(0), leases, "/r21g/z");
            assertThat(ms(back)).isLessThanOrEqualTo(2_500 + 8_000 + 5_000);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> VIEWS.get("r21g-z").hosts().fallbackSessions() == 0);
            leases.forEach(ZkLease::close);
        } finally {
            if (z.isSuspended()) {
                z.sigcont();
            }
        }
    }

    // ---------------------------------------------------------------- 5. the no-op transaction

    /**
     * An idle ensemble whose root ACL lets only a digest user read (so a pool without credentials has its
     * {@code check} of "/" refused), beside a pool chrooted to a node that does not exist (its check of "/" is a
     * NONODE) and a pool with rebalancing off. The leader killed (-9) and restarted with nothing written after. Must
     * hold: both rebalancing pools even out (max - min <= 1 each) within 30 s of the old leader serving; the
     * no-rebalance pool never writes (no transaction logged by it, no move); every id kept, nothing lost; the ACL'd
     * pool still reads.
     */
    @Test
    @Order(5)
    void anIdleEnsembleIsEvenedOutThroughARefusedNoOpAndANoRebalancePoolNeverWrites() throws Exception {
        HostsConfig on = HostsConfig.builder().rebalance(INTERVAL).build();
        HostsConfig off = HostsConfig.builder().noRebalance().build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        List<org.apache.zookeeper.data.ACL> digestOnly = new ArrayList<>(List.of(new org.apache.zookeeper.data.ACL(
                org.apache.zookeeper.ZooDefs.Perms.ALL,
                new org.apache.zookeeper.data.Id(
                        "digest",
                        org.apache.zookeeper.server.auth.DigestAuthenticationProvider.generateDigest("r21g:pw")))));
        try (dev.zksdk.testing.RawZooKeeper raw =
                dev.zksdk.testing.RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(9))) {
            raw.zk().addAuthInfo("digest", "r21g:pw".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            if (raw.zk().exists("/r21g", false) == null) {
                raw.zk()
                        .create(
                                "/r21g",
                                new byte[0],
                                org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE,
                                org.apache.zookeeper.CreateMode.PERSISTENT);
            }
            if (raw.zk().exists("/r21g-none", false) != null) {
                raw.zk().delete("/r21g-none", -1);
            }
            raw.zk().setACL("/", digestOnly, -1);
            try (LogCapture log = LogCapture.atDebug();
                    ZkSessionPool a = pool("r21g-acl", 3, on, events);
                    ZkSessionPool b = pool("r21g-chroot", ensemble.connectString() + "/r21g-none", 3, on, events);
                    ZkSessionPool n = pool("r21g-off", 3, off, events)) {
                ZkSessionPool[] all = {a, b, n};
                for (ZkSessionPool p : all) {
                    p.lease().close();
                }
                await("all 9 connected").atMost(Duration.ofSeconds(30)).until(() -> allConnected(all));
                List<Map<Integer, Long>> idsBefore = List.of(ids(a), ids(b), ids(n));
                ServerProcess leader = ensemble.leader();
                leader.kill9();
                await("every session on the two others")
                        .atMost(Duration.ofSeconds(40))
                        .until(() -> allConnected(all) && spread(ensemble, all).get(leader.address()) == 0);
                leader.restart();
                leader.awaitServing(Duration.ofSeconds(60));
                ensemble.awaitQuorum(Duration.ofSeconds(60));
                long t0 = System.nanoTime();
                String why = "";
                try {
                    await("both rebalancing pools even")
                            .atMost(Duration.ofSeconds(30))
                            .until(() -> even(a) && even(b));
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    why = " NOT EVEN: " + e.getMessage();
                }
                long evened = System.nanoTime() - t0;
                List<String> noOps = log.lines().stream()
                        .filter(l -> l.contains("a transaction that changes nothing written"))
                        .map(l -> l.substring(Math.max(0, l.indexOf("r21g-"))))
                        .toList();
                print("FIGURES r21g-5 " + ms(evened) + " ms after the old leader served: acl " + spread(ensemble, a)
                        + ", chroot " + spread(ensemble, b) + ", off " + spread(ensemble, n) + "; no-ops " + noOps
                        + "; moves acl/chroot/off " + moves("r21g-acl") + "/" + moves("r21g-chroot") + "/"
                        + moves("r21g-off") + "; lost " + lost(events) + why);
                log.lines().stream()
                        .filter(l -> l.contains("rebalancing:") && l.contains("r21g-"))
                        .map(l -> l.substring(l.indexOf("r21g-")))
                        .map(l -> l.length() > 260 ? l.substring(0, 260) : l)
                        .forEach(l -> print("FIGURES r21g-5 log " + l));
                assertThat(why).isEmpty();
                assertThat(noOps).noneMatch(l -> l.startsWith("r21g-off"));
                assertThat(moves("r21g-off")).isZero();
                assertThat(List.of(ids(a), ids(b), ids(n))).isEqualTo(idsBefore);
                assertThat(lost(events)).isEmpty();
                try (ZkLease l = a.lease()) {
                    assertThat(l.exists("/r21g")).isNotNull();
                }
            } finally {
                await("the root ACL restored")
                        .atMost(Duration.ofSeconds(30))
                        .ignoreExceptions()
                        .until(() -> {
                            raw.zk().setACL("/", org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE, -1);
                            return true;
                        });
            }
        }
    }

    // ---------------------------------------------------------------- 6. a pool repairing its own spread

    /**
     * Budget 4 per server (12 slots), four pools of 2, 2, 3 and 3 sessions weighted 1:1:1, 2:1:1, 1:2:1 and 1:1:2,
     * built at once from four threads while two threads build and close one-session pools (4 each). Must hold
     * each round: cons never above 4 on any server; once settled (no move for 3 s) no move in the next 6 s; each pool
     * within one session per server of its weighted share; nothing lost.
     */
    @Test
    @Order(6)
    void budgetChurnLeavesEveryPoolWithinOneOfItsShareAndThenStill() throws Exception {
        List<ServerProcess> s = ensemble.servers();
        int[][] w = {{1, 1, 1}, {2, 1, 1}, {1, 2, 1}, {1, 1, 2}};
        int[] n = {2, 2, 3, 3};
        Queue<String> events = new ConcurrentLinkedQueue<>();
        List<String> failures = new ArrayList<>();
        for (int round = 0; round < 1; round++) {
            ZkSessionPool[] pools = new ZkSessionPool[4];
            java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newFixedThreadPool(6);
            try (Review21dAdversarialIT.Sampler sampler = new Review21dAdversarialIT.Sampler(ensemble, 4)) {
                java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
                List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
                for (int k = 0; k < 4; k++) {
                    int kk = k;
                    int r = round;
                    fs.add(ex.submit(() -> {
                        go.await();
                        HostsConfig.Builder hb =
                                HostsConfig.builder().rebalance(INTERVAL).perServerConnectionBudget(4);
                        for (int i = 0; i < 3; i++) {
                            hb.weight(s.get(i).address(), w[kk][i]);
                        }
                        pools[kk] = pool("r21g-r" + r + "p" + kk, n[kk], hb.build(), events);
                        pools[kk].lease().close();
                        return null;
                    }));
                }
                for (int c = 0; c < 2; c++) {
                    int cc = c;
                    int r = round;
                    fs.add(ex.submit(() -> {
                        go.await();
                        HostsConfig hc = HostsConfig.builder()
                                .rebalance(INTERVAL)
                                .perServerConnectionBudget(4)
                                .build();
                        for (int i = 0; i < 4; i++) {
                            try (ZkSessionPool q =
                                    pool("r21g-r" + r + "c" + cc + "-" + i, 1, hc, new ConcurrentLinkedQueue<>())) {
                                q.lease().close();
                            } catch (dev.zksdk.ZkUnavailableException e) {
                                // no slot now: churn
                            }
                        }
                        return null;
                    }));
                }
                go.countDown();
                for (java.util.concurrent.Future<?> f : fs) {
                    f.get(90, java.util.concurrent.TimeUnit.SECONDS);
                }
                String[] names = new String[4];
                for (int k = 0; k < 4; k++) {
                    names[k] = "r21g-r" + round + "p" + k;
                }
                long[] last = {-1, System.nanoTime()};
                long t0 = System.nanoTime();
                await("settled")
                        .atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> {
                            long m = 0;
                            for (String nm : names) {
                                m += moves(nm);
                            }
                            if (m != last[0] || !allConnected(pools)) {
                                last[0] = m;
                                last[1] = System.nanoTime();
                                return false;
                            }
                            return System.nanoTime() - last[1] > 3_000_000_000L;
                        });
                long m0 = last[0];
                String settled = perPools(pools, names);
                await().pollDelay(Duration.ofSeconds(6))
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> true);
                long m1 = 0;
                for (String nm : names) {
                    m1 += moves(nm);
                }
                sampler.close();
                print("FIGURES r21g-6 round " + round + ": settled after " + ms(last[1] - t0) + " ms with " + m0
                        + " moves: " + settled + "; moves in 6 s after " + (m1 - m0) + "; cons max " + sampler.max
                        + " over " + sampler.samples + " samples, over budget " + sampler.overBudget.size()
                        + "; lost " + lost(events));
                if (m1 != m0) {
                    failures.add("round " + round + ": " + (m1 - m0) + " moves after settling");
                }
                if (!sampler.overBudget.isEmpty()) {
                    failures.add("round " + round + ": over budget " + sampler.overBudget.peek());
                }
                for (int k = 0; k < 4; k++) {
                    int sum = w[k][0] + w[k][1] + w[k][2];
                    for (int i = 0; i < 3; i++) {
                        double share = (double) n[k] * w[k][i] / sum;
                        int c = countOn(pools[k], s.get(i).address());
                        if (Math.abs(c - share) > 1.0 + 1e-9) {
                            failures.add("round " + round + ": " + names[k] + " has " + c + " on member " + (i + 1)
                                    + " (share " + share + "): " + settled);
                        }
                    }
                }
            } finally {
                ex.shutdownNow();
                for (ZkSessionPool p : pools) {
                    if (p != null) {
                        p.close();
                    }
                }
            }
            await("the process's budget empty")
                    .atMost(Duration.ofSeconds(15))
                    .until(() -> ensemble.servers().stream()
                            .allMatch(sp -> ConnectionBudget.shared().count(sp.address()) == 0));
        }
        assertThat(lost(events)).isEmpty();
        assertThat(failures).isEmpty();
    }

    static String perPools(ZkSessionPool[] pools, String[] names) {
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < pools.length; k++) {
            Map<String, Integer> m = new TreeMap<>();
            for (ServerProcess sp : ensemble.servers()) {
                m.put("m" + sp.id(), countOn(pools[k], sp.address()));
            }
            b.append(names[k]).append(m).append(' ');
        }
        return b.toString().trim();
    }

    // ---------------------------------------------------------------- 7. a slow (flapping) target

    /**
     * Six sessions with ephemerals, each reading in a loop. A follower killed (-9) and restarted; from then on it is
     * SIGSTOPped for 1.5 s every 3 s for 15 s (slow, not dead: below the 2 s hung-server bound). Must hold: nothing
     * lost, no read failed, every id and ephemeral kept, no session left as hung more than once per pause; once it
     * stops flapping the spread is even within 15 s.
     */
    @Test
    @Order(7)
    void aFlappingTargetLosesNothingAndIsUsedOnceSteady() throws Exception {
        HostsConfig hosts = HostsConfig.builder().rebalance(INTERVAL).build();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        ServerProcess leader = ensemble.leader();
        ServerProcess x = ensemble.servers().stream()
                .filter(sp -> sp != leader)
                .findFirst()
                .orElseThrow();
        try (LogCapture log = LogCapture.atDebug();
                ZkSessionPool p = pool("r21g-s", 6, hosts, events)) {
            List<ZkLease> leases = leasesWithEphemerals(p, 6, "/r21g/s");
            await("even at start").atMost(Duration.ofSeconds(30)).until(() -> even(p));
            Map<Integer, Long> idsBefore = ids(p);
            try (Review21fAdversarialIT.Readers readers = new Review21fAdversarialIT.Readers(leases, "/r21g/s")) {
                x.kill9();
                await("off the killed member")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> allConnected(p) && spread(ensemble, p).get(x.address()) == 0);
                x.restart();
                x.awaitServing(Duration.ofSeconds(60));
                long m0 = moves("r21g-s");
                long d0 = VIEWS.get("r21g-s").hosts().hungDrops();
                List<String> seen = new ArrayList<>();
                for (int k = 0; k < 5; k++) {
                    x.sigstop();
                    await().pollDelay(Duration.ofMillis(1500))
                            .atMost(Duration.ofSeconds(5))
                            .until(() -> true);
                    x.sigcont();
                    await().pollDelay(Duration.ofMillis(1500))
                            .atMost(Duration.ofSeconds(5))
                            .until(() -> true);
                    seen.add(String.valueOf(spread(ensemble, p).get(x.address())));
                }
                long flapMoves = moves("r21g-s") - m0;
                long flapDrops = VIEWS.get("r21g-s").hosts().hungDrops() - d0;
                long t0 = System.nanoTime();
                await("even once steady").atMost(Duration.ofSeconds(15)).until(() -> even(p));
                long evened = System.nanoTime() - t0;
                readers.close();
                print("FIGURES r21g-7 flapping " + x.address() + " (1.5 s stopped every 3 s, 5 times): sessions on it "
                        + seen + ", moves " + flapMoves + ", hung drops " + flapDrops + "; even " + ms(evened)
                        + " ms after the last thaw: " + spread(ensemble, p) + "; reads ok/failed " + readers.ok + "/"
                        + readers.failed + "; lost " + lost(events));
                assertThat(lost(events)).isEmpty();
                assertThat(readers.failed.get()).as("failed reads").isZero();
                assertThat(ids(p)).isEqualTo(idsBefore);
                ephemeralsOwned(leases.get(0), leases, "/r21g/s");
                assertThat(flapDrops).as("hung drops").isLessThanOrEqualTo(5);
            }
            leases.forEach(ZkLease::close);
        } finally {
            if (x.isSuspended()) {
                x.sigcont();
            }
        }
    }

    // ---------------------------------------------------------------- 9. a frozen rebalancing target over TLS

    static List<Thread> probes(String pool) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .filter(t -> t.getName().startsWith(pool + "[") && t.getName().endsWith("-rebalance-probe"))
                .toList();
    }

    /**
     * TLS. A follower SIGSTOPped before a 4-session pool (quarantineMaxBackoff 2 s) is built: its sessions go to the
     * two others (2/2/0), and once the failed connects' quarantine is over the SIGSTOPped member is the rebalancing's
     * target: asked {@code srvr} before any move, with the sessions' TLS settings. Must hold (README: a target that gave
     * no answer to srvr, 1 s, is passed over for two intervals): the target is found not answering (logged "did not
     * answer srvr"); at most one probe thread of the pool alive at a time, none 5 s after the pool closed; nothing
     * lost.
     */
    @Test
    @Order(9)
    void aFrozenRebalancingTargetOverTlsIsPassedOverAndItsProbesEnd() {
        dev.zksdk.testing.TestPki pki = dev.zksdk.testing.TestPki.shared();
        ServerProcess leader = ensemble.leader();
        ServerProcess z = ensemble.servers().stream()
                .filter(sp -> sp != leader)
                .reduce((a, b) -> b)
                .orElseThrow();
        Queue<String> events = new ConcurrentLinkedQueue<>();
        try (LogCapture log = LogCapture.atDebug()) {
            z.sigstop();
            ZkSessionPool p = ZkSessionPool.builder()
                    .name("r21g-t")
                    .connectString(ensemble.secureConnectString())
                    .followEnsembleChanges(false)
                    .sessionTimeout(SESSION_TIMEOUT)
                    .connectionTimeout(Duration.ofSeconds(3))
                    .sessionsPerEnsemble(4)
                    .hosts(HostsConfig.builder()
                            .rebalance(INTERVAL)
                            .quarantineMaxBackoff(Duration.ofSeconds(2))
                            .build())
                    .tls(dev.zksdk.security.TlsConfig.builder()
                            .trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword())
                            .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword())
                            .build())
                    .listener(new SessionListener() {
                        @Override
                        public void onStateChange(SessionEvent event) {
                            events.add("r21g-t " + event);
                        }
                    })
                    .build();
            int maxProbes = 0;
            List<Thread> blocked;
            try {
                try (ZkLease l = p.lease()) {
                    l.exists("/");
                }
                await("all 4 connected").atMost(Duration.ofSeconds(40)).until(() -> allConnected(p));
                long t0 = System.nanoTime();
                while (System.nanoTime() - t0 < 15_000_000_000L) {
                    maxProbes = Math.max(maxProbes, probes("r21g-t").size());
                    java.util.concurrent.locks.LockSupport.parkNanos(200_000_000L);
                }
                blocked = probes("r21g-t");
                String where = blocked.isEmpty()
                        ? "-"
                        : java.util.Arrays.stream(blocked.get(0).getStackTrace())
                                .limit(40)
                                .map(StackTraceElement::toString)
                                .filter(f -> f.contains("Handshake")
                                        || f.contains("FourLetterWordMain")
                                        || f.contains("Rebalancer"))
                                .limit(4)
                                .toList()
                                .toString();
                print("FIGURES r21g-9 TLS, " + z.secureAddress() + " stopped 15 s: probe threads alive at most "
                        + maxProbes + " at once, " + blocked.size() + " at the end, blocked at " + where
                        + "; 'did not answer srvr' logged "
                        + log.count(l -> l.contains("r21g-t[") && l.contains("did not answer srvr")) + "; spread "
                        + spread(ensemble, p)
                        + "; sessions "
                        + sessions(p).stream().map(SessionStatus::server).toList());
            } finally {
                p.close();
            }
            long c0 = System.nanoTime();
            await().pollDelay(Duration.ofSeconds(5))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> true);
            List<Thread> after = probes("r21g-t");
            print("FIGURES r21g-9 5 s after close: " + after.size() + " probe threads of the closed pool alive; lost "
                    + lost(events));
            z.sigcont();
            await().pollDelay(Duration.ofSeconds(1))
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> true);
            print("FIGURES r21g-9 1 s after the thaw: " + probes("r21g-t").size() + " probe threads alive");
            assertThat(lost(events)).isEmpty();
            assertThat(maxProbes).as("probe threads of the pool alive at once").isLessThanOrEqualTo(1);
            assertThat(after).as("probe threads 5 s after the pool closed").isEmpty();
            assertThat(log.count(l -> l.contains("r21g-t[") && l.contains("did not answer srvr")))
                    .as("the frozen target found not answering")
                    .isPositive();
        } finally {
            if (z.isSuspended()) {
                z.sigcont();
            }
        }
    }

    // ---------------------------------------------------------------- 10. what the blocked TLS probe costs

    /**
     * Its own five members, TLS and plain ports. Pool weights: follower C 2, the others 1. Follower B killed (-9) and
     * C SIGSTOPped, then a 4-session pool is built (on A, D, E: 2/1/1); B restarted. C is the best target (most room)
     * but silent; B is live and empty. README: a target that gave no answer to srvr is passed over for two intervals
     * and the next best target taken. Must hold for a TLS pool (the probe to C blocks in the handshake, case 9): B gets
     * a session within 20 s of serving again, nothing lost. (A plain pool did the same in 1.8 s in a run of this case.)
     */
    @Test
    @Order(10)
    void aFrozenBestTargetIsPassedOverForALiveOneOverPlainAndTls() {
        dev.zksdk.testing.TestPki pki = dev.zksdk.testing.TestPki.shared();
        List<String> out = new ArrayList<>();
        try (ProcessEnsemble five =
                ProcessEnsemble.builder().size(5).secureClientPort(pki).start()) {
            for (boolean tls : new boolean[] {true}) {
                ServerProcess leader = five.leader();
                List<ServerProcess> followers =
                        five.servers().stream().filter(sp -> sp != leader).toList();
                ServerProcess b = followers.get(0);
                ServerProcess c = followers.get(1);
                String name = tls ? "r21g-x-tls" : "r21g-x-plain";
                java.util.function.Function<ServerProcess, String> addr = sp -> tls ? sp.secureAddress() : sp.address();
                HostsConfig.Builder hb =
                        HostsConfig.builder().rebalance(INTERVAL).quarantineMaxBackoff(Duration.ofSeconds(2));
                for (ServerProcess sp : five.servers()) {
                    hb.weight(addr.apply(sp), sp == c ? 2 : 1);
                }
                Queue<String> events = new ConcurrentLinkedQueue<>();
                ZkSessionPool.Builder pb = ZkSessionPool.builder()
                        .name(name)
                        .connectString(tls ? five.secureConnectString() : five.connectString())
                        .followEnsembleChanges(false)
                        .sessionTimeout(SESSION_TIMEOUT)
                        .connectionTimeout(Duration.ofSeconds(3))
                        .sessionsPerEnsemble(4)
                        .hosts(hb.build())
                        .listener(new SessionListener() {
                            @Override
                            public void onStateChange(SessionEvent event) {
                                events.add(name + " " + event);
                            }
                        });
                if (tls) {
                    pb.tls(dev.zksdk.security.TlsConfig.builder()
                            .trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword())
                            .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword())
                            .build());
                }
                b.kill9();
                c.sigstop();
                try (ZkSessionPool p = pb.build()) {
                    try (ZkLease l = p.lease()) {
                        l.exists("/");
                    }
                    await(name + " connected").atMost(Duration.ofSeconds(40)).until(() -> allConnected(p));
                    String placed = sessions(p).stream()
                            .map(SessionStatus::server)
                            .toList()
                            .toString();
                    // C's quarantine (failed connects, at most 2 s) over: it is a target now
                    await().pollDelay(Duration.ofSeconds(5))
                            .atMost(Duration.ofSeconds(10))
                            .until(() -> true);
                    placed += "; 5 s later probe threads " + probes(name).size();
                    b.restart();
                    b.awaitServing(Duration.ofSeconds(60));
                    long t0 = System.nanoTime();
                    long onB = -1;
                    try {
                        await().atMost(Duration.ofSeconds(20))
                                .until(() -> sessions(p).stream()
                                        .anyMatch(st -> addr.apply(b).equals(st.server())));
                        onB = ms(System.nanoTime() - t0);
                    } catch (org.awaitility.core.ConditionTimeoutException e) {
                        // reported below
                    }
                    String line = name + ": placed " + placed + "; B " + addr.apply(b) + " got a session "
                            + (onB < 0 ? "NOT within 20 s" : "after " + onB + " ms") + "; probe threads alive "
                            + probes(name).size() + "; sessions now "
                            + sessions(p).stream().map(SessionStatus::server).toList() + "; lost " + lost(events);
                    print("FIGURES r21g-10 " + line);
                    out.add(line);
                    assertThat(lost(events)).isEmpty();
                } finally {
                    c.sigcont();
                }
                five.restoreAll(Duration.ofSeconds(90));
            }
        }
        assertThat(out).allSatisfy(l -> assertThat(l).doesNotContain("NOT within"));
    }

    // ---------------------------------------------------------------- 11. the no-op on a 3.5 ensemble

    /**
     * Its own three 3.5.10 members, root ACL readable by a digest user only, a 6-session pool without credentials
     * (its {@code check} of "/" is refused) beside a pool with rebalancing off, nothing written after the leader's kill
     * -9 and restart. Must hold: the rebalancing pool evens out within 30 s of the old leader serving; the other never
     * moves and writes no no-op; nothing lost.
     */
    @Test
    @Order(11)
    void anIdle35EnsembleWithAnUnreadableRootIsEvenedOut() throws Exception {
        Queue<String> events = new ConcurrentLinkedQueue<>();
        try (ProcessEnsemble old = ProcessEnsemble.builder()
                        .size(3)
                        .serverVersion("3.5.10")
                        .start();
                dev.zksdk.testing.RawZooKeeper raw =
                        dev.zksdk.testing.RawZooKeeper.connect(old.connectString(), Duration.ofSeconds(9));
                LogCapture log = LogCapture.atDebug()) {
            raw.zk().addAuthInfo("digest", "r21g:pw".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            raw.zk()
                    .setACL(
                            "/",
                            new ArrayList<>(List.of(new org.apache.zookeeper.data.ACL(
                                    org.apache.zookeeper.ZooDefs.Perms.ALL,
                                    new org.apache.zookeeper.data.Id(
                                            "digest",
                                            org.apache.zookeeper.server.auth.DigestAuthenticationProvider
                                                    .generateDigest("r21g:pw"))))),
                            -1);
            raw.close();
            try (ZkSessionPool a = pool(
                            "r21g-35",
                            old.connectString(),
                            6,
                            HostsConfig.builder().rebalance(INTERVAL).build(),
                            events);
                    ZkSessionPool n = pool(
                            "r21g-35off",
                            old.connectString(),
                            3,
                            HostsConfig.builder().noRebalance().build(),
                            events)) {
                ZkSessionPool[] all = {a, n};
                a.lease().close();
                n.lease().close();
                await("all connected").atMost(Duration.ofSeconds(30)).until(() -> allConnected(all));
                Map<Integer, Long> idsA = ids(a);
                ServerProcess leader = old.leader();
                leader.kill9();
                await("off the old leader")
                        .atMost(Duration.ofSeconds(40))
                        .until(() -> allConnected(all) && spread(old, all).get(leader.address()) == 0);
                leader.restart();
                leader.awaitServing(Duration.ofSeconds(60));
                old.awaitQuorum(Duration.ofSeconds(60));
                long t0 = System.nanoTime();
                String why = "";
                try {
                    await().atMost(Duration.ofSeconds(30)).until(() -> {
                        if (!allConnected(a)) {
                            return false;
                        }
                        Map<String, Integer> sp = spread(old, a);
                        return java.util.Collections.max(sp.values()) - java.util.Collections.min(sp.values()) <= 1;
                    });
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    why = " NOT EVEN within 30 s";
                }
                long evened = System.nanoTime() - t0;
                List<String> noOps = log.lines().stream()
                        .filter(l -> l.contains("r21g-35")
                                && (l.contains("a transaction that changes nothing")
                                        || l.contains("behind what the sessions")))
                        .map(l -> l.substring(l.indexOf("r21g-35")))
                        .map(l -> l.length() > 200 ? l.substring(0, 200) : l)
                        .toList();
                print("FIGURES r21g-11 3.5.10: " + ms(evened) + " ms after the old leader served: " + spread(old, a)
                        + why + "; off " + spread(old, n) + "; moves " + moves("r21g-35") + "/" + moves("r21g-35off")
                        + "; no-op and behind lines " + noOps.size() + " "
                        + noOps.stream().limit(4).toList()
                        + "; lost " + lost(events));
                assertThat(why).isEmpty();
                assertThat(ids(a)).isEqualTo(idsA);
                assertThat(moves("r21g-35off")).isZero();
                assertThat(noOps).noneMatch(l -> l.startsWith("r21g-35off"));
                assertThat(lost(events)).isEmpty();
            }
        }
    }

    // ---------------------------------------------------------------- 12. repairs racing a failover

    /**
     * Budget 4 (8 slots with a member down), pools of 2 (1:1:1), 2 (2:1:1) and 3 (1:2:1) sessions with ephemerals built
     * at once from three threads; member 1 killed (-9) as soon as they are connected, restarted once every session is
     * on the two others. Must hold: cons never above 4; once settled no move in 6 s; each pool within one session per
     * server of its weighted share; ids and ephemerals kept; nothing lost.
     */
    @Test
    @Order(12)
    void repairsRacingAFailoverSettleWithinOneOfEachShare() throws Exception {
        List<ServerProcess> s = ensemble.servers();
        int[][] w = {{1, 1, 1}, {2, 1, 1}, {1, 2, 1}};
        int[] n = {2, 2, 3};
        String[] names = {"r21g-fa", "r21g-fb", "r21g-fc"};
        Queue<String> events = new ConcurrentLinkedQueue<>();
        ZkSessionPool[] pools = new ZkSessionPool[3];
        java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newFixedThreadPool(3);
        try (Review21dAdversarialIT.Sampler sampler = new Review21dAdversarialIT.Sampler(ensemble, 4)) {
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<List<ZkLease>>> fs = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                int kk = k;
                fs.add(ex.submit(() -> {
                    go.await();
                    HostsConfig.Builder hb =
                            HostsConfig.builder().rebalance(INTERVAL).perServerConnectionBudget(4);
                    for (int i = 0; i < 3; i++) {
                        hb.weight(s.get(i).address(), w[kk][i]);
                    }
                    pools[kk] = pool(names[kk], n[kk], hb.build(), events);
                    return leasesWithEphemerals(pools[kk], n[kk], "/r21g/r");
                }));
            }
            go.countDown();
            List<ZkLease> leases = new ArrayList<>();
            for (var f : fs) {
                leases.addAll(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
            }
            List<Map<Integer, Long>> idsBefore = List.of(ids(pools[0]), ids(pools[1]), ids(pools[2]));
            String placed = perPools(pools, names);
            ServerProcess one = s.get(0);
            one.kill9();
            await("all on 2 and 3")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> allConnected(pools) && spread(ensemble, pools).get(one.address()) == 0);
            String failedOver = perPools(pools, names);
            one.restart();
            long[] last = {-1, System.nanoTime()};
            long t0 = System.nanoTime();
            await("settled")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        long m = 0;
                        for (String nm : names) {
                            m += moves(nm);
                        }
                        if (m != last[0] || !allConnected(pools)) {
                            last[0] = m;
                            last[1] = System.nanoTime();
                            return false;
                        }
                        return System.nanoTime() - last[1] > 3_000_000_000L;
                    });
            String settled = perPools(pools, names);
            long m0 = last[0];
            await().pollDelay(Duration.ofSeconds(6))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> true);
            long m1 = 0;
            for (String nm : names) {
                m1 += moves(nm);
            }
            sampler.close();
            List<String> failures = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                int sum = w[k][0] + w[k][1] + w[k][2];
                for (int i = 0; i < 3; i++) {
                    double share = (double) n[k] * w[k][i] / sum;
                    int c = countOn(pools[k], s.get(i).address());
                    if (Math.abs(c - share) > 1.0 + 1e-9) {
                        failures.add(names[k] + " has " + c + " on member " + (i + 1) + " (share " + share + ")");
                    }
                }
            }
            print("FIGURES r21g-12 placed " + placed + "; failed over " + failedOver + "; settled "
                    + ms(last[1] - t0) + " ms after the restart with " + m0 + " moves: " + settled
                    + "; moves in 6 s after "
                    + (m1 - m0) + "; cons max " + sampler.max + ", over budget " + sampler.overBudget.size()
                    + "; lost " + lost(events) + "; " + failures);
            assertThat(lost(events)).isEmpty();
            assertThat(List.of(ids(pools[0]), ids(pools[1]), ids(pools[2]))).isEqualTo(idsBefore);
            ephemeralsOwned(leases.get(0), leases, "/r21g/r");
            assertThat(sampler.overBudget).isEmpty();
            assertThat(m1 - m0).as("moves once settled").isZero();
            assertThat(failures).isEmpty();
            leases.forEach(ZkLease::close);
        } finally {
            ex.shutdownNow();
            for (ZkSessionPool p : pools) {
                if (p != null) {
                    p.close();
                }
            }
        }
    }
}
