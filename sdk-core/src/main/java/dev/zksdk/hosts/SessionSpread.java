package dev.zksdk.hosts;

import dev.zksdk.internal.DaemonThreads;
import dev.zksdk.internal.ServerLiveness;
import dev.zksdk.internal.ServerLiveness.Liveness;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntToLongFunction;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import org.apache.zookeeper.client.ZKClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the sessions of one pool (for one ensemble) share about servers: which server each session is on, so
 * the pool's sessions land on distinct servers where possible, and which servers failed to connect and are
 * quarantined, so one session's failure spares its siblings the same attempt.
 *
 * <p>Create one per pool and ensemble and hand it to every {@link WeightedHostProvider} of that pool (the
 * {@link HostsZookeeperFactory} does). Its {@link HostsConfig} is the configuration of all those providers.
 *
 * <p><b>How a server is chosen</b> (each step narrows the candidates, unless it would leave none):
 * <ol>
 *   <li>servers whose {@link ConnectionBudget} slot is free (or whose slot the session already holds); a
 *       server at its budget is never handed out;</li>
 *   <li>servers not quarantined; if all are, the one that failed longest ago (so each is tried in turn);</li>
 *   <li>servers of positive weight; weight-0 servers only when no positive one is left;</li>
 *   <li>with a {@link HostsConfig#clientZone() client zone}, servers of that zone;</li>
 *   <li>after a membership change, the servers the session should move to (see
 *       {@link WeightedHostProvider#updateServerList});</li>
 *   <li>not the server the session just left;</li>
 *   <li>servers with the fewest other sessions of this pool per unit of weight;</li>
 *   <li>servers with the fewest connections of the process per unit of weight ({@link ConnectionBudget}'s counts,
 *       every pool's; the session's own slot not counted);</li>
 *   <li>then a weighted random pick.</li>
 * </ol>
 *
 * <p>Quarantine: a server that fails again after its quarantine ended (the n-th such round in a row) is kept
 * out for {@code min(quarantineMaxBackoff, quarantineInitialBackoff * 2^(n-1))}; failures during a quarantine
 * renew it without growing it; a successful connection clears it. A spread made by {@link #ofPool(HostsConfig)}
 * keeps its quarantine in the process's one record, so a server that failed for one pool is skipped by every pool
 * made that way, including pools created later (their first connect does not try it first).
 *
 * <p>Thread-safe; selection for different sessions is serialized, which is what makes them land on distinct
 * servers.
 */
public final class SessionSpread {

    private static final Logger log = LoggerFactory.getLogger(SessionSpread.class);

    private final HostsConfig config;
    private final Map<Object, Assignment> assignments = new IdentityHashMap<>();
    private final QuarantineBook quarantine;
    private long connectAttempts;
    private long connectFailures;
    private long resolveFailures;
    private long hungDrops;
    private long rebalanceMoves;

    /**
     * A spread with a quarantine of its own, not shared with other spreads.
     *
     * @param config weights, quarantine backoff and clock
     * @throws IllegalArgumentException when config is null
     */
    public SessionSpread(HostsConfig config) {
        this(config, new QuarantineBook());
    }

    private SessionSpread(HostsConfig config, QuarantineBook quarantine) {
        if (config == null) {
            throw new IllegalArgumentException("config must not be null");
        }
        this.config = config;
        this.quarantine = quarantine;
    }

    /**
     * A spread for one pool whose quarantine is shared by every spread made this way in the process (the pools of
     * zk-sdk use it): a server that failed to connect is skipped by the sessions of every pool until its quarantine
     * ends. With a {@link HostsConfig.Builder#nanoClock custom clock} the quarantine stays the spread's own (times of
     * different clocks cannot be compared).
     *
     * @param config weights, quarantine backoff and clock
     * @return a new spread
     * @throws IllegalArgumentException when config is null
     */
    public static SessionSpread ofPool(HostsConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config must not be null");
        }
        return new SessionSpread(
                config,
                config.nanoClock() == HostsConfig.SYSTEM_NANO_CLOCK ? QuarantineBook.PROCESS : new QuarantineBook());
    }

    /** A spread with {@link HostsConfig#defaults()}. */
    public SessionSpread() {
        this(HostsConfig.defaults());
    }

    /**
     * The settings this spread was made with.
     *
     * @return the config
     */
    public HostsConfig config() {
        return config;
    }

    /**
     * Where the pool's sessions are, what is quarantined, and attempt counters.
     *
     * @return a snapshot taken now
     */
    public synchronized HostOrderingStats stats() {
        Map<String, Integer> sessions = new TreeMap<>();
        Map<String, Integer> connected = new TreeMap<>();
        long fallback = 0;
        for (Assignment a : assignments.values()) {
            sessions.merge(a.key, 1, Integer::sum);
            if (a.connected) {
                connected.merge(a.key, 1, Integer::sum);
                if (!config.inClientZone(a.key)) {
                    fallback++;
                }
            }
        }
        long now = now();
        Map<String, Duration> quarantined = quarantine.remaining(now);
        return new HostOrderingStats(
                Collections.unmodifiableMap(sessions),
                Collections.unmodifiableMap(connected),
                Collections.unmodifiableMap(quarantined),
                connectAttempts,
                connectFailures,
                resolveFailures,
                hungDrops,
                rebalanceMoves,
                fallback);
    }

    /**
     * Whether a server is quarantined now.
     *
     * @param key the server, canonical {@code host:port}
     * @return true while its quarantine lasts
     */
    public synchronized boolean isQuarantined(String key) {
        return quarantinedAt(key, now());
    }

    /**
     * Chooses the server {@code owner} should connect to next, takes its budget slot (returning the slot of
     * {@code held} when the session moves) and records the assignment.
     *
     * @return the server, {@code held} when no listed server has a free slot, or null when there is neither
     */
    synchronized ServerEntry choose(
            Object owner,
            List<ServerEntry> servers,
            ServerEntry held,
            String avoidKey,
            Map<String, Double> targets,
            ConnectionBudget budget) {
        int limit = config.perServerConnectionBudget();
        String heldKey = held == null ? null : held.key();
        long now = now();
        List<ServerEntry> remaining = new ArrayList<>(servers);
        while (true) {
            List<ServerEntry> usable = filter(remaining, e -> e.key().equals(heldKey) || budget.count(e.key()) < limit);
            if (usable.isEmpty()) {
                break;
            }
            ServerEntry pick = pick(owner, usable, avoidKey, targets, now, budget, heldKey);
            // count() above is a hint; the atomic tryAcquire decides, since other pools share the budget.
            if (pick.key().equals(heldKey) || budget.tryAcquire(pick.key(), limit)) {
                if (heldKey != null && !pick.key().equals(heldKey)) {
                    budget.release(heldKey);
                }
                assign(owner, pick.key());
                return pick;
            }
            remaining.remove(pick);
        }
        if (held != null) {
            assign(owner, heldKey);
            return held;
        }
        return null;
    }

    /**
     * Quarantines {@code key}, a server about to be left after {@code silentFor} of silence with a connection open
     * ({@link #recordHung}), and keeps it quarantined while it stays silent ({@link #watchHung}).
     */
    void quarantineSilent(String key, InetSocketAddress address, ZKClientConfig clientConfig, Duration silentFor) {
        recordHung(key, silentFor);
        watchHung(key, address, clientConfig, silentFor);
    }

    /**
     * Quarantines {@code key}, a server about to be left because it went silent with a connection open, as a failed
     * connect would (counted with the failures), and for at least {@code silentFor} (at most the quarantine's upper
     * bound); logs nothing: the session logs the drop once, naming the server.
     */
    synchronized void recordHung(String key, Duration silentFor) {
        long now = now();
        quarantine.recordFailure(key, now, this::backoffNanos);
        long max = config.quarantineMaxBackoff().toNanos();
        long at = silentFor.compareTo(Duration.ofNanos(max)) >= 0 ? max : silentFor.toNanos();
        quarantine.extend(key, now + at);
        connectFailures++;
    }

    /**
     * Keeps {@code key}, just quarantined by {@link #recordHung}, quarantined for as long as it stays silent: shortly
     * before its quarantine ends it is asked {@code srvr} ({@link ServerLiveness}, {@value #HUNG_PROBE_TIMEOUT_MS} ms,
     * with the session's client settings); no answer keeps it quarantined twice as long as the last time (at most
     * {@link HostsConfig#quarantineMaxBackoff()}); an answer, or a refused connection (the process gone: a connect
     * fails at once there and quarantines it anew), lets the quarantine end.
     * A frozen member that stayed frozen past its quarantine drew the sessions leaving a second frozen member back to
     * it (Review21f). One watch per server for the process, on a daemon thread of its own, following the settings of
     * the pool that started it, ended by an answer, by a session connecting there (its record cleared), by that pool's
     * close (no session of this spread left; what it added to the quarantine ends then too) or after
     * {@link #HUNG_WATCH_LIMIT}. Only for the process's own
     * quarantine (the system clock); otherwise nothing.
     */
    void watchHung(String key, InetSocketAddress address, ZKClientConfig clientConfig, Duration silentFor) {
        if (quarantine != QuarantineBook.PROCESS || address == null || clientConfig == null) {
            return;
        }
        quarantine.watch(key, () -> {
            long start = now();
            long extension = Math.max(silentFor.toNanos(), TimeUnit.SECONDS.toNanos(1));
            long max = config.quarantineMaxBackoff().toNanos();
            long extendedTo = Long.MIN_VALUE;
            while (now() - start < HUNG_WATCH_LIMIT.toNanos()) {
                if (!inUse()) {
                    // The pool whose settings the watch follows is closed: what it added goes with it, and a pool
                    // still open meets the server with its own quarantine settings (Review21g: a closed pool's watch
                    // kept a thawed member from the next pool for 25.7 s with its 30 s maximum).
                    if (extendedTo != Long.MIN_VALUE) {
                        quarantine.endIfAt(key, extendedTo, now());
                    }
                    log.debug("ZooKeeper server {}, left as hung: its watch ends with its pool", key);
                    return;
                }
                long remaining = quarantine.remainingNanos(key, now());
                if (remaining == Long.MIN_VALUE) {
                    return; // cleared: a session connected there
                }
                long lead = TimeUnit.MILLISECONDS.toNanos(HUNG_PROBE_TIMEOUT_MS * 3L / 2);
                if (remaining > lead) {
                    LockSupport.parkNanos(Math.min(remaining - lead, HUNG_WATCH_SLICE_NANOS));
                    continue;
                }
                Liveness verdict = ServerLiveness.probe(clientConfig, address, HUNG_PROBE_TIMEOUT_MS);
                if (verdict != Liveness.NO_ANSWER) {
                    // An answer; or a refused connection (the process gone: a connect to it fails at once and
                    // quarantines it again, no attempt waits on it); or no probe possible.
                    log.debug(
                            "ZooKeeper server {}, left as hung, no longer silent to srvr ({}): its quarantine may"
                                    + " end",
                            key,
                            verdict.describe(TimeUnit.MILLISECONDS.toNanos(HUNG_PROBE_TIMEOUT_MS)));
                    return;
                }
                extension = Math.min(max, extension * 2);
                extendedTo = now() + extension;
                quarantine.extend(key, extendedTo);
                log.debug(
                        "ZooKeeper server {}, left as hung, still silent to srvr ({}): quarantined {} ms more",
                        key,
                        verdict.describe(TimeUnit.MILLISECONDS.toNanos(HUNG_PROBE_TIMEOUT_MS)),
                        TimeUnit.NANOSECONDS.toMillis(extension));
            }
        });
    }

    /** How long {@link #watchHung} waits for a quarantined hung server's answer to srvr. */
    static final int HUNG_PROBE_TIMEOUT_MS = 1000;

    /** How long {@link #watchHung} keeps a silent server quarantined at most; then failed connects alone decide. */
    static final Duration HUNG_WATCH_LIMIT = Duration.ofMinutes(10);

    /** How often a {@link #watchHung} watch looks whether its pool is still open while it waits. */
    private static final long HUNG_WATCH_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    /** Whether a session of this spread's pool is open (a provider not closed). */
    private synchronized boolean inUse() {
        return !assignments.isEmpty();
    }

    /** Counts a connection dropped because its server went silent ({@link WeightedHostProvider#leaveHungServer()}). */
    synchronized void recordHungDrop() {
        hungDrops++;
    }

    /** Counts a session moved to even out the spread ({@link WeightedHostProvider#rebalanceTo(String)}). */
    synchronized void recordRebalanceMove() {
        rebalanceMoves++;
    }

    /**
     * Counts a failed connect to {@code key} and quarantines it with exponential backoff. A failure while the
     * server is already quarantined (a sibling's attempt that started earlier, or a retry because every server
     * is quarantined) renews the current backoff instead of growing it, so the backoff measures failed rounds,
     * not the number of sessions that happened to be connecting.
     */
    synchronized void recordFailure(String key) {
        int escalatedTo = quarantine.recordFailure(key, now(), this::backoffNanos);
        connectFailures++;
        if (escalatedTo > 0) {
            log.warn(
                    "ZooKeeper server {} failed to connect ({} in a row); skipping it for {} ms",
                    key,
                    escalatedTo,
                    Duration.ofNanos(backoffNanos(escalatedTo)).toMillis());
        }
    }

    /** A server's name did not resolve: quarantined as a failed connect, and counted. */
    synchronized void recordResolveFailure(String key) {
        resolveFailures++;
        recordFailure(key);
    }

    synchronized void connected(Object owner, String key) {
        Assignment a = assignments.get(owner);
        if (a != null && a.key.equals(key)) {
            a.connected = true;
        }
        if (quarantine.clear(key)) {
            log.info("ZooKeeper server {} accepted a connection again; quarantine lifted", key);
        }
    }

    synchronized void disconnected(Object owner) {
        Assignment a = assignments.get(owner);
        if (a != null) {
            a.connected = false;
        }
    }

    synchronized void remove(Object owner) {
        assignments.remove(owner);
    }

    /** {@code owner} is now on {@code key} without having chosen it (a read-only session found a read-write server). */
    synchronized void moved(Object owner, String key) {
        assign(owner, key);
    }

    private void assign(Object owner, String key) {
        Assignment a = assignments.computeIfAbsent(owner, o -> new Assignment());
        a.key = key;
        a.connected = false;
        connectAttempts++;
    }

    private ServerEntry pick(
            Object owner,
            List<ServerEntry> usable,
            String avoidKey,
            Map<String, Double> targets,
            long now,
            ConnectionBudget budget,
            String heldKey) {
        List<ServerEntry> tier = filter(usable, e -> !quarantinedAt(e.key(), now));
        if (tier.isEmpty()) {
            // Every server is quarantined: the one that failed longest ago, so that each is tried in turn (the one
            // whose
            // quarantine ends first could be the same few servers again and again while they keep failing, and a
            // server back from a long outage would never be tried).
            long oldest = Long.MAX_VALUE;
            for (ServerEntry e : usable) {
                oldest = Math.min(oldest, quarantine.lastFailureNanos(e.key()) - now);
            }
            long longestAgo = oldest;
            tier = filter(usable, e -> quarantine.lastFailureNanos(e.key()) - now == longestAgo);
        }
        tier = narrow(tier, e -> e.weight() > 0);
        // The client's zone first, when one is set: outside it only when no server of the zone is left.
        if (config.clientZone() != null) {
            tier = narrow(tier, e -> config.inClientZone(e.key()));
        }

        ToDoubleFunction<ServerEntry> weightOf = ServerEntry::weight;
        if (targets != null) {
            List<ServerEntry> moveTo = filter(tier, e -> targets.getOrDefault(e.key(), 0.0) > 0);
            if (!moveTo.isEmpty()) {
                tier = moveTo;
                weightOf = e -> targets.get(e.key());
            }
        }

        // Not the server the session just left, before the balance: a session whose server stopped answering would
        // otherwise go back to it whenever that server has the fewest sessions (its own stranded ones count there).
        if (avoidKey != null) {
            tier = narrow(tier, e -> !e.key().equals(avoidKey));
        }

        Map<String, Integer> siblings = new HashMap<>();
        assignments.forEach((o, a) -> {
            if (o != owner) {
                siblings.merge(a.key, 1, Integer::sum);
            }
        });
        // The fewest sibling sessions per unit of weight (weights 2:1:1 fill 2/1/1, then 4/2/2: the pool's sessions
        // follow the weights, not only its random picks); a tier of weight-0 servers only counts them as equals.
        ToDoubleFunction<ServerEntry> w = weightOf;
        ToDoubleFunction<ServerEntry> load = e -> {
            double weight = w.applyAsDouble(e);
            int n = siblings.getOrDefault(e.key(), 0);
            return weight > 0 ? n / weight : n;
        };
        double fewest = Double.MAX_VALUE;
        for (ServerEntry e : tier) {
            fewest = Math.min(fewest, load.applyAsDouble(e));
        }
        double min = fewest;
        tier = filter(tier, e -> load.applyAsDouble(e) == min);
        // Then the fewest connections of the whole process per unit of weight (other pools on the same servers; this
        // session's own slot not counted), so that many small pools start spread as rebalancing would leave them.
        // The counts are read once: other pools change them concurrently.
        Map<String, Double> processLoad = new HashMap<>();
        double fewestInProcess = Double.MAX_VALUE;
        for (ServerEntry e : tier) {
            double weight = w.applyAsDouble(e);
            int n = budget.count(e.key()) - (e.key().equals(heldKey) ? 1 : 0);
            double l = weight > 0 ? n / weight : n;
            processLoad.put(e.key(), l);
            fewestInProcess = Math.min(fewestInProcess, l);
        }
        double minInProcess = fewestInProcess;
        tier = filter(tier, e -> processLoad.get(e.key()) == minInProcess);
        return weightedPick(tier, weightOf);
    }

    private ServerEntry weightedPick(List<ServerEntry> tier, ToDoubleFunction<ServerEntry> weightOf) {
        double total = 0;
        for (ServerEntry e : tier) {
            total += weightOf.applyAsDouble(e);
        }
        if (total <= 0) {
            // only weight-0 servers are left: they are equals.
            return tier.get(config.random().nextInt(tier.size()));
        }
        double r = config.random().nextDouble() * total;
        for (ServerEntry e : tier) {
            r -= weightOf.applyAsDouble(e);
            if (r < 0) {
                return e;
            }
        }
        // rounding left r at (or a hair above) zero: the last server of positive weight owns that end.
        for (int i = tier.size() - 1; i >= 0; i--) {
            if (weightOf.applyAsDouble(tier.get(i)) > 0) {
                return tier.get(i);
            }
        }
        return tier.get(tier.size() - 1);
    }

    private boolean quarantinedAt(String key, long now) {
        return quarantine.isQuarantined(key, now);
    }

    /** The quarantine after {@code failures} failed rounds in a row: the initial backoff doubled, at most the cap. */
    long backoffNanos(int failures) {
        long initial = config.quarantineInitialBackoff().toNanos();
        long max = config.quarantineMaxBackoff().toNanos();
        int shift = failures - 1;
        if (shift >= 63 || initial > (max >> shift)) {
            return max;
        }
        return Math.min(max, initial << shift);
    }

    private long now() {
        return config.nanoClock().getAsLong();
    }

    private static List<ServerEntry> filter(List<ServerEntry> in, Predicate<ServerEntry> keep) {
        List<ServerEntry> out = new ArrayList<>(in.size());
        for (ServerEntry e : in) {
            if (keep.test(e)) {
                out.add(e);
            }
        }
        return out;
    }

    /** Keeps the matching servers, unless none match: a preference, never a reason to have no server. */
    private static List<ServerEntry> narrow(List<ServerEntry> in, Predicate<ServerEntry> prefer) {
        List<ServerEntry> out = filter(in, prefer);
        return out.isEmpty() ? in : out;
    }

    private static final class Assignment {
        String key;
        boolean connected;
    }

    /** Quarantined servers by key; its own lock, since the process's record is shared by many spreads. */
    private static final class QuarantineBook {
        static final QuarantineBook PROCESS = new QuarantineBook();

        private final Map<String, Quarantine> entries = new HashMap<>();

        synchronized boolean isQuarantined(String key, long now) {
            Quarantine q = entries.get(key);
            return q != null && q.untilNanos - now > 0;
        }

        /** When {@code key} last failed (only asked of quarantined servers). */
        synchronized long lastFailureNanos(String key) {
            Quarantine q = entries.get(key);
            return q == null ? Long.MIN_VALUE : q.lastFailureNanos;
        }

        /** Servers with a {@link #watchHung} watch running. */
        private final java.util.Set<String> watched = new java.util.HashSet<>();

        /** Runs {@code watch} on a daemon thread of its own unless {@code key} has one running. */
        void watch(String key, Runnable watch) {
            synchronized (this) {
                if (!watched.add(key)) {
                    return;
                }
            }
            try {
                DaemonThreads.start("zksdk-hung-watch-" + key, () -> {
                    try {
                        watch.run();
                    } catch (RuntimeException e) {
                        log.debug("the watch of hung server {} ended: {}", key, e.toString());
                    } finally {
                        synchronized (this) {
                            watched.remove(key);
                        }
                    }
                });
            } catch (RuntimeException | OutOfMemoryError e) {
                synchronized (this) {
                    watched.remove(key);
                }
            }
        }

        /** Nanoseconds left of {@code key}'s quarantine (zero or less when over); MIN_VALUE when it has no record. */
        synchronized long remainingNanos(String key, long now) {
            Quarantine q = entries.get(key);
            return q == null ? Long.MIN_VALUE : q.untilNanos - now;
        }

        /**
         * Ends {@code key}'s quarantine at {@code now} if it still ends at {@code untilNanos} (nothing extended it
         * since).
         */
        synchronized void endIfAt(String key, long untilNanos, long now) {
            Quarantine q = entries.get(key);
            if (q != null && q.untilNanos == untilNanos && untilNanos - now > 0) {
                q.untilNanos = now;
            }
        }

        /** Keeps {@code key} quarantined until at least {@code untilNanos} (it must have a record). */
        synchronized void extend(String key, long untilNanos) {
            Quarantine q = entries.get(key);
            if (q != null && untilNanos - q.untilNanos > 0) {
                q.untilNanos = untilNanos;
            }
        }

        /** Records a failure; returns the new count of failed rounds when it escalated the backoff, else 0. */
        synchronized int recordFailure(String key, long now, IntToLongFunction backoffNanos) {
            Quarantine q = entries.computeIfAbsent(key, k -> new Quarantine());
            q.lastFailureNanos = now;
            boolean escalate = !(q.untilNanos - now > 0) || q.failures == 0;
            if (escalate) {
                q.failures++;
            }
            long backoff = backoffNanos.applyAsLong(q.failures);
            if (escalate || now + backoff - q.untilNanos > 0) {
                q.untilNanos = now + backoff;
            }
            return escalate ? q.failures : 0;
        }

        synchronized boolean clear(String key) {
            return entries.remove(key) != null;
        }

        synchronized Map<String, Duration> remaining(long now) {
            Map<String, Duration> out = new TreeMap<>();
            entries.forEach((key, q) -> {
                if (q.untilNanos - now > 0) {
                    out.put(key, Duration.ofNanos(q.untilNanos - now));
                }
            });
            return out;
        }
    }

    private static final class Quarantine {
        int failures;
        long untilNanos;
        long lastFailureNanos;
    }
}
