package dev.zksdk.samples;

import dev.zksdk.PoolStats;
import dev.zksdk.ZkException;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.ZkProxy;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * One chaos soak: pools with many clients under faults picked at random from a seed, checked at a quiet point after
 * every burst of faults (see {@link SoakCommand} for what is checked and how it is reported).
 *
 * <p>The injector runs bursts: it waits a random gap, starts one fault, sometimes starts a second one of another
 * category while the first lasts (a kill and a freeze, a freeze and an expiry, ...), waits until both ended, then
 * audits: pauses the gated clients, waits for every session to be connected, checks the write histories, waits until
 * ephemerals, watches and caches agree with the server, samples threads, sessions and heap, and lets the clients go
 * on. Everything after a fault ends must converge within {@link Settings#recoveryBound()}.
 *
 * <p>Randomness comes from the seed alone (fault choice, durations, gaps, every client's choices); timing still varies
 * from run to run, so two runs with one seed inject the same faults in the same order but not the same histories.
 */
final class Soak {

    /**
     * The soak's timing.
     *
     * @param sessionTimeout the pools' session timeout; freezes and pauses are sized from it
     * @param recoveryBound how long after the last fault of a burst ended everything must have converged
     * @param gapMin shortest quiet time between bursts
     * @param gapMax longest quiet time between bursts
     * @param warmUp how long before the growth figures count
     */
    record Settings(
            Duration sessionTimeout, Duration recoveryBound, Duration gapMin, Duration gapMax, Duration warmUp) {

        static final Settings DEFAULT = new Settings(
                Duration.ofSeconds(4),
                Duration.ofSeconds(30),
                Duration.ofSeconds(1),
                Duration.ofSeconds(4),
                Duration.ofSeconds(20));
    }

    /** Test seam: called just before every audit, with the gated clients paused. */
    interface Hooks {
        default void beforeAudit(SoakWorkload workload) {}
    }

    static final Hooks NO_HOOKS = new Hooks() {};

    /** Pools and their session counts: two pools, so the histories mix sessions of separate clients. */
    static final List<Integer> POOL_SESSIONS = List.of(2, 1);
    /** Threads may come and go (a reconnect, a fault's helper); more than this many extra after warm-up is growth. */
    static final int THREAD_SLACK = 10;
    /** Growth samples after warm-up needed to judge growth: a third of them at each end. */
    static final int GROWTH_SAMPLES = 3;
    /** How often an audit also samples threads, sessions and heap (the last audit always does). */
    static final Duration GROWTH_EVERY = Duration.ofMinutes(1);
    /**
     * How long a growth sample waits, with every client paused, before counting: the pools' executors end idle threads
     * after a couple of seconds, and a burst of callbacks just before would otherwise count as growth.
     */
    static final Duration SETTLE = Duration.ofSeconds(3);
    /** Heap after GC may grow by this share of the warm-up figure, plus {@link #HEAP_SLACK_BYTES}, before it counts. */
    static final double HEAP_GROWTH = 0.5;

    static final long HEAP_SLACK_BYTES = 32L << 20;
    /** How long the pools' threads get to end after close. */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(15);

    /** The slowest the lagging member's quorum link is made, each way; see {@link ProcessSoakServers#SYNC_LIMIT}. */
    static final Duration MAX_QUORUM_LATENCY = Duration.ofMillis(800);

    private static final Duration RESTART_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration RECONFIG_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration POLL = Duration.ofMillis(200);

    private final Duration duration;
    private final long seed;
    private final Settings settings;
    private final SoakServers servers;
    private final String chroot;
    private final SoakRecorder recorder;
    private final Hooks hooks;
    private final Random random;
    private final List<ZkSessionPool> pools = new ArrayList<>();
    private final List<SessionTracker> trackers = new ArrayList<>();
    /** One client proxy in front of each member, in member order: the pools connect through them. */
    private final List<ZkProxy> proxies = new ArrayList<>();

    private SoakWorkload workload;
    private long lastGrowthSample = System.nanoTime();
    private Set<String> threadNamesBefore;

    Soak(
            Duration duration,
            long seed,
            Settings settings,
            SoakServers servers,
            String chroot,
            SoakRecorder recorder,
            Hooks hooks) {
        this.duration = duration;
        this.seed = seed;
        this.settings = settings;
        this.servers = servers;
        this.chroot = chroot;
        this.recorder = recorder;
        this.hooks = hooks;
        this.random = new Random(seed);
    }

    /** Runs the soak to its end; the violations are in the recorder. */
    void run() throws Exception {
        threadNamesBefore = clientThreads();
        List<ChaosFault> possible = ChaosFault.possibleWith(servers.capabilities());
        recorder.say(
                "ensemble (%s): %s; faults picked from: %s",
                servers.kind(),
                servers.describe(),
                possible.stream().map(ChaosFault::title).collect(Collectors.joining(", ")));
        if (reconfigures()) {
            recorder.say("reconfig mode: members are removed from the ensemble's configuration and added back; no"
                    + " member's quorum link is proxied, so slow-quorum-link is not drawn; the pools keep the client"
                    + " proxies as their connect string (followEnsembleChanges off: following is covered by"
                    + " sdk-core's EnsembleChangeIT)");
        }
        try {
            for (String member : servers.members()) {
                proxies.add(ZkProxy.to(member));
            }
            String connectString = proxies.stream().map(ZkProxy::connectString).collect(Collectors.joining(","))
                    + (chroot == null ? "" : chroot);
            for (int p = 0; p < POOL_SESSIONS.size(); p++) {
                String name = "soak-pool-" + p;
                SessionTracker tracker = new SessionTracker(name, POOL_SESSIONS.get(p), recorder);
                trackers.add(tracker);
                pools.add(ZkSessionPool.builder()
                        .name(name)
                        .connectString(connectString)
                        .sessionTimeout(settings.sessionTimeout())
                        .connectionTimeout(settings.sessionTimeout())
                        .sessionsPerEnsemble(POOL_SESSIONS.get(p))
                        // Following would replace the proxies with the members' own addresses, out of the faults'
                        // reach.
                        .followEnsembleChanges(!reconfigures())
                        .listener(tracker)
                        .build());
            }
            String base = String.format(Locale.ROOT, "/zksdk-soak-%x-%x", seed, System.nanoTime() & 0xffffff);
            awaitFirstSessions();
            workload = new SoakWorkload(pools, trackers, base, seed, recorder, settings.sessionTimeout());
            workload.start();
            recorder.say(
                    "%d pools (%s sessions), clients running under %s: %d register clients on %d registers, %d ledger"
                            + " writers, 1 ephemeral churner (up to %d live), %d watches and %d caches, %d children"
                            + " watches and %d tree caches, %d lock contenders, %d leader candidates",
                    pools.size(),
                    POOL_SESSIONS.stream().map(String::valueOf).collect(Collectors.joining("+")),
                    base,
                    SoakWorkload.REGISTER_CLIENTS,
                    SoakWorkload.REGISTERS,
                    SoakWorkload.LEDGER_WRITERS,
                    SoakWorkload.MAX_EPHEMERALS,
                    SoakWorkload.LEDGER_WRITERS * pools.size(),
                    SoakWorkload.LEDGER_WRITERS * pools.size(),
                    pools.size(),
                    pools.size(),
                    SoakWorkload.CONTENDERS,
                    SoakWorkload.CONTENDERS);
            injectUntilTheEnd(possible);
            recorder.say("faults over; final audit");
            audit(System.nanoTime(), true);
            judgeGrowth();
            workload.stop();
            workload.cleanUp();
        } finally {
            for (ZkSessionPool pool : pools) {
                pool.close();
            }
            proxies.forEach(ZkProxy::close);
        }
        checkNothingLeftAfterClose();
    }

    /** Whether this soak removes and adds members (then its pools do not follow the ensemble's configuration). */
    private boolean reconfigures() {
        return servers.capabilities().contains(SoakServers.Capability.RECONFIG);
    }

    /**
     * Waits, up to the recovery bound, for each pool's first session: on a loaded machine a fresh ensemble's first
     * connection can take longer than the connection timeout, after which a lease fails fast until one connects.
     *
     * @throws ZkException the last lease's failure, when a pool has no session by then
     */
    private void awaitFirstSessions() throws InterruptedException {
        long deadline = System.nanoTime() + settings.recoveryBound().toNanos();
        for (ZkSessionPool pool : pools) {
            while (true) {
                try (ZkLease lease = pool.lease()) {
                    break;
                } catch (ZkException e) {
                    if (System.nanoTime() - deadline > 0) {
                        throw e;
                    }
                    sleep(POLL);
                }
            }
        }
    }

    // ---------------------------------------------------------------- faults

    private void injectUntilTheEnd(List<ChaosFault> possible) throws Exception {
        long end = System.nanoTime() + duration.toNanos();
        ExecutorService lanes = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "soak-fault");
            t.setDaemon(true);
            return t;
        });
        try {
            while (true) {
                sleep(between(settings.gapMin(), settings.gapMax()));
                if (System.nanoTime() - end > 0) {
                    return;
                }
                ChaosFault first = possible.get(random.nextInt(possible.size()));
                Duration firstLength = length(first);
                List<ChaosFault> others = possible.stream()
                        .filter(f -> f.category() != first.category())
                        .toList();
                ChaosFault second = null;
                Duration secondDelay = Duration.ZERO;
                if (!others.isEmpty() && random.nextInt(3) == 0) {
                    second = others.get(random.nextInt(others.size()));
                    secondDelay = between(Duration.ZERO, firstLength);
                }
                Duration secondLength = second == null ? Duration.ZERO : length(second);
                int target = random.nextInt(servers.members().size());
                int pool = random.nextInt(pools.size());
                Future<?> a = lanes.submit(() -> inject(first, firstLength, target, pool));
                Future<?> b = null;
                if (second != null) {
                    sleep(secondDelay);
                    ChaosFault s = second;
                    b = lanes.submit(() -> inject(s, secondLength, target, pool));
                }
                a.get();
                if (b != null) {
                    b.get();
                }
                audit(System.nanoTime(), false);
            }
        } finally {
            lanes.shutdownNow();
        }
    }

    /** How long a fault lasts: around, below or above the session timeout as its kind says. */
    private Duration length(ChaosFault fault) {
        Duration st = settings.sessionTimeout();
        return switch (fault) {
            case KILL_LEADER, KILL_FOLLOWER, RECONFIG_LEADER, RECONFIG_FOLLOWER ->
                between(st.dividedBy(4), st.multipliedBy(2));
            case PAUSE_LEADER, PAUSE_FOLLOWER ->
                random.nextBoolean()
                        ? between(st.dividedBy(4), st.multipliedBy(3).dividedBy(5))
                        : between(st.multipliedBy(3).dividedBy(2), st.multipliedBy(2));
            case FREEZE_ONE ->
                switch (random.nextInt(3)) {
                    // The client's read timeout is two thirds of the session timeout: below it, between it and the
                    // session timeout, above the session timeout.
                    case 0 -> between(st.dividedBy(4), st.multipliedBy(3).dividedBy(5));
                    case 1 ->
                        between(
                                st.multipliedBy(3).dividedBy(4),
                                st.multipliedBy(9).dividedBy(10));
                    default -> between(st.multipliedBy(3).dividedBy(2), st.multipliedBy(2));
                };
            case SLOW_QUORUM_LINK -> between(st, st.multipliedBy(3));
            case FREEZE_SHORT -> between(st.dividedBy(4), st.multipliedBy(3).dividedBy(5));
            case FREEZE_LONG -> between(st.multipliedBy(3).dividedBy(2), st.multipliedBy(2));
            case CUT_CONNECTIONS, EXPIRE_SESSION -> Duration.ZERO;
        };
    }

    private Void inject(ChaosFault fault, Duration length, int index, int pool) throws Exception {
        switch (fault) {
            case KILL_LEADER, KILL_FOLLOWER -> {
                int member = pick(fault == ChaosFault.KILL_LEADER, index);
                SoakRecorder.FaultRecord f =
                        recorder.faultBegins(fault.title(), name(member) + " (" + servers.killStyle() + ")");
                servers.kill(member);
                sleep(length);
                servers.restart(member, RESTART_TIMEOUT);
                recorder.faultEnds(f, "restarted, serving");
            }
            case PAUSE_LEADER, PAUSE_FOLLOWER -> {
                int member = pick(fault == ChaosFault.PAUSE_LEADER, index);
                SoakRecorder.FaultRecord f = recorder.faultBegins(
                        fault.title(),
                        name(member) + " for " + length.toMillis() + " ms ("
                                + (length.compareTo(settings.sessionTimeout()) < 0 ? "below" : "above")
                                + " the session timeout)");
                servers.pause(member);
                try {
                    sleep(length);
                } finally {
                    servers.resume(member);
                }
                recorder.faultEnds(f, "SIGCONT");
            }
            case FREEZE_ONE -> {
                SoakRecorder.FaultRecord f = recorder.faultBegins(
                        fault.title(),
                        "the proxy of " + name(index) + " for " + length.toMillis() + " ms (" + band(length) + ")");
                freeze(List.of(proxies.get(index)), length);
                recorder.faultEnds(f, "");
            }
            case FREEZE_SHORT, FREEZE_LONG -> {
                SoakRecorder.FaultRecord f = recorder.faultBegins(
                        fault.title(), "every proxy for " + length.toMillis() + " ms (" + band(length) + ")");
                freeze(proxies, length);
                recorder.faultEnds(f, "");
            }
            case CUT_CONNECTIONS -> {
                SoakRecorder.FaultRecord f = recorder.faultBegins(fault.title(), "at every proxy");
                int cut = 0;
                for (ZkProxy proxy : proxies) {
                    cut += proxy.clientConnectionCount();
                    proxy.closeAllConnections();
                }
                recorder.faultEnds(f, cut + " connection(s) closed");
            }
            case SLOW_QUORUM_LINK -> {
                int member = servers.laggingMember().orElseThrow();
                Duration latency = between(MAX_QUORUM_LATENCY.dividedBy(4), MAX_QUORUM_LATENCY);
                // Only the third member's link is proxied; when it leads, slowing it has no effect on staleness.
                Optional<Integer> leader = servers.leader();
                String role = leader.isEmpty() ? "unknown" : leader.get() == member ? "leader" : "follower";
                SoakRecorder.FaultRecord f = recorder.faultBegins(
                        fault.title(),
                        name(member) + " by " + latency.toMillis() + " ms each way for " + length.toMillis() + " ms"
                                + switch (role) {
                                    case "leader" -> " (it leads now: no effect)";
                                    case "follower" -> " (it follows)";
                                    default -> " (no leader known now)";
                                });
                f.role = role;
                servers.slowQuorumLink(latency);
                try {
                    sleep(length);
                } finally {
                    servers.slowQuorumLink(Duration.ZERO);
                }
                recorder.faultEnds(f, "latency lifted");
            }
            case RECONFIG_LEADER, RECONFIG_FOLLOWER -> reconfig(fault, length, index);
            case EXPIRE_SESSION -> expire(fault, pool);
        }
        return null;
    }

    /**
     * Removes the leader or a follower from the ensemble's configuration, waits for the removal to commit, holds for
     * {@code length} while the member keeps running outside the ensemble, adds it back with its original addresses
     * and waits for that to commit and for the member to serve again.
     */
    private void reconfig(ChaosFault fault, Duration length, int index) throws Exception {
        int member = pick(fault == ChaosFault.RECONFIG_LEADER, index);
        Optional<Integer> leader = servers.leader();
        String role = leader.isEmpty() ? "unknown" : leader.get() == member ? "leader" : "follower";
        SoakRecorder.FaultRecord f = recorder.faultBegins(
                fault.title(),
                name(member) + " (" + role + ") out of the configuration for " + length.toMillis() + " ms, then back");
        f.role = role;
        String removed = servers.removeMember(member, RECONFIG_TIMEOUT);
        recorder.say("fault %d: removal of %s committed (configuration version %s)", f.id, name(member), removed);
        sleep(length);
        String added = servers.addMember(member, RECONFIG_TIMEOUT);
        recorder.faultEnds(
                f,
                "removal committed as configuration version " + removed + ", addition committed as version " + added
                        + ", member serving again");
    }

    private void expire(ChaosFault fault, int pool) throws Exception {
        ZkLease leased;
        try {
            leased = pools.get(pool).lease();
        } catch (ZkException e) {
            recorder.say("expire-session skipped: pool %d has no connected session (%s)", pool, e.getMessage());
            return;
        }
        try (ZkLease lease = leased) {
            long sid;
            byte[] password;
            try {
                sid = lease.sessionId();
                var zk = lease.curator().getZookeeperClient().getZooKeeper();
                password = zk.getSessionPasswd();
                if (zk.getSessionId() != sid) {
                    recorder.say("expire-session skipped: the session of pool %d changed while it was looked up", pool);
                    return;
                }
            } catch (ZkException e) {
                recorder.say("expire-session skipped: pool %d has no connected session (%s)", pool, e.getMessage());
                return;
            }
            SoakRecorder.FaultRecord f =
                    recorder.faultBegins(fault.title(), String.format(Locale.ROOT, "0x%x of soak-%d", sid, pool));
            ForcedExpiry.expireSession(servers.connectString(), sid, password, settings.recoveryBound());
            recorder.faultEnds(f, "closed on the server");
        }
    }

    /** The leader (or a follower) when the servers can tell; otherwise {@code fallback}. */
    private int pick(boolean leader, int fallback) {
        int size = servers.members().size();
        return servers.leader()
                .map(l -> leader ? l : (l + 1 + fallback % (size - 1)) % size)
                .orElse(fallback);
    }

    private static void freeze(List<ZkProxy> which, Duration length) throws InterruptedException {
        which.forEach(ZkProxy::freeze);
        try {
            sleep(length);
        } finally {
            which.forEach(ZkProxy::unfreeze);
        }
    }

    /** Where a freeze's length falls against the client's read timeout (two thirds of the session timeout). */
    private String band(Duration length) {
        Duration st = settings.sessionTimeout();
        if (length.compareTo(st.multipliedBy(2).dividedBy(3)) < 0) {
            return "below the read timeout";
        }
        return length.compareTo(st) < 0 ? "between the read and the session timeout" : "above the session timeout";
    }

    private String name(int member) {
        return "server " + (member + 1) + " (" + servers.members().get(member) + ")";
    }

    private Duration between(Duration min, Duration max) {
        long span = max.toMillis() - min.toMillis();
        return min.plusMillis(span <= 0 ? 0 : (long) (random.nextDouble() * span));
    }

    private static void sleep(Duration d) throws InterruptedException {
        if (!d.isZero() && !d.isNegative()) {
            TimeUnit.MILLISECONDS.sleep(d.toMillis());
        }
    }

    // ---------------------------------------------------------------- audits

    /** Checks everything after a burst whose faults ended at {@code faultsEnded} (a nanoTime). */
    private void audit(long faultsEnded, boolean last) throws Exception {
        long deadline = faultsEnded + settings.recoveryBound().toNanos();
        workload.pause();
        // Where the time to convergence went: waiting for the gated clients' calls to end, for every session to be
        // connected, for the write audit to read the server; the rest is waiting for ephemerals, watches and caches.
        double gateClosed = (System.nanoTime() - faultsEnded) / 1e9;
        double sessionsConnected = Double.NaN;
        double writesAudited = Double.NaN;
        try {
            hooks.beforeAudit(workload);
            for (SessionTracker t : trackers) {
                if (!t.awaitAllConnected(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
                    recorder.violation(
                            "recovery",
                            "sessions not all connected "
                                    + settings.recoveryBound().toSeconds() + " s after the faults ended: "
                                    + t.describe());
                }
            }
            sessionsConnected = (System.nanoTime() - faultsEnded) / 1e9;
            ZkLease admin = workload.admin();
            boolean audited = false;
            while (!audited) {
                try {
                    workload.auditWrites(admin);
                    audited = true;
                } catch (ZkException e) {
                    if (System.nanoTime() - deadline > 0) {
                        recorder.violation(
                                "recovery",
                                "the audit could not read the server "
                                        + settings.recoveryBound().toSeconds() + " s after the faults ended: "
                                        + e.getMessage());
                        return;
                    }
                    sleep(POLL);
                }
            }
            writesAudited = (System.nanoTime() - faultsEnded) / 1e9;
            List<String> problems = List.of();
            while (true) {
                try {
                    problems = new ArrayList<>(workload.ephemeralProblems(admin));
                    problems.addAll(workload.watchProblems(admin));
                } catch (ZkException e) {
                    problems = List.of("the audit could not read the server: " + e.getMessage());
                }
                if (problems.isEmpty() || System.nanoTime() - deadline > 0) {
                    break;
                }
                sleep(POLL);
            }
            double convergedAfter = (System.nanoTime() - faultsEnded) / 1e9;
            workload.removeAuditedEpoch(admin);
            if (problems.isEmpty()) {
                workload.forgetSettledEphemerals();
            }
            for (String p : problems) {
                recorder.violation(
                        p.contains("watch") || p.contains("cache") ? "watch and cache convergence" : "ephemerals",
                        p + " (" + settings.recoveryBound().toSeconds() + " s after the faults ended)");
            }
            int openSessions = pools.stream()
                    .map(ZkSessionPool::stats)
                    .mapToInt(PoolStats::openSessions)
                    .sum();
            int expected = POOL_SESSIONS.stream().mapToInt(Integer::intValue).sum();
            if (openSessions != expected) {
                recorder.violation(
                        "no growth", "the pools have " + openSessions + " open sessions, they keep " + expected);
            }
            boolean growthSample = last || System.nanoTime() - lastGrowthSample >= GROWTH_EVERY.toNanos();
            int threads = -1;
            Map<String, Integer> kinds = Map.of();
            long heap = -1;
            if (growthSample) {
                // Every client is paused: let the pools' idle executor threads end before counting.
                sleep(SETTLE);
                System.gc();
                MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
                threads = clientThreads().size();
                kinds = threadKinds();
                heap = memory.getHeapMemoryUsage().getUsed();
                lastGrowthSample = System.nanoTime();
            }
            recorder.audit(new SoakRecorder.Audit(
                    recorder.now(),
                    recorder.at(faultsEnded),
                    problems.isEmpty() ? convergedAfter : Double.NaN,
                    gateClosed,
                    sessionsConnected,
                    writesAudited,
                    recorder.operationCount(),
                    recorder.faults().size(),
                    recorder.violations().size(),
                    growthSample,
                    threads,
                    kinds,
                    openSessions,
                    heap));
            recorder.say(
                    "audit: %s; %,d operations, %d faults, %d violations so far; %d live ephemerals, %d lock"
                            + " acquisitions",
                    problems.isEmpty()
                            ? String.format(
                                    Locale.ROOT,
                                    "all converged %.1f s after the faults ended (clients paused at %.1f s, sessions"
                                            + " connected at %.1f s, writes audited at %.1f s)",
                                    convergedAfter,
                                    gateClosed,
                                    sessionsConnected,
                                    writesAudited)
                            : problems.size() + " problem(s) left",
                    recorder.operationCount(),
                    recorder.faults().size(),
                    recorder.violations().size(),
                    workload.liveEphemerals(),
                    workload.lockAcquisitions());
        } finally {
            workload.resume();
        }
    }

    /**
     * Threads and heap after warm-up must stay flat. Both swing with the faults (a reconnect starts threads that idle
     * out later), so what is compared is the floor: the lowest figure of the last third of the growth samples after
     * warm-up against the lowest of the first third. A leak raises the floor; a spike does not.
     */
    private void judgeGrowth() {
        double warm = settings.warmUp().toMillis() / 1000.0;
        List<SoakRecorder.Audit> after = recorder.audits().stream()
                .filter(a -> a.growthSample() && a.at() >= warm)
                .toList();
        if (after.size() < GROWTH_SAMPLES) {
            recorder.say(
                    "growth not judged: %d sample(s) after the %.0f s warm-up, %d needed",
                    after.size(), warm, GROWTH_SAMPLES);
            return;
        }
        int third = after.size() / 3;
        List<SoakRecorder.Audit> first = after.subList(0, third);
        List<SoakRecorder.Audit> last = after.subList(after.size() - third, after.size());
        int threadsBefore =
                first.stream().mapToInt(SoakRecorder.Audit::threads).min().orElseThrow();
        int threadsAfter =
                last.stream().mapToInt(SoakRecorder.Audit::threads).min().orElseThrow();
        long heapBefore = first.stream()
                .mapToLong(SoakRecorder.Audit::heapAfterGcBytes)
                .min()
                .orElseThrow();
        long heapAfter = last.stream()
                .mapToLong(SoakRecorder.Audit::heapAfterGcBytes)
                .min()
                .orElseThrow();
        String span = String.format(
                Locale.ROOT,
                "lowest of the audits at %.0f-%.0f s against those at %.0f-%.0f s",
                first.get(0).at(),
                first.get(first.size() - 1).at(),
                last.get(0).at(),
                last.get(last.size() - 1).at());
        if (threadsAfter > threadsBefore + THREAD_SLACK) {
            SoakRecorder.Audit low = first.stream()
                    .min(Comparator.comparingInt(SoakRecorder.Audit::threads))
                    .orElseThrow();
            SoakRecorder.Audit high = last.stream()
                    .min(Comparator.comparingInt(SoakRecorder.Audit::threads))
                    .orElseThrow();
            Map<String, Integer> grown = new TreeMap<>();
            high.threadKinds().forEach((kind, n) -> {
                int more = n - low.threadKinds().getOrDefault(kind, 0);
                if (more > 0) {
                    grown.put(kind, more);
                }
            });
            recorder.violation(
                    "no growth",
                    String.format(
                            Locale.ROOT,
                            "client threads grew from %d to %d, more than %d (%s); more of: %s; %s",
                            threadsBefore,
                            threadsAfter,
                            THREAD_SLACK,
                            span,
                            grown,
                            stackOfOne(name -> grown.containsKey(kindOf(name)))));
        }
        long heapLimit = (long) (heapBefore * (1 + HEAP_GROWTH)) + HEAP_SLACK_BYTES;
        if (heapAfter > heapLimit) {
            recorder.violation(
                    "no growth",
                    String.format(
                            Locale.ROOT,
                            "heap after GC grew from %,d KiB to %,d KiB, above %,d KiB (%s)",
                            heapBefore >> 10,
                            heapAfter >> 10,
                            heapLimit >> 10,
                            span));
        }
        recorder.say(
                "growth: client threads %d -> %d, heap after GC %,d -> %,d KiB (%s)",
                threadsBefore, threadsAfter, heapBefore >> 10, heapAfter >> 10, span);
    }

    /** After the pools and proxies closed, their threads must end: no client thread the soak started outlives it. */
    private void checkNothingLeftAfterClose() throws InterruptedException {
        long deadline = System.nanoTime() + CLOSE_GRACE.toNanos();
        Set<String> extra;
        do {
            extra = clientThreads();
            extra.removeAll(threadNamesBefore);
            if (extra.isEmpty()) {
                break;
            }
            sleep(POLL);
        } while (System.nanoTime() - deadline < 0);
        if (!extra.isEmpty()) {
            Set<String> leaked = extra;
            String stacks = stackOfOne(leaked::contains);
            recorder.violation(
                    "no growth",
                    extra.size() + " client thread(s) still alive " + CLOSE_GRACE.toSeconds()
                            + " s after the pools closed: " + extra + "; " + stacks);
        }
    }

    /** The live client threads by name without numbers: {@code soak-pool-#-e#-s#-curator-#} and so on. */
    static Map<String, Integer> threadKinds() {
        Map<String, Integer> kinds = new TreeMap<>();
        for (String name : clientThreads()) {
            kinds.merge(kindOf(name), 1, Integer::sum);
        }
        return kinds;
    }

    /** {@code soak-pool-#-callbacks-#} for {@code soak-pool-0-callbacks-12#345}. */
    private static String kindOf(String threadName) {
        return threadName.substring(0, threadName.lastIndexOf('#')).replaceAll("\\d+", "#");
    }

    /** Name, state and top frames of one live thread whose {@code name#id} matches, for a message. */
    private static String stackOfOne(java.util.function.Predicate<String> which) {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> which.test(e.getKey().getName() + "#" + e.getKey().getId()))
                .limit(1)
                .map(e -> e.getKey().getName() + " (" + e.getKey().getState() + ") at "
                        + Arrays.stream(e.getValue())
                                .limit(12)
                                .map(StackTraceElement::toString)
                                .collect(Collectors.joining(" < ")))
                .findFirst()
                .orElse("no such thread alive now");
    }

    /**
     * The live client-side threads: the soak's own ({@code soak-*}, the pools' included: they are named after the
     * pools), ZooKeeper clients' and Curator's. The servers run in their own processes; in-process servers (a test's)
     * are not counted: a restarted server has new threads.
     */
    static Set<String> clientThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(t -> t.getName() + "#" + t.getId())
                .filter(n -> n.startsWith("soak-")
                        || n.contains("SendThread(")
                        || n.contains("EventThread")
                        || n.startsWith("Curator-"))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** How many register segments the checker gave up on: their histories were not verified. */
    long inconclusiveRegisterSegments() {
        return workload == null ? 0 : workload.inconclusiveSegments();
    }

    /** The run's settings and figures for the report's header. */
    Map<String, Object> header() {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("seed", seed);
        h.put("plannedSeconds", duration.toSeconds());
        h.put("ensemble", servers.kind());
        h.put("connectString", servers.connectString());
        h.put("pools", POOL_SESSIONS);
        h.put("reconfigMode", reconfigures());
        h.put("poolsFollowEnsembleChanges", !reconfigures());
        h.put("sessionTimeoutMs", settings.sessionTimeout().toMillis());
        h.put("recoveryBoundMs", settings.recoveryBound().toMillis());
        h.put("lockAcquisitions", workload == null ? 0 : workload.lockAcquisitions());
        h.put("inconclusiveRegisterSegments", inconclusiveRegisterSegments());
        h.put(
                "recoveries",
                trackers.stream().mapToLong(SessionTracker::recoveries).sum());
        return h;
    }
}
