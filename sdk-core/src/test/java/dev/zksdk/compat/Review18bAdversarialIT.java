package dev.zksdk.compat;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EphemeralNode;
import dev.zksdk.SessionState;
import dev.zksdk.WatchEvent;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.ZkUnsupportedException;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 18, second round (mixed-version ensembles): a rollback of one member from 3.8 to 3.5 under a pool
 * that learnt 3.8 (persistent watches, a tree watch, a cache, a mutex and a leader latch on the lease), and a member
 * that is silent (SIGSTOP) while a 3.6 pool checks versions and comes back on 3.5 (a rollback while down).
 */
class Review18bAdversarialIT {

    static final byte[] V = "v".getBytes(UTF_8);

    static String unique(String name) {
        return "/" + name + "-" + System.nanoTime();
    }

    static void awaitAll(ProcessEnsemble ens) {
        for (ServerProcess s : ens.servers()) {
            if (s.isAlive() && !s.isSuspended()) {
                s.awaitServing(Duration.ofSeconds(60));
            }
        }
        ens.awaitQuorum(Duration.ofSeconds(60));
    }

    /** Lines of one member's log saying it got a request it does not know. */
    static List<String> unknown(ServerProcess member) {
        try {
            return java.nio.file.Files.readAllLines(member.logFile(), java.nio.charset.StandardCharsets.ISO_8859_1)
                    .stream()
                    .filter(l -> l.contains(ServerLogs.UNKNOWN))
                    .map(l -> l.substring(l.indexOf(ServerLogs.UNKNOWN)))
                    .toList();
        } catch (java.io.IOException e) {
            return List.of(e.toString());
        }
    }

    static Set<String> sessionServers(ZkSessionPool p) {
        return p.stats().connectionsPerServer().keySet();
    }

    static long count(List<WatchEvent> seen, WatchEvent.Type type) {
        return seen.stream().filter(e -> e.type() == type).count();
    }

    static void pause(Duration d) {
        long until = System.nanoTime() + d.toNanos();
        await().pollInterval(Duration.ofMillis(50)).atMost(d.plusSeconds(5)).until(() -> System.nanoTime() > until);
    }

    /** Writes every ~200 ms for {@code d}; returns the failures seen. */
    static List<String> writeFor(ZkLease lease, String path, Duration d) {
        return writeFor(lease, path, d, null, null);
    }

    /** As above, noting the servers the pool's sessions were on between writes. */
    static List<String> writeFor(ZkLease lease, String path, Duration d, ZkSessionPool p, Set<String> on) {
        List<String> failures = new ArrayList<>();
        long until = System.nanoTime() + d.toNanos();
        int i = 0;
        while (System.nanoTime() < until) {
            try {
                lease.setDataAsync(path, ("w" + i++).getBytes(UTF_8), -1).get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                Throwable c = e.getCause() == null ? e : e.getCause();
                failures.add(c.getClass().getSimpleName());
            }
            if (p != null) {
                on.addAll(sessionServers(p));
            }
            pause(Duration.ofMillis(200));
        }
        return failures;
    }

