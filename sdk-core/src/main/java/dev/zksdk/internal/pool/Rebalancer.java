package dev.zksdk.internal.pool;

import dev.zksdk.SessionState;
import dev.zksdk.hosts.BudgetedZooKeeper;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.hosts.SessionSpread;
import dev.zksdk.hosts.WeightedHostProvider;
import dev.zksdk.internal.DaemonThreads;
import dev.zksdk.internal.session.SharedSession;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.FourLetterWordMain;
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
 * <p>A move is made only when every session of the ensemble is connected read-write and the previous move has connected (or the
 * session timeout passed since it); from the server with the most sessions per unit of weight to the healthy one (not
 * quarantined, positive weight, below its connection budget) with the fewest, and only when the move leaves the source
 * at least as loaded as the target, both in the ensemble's sessions and in the process's connections (the
 * {@code ConnectionBudget}'s counts): with equal weights, when the two differ by 2 or more. That is the hysteresis: a
 * move never reverses the order of the two servers, so no session is moved back. Of the sessions on the source, one
 * with no request in flight (none waiting for its reply, none queued) is moved, the one with the fewest open leases
 * first; when every one has requests in flight, none is moved this time.
 *
 * <p>Before a session is moved to a server, that server is asked {@code srvr} (on a thread of its own, never on the
 * scheduler; the answer is used at the next look and kept for two intervals): no answer, or "not currently serving",
 * and nothing moves to it; an answer whose last zxid is below the highest zxid the sessions had seen when it was asked
 * means the server is behind them and would refuse them (ZooKeeper's rule; after a leader election a follower stays
 * behind until the next write), and nothing moves to it either. An answer without a zxid ({@code srvr} not
 * whitelisted) does not stop a move: a server that refuses the session is quarantined after the failed attempt.
 *
 * <p>Thread-safety: {@link #run} runs on the scheduler only, one at a time; {@link #close} may come from any thread.
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

    private WeightedHostProvider moving;
    private long movedAt;

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

    /** One look: at most one move. */
    void step() {
        if (moving != null) {
            if (!moving.isConnected() && !moving.isClosed() && System.nanoTime() - movedAt < moveBoundNanos) {
                return; // one move at a time: the last one has not connected yet
            }
            moving = null;
        }
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
        String from = null;
        double fromLoad = -1;
        for (Map.Entry<String, Integer> e : count.entrySet()) {
            if (!hosts.inClientZone(e.getKey())) {
                continue; // sessions outside the zone go back to it after their fallback lifetime, not here
            }
            int w = weights.getOrDefault(e.getKey(), 0);
            double load = w <= 0 ? Double.MAX_VALUE : (double) e.getValue() / w;
            if (load > fromLoad) {
                from = e.getKey();
                fromLoad = load;
            }
        }
        String to = null;
        double toLoad = Double.MAX_VALUE;
        int toProcess = Integer.MAX_VALUE;
        for (Map.Entry<String, Integer> e : weights.entrySet()) {
            String server = e.getKey();
            int w = e.getValue();
            if (w <= 0 || server.equals(from) || !hosts.inClientZone(server) || spread.isQuarantined(server)) {
                continue;
            }
            int process = any.processConnections(server);
            if (process >= limit) {
                continue;
            }
            double load = (double) count.getOrDefault(server, 0) / w;
            if (load < toLoad || (load == toLoad && process < toProcess)) {
                to = server;
                toLoad = load;
                toProcess = process;
            }
        }
        if (from == null || to == null) {
            return;
        }
        int fromCount = count.get(from);
        int toCount = count.getOrDefault(to, 0);
        int wFrom = weights.getOrDefault(from, 0);
        int wTo = weights.get(to);
        // The move must leave the source at least as loaded as the target: for the pool's sessions and for the
        // process's connections (other pools count on the same servers). With equal weights: a difference of 2 or more.
        if (!evens(fromCount, wFrom, toCount, wTo)
                || !evens(any.processConnections(from), wFrom, any.processConnections(to), wTo)) {
            return;
        }
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
            log.debug(
                    "{}: rebalancing: every session on {} has requests in flight or an election or lock; none moved now",
                    label,
                    from);
            return;
        }
        WeightedHostProvider provider = handles[pick].weightedHostProvider();
        long id = handles[pick].getSessionId();
        if (provider.rebalanceTo(to)) {
            moving = provider;
            movedAt = System.nanoTime();
            log.info(
                    "{}: rebalancing: moving session 0x{} from {} ({} of the ensemble's {} sessions there) to {} ({}"
                            + " there); same session, reconnected",
                    label,
                    Long.toHexString(id),
                    from,
                    fromCount,
                    n,
                    to,
                    toCount);
        }
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
        if (state.zxid == TargetState.DOWN || (state.zxid >= 0 && state.zxid < state.reference)) {
            return false;
        }
        WeightedHostProvider provider = handles[due].weightedHostProvider();
        String from = on[due];
        if (provider.rebalanceTo(to)) {
            moving = provider;
            movedAt = now;
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
            DaemonThreads.start(label + "-rebalance-probe", () -> t.answer(srvrZxid(clientConfig, address)));
        } catch (RuntimeException | OutOfMemoryError e) {
            t.answer(TargetState.UNKNOWN);
        }
    }

    /** The server's last processed zxid from its srvr answer; UNKNOWN when it gives none, DOWN when it did not answer. */
    static long srvrZxid(ZKClientConfig clientConfig, InetSocketAddress address) {
        String answer;
        try {
            answer = FourLetterWordMain.send4LetterWord(
                    address.getHostString(), address.getPort(), "srvr", clientConfig, (int)
                            TimeUnit.NANOSECONDS.toMillis(PROBE_TIMEOUT_NANOS));
        } catch (IOException e) {
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

    /** Whether moving one from a server with {@code a} (weight {@code wa}) to one with {@code b} keeps a >= b. */
    /** A session may move when nothing is in flight on it and it has no election or lock (their turns would end). */
    private static boolean movable(BudgetedZooKeeper handle, SharedSession session) {
        return !handle.requestsInFlight() && session.coordinationParticipants() == 0;
    }

    static boolean evens(int a, int wa, int b, int wb) {
        if (wa <= 0) {
            return a > 0; // a weight-0 server is left whenever a positive one can take the session
        }
        return (long) (a - 1) * wb >= (long) (b + 1) * wa;
    }
}
