package dev.zksdk.internal.pool;

import dev.zksdk.SessionState;
import dev.zksdk.hosts.BudgetedZooKeeper;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.hosts.SessionSpread;
import dev.zksdk.hosts.WeightedHostProvider;
import dev.zksdk.internal.session.SharedSession;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.ZooKeeper;
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
 * <p>Thread-safety: {@link #run} runs on the scheduler only, one at a time; {@link #close} may come from any thread.
 */
final class Rebalancer {

    private static final Logger log = LoggerFactory.getLogger(Rebalancer.class);

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
        String from = null;
        double fromLoad = -1;
        for (Map.Entry<String, Integer> e : count.entrySet()) {
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
            if (w <= 0 || server.equals(from) || spread.isQuarantined(server)) {
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
        int pick = -1;
        int pickLeases = Integer.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            if (from.equals(on[i]) && !handles[i].requestsInFlight() && sessions[i].leases() < pickLeases) {
                pick = i;
                pickLeases = sessions[i].leases();
            }
        }
        if (pick < 0) {
            log.debug("{}: rebalancing: every session on {} has requests in flight; none moved now", label, from);
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

    /** Whether moving one from a server with {@code a} (weight {@code wa}) to one with {@code b} keeps a >= b. */
    static boolean evens(int a, int wa, int b, int wb) {
        if (wa <= 0) {
            return a > 0; // a weight-0 server is left whenever a positive one can take the session
        }
        return (long) (a - 1) * wb >= (long) (b + 1) * wa;
    }
}
