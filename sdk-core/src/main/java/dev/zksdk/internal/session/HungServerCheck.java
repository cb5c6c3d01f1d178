package dev.zksdk.internal.session;

import dev.zksdk.hosts.BudgetedZooKeeper;
import dev.zksdk.hosts.WeightedHostProvider;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The early reconnect from a hung server. A server that hangs with its TCP connection open (SIGSTOP, a wedged
 * process, a black-holed path that keeps the connection up) answers nothing, and ZooKeeper's client leaves it only at
 * its read timeout, two thirds of the session timeout (20 s with the default 30 s): every call sent meanwhile fails by
 * its deadline although other members could serve it. This check, run on every contact sample of the session
 * ({@link ExpiryDetector}, on the pool's scheduler; nothing on the call path), drops the connection, not the session,
 * when requests have been waiting and <b>nothing at all</b> (no reply, no ping's answer, no notification, not a byte of
 * a large answer still arriving) has been received for {@link #bound}: ZooKeeper then fails the requests in flight with CONNECTIONLOSS (a write's outcome is
 * then unknown unless the pool proves it after reconnecting, as for any connection loss) and the session resumes on
 * another member with the same id.
 *
 * <p>Never a storm: at most one early drop per connection (re-armed by the next connection); none on a one-server
 * list, and none while every other server is quarantined or at its connection budget (every server looks hung or
 * down: a drop would only trade a silent connection for a reconnect loop, and ZooKeeper's read timeout decides). The
 * server left is quarantined for the pool's sessions, so neither this session's next attempt nor its siblings go back
 * to it at once. Each drop is counted ({@code zksdk.hosts.hung.drops}) and logged once at WARN naming the server.
 *
 * <p>Thread-safety: {@link #check} runs on the sampler only (one at a time); {@link #connected()} comes from
 * ZooKeeper's event thread and re-arms the check for the new connection.
 */
public final class HungServerCheck {

    private static final Logger log = LoggerFactory.getLogger(HungServerCheck.class);

    /**
     * The least silence ever taken for a hang, whatever the settings: twice ZooKeeper's own threshold for a slow fsync
     * warning (1 s), and longer than a long garbage-collection pause of a server. A server that takes longer than that
     * to answer anything at all, while requests wait, is not serving them.
     */
    public static final Duration MIN_BOUND = Duration.ofSeconds(2);

    /**
     * How long a connection may stay silent, with requests waiting, before it is dropped:
     * {@code max(MIN_BOUND, min(sessionTimeout / 6, operationTimeout / 2, connectionTimeout))}.
     *
     * <ul>
     *   <li>{@code sessionTimeout / 6} is a quarter of ZooKeeper's own read timeout (two thirds of the session
     *       timeout) and half its ping interval on an idle connection: 5 s with the default 30 s, so the session moves
     *       well before ZooKeeper would give up, with most of the session timeout left to reconnect in;</li>
     *   <li>{@code operationTimeout / 2} leaves a call that met the hang half its deadline to be retried on the new
     *       server (a read then succeeds instead of failing by its deadline);</li>
     *   <li>{@code connectionTimeout}: a connection that answers nothing for as long as the application would wait
     *       for a new one is no better than none;</li>
     *   <li>at least {@link #MIN_BOUND}, so a server that is merely slow (a GC pause, a slow fsync) is never left. When
     *       the bound reaches ZooKeeper's read timeout (session timeouts under 3 s) the check never fires first.</li>
     * </ul>
     *
     * @param sessionTimeout the session timeout asked for
     * @param operationTimeout the pool's operation timeout
     * @param connectionTimeout the ensemble's connection timeout
     * @return the bound
     */
    public static Duration bound(Duration sessionTimeout, Duration operationTimeout, Duration connectionTimeout) {
        Duration b = sessionTimeout.dividedBy(6);
        Duration halfOperation = operationTimeout.dividedBy(2);
        if (halfOperation.compareTo(b) < 0) {
            b = halfOperation;
        }
        if (connectionTimeout.compareTo(b) < 0) {
            b = connectionTimeout;
        }
        return b.compareTo(MIN_BOUND) < 0 ? MIN_BOUND : b;
    }

    private final String label;
    private final Duration bound;
    private final long boundNanos;

    /** Bumped for each new connection: the sampler then starts afresh, armed. */
    private volatile long connection;

    // The sampler's own state (one sample at a time).
    private long seenConnection = -1;
    private boolean armed;
    private boolean waiting;
    private long waitingSince;
    private boolean refusalLogged;

    HungServerCheck(String label, Duration bound) {
        this.label = label;
        this.bound = bound;
        this.boundNanos = bound.toNanos();
    }

    /**
     * The bound this check applies.
     *
     * @return how long a connection may stay silent, requests waiting, before it is dropped
     */
    public Duration bound() {
        return bound;
    }

    /** A new connection is up: one early drop is allowed on it. */
    void connected() {
        connection++;
    }

    /**
     * One sample of the live, connected handle.
     *
     * @param lastContactNanos when a packet was last seen received ({@code System.nanoTime()}); the connection's start
     *     counts as a contact
     * @param nowNanos now
     */
    void check(BudgetedZooKeeper zk, long lastContactNanos, long nowNanos) {
        long c = connection;
        if (c != seenConnection) {
            seenConnection = c;
            armed = true;
            waiting = false;
            refusalLogged = false;
        }
        if (!armed) {
            return;
        }
        if (!zk.awaitingReplies()) {
            waiting = false;
            return;
        }
        if (!waiting) {
            waiting = true;
            waitingSince = nowNanos;
            return;
        }
        // Silent since the later of: requests were first seen waiting, anything was last received.
        long silentFrom = lastContactNanos - waitingSince > 0 ? lastContactNanos : waitingSince;
        long silentNanos = nowNanos - silentFrom;
        if (silentNanos < boundNanos) {
            return;
        }
        WeightedHostProvider provider = zk.weightedHostProvider();
        String server = provider.currentServer();
        if (provider.serverCount() < 2) {
            armed = false; // nowhere else to go, on this connection or any: ZooKeeper's read timeout decides
            return;
        }
        if (!provider.leaveHungServer()) {
            if (!refusalLogged) {
                refusalLogged = true;
                log.info(
                        "{}: ZooKeeper server {} has sent nothing for {} ms while requests wait, but every other server"
                                + " is quarantined or at its connection budget: the connection is kept (ZooKeeper's"
                                + " read timeout decides)",
                        label,
                        server,
                        TimeUnit.NANOSECONDS.toMillis(silentNanos));
            }
            return;
        }
        armed = false;
        log.warn(
                "{}: ZooKeeper server {} has sent nothing at all for {} ms while requests wait (hung-server bound {}"
                        + " ms): dropping the connection so that session 0x{} resumes on another server; requests in"
                        + " flight end with CONNECTIONLOSS, a write's outcome unknown unless proven",
                label,
                server,
                TimeUnit.NANOSECONDS.toMillis(silentNanos),
                bound.toMillis(),
                Long.toHexString(zk.getSessionId()));
    }
}
