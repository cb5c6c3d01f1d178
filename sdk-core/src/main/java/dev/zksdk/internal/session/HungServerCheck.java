package dev.zksdk.internal.session;

import dev.zksdk.hosts.BudgetedZooKeeper;
import dev.zksdk.hosts.WeightedHostProvider;
import dev.zksdk.internal.DaemonThreads;
import dev.zksdk.internal.ServerLiveness;
import dev.zksdk.internal.ServerLiveness.Liveness;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.client.ZKClientConfig;
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
 * <p>A silent connection does not prove a hung server: a follower whose leader pauses (a GC pause, a slow fsync, shorter
 * than {@code syncLimit}) is alive, but answers nothing on a session whose write waits for that leader (the session's
 * later requests and pings queue behind it). So before dropping, the server is asked out of band whether its process is
 * alive: a four-letter word {@code srvr} on a separate, short connection with the session's client settings (TLS when
 * the session uses it). It starts at half the bound of silence, with a timeout of half the bound, and the verdict is
 * taken at the bound:
 *
 * <ul>
 *   <li>any answer (even empty, "not in the whitelist", "not currently serving requests"), or the connection closed
 *       or reset by the server (over {@code maxClientCnxns}): the process is alive, the connection is kept, the
 *       silence is counted afresh (probed again only after another half bound), and this is logged once per connection
 *       at INFO (the server is alive but silent, e.g. waiting for its leader);</li>
 *   <li>no answer within the timeout (connect or read), no verdict by the bound, a refused connection (the process is
 *       gone), or no probe possible (the client's TLS settings cannot be built, a previous probe still blocked): the
 *       connection is dropped as below.</li>
 * </ul>
 *
 * The probe runs on a daemon thread of its own, never on the pool's scheduler (which runs the sampler, deadlines and
 * retries), and hands its verdict back through a volatile field; at most one probe per session is in flight, so a
 * suspected hang costs at most one extra connection to the server.
 *
 * <p>Never a storm: at most one early drop per connection (re-armed by the next connection); none on a one-server
 * list, and none while every other server is quarantined or at its connection budget (every server looks hung or
 * down: a drop would only trade a silent connection for a reconnect loop, and ZooKeeper's read timeout decides). The
 * server left is quarantined for the pool's sessions, so neither this session's next attempt nor its siblings go back
 * to it at once. Each drop is counted ({@code zksdk.hosts.hung.drops}: drops only, a connection kept because its
 * server answered the probe is not counted) and logged once at WARN naming the server and what the probe found.
 *
 * <p>Thread-safety: {@link #check} runs on the sampler only (one at a time); {@link #connected()} comes from
 * ZooKeeper's event thread and re-arms the check for the new connection; a probe's thread only writes its verdict.
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
    private boolean aliveLogged;
    /** The probe of the current silence, or null before half the bound. */
    private Probe probe;
    /** The last probe started, read before starting another: at most one in flight. */
    private Probe lastProbe;

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
            aliveLogged = false;
            probe = null;
        }
        if (!armed) {
            return;
        }
        if (!zk.awaitingReplies()) {
            waiting = false;
            probe = null;
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
        if (probe != null && probe.silentFrom != silentFrom) {
            probe = null; // something came in since it started: that silence is over
        }
        if (silentNanos < boundNanos / 2) {
            return;
        }
        WeightedHostProvider provider = zk.weightedHostProvider();
        if (provider.serverCount() < 2) {
            armed = false; // nowhere else to go, on this connection or any: ZooKeeper's read timeout decides
            return;
        }
        if (probe == null) {
            probe = startProbe(zk, silentFrom, nowNanos);
            if (probe == null) {
                return; // the last probe is still within its time: this silence waits for its own
            }
        }
        if (silentNanos < boundNanos) {
            return;
        }
        Liveness verdict = probe.verdict;
        if (verdict == null) {
            if (nowNanos - probe.startedNanos < probe.timeoutNanos) {
                return; // started late (a late sample): its time is not up yet
            }
            verdict = Liveness.NO_ANSWER; // its time is up: as good as timed out
        }
        String server = provider.currentServer();
        if (verdict == Liveness.ALIVE) {
            probe = null;
            waitingSince = nowNanos; // counted afresh: probed again only after another half bound of silence
            if (!aliveLogged) {
                aliveLogged = true;
                log.info(
                        "{}: ZooKeeper server {} has sent nothing for {} ms while requests wait, but its process"
                                + " answered srvr: alive but silent (e.g. waiting for its leader), the connection is"
                                + " kept",
                        label,
                        server,
                        TimeUnit.NANOSECONDS.toMillis(silentNanos));
            } else if (log.isDebugEnabled()) {
                log.debug(
                        "{}: ZooKeeper server {} still silent for {} ms, alive to srvr: kept",
                        label,
                        server,
                        TimeUnit.NANOSECONDS.toMillis(silentNanos));
            }
            return;
        }
        if (!provider.leaveHungServer(Duration.ofNanos(silentNanos))) {
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
                        + " ms; srvr: {}): dropping the connection so that session 0x{} resumes on another server;"
                        + " requests in flight end with CONNECTIONLOSS, a write's outcome unknown unless proven",
                label,
                server,
                TimeUnit.NANOSECONDS.toMillis(silentNanos),
                bound.toMillis(),
                verdict.describe(probe.timeoutNanos),
                Long.toHexString(zk.getSessionId()));
    }

    /**
     * Starts the out-of-band probe of the connected server, on a thread of its own. At most one is in flight: while the
     * last one is within twice its timeout (its connect, then its read) this returns null and the caller tries again at
     * the next sample; past that (a probe that did not end by its timeout) the silence is decided without a probe, as
     * it was before probes.
     */
    private Probe startProbe(BudgetedZooKeeper zk, long silentFrom, long nowNanos) {
        long timeoutNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(1), boundNanos / 2);
        Probe previous = lastProbe;
        if (previous != null && previous.verdict == null && nowNanos - previous.startedNanos < 2 * timeoutNanos) {
            return null;
        }
        Probe p = new Probe(silentFrom, nowNanos, timeoutNanos);
        InetSocketAddress address = zk.connectedAddress();
        if ((previous != null && previous.verdict == null) || address == null) {
            p.verdict = Liveness.NOT_PROBED;
            return p;
        }
        lastProbe = p;
        int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
        try {
            ZKClientConfig clientConfig = zk.getClientConfig();
            DaemonThreads.start(
                    label + "-hung-probe",
                    () -> p.verdict = ServerLiveness.probe(clientConfig, address, timeoutMillis));
        } catch (RuntimeException | OutOfMemoryError e) {
            p.verdict = Liveness.NOT_PROBED;
        }
        return p;
    }

    /** One probe: the silence it belongs to, when it started, and its verdict once known (written by its thread). */
    private static final class Probe {
        final long silentFrom;
        final long startedNanos;
        final long timeoutNanos;
        volatile Liveness verdict;

        Probe(long silentFrom, long startedNanos, long timeoutNanos) {
            this.silentFrom = silentFrom;
            this.startedNanos = startedNanos;
            this.timeoutNanos = timeoutNanos;
        }
    }
}
