package dev.zksdk.internal.pool;

import dev.zksdk.SessionState;
import dev.zksdk.hosts.BudgetedZooKeeper;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.hosts.SessionSpread;
import dev.zksdk.hosts.WeightedHostProvider;
import dev.zksdk.internal.DaemonThreads;
import dev.zksdk.internal.ServerLiveness;
import dev.zksdk.internal.session.SharedSession;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.X509Exception;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebalancing after failover, for one ensemble of a pool ({@link HostsConfig.Builder#rebalance(Duration)}). On the
 * pool's scheduler, every interval jittered to between half and one and a half times it, looks at where the
 * ensemble's connected sessions are and moves at most one of them, with {@link WeightedHostProvider#rebalanceTo}: a
 * reconnect of the same session to a less loaded server (its id, watches and ephemerals stay).
 *
 * <p>A move is made only when every session of the ensemble is connected read-write and no other move of the process
 * is under way (below). It goes from a server where the pool has a session to a healthy one (not quarantined, positive
 * weight, below its connection budget, in the client's zone if one is set), and only when both of these hold:
 *
 * <ul>
 *   <li>the process's connections (the {@code ConnectionBudget}'s counts, over every pool of the process) leave the
 *       source at least as loaded per unit of the process's weight as the target after the move: with equal weights,
 *       the two differ by 2 or more. The process's weight of a server is the sum of every rebalancing pool's share
 *       there (its sessions spread by its own weights), the same for every pool however each weights the servers.
 *       That is the hysteresis: a move never reverses the order of the two servers in the process's counts, so no
 *       session is moved back and forth;</li>
 *   <li>the pool's own spread (the most minus the fewest of its sessions per unit of weight over the healthy servers)
 *       does not grow, or, counted one by one, the target then holds no more of the pool's sessions than the source
 *       held before. A pool of one session is always "even" on its own and may move (also from a server weighted 2 to
 *       one weighted 1, where its own spread per unit of weight would grow); a pool of three on 1/1/1 does not move to
 *       make room for others. A session on a weight-0 server goes to one where the pool has the
 *       fewest.</li>
 * </ul>
 *
 * Of the pairs that qualify, the one that evens the pool out most is taken (the widest gap in its own sessions per
 * unit of weight), then the one with the widest gap in the process's counts: a pool moves towards its own even spread
 * first, as it did when only its own counts were looked at. Of the sessions on the source, one with no request in
 * flight (none waiting for its reply, none queued) and no election or lock is moved, the one with the fewest open
 * leases first; a source whose every session has requests in flight is passed over this time.
 *
 * <p>When no pair qualifies, the pool's own spread may still be broken: pools placed while the others' budgets were
 * full can leave a pool with two sessions on one server and none on another, with the process's counts even. Then a
 * repair ({@link #choose}): one of its sessions moves to a server where it has two fewer, if that narrows its own
 * spread and the target was not already the more loaded of the two in the process's counts; another pool's move then
 * evens the process again.
 *
 * <p>Every pool of the process decides from the same process-wide counts, and a move changes them only when its
 * session takes the target's slot (on its reconnect, through {@code SessionSpread.choose}). So that six pools of one
 * session seeing 0/3/3 do not all move at once (to 3/0/3 and on), the process has one turn (a static
 * {@code AtomicReference}): a look takes it before reading the counts and keeps it while deciding, and a move keeps it
 * until its session has connected (its slot then counted on the target), closed, or its session timeout passed. Each
 * decision is therefore made on counts that include every earlier move; each move that evens the process lowers the
 * sum over the servers of the process's count squared per unit of weight, so those moves stop (0/3/3 becomes 1/2/3,
 * then 2/2/2, in two moves; repairs, below, are played in {@code RebalancerTest}). A pool that finds the turn taken looks again at its next, jittered, look. The counts are read again just
 * before the move, in case a failover changed them.
 *
 * <p>Before a session is moved to a server, that server is asked {@code srvr} (on a thread of its own, never on the
 * scheduler; the answer is used at the next look and kept for two intervals): no answer, or "not currently serving",
 * and nothing moves to it; an answer whose last zxid is below the highest zxid the sessions had seen when it was asked
 * means the server is behind them and would refuse them (ZooKeeper's rule; after a leader election a member restarted
 * since stays behind until the next write), and nothing moves to it either: the pool then writes a transaction that
 * changes nothing ({@link #nudge}), so that an ensemble nobody writes to is evened out too. An answer without a zxid ({@code srvr} not
 * whitelisted) does not stop a move: a server that refuses the session is quarantined after the failed attempt.
 *
 * <p>Thread-safety: {@link #run} runs on the scheduler only, one at a time per pool; the process's turn is an atomic
 * reference; {@link #close} may come from any thread.
 */
final class Rebalancer {

    private static final Logger log = LoggerFactory.getLogger(Rebalancer.class);
    /** The srvr asked of a target before a move: its connect and its answer, each. */
    static final long PROBE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String label;
    private final SharedSession[] sessions;
    private final SessionSpread spread;
    private final HostsConfig hosts;
    private final ScheduledExecutorService scheduler;
    private final long intervalNanos;
    private final long moveBoundNanos;

    private volatile boolean closed;
    private volatile ScheduledFuture<?> task;

    // The scheduler's own state.
    /** What srvr said of each target, by server. */
    private final Map<String, TargetState> targets = new HashMap<>();
    /** Sessions on a server outside the client's zone, by provider. */
    private final Map<WeightedHostProvider, Fallback> fallbacks = new java.util.IdentityHashMap<>();

    /** When {@link #nudge} last wrote its transaction, on the nanoTime clock; 0 never. */
    private long nudgedAt;

    /** The session moved by the current look, if any. */
    private WeightedHostProvider movedNow;

    /**
     * The process's one turn to move a session, over every pool's rebalancer: held by a look while it decides (a
     * provider of null), then by the move it made until that session has connected (its budget slot then counted on
     * the target), its session closed or its bound (the session timeout) passed.
     */
    private static final AtomicReference<Turn> TURN = new AtomicReference<>();

    /**
     * Each rebalancing pool's ideal share of the process's connections, by server: its sessions spread by its own
     * weights ({@code n * w(s) / sum of w}). Summed over the pools, these are the weights the process's counts are judged
     * by, the same for every pool: pools that weight the same servers differently then agree on which of two servers
     * is the more loaded, and each move lowers one sum (the process's count squared over that weight), so moves stop.
     */
    private static final Map<Rebalancer, Map<String, Double>> SHARES = new ConcurrentHashMap<>();

    /** How long a look may keep the turn while deciding, should its thread stall. */
    static final long DECIDING_BOUND_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** A look deciding ({@code provider} null) or a move under way, until {@code until} at the latest. */
    private record Turn(WeightedHostProvider provider, long until) {
        boolean over(long now) {
            if (now - until >= 0) {
                return true;
            }
            return provider != null && (provider.isConnected() || provider.isClosed());
        }
    }

    Rebalancer(
            String label,
            SharedSession[] sessions,
            SessionSpread spread,
            HostsConfig hosts,
            Duration sessionTimeout,
            ScheduledExecutorService scheduler) {
        this.label = label;
        this.sessions = sessions;
        this.spread = spread;
        this.hosts = hosts;
        this.scheduler = scheduler;
        this.intervalNanos = hosts.rebalanceInterval() == null
                ? 0
                : hosts.rebalanceInterval().toNanos();
        this.moveBoundNanos = sessionTimeout.toNanos();
    }

    /** Starts looking, unless rebalancing is off. */
    void start() {
        if (intervalNanos > 0) {
            schedule();
        }
    }

    void close() {
        closed = true;
        SHARES.remove(this);
        ScheduledFuture<?> t = task;
        if (t != null) {
            t.cancel(false);
        }
    }

    private void schedule() {
        if (closed) {
            return;
        }
        // Uniform in [interval/2, 3*interval/2): pools started together do not look (and move) in step.
        long delay = intervalNanos / 2 + (long) (hosts.random().nextDouble() * intervalNanos);
        try {
            task = scheduler.schedule(this::run, delay, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // the pool is closing
        }
    }

    private void run() {
        try {
            if (!closed) {
                step();
            }
        } catch (RuntimeException e) {
            log.warn("{}: rebalancing skipped a round: {}", label, e.toString());
        } finally {
            schedule();
        }
    }

    /**
     * One look: at most one move. The look itself holds the process's turn, so that no two pools decide from the same
     * counts; a move keeps it until it has connected.
     */
    void step() {
        long now = System.nanoTime();
        Turn current = TURN.get();
        if (current != null && !current.over(now)) {
            return; // one move at a time in the process: another look is deciding, or the last move has not connected
        }
        Turn deciding = new Turn(null, now + DECIDING_BOUND_NANOS);
        if (!TURN.compareAndSet(current, deciding)) {
            return; // another pool took the turn just now
        }
        Turn next = null;
        try {
            movedNow = null;
            look();
            if (movedNow != null) {
                next = new Turn(movedNow, System.nanoTime() + moveBoundNanos);
            }
        } finally {
            movedNow = null;
            TURN.compareAndSet(deciding, next);
        }
    }

    /** Decides and makes at most one move; a move made is left in {@link #movedNow}. */
    private void look() {
        int n = sessions.length;
        BudgetedZooKeeper[] handles = new BudgetedZooKeeper[n];
        String[] on = new String[n];
        Map<String, Integer> weights = null;
        Map<String, Integer> count = new HashMap<>();
        for (int i = 0; i < n; i++) {
            SharedSession s = sessions[i];
            if (!s.isStarted() || s.isClosed()) {
                return; // not all in use: nothing to even out yet
            }
            ZooKeeper zk = s.connectedHandle();
            if (!(zk instanceof BudgetedZooKeeper handle) || !s.isConnected() || s.state() == SessionState.READ_ONLY) {
                return; // a session is reconnecting: the picture is changing, look again later
            }
            WeightedHostProvider provider = handle.weightedHostProvider();
            String server = provider.isConnected() ? provider.currentServer() : null;
            if (server == null) {
                return;
            }
            if (weights == null) {
                weights = provider.weights();
            }
            handles[i] = handle;
            on[i] = server;
            count.merge(server, 1, Integer::sum);
        }
        if (weights == null || weights.size() < 2) {
            return;
        }
        WeightedHostProvider any = handles[0].weightedHostProvider();
        int limit = hosts.perServerConnectionBudget();
        if (hosts.clientZone() != null && moveBackToZone(handles, on, count, weights, any, limit)) {
            return;
        }
        // The pool's servers that keep a session it may move (none in flight, no election or lock).
        Map<String, Boolean> movableOn = new HashMap<>();
        for (int i = 0; i < n; i++) {
            movableOn.merge(on[i], movable(handles[i], sessions[i]), Boolean::logicalOr);
        }
        // The process's counts, read once for this look: every pool's connections (the ConnectionBudget's), judged by
        // the weights every rebalancing pool of the process shares (its own share included).
        SHARES.put(this, shares(weights, n));
        if (closed) {
            // close() ran while this look was under way: its removal may have come before the put (Review21g, from
            // the code), and a closed pool's share would weigh in the process's counts for good.
            SHARES.remove(this);
            return;
        }
        Map<String, Double> common = processWeights(weights.keySet(), SHARES.values());
        Map<String, Integer> process = new HashMap<>();
        for (String server : weights.keySet()) {
            process.put(server, any.processConnections(server));
        }
        Choice choice = choose(count, weights, process, common, limit, hosts::inClientZone, this::healthy, movableOn);
        if (choice.from() == null) {
            if (choice.busy() != null) {
                log.debug(
                        "{}: rebalancing: every session on {} has requests in flight or an election or lock; none moved"
                                + " now",
                        label,
                        choice.busy());
            }
            return;
        }
        String from = choice.from();
        String to = choice.to();
        int fromCount = count.get(from);
        int toCount = count.getOrDefault(to, 0);
        // The target must be up and must have applied what the sessions have seen: a server behind a session's last
        // zxid refuses it (after a leader election, a follower until the first write of the new epoch), and the
        // session would only come back to where it was. Its srvr answer, fetched off this thread, tells both; the move
        // waits for it (the next look).
        long seen = 0;
        for (BudgetedZooKeeper h : handles) {
            seen = Math.max(seen, h.lastZxid());
        }
        TargetState state = targetState(to, any, handles[0], seen);
        if (state == null) {
            return; // asked now, or still waiting for the answer
        }
        if (state.zxid == TargetState.DOWN) {
            log.debug("{}: rebalancing: {} did not answer srvr; no session moved to it now", label, to);
            return;
        }
        if (state.zxid >= 0 && state.zxid < state.reference) {
            log.debug(
                    "{}: rebalancing: {} had applied up to 0x{}, behind what the sessions had seen (0x{}); none moved"
                            + " to it now",
                    label,
                    to,
                    Long.toHexString(state.zxid),
                    Long.toHexString(state.reference));
            nudge(handles[0], to);
            return;
        }
        int pick = -1;
        int pickLeases = Integer.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            if (from.equals(on[i]) && movable(handles[i], sessions[i]) && sessions[i].leases() < pickLeases) {
                pick = i;
                pickLeases = sessions[i].leases();
            }
        }
        if (pick < 0) {
            return; // a request started on each meanwhile: the next look
        }
        WeightedHostProvider provider = handles[pick].weightedHostProvider();
        long id = handles[pick].getSessionId();
        int fromProcess = provider.processConnections(from);
        int toProcess = provider.processConnections(to);
        double cFrom = weights.getOrDefault(from, 0) <= 0 ? 0 : common.getOrDefault(from, 0.0);
        double cTo = common.getOrDefault(to, 0.0);
        if (choice.repair() ? evens(toProcess, cTo, fromProcess, cFrom) : !evens(fromProcess, cFrom, toProcess, cTo)) {
            return; // a failover elsewhere in the process changed the counts since they were read: the next look
        }
        if (provider.rebalanceTo(to)) {
            movedNow = provider;
            log.info(
                    "{}: rebalancing: moving session 0x{} from {} ({} of the ensemble's {} sessions there, {} of the"
                            + " process's connections) to {} ({} there, {} of the process's); same session,"
                            + " reconnected{}",
                    label,
                    Long.toHexString(id),
                    from,
                    fromCount,
                    n,
                    fromProcess,
                    to,
                    toCount,
                    toProcess,
                    choice.repair() ? " (the pool's own sessions evened out; the process's counts were even)" : "");
        }
    }

    /**
     * What one look decided: a move from {@code from} to {@code to} (none when {@code from} is null), whether it is a
     * repair of the pool's own spread, and a source passed over because its sessions were busy.
     */
    record Choice(String from, String to, boolean repair, String busy) {}

    /**
     * The move a look makes, from the pool's sessions per server ({@code count}), its weights, the process's connections
     * per server ({@code process}) and the process's weights ({@code common}).
     *
     * <p>Of the pairs (source with a session of the pool, healthy target below {@code limit}) that the process's counts
     * say are uneven ({@link #evens}) and that do not widen the pool's own spread ({@link #keepsOwnSpread}): the one
     * that evens the pool out most (the widest gap in its own sessions per unit of weight), then the widest gap in the
     * process's counts, then the emptier target.
     *
     * <p>When no pair qualifies, a repair of the pool's own spread ({@link #repairs}): the process's counts can be even
     * while a pool holds two sessions on one server and none on another (pools placed while the others' budgets were
     * full, Review21f): no move that evens the process is left, yet the pool has lost its spread. One of its sessions
     * then moves where the pool has two fewer, provided the target was not already the more loaded of the two in the
     * process's counts; the process's counts left uneven by it are evened by the next moves of other pools (a swap in
     * two moves). A repair lowers the pool's own spread and the sum of its sessions squared per server; a move that
     * evens the process may raise either where weights differ, so that the moves stop is not proven in general:
     * {@code RebalancerTest} plays both kinds from 3,000 random starts (pools of one to three sessions, five
     * weightings, with and without a budget), and they stop in every one, no pool moving a session straight back.
     */
    static Choice choose(
            Map<String, Integer> count,
            Map<String, Integer> weights,
            Map<String, Integer> process,
            Map<String, Double> common,
            int limit,
            Predicate<String> inZone,
            Predicate<String> healthy,
            Map<String, Boolean> movableOn) {
        String from = null;
        String to = null;
        String busy = null;
        double bestOwnGap = -Double.MAX_VALUE;
        double bestGap = -Double.MAX_VALUE;
        int bestToProcess = Integer.MAX_VALUE;
        boolean repair = false;
        for (int pass = 0; pass < 2 && from == null; pass++) {
            repair = pass == 1;
            for (String source : count.keySet()) {
                if (!inZone.test(source)) {
                    continue; // sessions outside the zone go back to it after their fallback lifetime, not here
                }
                int wSource = weights.getOrDefault(source, 0);
                double cSource = wSource <= 0 ? 0 : common.getOrDefault(source, 0.0);
                int pSource = process.getOrDefault(source, 0);
                for (Map.Entry<String, Integer> e : weights.entrySet()) {
                    String target = e.getKey();
                    int wTarget = e.getValue();
                    if (wTarget <= 0 || target.equals(source) || !healthy.test(target)) {
                        continue;
                    }
                    int pTarget = process.getOrDefault(target, 0);
                    double cTarget = common.getOrDefault(target, 0.0);
                    if (pTarget >= limit) {
                        continue;
                    }
                    if (repair
                            ? wSource <= 0
                                    || evens(pTarget, cTarget, pSource, cSource)
                                    || !repairs(count, weights, source, target, healthy)
                            : !evens(pSource, cSource, pTarget, cTarget)
                                    || !keepsOwnSpread(count, weights, source, target, healthy)) {
                        continue;
                    }
                    if (!movableOn.getOrDefault(source, false)) {
                        busy = source;
                        continue;
                    }
                    double ownGap = load(count.get(source), wSource) - load(count.getOrDefault(target, 0), wTarget);
                    double gap = load(pSource, cSource) - load(pTarget, cTarget);
                    if (ownGap > bestOwnGap
                            || (ownGap == bestOwnGap
                                    && (gap > bestGap || (gap == bestGap && pTarget < bestToProcess)))) {
                        from = source;
                        to = target;
                        bestGap = gap;
                        bestOwnGap = ownGap;
                        bestToProcess = pTarget;
                    }
                }
            }
        }
        return new Choice(from, to, from != null && repair, from == null ? busy : null);
    }

    /**
     * Whether moving one of the pool's sessions from {@code source} to {@code target} repairs the pool's own spread:
     * the source holds at least two more of its sessions than the target, and the most minus the fewest of its sessions
     * per unit of weight over the healthy servers (the source and the target always counted) shrinks.
     */
    static boolean repairs(
            Map<String, Integer> count,
            Map<String, Integer> weights,
            String source,
            String target,
            Predicate<String> healthy) {
        int sourceCount = count.getOrDefault(source, 0);
        int targetCount = count.getOrDefault(target, 0);
        if (sourceCount < targetCount + 2) {
            return false;
        }
        double[] before = ownSpread(count, weights, source, target, healthy, 0);
        double[] after = ownSpread(count, weights, source, target, healthy, 1);
        return after[1] - after[0] < before[1] - before[0] - EPSILON;
    }

    /**
     * The fewest and the most of the pool's sessions per unit of weight over the healthy positive-weight servers (the
     * source and the target always counted), with {@code moved} sessions taken from the source to the target.
     */
    private static double[] ownSpread(
            Map<String, Integer> count,
            Map<String, Integer> weights,
            String source,
            String target,
            Predicate<String> healthy,
            int moved) {
        double min = Double.MAX_VALUE;
        double max = -1;
        for (Map.Entry<String, Integer> e : weights.entrySet()) {
            String server = e.getKey();
            int w = e.getValue();
            if (w <= 0 || !(server.equals(source) || server.equals(target) || healthy.test(server))) {
                continue;
            }
            int c = count.getOrDefault(server, 0);
            int n = server.equals(source) ? c - moved : server.equals(target) ? c + moved : c;
            min = Math.min(min, load(n, w));
            max = Math.max(max, load(n, w));
        }
        return new double[] {min, max};
    }

    /** Sessions (or connections) per unit of weight; a weight-0 server as loaded as can be. */
    private static double load(int count, double weight) {
        return weight <= 0 ? Double.MAX_VALUE : count / weight;
    }

    /** A pool's ideal share of connections by server: its {@code sessions} spread by its weights. */
    static Map<String, Double> shares(Map<String, Integer> weights, int sessions) {
        long total = 0;
        for (int w : weights.values()) {
            total += Math.max(0, w);
        }
        Map<String, Double> out = new HashMap<>();
        for (Map.Entry<String, Integer> e : weights.entrySet()) {
            out.put(e.getKey(), total == 0 ? 0.0 : (double) sessions * Math.max(0, e.getValue()) / total);
        }
        return out;
    }

    /** The process's weight of each of {@code servers}: the sum of every rebalancing pool's share there. */
    static Map<String, Double> processWeights(Collection<String> servers, Collection<Map<String, Double>> shares) {
        Map<String, Double> out = new HashMap<>();
        for (String server : servers) {
            out.put(server, 0.0);
        }
        for (Map<String, Double> pool : shares) {
            for (String server : servers) {
                Double share = pool.get(server);
                if (share != null) {
                    out.merge(server, share, Double::sum);
                }
            }
        }
        return out;
    }

    /**
     * Whether moving one of the pool's sessions from {@code source} to {@code target} keeps the pool's own spread
     * (the most minus the fewest of its sessions per unit of weight over the healthy servers: positive weight, in the
     * client's zone, not quarantined; the source and the target always counted) from growing. A session on a weight-0
     * server may go only to a healthy server where the pool has the fewest per unit of weight.
     */
    static boolean keepsOwnSpread(
            Map<String, Integer> count,
            Map<String, Integer> weights,
            String source,
            String target,
            Predicate<String> healthy) {
        double[] before = ownSpread(count, weights, source, target, healthy, 0);
        double[] after = ownSpread(count, weights, source, target, healthy, 1);
        double min = before[0];
        double max = before[1];
        double minAfter = after[0];
        double maxAfter = after[1];
        if (weights.getOrDefault(source, 0) <= 0) {
            // Leaving a weight-0 server: the target must be among the pool's emptiest.
            return load(count.getOrDefault(target, 0), weights.get(target)) <= min + EPSILON;
        }
        // Either the pool's sessions per unit of weight are no less even after the move, or, counted one by one, the
        // target then holds no more of them than the source held before: a pool of one session (always as even as it
        // can be) may leave a server weighted 2 for one weighted 1 when the process's counts ask for it, and a pool on
        // 1/1/1 still never moves to make room for others.
        int sourceCount = count.getOrDefault(source, 0);
        int targetCount = count.getOrDefault(target, 0);
        return targetCount + 1 <= sourceCount || maxAfter - minAfter <= max - min + EPSILON;
    }

    private static final double EPSILON = 1e-9;

    /**
     * In the client's zone (or no zone), not quarantined and not known down to srvr; the weight is looked at by the
     * caller.
     */
    private boolean healthy(String server) {
        return hosts.inClientZone(server) && !spread.isQuarantined(server) && !knownDown(server);
    }

    /**
     * With a client zone: notes when each session was first seen on a server outside the zone, and moves one whose
     * fallback lifetime (jittered) is over back to the zone's healthy server with the fewest sessions, under the same
     * conditions as any move (srvr answered and not behind, no request in flight).
     *
     * @return true when a session was moved (or is waiting for its target's srvr): nothing else this look
     */
    private boolean moveBackToZone(
            BudgetedZooKeeper[] handles,
            String[] on,
            Map<String, Integer> count,
            Map<String, Integer> weights,
            WeightedHostProvider any,
            int limit) {
        long now = System.nanoTime();
        int due = -1;
        for (int i = 0; i < handles.length; i++) {
            WeightedHostProvider p = handles[i].weightedHostProvider();
            if (hosts.inClientZone(on[i])) {
                fallbacks.remove(p);
                continue;
            }
            Fallback f = fallbacks.get(p);
            if (f == null || !f.server.equals(on[i])) {
                long lifetime = hosts.fallbackSessionLifetime().toNanos();
                long jittered = lifetime * 3 / 4 + (long) (hosts.random().nextDouble() * (lifetime / 2));
                fallbacks.put(p, new Fallback(on[i], now + jittered));
            } else if (now - f.dueAt >= 0 && due < 0 && movable(handles[i], sessions[i])) {
                due = i;
            }
        }
        fallbacks.keySet().removeIf(p -> p.isClosed());
        if (due < 0) {
            return false;
        }
        String to = null;
        int toCount = Integer.MAX_VALUE;
        for (Map.Entry<String, Integer> e : weights.entrySet()) {
            String server = e.getKey();
            if (e.getValue() <= 0
                    || !hosts.inClientZone(server)
                    || spread.isQuarantined(server)
                    || any.processConnections(server) >= limit) {
                continue;
            }
            int c = count.getOrDefault(server, 0);
            if (c < toCount) {
                to = server;
                toCount = c;
            }
        }
        if (to == null) {
            return false; // no healthy server in the zone: the session stays where it is
        }
        long seen = 0;
        for (BudgetedZooKeeper h : handles) {
            seen = Math.max(seen, h.lastZxid());
        }
        TargetState state = targetState(to, any, handles[0], seen);
        if (state == null) {
            return true;
        }
        if (state.zxid >= 0 && state.zxid < state.reference) {
            nudge(handles[due], to);
            return false;
        }
        if (state.zxid == TargetState.DOWN) {
            return false;
        }
        WeightedHostProvider provider = handles[due].weightedHostProvider();
        String from = on[due];
        if (provider.rebalanceTo(to)) {
            movedNow = provider;
            fallbacks.remove(provider);
            log.info(
                    "{}: zone {}: moving session 0x{} back from {} (outside the zone, its fallback lifetime over) to {}"
                            + " ({} sessions there); same session, reconnected",
                    label,
                    hosts.clientZone(),
                    Long.toHexString(handles[due].getSessionId()),
                    from,
                    to,
                    toCount);
            return true;
        }
        return false;
    }

    /**
     * Brings a server that is behind what the sessions have seen up to date, by writing a transaction that changes
     * nothing: a {@code multi} of one {@code check} of the root, any version (logged and replicated like every write,
     * it changes no node; were the check refused, the refusal is a transaction too). In ZooKeeper a server stays
     * behind until the next transaction reaches it: after a leader election the sessions have seen the new epoch's
     * first zxid (pings are answered with it), while a member restarted since has applied only the old epoch's last and
     * refuses them. On an ensemble nothing is written to, that lasted for ever. At most once per two intervals; the
     * target is asked {@code srvr} again at the next look.
     */
    private void nudge(BudgetedZooKeeper zk, String target) {
        long now = System.nanoTime();
        if (nudgedAt != 0 && now - nudgedAt < 2 * intervalNanos) {
            return;
        }
        nudgedAt = now;
        targets.remove(target);
        try {
            zk.multi(
                    List.of(Op.check("/", -1)),
                    (rc, path, ctx, results) -> log.debug(
                            "{}: rebalancing: a transaction that changes nothing written for {} (behind the sessions):"
                                    + " {}",
                            label,
                            target,
                            KeeperException.Code.get(rc)),
                    null);
        } catch (RuntimeException e) {
            log.debug("{}: rebalancing: no transaction written for {}: {}", label, target, e.toString());
        }
    }

    /**
     * Whether {@code server} gave no answer to its last {@code srvr}, asked within two intervals: it is passed over as
     * a target for now, so that the next best one is taken. Without it a dead server with the most room (the heavy
     * leader killed) was every look's choice, and no session moved anywhere until it came back (Review21f: a weight-0
     * server kept 6 sessions for 30 s while the weight-1 one served).
     */
    private boolean knownDown(String server) {
        TargetState t = targets.get(server);
        return t != null && t.done() && t.zxid == TargetState.DOWN && System.nanoTime() - t.askedAt < 2 * intervalNanos;
    }

    /** A session seen on a server outside the client's zone, and when it is due to move back. */
    private record Fallback(String server, long dueAt) {}

    /**
     * What {@code srvr} last said of {@code server}, when it is fresh (asked within two intervals); otherwise asks again
     * on a thread of its own and returns null (the answer is used at a later look).
     */
    private TargetState targetState(String server, WeightedHostProvider provider, BudgetedZooKeeper zk, long seen) {
        long now = System.nanoTime();
        TargetState known = targets.get(server);
        if (known != null && !known.done()) {
            if (now - known.askedAt < PROBE_TIMEOUT_NANOS * 3) {
                return null; // still waiting
            }
        } else if (known != null && now - known.askedAt < 2 * intervalNanos) {
            if (now - known.askedAt > intervalNanos / 2) {
                ask(
                        server, provider, zk, now, seen,
                        true); // refreshed for the next look; this one uses the answer known
            }
            return known;
        }
        ask(server, provider, zk, now, seen, false);
        return null;
    }

    /** Asks srvr of {@code server}; with {@code keepLast}, the last answer stays usable until the new one comes. */
    private void ask(
            String server, WeightedHostProvider provider, BudgetedZooKeeper zk, long now, long seen, boolean keepLast) {
        InetSocketAddress address = provider.addressOf(server);
        if (address == null) {
            return;
        }
        TargetState previous = targets.get(server);
        if (previous != null && !previous.done() && now - previous.askedAt < PROBE_TIMEOUT_NANOS * 3) {
            return;
        }
        TargetState asking = new TargetState(now, seen, PENDING_ANSWER);
        if (keepLast && previous != null && previous.done()) {
            asking = new TargetState(now, previous.reference, previous.zxid);
        }
        targets.put(server, asking);
        TargetState t = asking;
        ZKClientConfig clientConfig = zk.getClientConfig();
        try {
            DaemonThreads.start(label + "-rebalance-probe", () -> {
                long zxid = srvrZxid(clientConfig, address);
                if (zxid == TargetState.DOWN) {
                    log.debug(
                            "{}: rebalancing: {} did not answer srvr within {} ms; passed over for two intervals",
                            label,
                            server,
                            TimeUnit.NANOSECONDS.toMillis(PROBE_TIMEOUT_NANOS));
                }
                t.answer(zxid);
            });
        } catch (RuntimeException | OutOfMemoryError e) {
            t.answer(TargetState.UNKNOWN);
        }
    }

    /** The server's last processed zxid from its srvr answer; UNKNOWN when it gives none, DOWN when it did not answer. */
    static long srvrZxid(ZKClientConfig clientConfig, InetSocketAddress address) {
        String answer;
        try {
            answer = ServerLiveness.srvr(
                    clientConfig, address, (int) TimeUnit.NANOSECONDS.toMillis(PROBE_TIMEOUT_NANOS));
        } catch (IOException e) {
            log.debug("srvr to {} failed: {}", address, e.toString());
            return TargetState.DOWN;
        } catch (X509Exception.SSLContextException | RuntimeException e) {
            return TargetState.UNKNOWN;
        }
        return parseZxid(answer);
    }

    /** The {@code Zxid: 0x...} line of a srvr answer; UNKNOWN when there is none (not whitelisted, not serving). */
    static long parseZxid(String srvr) {
        if (srvr == null) {
            return TargetState.UNKNOWN;
        }
        if (srvr.contains("not currently serving")) {
            return TargetState.DOWN;
        }
        for (String line : srvr.split("\n")) {
            String l = line.trim();
            if (l.startsWith("Zxid:")) {
                String v = l.substring(5).trim();
                try {
                    return v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
                } catch (NumberFormatException e) {
                    return TargetState.UNKNOWN;
                }
            }
        }
        return TargetState.UNKNOWN;
    }

    private static final long PENDING_ANSWER = TargetState.PENDING;

    /** What srvr said of a target: its zxid, or UNKNOWN (no zxid in the answer), or DOWN (no answer). */
    static final class TargetState {
        static final long UNKNOWN = -1;
        static final long DOWN = -2;
        static final long PENDING = -3;

        final long askedAt;
        /**
         * The highest zxid the ensemble's sessions had seen when srvr was asked: a target that answers with less is
         * behind them (a later transaction has not reached it), and refuses them.
         */
        final long reference;

        private volatile boolean done;
        volatile long zxid;

        TargetState(long askedAt, long reference, long lastKnown) {
            this.askedAt = askedAt;
            this.reference = reference;
            this.zxid = lastKnown;
            this.done = lastKnown != PENDING;
        }

        void answer(long value) {
            zxid = value;
            done = true;
        }

        boolean done() {
            return done;
        }
    }

    /** A session may move when nothing is in flight on it and it has no election or lock (their turns would end). */
    private static boolean movable(BudgetedZooKeeper handle, SharedSession session) {
        return !handle.requestsInFlight() && session.coordinationParticipants() == 0;
    }

    /**
     * Whether moving one from a server with {@code a} (weight {@code wa}) to one with {@code b} (weight {@code wb})
     * keeps the first at least as loaded per unit of weight: with equal weights, whether they differ by 2 or more.
     */
    static boolean evens(int a, int wa, int b, int wb) {
        if (wa <= 0) {
            return a > 0; // a weight-0 server is left whenever a positive one can take the session
        }
        return (long) (a - 1) * wb >= (long) (b + 1) * wa;
    }

    /** {@link #evens(int, int, int, int)} with the process's weights (sums of shares, so not whole numbers). */
    static boolean evens(int a, double wa, int b, double wb) {
        if (wa <= 0) {
            return a > 0;
        }
        if (wb <= 0) {
            return false;
        }
        // Equal weights summed in the same order are equal doubles; the margin only absorbs rounding.
        return (a - 1) * wb >= (b + 1) * wa * (1 - EPSILON);
    }
}