    /**
     * 3.8.4 x3 (3.9.3 has no jar list in ServerJars; 3.8 has every 3.6+ feature in play); a pool preferring follower B learns 3.8 and sets up, on one lease: an ephemeral with missing parents,
     * a persistent watch, a tree watch, a cache, an InterProcessMutex held and a LeaderLatch. Then B is rolled back to
     * 3.5.10 (same zoo.cfg and data), and the member the session fell back to is killed -9 so that the session goes
     * back to B. Promise (issue 18): nothing a server lacks turns into reconnects; no member sees an unknown request
     * twice from one pool (the reconnect's SetWatches2, which the pool learns from, once); every ephemeral stays owned
     * by a live session.
     */
    @Test
    void rollbackOfA38MemberTo35UnderPersistentWatchesAndRecipes() throws Exception {
        try (ProcessEnsemble ens = ProcessEnsemble.builder()
                .serverVersion("3.8.4")
                .size(3)
                .extraConfig("snapshot.trust.empty=true")
                .start()) {
            ServerProcess leader = ens.leader();
            ServerProcess b =
                    ens.servers().stream().filter(s -> s != leader).findFirst().orElseThrow();
            // The session is on B; while B restarts it falls back to the other follower F (not the leader), so that
            // killing F sends it back to B without an election.
            ServerProcess f = ens.servers().stream()
                    .filter(s -> s != leader && s != b)
                    .findFirst()
                    .orElseThrow();
            String base = unique("r18b-rb");
            Recorder events = new Recorder();
            List<WatchEvent> seen = new CopyOnWriteArrayList<>();
            List<WatchEvent> tree = new CopyOnWriteArrayList<>();
            try (ZkSessionPool p = ZkSessionPool.builder()
                            .name("r18b-rollback")
                            .connectString(ens.connectString())
                            .sessionsPerEnsemble(1)
                            .sessionTimeout(Duration.ofSeconds(20))
                            .connectionTimeout(Duration.ofSeconds(10))
                            .hosts(HostsConfig.builder()
                                    .weight(b.address(), 100)
                                    .weight(f.address(), 1)
                                    .weight(leader.address(), 0)
                                    .build())
                            .listener(events)
                            .build();
                    ZkLease lease = p.lease();
                    EphemeralNode eph = lease.ephemeral(base + "/a/b/eph", V)) {
                String startedOn = String.valueOf(sessionServers(p));
                long session = lease.sessionId();
                lease.create(base + "/t", V, CreateMode.PERSISTENT);
                Recorder plainEvents = new Recorder();
                ZkSessionPool plain = ZkSessionPool.builder()
                        .name("r18b-rollback-plain")
                        .connectString(ens.connectString())
                        .sessionsPerEnsemble(1)
                        .sessionTimeout(Duration.ofSeconds(20))
                        .connectionTimeout(Duration.ofSeconds(10))
                        .listener(plainEvents)
                        .build();
                ZkLease plainLease = plain.lease();
                WatchHandle plainWatch = plainLease.watch(base, e -> {});
                InterProcessMutex mutex = new InterProcessMutex(lease.curator(), base + "/lock");
                assertThat(mutex.acquire(10, TimeUnit.SECONDS)).isTrue();
                try (WatchHandle w = lease.watch(base, seen::add);
                        WatchHandle tw = lease.watchTree(base + "/t", tree::add);
                        ZkCache cache = lease.cache(base);
                        LeaderLatch latch = new LeaderLatch(lease.curator(), base + "/latch")) {
                    latch.start();
                    assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
                    lease.setData(base, "0".getBytes(UTF_8), -1);
                    await().atMost(Duration.ofSeconds(10)).until(() -> count(seen, WatchEvent.Type.DATA_CHANGED) >= 1);

                    // Rollback of B to 3.5.10.
                    int suspended0 = events.callbacks(SessionState.SUSPENDED).size();
                    ens.upgrade(b.id(), "3.5.10");
                    String bStart = "ok";
                    try {
                        awaitAll(ens);
                    } catch (RuntimeException e) {
                        bStart = e.getMessage() + "\n" + b.logTail(15);
                    }
                    assertThat(bStart).as("B back on 3.5.10 over 3.8 data").isEqualTo("ok");
                    assertThat(b.fourLetter("srvr")).contains("Zookeeper version: 3.5.10");
                    List<String> failures = new ArrayList<>(writeFor(lease, base, Duration.ofSeconds(2)));
                    String after1 = String.valueOf(sessionServers(p));
                    // Send the session back to B: kill the member it fell back to; if it lands on the third one,
                    // bring the killed one back and kill that one (at most 4 moves; quorum kept every time).
                    ServerProcess other = null;
                    List<String> moves = new ArrayList<>();
                    for (int attempt = 0; attempt < 4; attempt++) {
                        ServerProcess cur = ens.servers().stream()
                                .filter(s -> s != b
                                        && s.isAlive()
                                        && sessionServers(p).contains(s.address()))
                                .findFirst()
                                .orElse(null);
                        if (cur == null) {
                            break;
                        }
                        if (other != null) {
                            other.restart();
                            other.awaitServing(Duration.ofSeconds(60));
                            ens.awaitQuorum(Duration.ofSeconds(60));
                        }
                        cur.kill9();
                        moves.add(cur.address());
                        other = cur;
                        ens.awaitQuorum(Duration.ofSeconds(60));
                        try {
                            await().atMost(Duration.ofSeconds(10))
                                    .ignoreExceptions()
                                    .until(() -> !sessionServers(p).isEmpty()
                                            && lease.existsAsync("/").get(2, TimeUnit.SECONDS) != null);
                        } catch (org.awaitility.core.ConditionTimeoutException e) {
                            moves.add("(no read succeeded within 10 s after this kill)");
                            break;
                        }
                    }
                    long t1 = System.nanoTime();
                    int plain1 = plainEvents.callbacks(SessionState.SUSPENDED).size();
                    int suspended1 = events.callbacks(SessionState.SUSPENDED).size();
                    int reconnected1 =
                            events.callbacks(SessionState.RECONNECTED).size();
                    long changes1 = count(seen, WatchEvent.Type.DATA_CHANGED);
                    // Eight seconds of ordinary work: writes (seen by the watch), a new watch, a tree change.
                    Set<String> visited = new java.util.concurrent.ConcurrentSkipListSet<>();
                    failures.addAll(writeFor(lease, base, Duration.ofSeconds(4), p, visited));
                    List<String> unknownB = unknown(b);
                    List<WatchEvent> seen2 = new CopyOnWriteArrayList<>();
                    String newWatch = "ok";
                    java.util.concurrent.CompletableFuture<WatchHandle> w2 =
                            java.util.concurrent.CompletableFuture.supplyAsync(
                                    () -> lease.watch(base + "/a", seen2::add));
                    try {
                        w2.get(3, TimeUnit.SECONDS).close();
                    } catch (Exception e) {
                        newWatch = "not registered within 3 s: " + (e.getCause() == null ? e : e.getCause());
                    }
                    String treeChange = "ok";
                    try {
                        long t0 = count(tree, WatchEvent.Type.CREATED);
                        lease.createAsync(base + "/t/c", V, CreateMode.PERSISTENT)
                                .get(3, TimeUnit.SECONDS);
                        await().atMost(Duration.ofSeconds(3)).until(() -> count(tree, WatchEvent.Type.CREATED) > t0);
                    } catch (Exception | AssertionError e) {
                        treeChange = e.toString();
                    }
                    String at = String.valueOf(sessionServers(p));
                    int suspendedEnd = events.callbacks(SessionState.SUSPENDED).size();
                    int plainEnd = plainEvents.callbacks(SessionState.SUSPENDED).size();
                    long observedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1);
                    System.out.printf(
                            "Review18b rollback: B=%s, moves %s, pool SUSPENDED %d in %d ms, default-hosts pool %d (on"
                                    + " %s), unknown on B %d%n",
                            b.address(),
                            moves,
                            suspendedEnd - suspended1,
                            observedMs,
                            plainEnd - plain1,
                            sessionServers(plain),
                            unknownB.size());

                    SoftAssertions soft = new SoftAssertions();
                    soft.assertThat(visited.contains(b.address()) || !unknownB.isEmpty())
                            .as("(scenario reached) the session went to the rolled-back member B; seen on %s", visited)
                            .isTrue();
                    // Each pool learns from the one SetWatches2 (105) B closes its session's reconnect on (nothing
                    // tells a pool earlier: members are not asked srvr); two pools hold persistent watches here.
                    soft.assertThat(unknownB)
                            .as(
                                    "requests the 3.5 member B (%s) did not know (distinct: %s); session started on %s,"
                                            + " after rollback on %s, killed %s, now on %s: at most one SetWatches2 per"
                                            + " pool",
                                    b.address(), new java.util.TreeSet<>(unknownB), startedOn, after1, moves, at)
                            .hasSizeLessThanOrEqualTo(2)
                            .allMatch(l -> l.equals(ServerLogs.UNKNOWN + " 105"));
                    soft.assertThat(suspendedEnd - suspended1)
                            .as(
                                    "SUSPENDED in the %d ms after the session could go back to B (rollback itself: %d)",
                                    observedMs, suspended1 - suspended0)
                            .isLessThanOrEqualTo(1);
                    soft.assertThat(plainEnd - plain1)
                            .as(
                                    "SUSPENDED of a second pool (default hosts, one persistent watch) in the same %d ms,"
                                            + " now on %s (rollback itself: %d)",
                                    observedMs, sessionServers(plain), plain1)
                            .isLessThanOrEqualTo(1);
                    soft.assertThat(events.callbacks(SessionState.RECONNECTED).size() - reconnected1)
                            .as("RECONNECTED after the kill")
                            .isLessThanOrEqualTo(1);
                    soft.assertThat(failures).as("writes during the rollback").isEmpty();
                    soft.assertThat(count(seen, WatchEvent.Type.DATA_CHANGED) - changes1)
                            .as("changes seen by the old watch after the session moved")
                            .isPositive();
                    soft.assertThat(newWatch)
                            .as("a new watch after the rollback")
                            .isEqualTo("ok");
                    soft.assertThat(treeChange)
                            .as("the tree watch after the rollback")
                            .isEqualTo("ok");
                    soft.assertThat(events.callbacks(SessionState.LOST)).isEmpty();
                    String ephOwner;
                    try {
                        Stat s = lease.existsAsync(base + "/a/b/eph").get(3, TimeUnit.SECONDS);
                        ephOwner = s == null ? "missing" : (s.getEphemeralOwner() == session ? "ok" : "other owner");
                    } catch (Exception e) {
                        ephOwner = "unreadable: " + (e.getCause() == null ? e : e.getCause());
                    }
                    soft.assertThat(ephOwner)
                            .as("ephemeral owned by the lease's session")
                            .isEqualTo("ok");
                    soft.assertThat(lease.sessionId()).as("same session").isEqualTo(session);
                    soft.assertThat(eph.isPresent()).isTrue();
                    soft.assertThat(latch.hasLeadership()).as("leader latch").isTrue();
                    // Stop the 3.5 member so that closing is not slowed by a loop (the 3.8 members keep quorum).
                    if (other != null) {
                        other.restart();
                        other.awaitServing(Duration.ofSeconds(60));
                    }
                    b.kill9();
                    ens.awaitQuorum(Duration.ofSeconds(60));
                    plainWatch.close();
                    plainLease.close();
                    plain.close();
                    soft.assertAll();
                } finally {
                    try {
                        mutex.release();
                    } catch (Exception ignored) {
                        // reported by the assertions above
                    }
                }
            }
        }
    }

    /**
     * 3.6.4 x3; follower C is SIGSTOPped (its port accepts, nothing answers) while a pool is built and used: the pool
     * must not wait on it per request. C is then killed and comes back on 3.5.10 (a rollback while down): the pool,
     * which did not know C, must learn 3.5 (no tree watch, no persistent watch), and a session moved onto C must see
     * no unknown request and no reconnect loop; watches and ephemerals made while C was silent keep working.
     */
    @Test
    @Disabled("issue 18, open: a pool on a 3.6+ ensemble asks no member its version (no srvr traffic there), so it"
            + " learns that C came back on 3.5 only when C closes a reconnect's SetWatches2; in one run that came after"
            + " A was killed, and a tree watch made once C served on 3.5 was still accepted (asserted refused); in"
            + " another the pool learnt it earlier and the tree watch was refused, but one setData failed with"
            + " ZkConnectionLossException (asserted none). The unknown request and reconnect counts hold with the"
            + " README's documented cost (one 105 on C, one more SUSPENDED/RECONNECTED)")
    void memberSilentDuringTheVersionCheckComesBackOn35() throws Exception {
        try (ProcessEnsemble ens = ProcessEnsemble.builder()
                .serverVersion("3.6.4")
                .size(3)
                .extraConfig("snapshot.trust.empty=true")
                .start()) {
            ServerProcess leader = ens.leader();
            List<ServerProcess> followers =
                    ens.servers().stream().filter(s -> s != leader).toList();
            ServerProcess a = followers.get(0);
            ServerProcess c = followers.get(1);
            c.sigstop();
            String base = unique("r18b-silent");
            Recorder events = new Recorder();
            List<WatchEvent> seen = new CopyOnWriteArrayList<>();
            long t0 = System.nanoTime();
            try (ZkSessionPool p = ZkSessionPool.builder()
                            .name("r18b-silent")
                            .connectString(ens.connectString())
                            .sessionsPerEnsemble(1)
                            .sessionTimeout(Duration.ofSeconds(20))
                            .connectionTimeout(Duration.ofSeconds(10))
                            .hosts(HostsConfig.builder()
                                    .weight(a.address(), 100)
                                    .weight(c.address(), 1)
                                    .weight(leader.address(), 0)
                                    .build())
                            .listener(events)
                            .build();
                    ZkLease lease = p.lease()) {
                lease.create(base, V, CreateMode.PERSISTENT);
                long firstMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                // Latency of reads while C stays silent.
                long[] lat = new long[25];
                for (int i = 0; i < lat.length; i++) {
                    long s = System.nanoTime();
                    lease.getData(base);
                    lat[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - s);
                    pause(Duration.ofMillis(100));
                }
                long slow = Arrays.stream(lat).filter(l -> l >= 500).count();
                String treeWhileSilent;
                try (WatchHandle tw = lease.watchTree(base, e -> {})) {
                    treeWhileSilent = "accepted";
                } catch (ZkUnsupportedException e) {
                    treeWhileSilent = "refused: " + e.getMessage();
                }
                try (EphemeralNode eph = lease.ephemeral(base + "/x/y/eph", V);
                        WatchHandle w1 = lease.watch(base, seen::add)) {
                    long session = lease.sessionId();
                    // C is killed and comes back on 3.5.10.
                    c.kill9();
                    ens.upgrade(c.id(), "3.5.10");
                    c.awaitServing(Duration.ofSeconds(60));
                    ens.awaitQuorum(Duration.ofSeconds(60));
                    List<String> failures = new ArrayList<>(writeFor(lease, base, Duration.ofSeconds(3)));
                    String treeAfter;
                    try (WatchHandle tw = lease.watchTree(base, e -> {})) {
                        treeAfter = "accepted";
                    } catch (ZkUnsupportedException e) {
                        treeAfter = "refused: " + e.getMessage();
                    }
                    List<WatchEvent> seen2 = new CopyOnWriteArrayList<>();
                    try (WatchHandle w2 = lease.watch(base, seen2::add)) {
                        // Move the session onto C: kill the member it is on (A, preferred), keep quorum with C.
                        String before = String.valueOf(sessionServers(p));
                        int suspended0 =
                                events.callbacks(SessionState.SUSPENDED).size();
                        int reconnected0 =
                                events.callbacks(SessionState.RECONNECTED).size();
                        a.kill9();
                        ens.awaitQuorum(Duration.ofSeconds(60));
                        failures.addAll(writeFor(lease, base, Duration.ofSeconds(5)));
                        String now = String.valueOf(sessionServers(p));
                        long c1 = count(seen, WatchEvent.Type.DATA_CHANGED);
                        long c2 = count(seen2, WatchEvent.Type.DATA_CHANGED);
                        lease.setData(base, "last".getBytes(UTF_8), -1);
                        boolean both = true;
                        try {
                            await().atMost(Duration.ofSeconds(10))
                                    .until(() -> count(seen, WatchEvent.Type.DATA_CHANGED) > c1
                                            && count(seen2, WatchEvent.Type.DATA_CHANGED) > c2);
                        } catch (RuntimeException e) {
                            both = false;
                        }
                        System.out.printf(
                                "Review18b silent member: build+first create %d ms, read latencies %s ms, watchTree"
                                        + " while silent: %s, after C on 3.5: %s, session %s -> %s%n",
                                firstMs, Arrays.toString(lat), treeWhileSilent, treeAfter, before, now);
                        SoftAssertions soft = new SoftAssertions();
                        soft.assertThat(firstMs)
                                .as("build + first create with C silent (ms)")
                                .isLessThan(8000);
                        soft.assertThat(slow)
                                .as("reads taking >= 500 ms while C was silent: %s", Arrays.toString(lat))
                                .isLessThanOrEqualTo(1);
                        soft.assertThat(treeAfter)
                                .as("watchTree once C answers 3.5.10 (while silent: %s)", treeWhileSilent)
                                .startsWith("refused");
                        soft.assertThat(now)
                                .as("(scenario reached) the session moved onto C")
                                .contains(c.address());
                        // The README's documented cost of a pre-3.6 member met after the pool learnt 3.6+: one
                        // dropped connection per pool on the first such server (its SetWatches2, 105), so one
                        // SUSPENDED/RECONNECTED more than the move off A itself.
                        soft.assertThat(unknown(c))
                                .as(
                                        "requests the 3.5 member C (%s) did not know; session on %s before killing A,"
                                                + " %s after",
                                        c.address(), before, now)
                                .hasSizeLessThanOrEqualTo(1)
                                .allMatch(l -> l.endsWith(" 105"));
                        soft.assertThat(events.callbacks(SessionState.SUSPENDED).size() - suspended0)
                                .as("SUSPENDED after killing A: %s", events.states())
                                .isLessThanOrEqualTo(2);
                        soft.assertThat(events.callbacks(SessionState.RECONNECTED)
                                                .size()
                                        - reconnected0)
                                .as("RECONNECTED after killing A")
                                .isLessThanOrEqualTo(2);
                        soft.assertThat(failures).as("writes").isEmpty();
                        soft.assertThat(both)
                                .as("both watches (made while C was silent / after) see the last change")
                                .isTrue();
                        Stat s = lease.exists(base + "/x/y/eph");
                        soft.assertThat(s).as("ephemeral").isNotNull();
                        if (s != null) {
                            soft.assertThat(s.getEphemeralOwner()).isEqualTo(lease.sessionId());
                        }
                        soft.assertThat(lease.sessionId()).isEqualTo(session);
                        soft.assertThat(eph.isPresent()).isTrue();
                        soft.assertThat(events.callbacks(SessionState.LOST)).isEmpty();
                        soft.assertAll();
                    }
                }
            } finally {
                if (c.isSuspended()) {
                    c.sigcont();
                }
            }
        }
    }
}
