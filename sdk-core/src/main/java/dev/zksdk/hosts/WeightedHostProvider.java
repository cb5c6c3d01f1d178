package dev.zksdk.hosts;

import dev.zksdk.internal.DaemonThreads;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.client.HostProvider;
import org.apache.zookeeper.client.ZKClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link HostProvider} of one ZooKeeper session: chooses which server the session connects to, replacing
 * ZooKeeper's shuffled round robin ({@code StaticHostProvider}).
 *
 * <ul>
 *   <li><b>Weights.</b> Servers are picked at random in proportion to their {@link HostsConfig} weight. A
 *       server listed more than once in the connect string is one server whose weight is multiplied by the
 *       number of listings (logged as a warning). Weight 0 = only when nothing of positive weight is usable.</li>
 *   <li><b>Quarantine.</b> A server handed out by {@link #next} is failed when {@code next} is called again
 *       before {@link #onConnected}, or when {@link #markFailed} reports it; it is then skipped with
 *       exponential backoff, by every session sharing the {@link SessionSpread}. A session whose last attempts
 *       failed on all servers of the list but one takes the servers in turn, the one it tried longest ago first,
 *       quarantined or not, until one answers; a server at its connection budget is passed over in that turn. When
 *       no other server has a free slot the session keeps the server it holds and tries it again (the budget is a
 *       hard limit), and says so once at WARN, naming the budget and the counts.</li>
 *   <li><b>Reconnect delay.</b> After a failed attempt another server is tried at once while a round (as many
 *       attempts as servers) has not failed; from then on, with k failed attempts past the round, {@code next}
 *       sleeps a uniformly random time in {@code [0, min(reconnectJitterCap, reconnectJitterBase * 2^(k-1)))}
 *       (full jitter)
 *       instead of ZooKeeper's fixed one-second spin, and (on a handle that lets it,
 *       {@link BudgetedZooKeeper}) instead of ZooKeeper's own random pause of up to a second before each attempt
 *       once the handle has connected; no sleep on the first attempt, after a dropped connection (ZooKeeper itself
 *       waits up to a second then), or when ZooKeeper asks for no delay ({@code spinDelay == 0}).</li>
 *   <li><b>Spread.</b> Sessions sharing a {@link SessionSpread} prefer servers none of them is on.</li>
 *   <li><b>Connection budget.</b> From construction to {@link #close()} the provider holds exactly one slot
 *       of the {@link ConnectionBudget}: on the server it last handed out. Moving to another server takes that
 *       server's slot first and then returns the old one, so a server at its budget is never handed out and
 *       {@code next} never fails for want of a slot (the session falls back to the server it holds).</li>
 *   <li><b>Unanswered attempts.</b> An attempt whose server accepted the connection and has not answered the
 *       connect request is abandoned after a bound learnt from the handshakes this process completed
 *       ({@link HostsConfig#minConnectAttemptTimeout()}), not after ZooKeeper's share of the session timeout, and
 *       each abandoned attempt quadruples the next one's bound. Needs the handle's cooperation
 *       ({@link BudgetedZooKeeper} gives it); without it, ZooKeeper's bound applies.</li>
 *   <li><b>Names.</b> A server is kept as named in the connect string and its name resolved again, through
 *       {@link HostsConfig#resolver()}, before every attempt on it, so a server that moved to another address is
 *       found again. A name with several addresses is one server whose addresses are tried in turn while they fail
 *       (otherwise one at random). A name that does not resolve is quarantined like a server that failed to connect
 *       and another server handed out instead; only when no server resolves does ZooKeeper get the unresolved
 *       address, which fails that attempt.</li>
 *   <li><b>Membership changes.</b> {@link #updateServerList} moves only the share of sessions that must move
 *       for the new weights, as {@code StaticHostProvider} does for equal weights (ZOOKEEPER-1355).</li>
 *   <li><b>Rebalancing.</b> {@link #rebalanceTo} makes the same move on the pool's decision (after a failover left
 *       the pool's sessions unevenly spread): the next server handed out is the target, the connection is dropped,
 *       the session resumes there with its id.</li>
 * </ul>
 *
 * <p><b>Lifecycle.</b> The constructor reserves the first server and its budget slot, and throws
 * {@link ConnectionBudgetExhaustedException} when every server is at its budget. {@link #close()} returns the
 * slot; call it after the ZooKeeper handle is closed ({@link BudgetedZooKeeper} does).
 *
 * <p><b>Read-only mode.</b> A handle created with {@code canBeReadOnly = true} that is connected to a read-only
 * server looks for a read-write one: every so often (100 ms doubling up to 60 s) it calls {@code next(0)} while
 * connected and asks the server it gets whether it is read-write ({@code isro}); when one is, it drops its
 * connection and connects to that address without calling {@code next} again. So {@code next(0)} while connected
 * is a probe, not a move: it hands out the servers other than the current one in turn (those with a free budget
 * slot first) and changes nothing else; an {@link #onConnected()} that follows a probe with no {@code next} in
 * between is a connection to the probed server, which then takes over the session's budget slot and place in the
 * spread (its slot is taken even when that server is at its budget: the connection exists).
 *
 * <p>ZooKeeper sends {@code isro} on the handle's send thread with a 1 s timeout, so a probed server that accepts the
 * connection and answers nothing (hung, SIGSTOPped, black-holed) holds up every reply and ping of the read-only
 * session for that second, and probes due meanwhile follow at once (the 100-800 ms intervals are shorter than the
 * stall). Hence a probe never goes to a server known to be failing: not to one quarantined in the spread, nor to one
 * a probe of this session handed out before without finding it read-write (ZooKeeper asked again while still
 * connected), until a backoff ends that starts when that is learnt and grows like the quarantine
 * ({@link HostsConfig#quarantineInitialBackoff()} doubling up to {@link HostsConfig#quarantineMaxBackoff()}, per such
 * probe in a row; reset once the session connects to that server); and the probe right after one that found nothing
 * goes to the current server too. Such probes return the read-only server itself, which answers {@code ro} at once.
 * A server no probe has tried and no attempt failed on is probed at the first opportunity (the next probe but one
 * after a probe that found nothing). So a read-only session pays
 * at most one stall of about a second per silent server per backoff, never two in a row (none while the silent servers
 * are quarantined from failed attempts, as they usually are when the session turned read-only), and a server that
 * comes back read-write is found within its remaining backoff (at most {@code quarantineMaxBackoff}, 30 s by default)
 * plus ZooKeeper's probe interval at that time (100 ms doubling up to 60 s from the read-only connection).
 *
 * <p>Thread-safe. ZooKeeper calls {@code next}, {@code onConnected} and {@code size} from its send thread;
 * {@code updateServerList} comes from the thread calling {@code ZooKeeper.updateServerList}.
 */
public final class WeightedHostProvider implements HostProvider, AutoCloseable {

    /** See {@link #size()}. */
    static final int MIN_CONNECT_ATTEMPTS_PER_SESSION_TIMEOUT = 3;

    private static final Logger log = LoggerFactory.getLogger(WeightedHostProvider.class);

    private final SessionSpread spread;
    private final HostsConfig config;
    private final ConnectionBudget budget;
    /** {@link #size()} reports at least this; see {@link #minConnectAttempts(java.time.Duration, int)}. */
    private final int minConnectAttempts;

    private List<ServerEntry> servers;
    /** The server whose budget slot this provider holds: the one it last handed out, or reserved. */
    private ServerEntry held;

    private boolean reservationPending = true;
    private boolean connected;
    /** updateServerList told ZooKeeper to drop the connection: leaving the server is our decision, not a failure. */
    private boolean moving;
    /**
     * The move under way is {@link #rebalanceTo}'s: one session of the process at a time, to a server just found
     * serving, so its attempt starts at once (ZooKeeper's pause of up to a second, meant to spread a herd, would only
     * hold the session's requests and a close that comes meanwhile).
     */
    private boolean rebalanceMove;
    /** markFailed already counted the current attempt's failure. */
    private boolean failureAccounted;
    /** Since the last connection, the WARN that no other server had a free budget slot was logged. */
    private boolean budgetWarned;

    private int failedAttempts;
    /** After a membership change that moves this session: where to, weighted by each server's shortfall. */
    private Map<String, Double> moveTargets;

    private InetSocketAddress lastResolved;
    private boolean closed;
    /** The server last handed out by a read-only probe ({@code next(0)} while connected); null after any other next. */
    private ServerEntry probed;
    /** Rotates read-only probes over the servers. */
    private int probeTurn;
    /** Per server ({@code host:port}): this session's probes that did not find it read-write, and the backoff. */
    private final Map<String, ProbeMiss> probeMisses = new HashMap<>();

    /** The requested session timeout, 0 when unknown. */
    private final int sessionTimeoutMs;

    private final HandshakeTimes handshakes;
    /** The handle will bind this provider ({@link #expectBinding()}): its first attempt is bounded through size(). */
    private volatile boolean boundByHandle;
    /** Set by the handle once it exists; null without one (ZooKeeper's own attempt bound then applies). */
    private volatile AttemptControl attempts;
    /** Told of each attempt about to start and of each connection made, on the handle's send thread; or null. */
    private volatile AttemptListener attemptListener;
    /** The bound of the attempt under way, in ms; 0 when none was set. */
    private long attemptBoundMs;
    /** Consecutive attempts of this session abandoned with no answer; each quadruples the next one's bound. */
    private int unansweredAttempts;
    /** When this session last tried each server ({@code host:port}), on the config's clock. */
    private final Map<String, Long> lastTried = new HashMap<>();
    /** Per server ({@code host:port}): the address of its name this session last failed to connect to. */
    private final Map<String, InetAddress> failedAddress = new HashMap<>();
    /** Per server: the address of its name this session was last handed, to log a name that moved. */
    private final Map<String, InetAddress> lastAddress = new HashMap<>();
    /** An attempt given the whole cap went unanswered: the next may have ZooKeeper's own share. */
    private boolean unansweredAtCap;

    /**
     * What the provider needs from its ZooKeeper handle to bound each connection attempt; called on the handle's
     * send thread only.
     */
    interface AttemptControl {
        /** Bounds the attempt about to start: given up when no answer came within {@code millis}. */
        void connectTimeout(int millis);

        /**
         * Leaves out ZooKeeper's own pause (up to a second, before every attempt once the handle has connected once)
         * before the attempt about to start: after a failed attempt the provider has waited its own jitter.
         */
        void skipClientPause();

        /** Milliseconds since the handle last sent on its connection (during an attempt: the connect request). */
        long millisSinceLastSend();

        /** The handle's client settings (TLS and the like), for a probe of a server; null when not known. */
        default ZKClientConfig clientConfig() {
            return null;
        }

        /** Milliseconds since the handle last received anything on its connection; -1 when it cannot be read. */
        default long millisSinceLastHeard() {
            return -1;
        }

        /** The negotiated session timeout, 0 before the session first connected. */
        int negotiatedSessionTimeout();

        /**
         * Drops the handle's connection (not its session): ZooKeeper fails the requests in flight with CONNECTIONLOSS
         * and connects again through {@link #next}. False when the handle cannot do it.
         */
        default boolean dropConnection() {
            return false;
        }
    }

    /**
     * Reserves a server and its connection-budget slot for a new session.
     *
     * @param serverAddresses the servers of the connect string, possibly unresolved, duplicates allowed
     * @param spread shared by the sessions of one pool and ensemble; its config applies
     * @param budget normally {@link ConnectionBudget#shared()}
     * @throws IllegalArgumentException when an argument is null, no server is given, or every server has weight 0
     * @throws ConnectionBudgetExhaustedException when every server is at {@code perServerConnectionBudget}
     */
    public WeightedHostProvider(
            Collection<InetSocketAddress> serverAddresses, SessionSpread spread, ConnectionBudget budget) {
        this(serverAddresses, spread, budget, 0);
    }

    /**
     * As {@link #WeightedHostProvider(Collection, SessionSpread, ConnectionBudget)}, for a handle whose requested
     * session timeout is {@code sessionTimeoutMs}: {@link HostsConfig#connectAttemptTimeout()} is applied against it.
     *
     * @param serverAddresses the servers of the connect string, duplicates counting as weight
     * @param spread the pool's spread: weights, quarantine and where the other sessions are
     * @param budget the connection budget a slot is taken on for the server connected to
     * @param sessionTimeoutMs the session timeout the handle asks for; 0 when unknown (the attempt bound is not
     *     applied)
     */
    public WeightedHostProvider(
            Collection<InetSocketAddress> serverAddresses,
            SessionSpread spread,
            ConnectionBudget budget,
            int sessionTimeoutMs) {
        this(serverAddresses, spread, budget, sessionTimeoutMs, HandshakeTimes.PROCESS);
    }

    WeightedHostProvider(
            Collection<InetSocketAddress> serverAddresses,
            SessionSpread spread,
            ConnectionBudget budget,
            int sessionTimeoutMs,
            HandshakeTimes handshakes) {
        if (spread == null) {
            throw new IllegalArgumentException("spread must not be null");
        }
        if (budget == null) {
            throw new IllegalArgumentException("budget must not be null");
        }
        this.spread = spread;
        this.config = spread.config();
        this.budget = budget;
        this.servers = fold(serverAddresses, config);
        ServerEntry first = spread.choose(this, servers, null, null, null, budget);
        if (first == null) {
            Map<String, Integer> counts = new TreeMap<>();
            for (ServerEntry e : servers) {
                counts.put(e.key(), budget.count(e.key()));
            }
            throw new ConnectionBudgetExhaustedException(config.perServerConnectionBudget(), counts);
        }
        this.held = first;
        this.minConnectAttempts = minConnectAttempts(config.connectAttemptTimeout(), sessionTimeoutMs);
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.handshakes = handshakes;
    }

    /** Called before the handle is made when it will {@link #bind} this provider. */
    void expectBinding() {
        this.boundByHandle = true;
    }

    /**
     * Lets the provider bound each attempt of {@code control}'s handle (see the class comment). The handle's first
     * attempt may start before this is called; it gets the bound through {@link #size()}.
     */
    void bind(AttemptControl control) {
        this.attempts = control;
    }

    /** What the handle hears of its attempts, on its send thread. */
    interface AttemptListener {
        /**
         * An attempt to {@code server} ({@code host:port}) is about to start; what the handle's watch table holds now
         * is what the attempt re-registers once connected. Also means the previous connection, if any, is over.
         */
        void beforeAttempt(String server);

        /** The attempt connected (the server answered the connect request). */
        void connected(String server);
    }

    /** Tells {@code listener} of each attempt and connection of this provider's handle. */
    void attemptListener(AttemptListener listener) {
        this.attemptListener = listener;
    }

    private InetSocketAddress attempting(String server, InetSocketAddress resolved) {
        AttemptListener listener = attemptListener;
        if (listener != null) {
            listener.beforeAttempt(server);
        }
        return resolved;
    }

    /**
     * How many attempts a session timeout must hold: at least {@value #MIN_CONNECT_ATTEMPTS_PER_SESSION_TIMEOUT}, and
     * enough that each is no longer than {@code attemptTimeout} when one is set.
     */
    static int minConnectAttempts(Duration attemptTimeout, int sessionTimeoutMs) {
        if (attemptTimeout == null || sessionTimeoutMs <= 0) {
            return MIN_CONNECT_ATTEMPTS_PER_SESSION_TIMEOUT;
        }
        long attemptMs = Math.max(1, attemptTimeout.toMillis());
        long attempts = (sessionTimeoutMs + attemptMs - 1) / attemptMs;
        return (int) Math.max(MIN_CONNECT_ATTEMPTS_PER_SESSION_TIMEOUT, Math.min(attempts, Integer.MAX_VALUE));
    }

    /**
     * ZooKeeper bounds one connection attempt by the session timeout divided by this figure, so a server that accepts
     * a connection and never answers it (a stopped process behind a load balancer; ZooKeeper's own start-up race
     * ZOOKEEPER-5051, which leaves a connection made while the server loads its database open and unanswered) holds a
     * session on a one-server list for the whole session timeout, and the session expires. Reporting at least
     * {@value #MIN_CONNECT_ATTEMPTS_PER_SESSION_TIMEOUT} gives an attempt at most a third of it, as on a three-member
     * ensemble, so the session survives a hung attempt; with {@link HostsConfig#connectAttemptTimeout()} set, enough
     * that an attempt gets no longer than that (reckoned from the requested session timeout; once connected,
     * ZooKeeper divides the negotiated one, which a server clamps into its own bounds). ZooKeeper uses this figure for nothing else; the number of servers is
     * {@link #serverCount()}.
     */
    @Override
    public synchronized int size() {
        int size = Math.max(servers.size(), minConnectAttempts);
        if (sessionTimeoutMs > 0 && boundByHandle) {
            // ZooKeeper reads this figure when the handle is made (the first attempt's bound: the handle cannot be
            // bound before it exists) and when it connects; every later attempt is bounded in next().
            long bound = attemptBoundMillis(0, held.key());
            size = (int) Math.max(size, Math.min(Integer.MAX_VALUE, (sessionTimeoutMs + bound - 1) / bound));
        }
        return size;
    }

    /**
     * The bound of the next attempt, to {@code server}: {@value HostsConfig#CONNECT_ATTEMPT_MARGIN} times the slowest
     * recent handshake with that server (with any server of the list when it has none), at least
     * {@link HostsConfig#minConnectAttemptTimeout()}, four times longer per consecutive unanswered attempt, at most the
     * attempt's share of the session timeout (a third of it, or less with more servers) and
     * {@link HostsConfig#connectAttemptTimeout()}. Once an attempt at that cap went unanswered, the cap is ZooKeeper's
     * own share (the session timeout over the number of servers): a server that became slower than the cap is still
     * reached, as a plain handle would reach it.
     */
    private long attemptBoundMillis(int negotiatedMs, String server) {
        long cap = capMillis(negotiatedMs);
        int session = negotiatedMs > 0 ? negotiatedMs : sessionTimeoutMs;
        if (unansweredAtCap && session > 0) {
            cap = Math.max(cap, session / Math.max(1, servers.size()));
            if (config.connectAttemptTimeout() != null) {
                cap = Math.min(cap, Math.max(1, config.connectAttemptTimeout().toMillis()));
            }
        }
        long floor = Math.max(1, config.minConnectAttemptTimeout().toMillis());
        long slowest = handshakes.slowestRecentNanos(server);
        if (slowest < 0) {
            slowest = handshakes.slowestRecentNanos(keys(servers));
        }
        long base = slowest < 0
                ? floor
                : Math.max(floor, HostsConfig.CONNECT_ATTEMPT_MARGIN * Math.max(1, slowest / 1_000_000));
        // Four times per unanswered attempt: a server that became slower than the bound learnt from it is reached
        // before most of the session timeout is spent on attempts cut short.
        long bound = unansweredAttempts >= 15 ? Long.MAX_VALUE : base << (2 * unansweredAttempts);
        if (bound < base) {
            bound = Long.MAX_VALUE;
        }
        return Math.min(bound, cap);
    }

    /** The attempt's share of the session timeout (at most a third) and the configured attempt timeout. */
    private long capMillis(int negotiatedMs) {
        long cap = Long.MAX_VALUE;
        int session = negotiatedMs > 0 ? negotiatedMs : sessionTimeoutMs;
        if (session > 0) {
            cap = Math.max(1, session / Math.max(servers.size(), MIN_CONNECT_ATTEMPTS_PER_SESSION_TIMEOUT));
        }
        if (config.connectAttemptTimeout() != null) {
            cap = Math.min(cap, Math.max(1, config.connectAttemptTimeout().toMillis()));
        }
        return cap;
    }

    /**
     * The number of distinct servers in the list (duplicates folded into weights).
     *
     * @return the number of distinct servers
     */
    public synchronized int serverCount() {
        return servers.size();
    }

    /**
     * The server to connect to next, resolved. A call other than the first means the previous server is left:
     * failed if {@link #onConnected()} did not come in between, dropped otherwise.
     *
     * @param spinDelay ZooKeeper's fixed delay; only whether it is positive matters (0 = do not sleep)
     * @throws IllegalStateException after {@link #close()}
     */
    @Override
    public InetSocketAddress next(long spinDelay) {
        ServerEntry pick = null;
        long delayNanos = 0;
        boolean afterFailedAttempt = false;
        boolean plannedMove = false;
        synchronized (this) {
            ensureOpen("next");
            if (connected && spinDelay == 0 && !reservationPending) {
                pick = probeTarget();
            }
        }
        if (pick != null) {
            // Resolved now, like any attempt: ZooKeeper connects to a probed read-write server at this very address.
            InetAddress[] all = lookUp(pick.address());
            InetSocketAddress resolved = all == null
                    ? pick.address()
                    : new InetSocketAddress(
                            chooseAddress(pick.key(), all), pick.address().getPort());
            log.debug("Read-only session on {} probes {} for a read-write server", currentServer(), pick.key());
            return resolved; // a probe, not an attempt: the connection stays
        }
        synchronized (this) {
            ensureOpen("next");
            probed = null;
            if (reservationPending) {
                reservationPending = false;
                pick = held;
            } else {
                noteUnanswered();
                plannedMove = rebalanceMove && moving;
                rebalanceMove = false;
                leaveCurrent();
                if (spinDelay > 0) {
                    // Another server is tried at once after a failure, as ZooKeeper's own provider does; the delay
                    // starts once a whole round (as many attempts as servers) has failed.
                    int rounds = failedAttempts - servers.size() + 1;
                    delayNanos = rounds > 0 ? reconnectDelayNanos(rounds) : 0;
                    afterFailedAttempt = failedAttempts > 0;
                }
            }
        }
        if (pick == null) {
            sleep(delayNanos);
            synchronized (this) {
                ensureOpen("next");
                List<ServerEntry> candidates = servers;
                if (failedAttempts >= servers.size() - 1 && servers.size() > 1) {
                    // Failed attempts in a row on all servers but one: quarantine and balance have led this session
                    // nowhere; take the servers with a free budget slot in turn, the one it tried longest ago first,
                    // quarantined or not (a server back from a long outage is still quarantined, for longer than the
                    // servers failing now are, and waiting for a whole further round can cost the session: with slow
                    // handshakes the attempt bounds of one round add up to the session timeout).
                    ServerEntry turn = leastRecentlyTried();
                    if (turn == held && !budgetWarned) {
                        budgetWarned = true;
                        log.warn(
                                "ZooKeeper server {} failed {} attempts in a row and every other server is at the"
                                        + " connection budget of {} ({}): the session keeps its slot there and tries it"
                                        + " again, and is lost at its session timeout unless that server or a slot"
                                        + " elsewhere comes back (HostsConfig.perServerConnectionBudget must leave room"
                                        + " for the sessions of a server that is down)",
                                held.key(),
                                failedAttempts,
                                config.perServerConnectionBudget(),
                                budget.snapshot());
                    }
                    candidates = List.of(turn);
                }
                pick = spread.choose(this, candidates, held, held.key(), moveTargets, budget);
                held = pick;
            }
        }
        InetSocketAddress resolved;
        Set<String> unresolvable = null;
        while (true) {
            synchronized (this) {
                lastTried.put(pick.key(), config.nanoClock().getAsLong());
            }
            // Outside the lock: a name server may take its time.
            InetAddress[] all = lookUp(pick.address());
            if (all != null) {
                resolved = new InetSocketAddress(
                        chooseAddress(pick.key(), all), pick.address().getPort());
                break;
            }
            synchronized (this) {
                ensureOpen("next");
                spread.recordResolveFailure(pick.key());
                if (unresolvable == null) {
                    unresolvable = new HashSet<>();
                }
                unresolvable.add(pick.key());
                List<ServerEntry> rest = new ArrayList<>(servers.size());
                for (ServerEntry e : servers) {
                    if (!unresolvable.contains(e.key())) {
                        rest.add(e);
                    }
                }
                ServerEntry other =
                        rest.isEmpty() ? null : spread.choose(this, rest, held, held.key(), moveTargets, budget);
                if (other == null || unresolvable.contains(other.key())) {
                    // No other server resolves (or has a free budget slot): ZooKeeper fails this attempt and asks
                    // again, after the reconnect delay; the failure is already counted.
                    failureAccounted = true;
                    resolved = pick.address();
                    break;
                }
                held = other;
                pick = other;
            }
        }
        AttemptControl control = attempts;
        synchronized (this) {
            lastResolved = resolved;
            if (control != null) {
                if (afterFailedAttempt || plannedMove) {
                    control.skipClientPause();
                }
                attemptBoundMs = attemptBoundMillis(control.negotiatedSessionTimeout(), held.key());
                control.connectTimeout((int) Math.min(Integer.MAX_VALUE, attemptBoundMs));
            } else if (boundByHandle && sessionTimeoutMs > 0) {
                attemptBoundMs = sessionTimeoutMs / size(); // the first attempt, bounded through size()
            }
            if (log.isDebugEnabled()) {
                log.debug(
                        "Attempt on {} ({} failed in a row; connection budget {})",
                        pick.key(),
                        failedAttempts,
                        budget.snapshot());
            }
        }
        return attempting(pick.key(), resolved);
    }

    /** The session connected to the server last handed out: clears its quarantine and the failure count. */
    @Override
    public synchronized void onConnected() {
        if (closed) {
            return;
        }
        if (probed != null) {
            switchToProbed();
        }
        AttemptControl control = attempts;
        if (control != null && attemptBoundMs > 0) {
            // Called while ZooKeeper reads the answer to the connect request: the time since that request went out.
            handshakes.record(held.key(), control.millisSinceLastSend() * 1_000_000);
        }
        unansweredAttempts = 0;
        unansweredAtCap = false;
        budgetWarned = false;
        connected = true;
        moving = false;
        failedAttempts = 0;
        failureAccounted = false;
        moveTargets = null;
        failedAddress.remove(held.key());
        probeMisses.remove(held.key());
        spread.connected(this, held.key());
        AttemptListener listener = attemptListener;
        if (listener != null) {
            listener.connected(held.key());
        }
        if (!listed(held.key()) && attempts != null) {
            // The list changed while this attempt was under way (after next() had handed out a server of the old list,
            // before ZooKeeper had a socket that updateServerList could close): the session reached a server no longer
            // listed and would stay there. It leaves at once, as updateServerList would have made it, off ZooKeeper's
            // send thread (which is reading this very connect answer). Review23p: a read session stayed on a
            // participant for 30 s and more with only the observer listed.
            String server = held.key();
            DaemonThreads.start("zksdk-leave-unlisted", () -> leaveUnlistedServer(server));
        }
    }

    private boolean listed(String key) {
        for (ServerEntry e : servers) {
            if (e.key().equals(key)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Moves the session off {@code server}, reached after the list had dropped it, as {@link #updateServerList} moves
     * one whose server was removed: the connection is dropped and ZooKeeper connects again through {@link #next}, to a
     * listed server, with the same session. Nothing happens when the session is elsewhere by now or the server is
     * listed again.
     *
     * @return true when the connection was dropped
     */
    boolean leaveUnlistedServer(String server) {
        AttemptControl control = attempts;
        synchronized (this) {
            if (closed || !connected || control == null || !held.key().equals(server) || listed(server)) {
                return false;
            }
            moveTargets = null;
            moving = true;
            connected = false;
            spread.disconnected(this);
            log.info(
                    "Server list is {}; moving this session off {}, which it reached after that change",
                    keys(servers),
                    server);
        }
        if (!control.dropConnection()) {
            synchronized (this) {
                if (moving && !closed) {
                    moving = false;
                    connected = true;
                    spread.connected(this, held.key());
                }
            }
            return false;
        }
        return true;
    }

    /**
     * Replaces the server list (ZooKeeper calls this from {@code ZooKeeper.updateServerList}, which Curator
     * calls when the ensemble's membership changes) and decides whether this session should move.
     *
     * <p>With {@code p(s)} a server's share of the total weight before and {@code q(s)} after, a session on
     * server c stays with probability {@code min(1, q(c)/p(c))} (0 if c was removed), and otherwise moves to a
     * server whose share grew, chosen in proportion to {@code q(s) - p(s)}. Over many sessions this moves only
     * the surplus of each shrinking server to the growing ones; for equal weights it is exactly
     * {@code StaticHostProvider}'s rule.
     *
     * @param serverAddresses the new servers, duplicates allowed
     * @param currentHost the address ZooKeeper is connected to, or null; the server last handed out is used when
     *     null or not in the previous list
     * @return true when this session should move (ZooKeeper then drops the connection and calls {@link #next})
     * @throws IllegalArgumentException when the list is empty or all its weights are 0
     * @throws IllegalStateException after {@link #close()}
     */
    @Override
    public synchronized boolean updateServerList(
            Collection<InetSocketAddress> serverAddresses, InetSocketAddress currentHost) {
        ensureOpen("updateServerList");
        List<ServerEntry> updated = fold(serverAddresses, config);
        List<ServerEntry> previous = servers;
        ServerEntry mine = currentHost == null ? null : match(previous, currentHost);
        if (mine == null) {
            mine = held;
        }
        servers = updated;
        Map<String, Double> before = shares(previous);
        Map<String, Double> after = shares(updated);
        double p = before.getOrDefault(mine.key(), 0.0);
        double q = after.getOrDefault(mine.key(), 0.0);
        double stay = p > 0 ? Math.min(1.0, q / p) : (q > 0 ? 1.0 : 0.0);
        if (stay >= 1.0 || config.random().nextDouble() < stay) {
            moveTargets = null;
            log.debug("Server list changed to {}; staying on {}", keys(updated), mine.key());
            return false;
        }
        Map<String, Double> shortfall = new HashMap<>();
        for (ServerEntry e : updated) {
            double grow = after.get(e.key()) - before.getOrDefault(e.key(), 0.0);
            if (grow > 0 && !e.key().equals(mine.key())) {
                shortfall.put(e.key(), grow);
            }
        }
        moveTargets = shortfall.isEmpty() ? null : shortfall;
        moving = true;
        connected = false;
        spread.disconnected(this);
        log.info(
                "Server list changed to {}; moving this session off {} (it stays with probability {})",
                keys(updated),
                mine.key(),
                String.format("%.3f", stay));
        return true;
    }

    /**
     * Reports that {@code server} cannot serve (for example it answered "not currently serving"): it is
     * quarantined for every session of the spread, as if a connection attempt had failed.
     *
     * @param server the server, as in the server list
     * @throws IllegalArgumentException when the server is null or not in the server list
     * @throws IllegalStateException after {@link #close()}
     */
    public synchronized void markFailed(InetSocketAddress server) {
        if (server == null) {
            throw new IllegalArgumentException("server must not be null");
        }
        ensureOpen("markFailed");
        ServerEntry e = match(servers, server);
        if (e == null) {
            throw new IllegalArgumentException(
                    "server " + ServerEntry.keyOf(server) + " is not one of " + keys(servers));
        }
        spread.recordFailure(e.key());
        if (e.key().equals(held.key()) && !connected) {
            failureAccounted = true;
        }
    }

    /**
     * Leaves the server this session is connected to because it has gone silent (requests waiting, nothing at all
     * received for the caller's bound: a hung process, TCP still open), provided there is somewhere else to go: another
     * server of the list that is not quarantined and has a free connection-budget slot. Then the server is quarantined
     * for every session of the spread (as {@link #markFailed} does, so this session's next attempt and its siblings go
     * elsewhere), the connection is dropped (the session stays: ZooKeeper connects again through {@link #next} and
     * resumes it on another server) and the drop is counted ({@link HostOrderingStats#hungDrops()}). Otherwise nothing
     * changes: with one server, or every other one quarantined or at its budget, dropping would only trade a silent
     * connection for a reconnect loop, and ZooKeeper's own read timeout is left to decide.
     *
     * <p>Needs the handle's cooperation ({@link BudgetedZooKeeper} gives it); without it, returns false.
     *
     * @return true when the connection was dropped
     */
    public boolean leaveHungServer() {
        return leaveHungServer(Duration.ZERO);
    }

    /**
     * As {@link #leaveHungServer()}, for a server seen silent for {@code silentFor}: it is quarantined at least that
     * long (at most {@link HostsConfig#quarantineMaxBackoff()}), not only for the first backoff of a failed connect. A
     * process that answered nothing for seconds is rarely back a second later, and a server no session is on looks the
     * emptiest to the spread: a shorter quarantine would draw this session's next attempts back to it, each waiting
     * out its attempt bound unanswered.
     *
     * @param silentFor how long the server has sent nothing (zero: the failed connect's backoff only)
     * @return true when the connection was dropped
     * @throws IllegalArgumentException when {@code silentFor} is null or negative
     */
    public boolean leaveHungServer(Duration silentFor) {
        if (silentFor == null || silentFor.isNegative()) {
            throw new IllegalArgumentException("silentFor must be zero or positive, was " + silentFor);
        }
        AttemptControl control = attempts;
        synchronized (this) {
            if (closed || !connected || control == null || !hasAlternativeTo(held.key())) {
                return false;
            }
            spread.quarantineSilent(held.key(), lastResolved, control.clientConfig(), silentFor);
        }
        if (!control.dropConnection()) {
            return false;
        }
        spread.recordHungDrop();
        return true;
    }

    /**
     * Moves this connected session to {@code target}, to even out the spread of a pool's sessions (rebalancing after a
     * failover): the next {@link #next} hands out {@code target} (unless it became unusable meanwhile: quarantined or at
     * its connection budget; then the usual choice, not the server left), and the connection is dropped. The session
     * is kept: ZooKeeper connects again and resumes it with the same id, as after {@link #updateServerList} asked it to
     * move; leaving the server is not counted as its failure. Nothing changes, and false is returned, unless the
     * session is connected, {@code target} is another server of the list with a positive weight, not quarantined and
     * below its connection budget, and the handle can drop its connection ({@link BudgetedZooKeeper}). The caller
     * decides when a move is due and that no request is in flight; it is counted in
     * {@link HostOrderingStats#rebalanceMoves()}.
     *
     * @param target the server to move to, {@code host:port} as in {@link #weights()}
     * @return true when the connection was dropped for the move
     */
    public boolean rebalanceTo(String target) {
        AttemptControl control = attempts;
        synchronized (this) {
            if (closed || !connected || moving || control == null || target == null || target.equals(held.key())) {
                return false;
            }
            ServerEntry to = null;
            for (ServerEntry e : servers) {
                if (e.key().equals(target)) {
                    to = e;
                }
            }
            if (to == null
                    || to.weight() <= 0
                    || spread.isQuarantined(target)
                    || budget.count(target) >= config.perServerConnectionBudget()) {
                return false;
            }
            moveTargets = Map.of(target, 1.0);
            moving = true;
            rebalanceMove = true;
            connected = false;
            spread.disconnected(this);
        }
        if (!control.dropConnection()) {
            synchronized (this) {
                if (moving && !closed) {
                    moving = false;
                    rebalanceMove = false;
                    connected = true;
                    moveTargets = null;
                    spread.connected(this, held.key());
                }
            }
            return false;
        }
        spread.recordRebalanceMove();
        return true;
    }

    /**
     * The address of a server of the list, as named in the connect string (possibly unresolved).
     *
     * @param server {@code host:port} as in {@link #weights()}
     * @return its address, or null when it is not in the list
     */
    public synchronized InetSocketAddress addressOf(String server) {
        for (ServerEntry e : servers) {
            if (e.key().equals(server)) {
                return e.address();
            }
        }
        return null;
    }

    /**
     * How many connections this process holds to {@code server}, over every pool (the {@link ConnectionBudget}'s
     * count).
     *
     * @param server {@code host:port} as in {@link #weights()}
     * @return the count
     */
    public int processConnections(String server) {
        return budget.count(server);
    }

    /** Another server of the list, not quarantined, that could take this session now (a free budget slot). */
    private boolean hasAlternativeTo(String current) {
        int limit = config.perServerConnectionBudget();
        for (ServerEntry e : servers) {
            if (!e.key().equals(current) && !spread.isQuarantined(e.key()) && budget.count(e.key()) < limit) {
                return true;
            }
        }
        return false;
    }

    /**
     * The server this session holds a budget slot on.
     *
     * @return {@code host:port}, or null once closed
     */
    public synchronized String currentServer() {
        return closed ? null : held.key();
    }

    /**
     * Whether ZooKeeper reported a connection to {@link #currentServer()} and the session has neither left it
     * nor been told to move by {@link #updateServerList}.
     *
     * @return true while connected to {@link #currentServer()}
     */
    public synchronized boolean isConnected() {
        return connected && !closed;
    }

    /**
     * The distinct servers with their effective weights (configured weight times duplicates).
     *
     * @return an unmodifiable map from {@code host:port} to weight, in connect-string order
     */
    public synchronized Map<String, Integer> weights() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (ServerEntry e : servers) {
            out.put(e.key(), e.weight());
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Whether {@link #close()} was called: the budget slot is returned and the provider has left the spread.
     *
     * @return true once closed
     */
    public synchronized boolean isClosed() {
        return closed;
    }

    /** Returns the connection-budget slot and leaves the spread. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        connected = false;
        spread.remove(this);
        budget.release(held.key());
    }

    @Override
    public synchronized String toString() {
        return "WeightedHostProvider{servers=" + weights() + ", current=" + (closed ? null : held.key())
                + ", connected=" + connected + ", closed=" + closed + "}";
    }

    /**
     * The server a read-only probe goes to: the servers other than the current one in turn, those with a free budget
     * slot first, leaving out those quarantined and those within a probe backoff; the current one when none is left,
     * when the last probe found nothing (no two stalls in a row), or when it is the only server. See the class comment.
     */
    private ServerEntry probeTarget() {
        long now = config.nanoClock().getAsLong();
        boolean missed = probed != null;
        if (missed) {
            // ZooKeeper probes again while still connected here: the last probe did not find that server read-write.
            ProbeMiss miss = probeMisses.computeIfAbsent(probed.key(), k -> new ProbeMiss());
            miss.count++;
            long backoff = spread.backoffNanos(miss.count);
            miss.untilNanos = now + backoff;
            log.debug(
                    "Read-only probe of {} found no read-write server ({} in a row); not probing it for {} ms",
                    probed.key(),
                    miss.count,
                    TimeUnit.NANOSECONDS.toMillis(backoff));
        }
        int limit = config.perServerConnectionBudget();
        List<ServerEntry> others = new ArrayList<>();
        List<ServerEntry> free = new ArrayList<>();
        if (!missed) {
            for (ServerEntry e : servers) {
                if (!e.key().equals(held.key()) && !spread.isQuarantined(e.key()) && !probeBackedOff(e.key(), now)) {
                    others.add(e);
                    if (budget.count(e.key()) < limit) {
                        free.add(e);
                    }
                }
            }
        }
        List<ServerEntry> from = !free.isEmpty() ? free : others;
        ServerEntry pick = from.isEmpty() ? held : from.get(Math.floorMod(probeTurn++, from.size()));
        probed = pick.key().equals(held.key()) ? null : pick;
        return pick;
    }

    private boolean probeBackedOff(String key, long now) {
        ProbeMiss miss = probeMisses.get(key);
        return miss != null && miss.untilNanos - now > 0;
    }

    /** Read-only probes of one server that found nothing, in a row, and when it may be probed again. */
    private static final class ProbeMiss {
        int count;
        long untilNanos;
    }

    /**
     * ZooKeeper connected to the server a read-only probe found read-write (it does not call {@code next} for it):
     * the session leaves the read-only server and holds the probed one's budget slot and place in the spread.
     */
    private void switchToProbed() {
        ServerEntry to = probed;
        probed = null;
        if (!budget.tryAcquire(to.key(), config.perServerConnectionBudget())) {
            // The connection is made already: count it, over the budget, rather than hide it.
            budget.tryAcquire(to.key(), Integer.MAX_VALUE);
            log.warn(
                    "Session left read-only server {} for read-write server {}, which is at its connection budget of {}",
                    held.key(),
                    to.key(),
                    config.perServerConnectionBudget());
        } else {
            log.info("Session left read-only server {} for read-write server {}", held.key(), to.key());
        }
        budget.release(held.key());
        spread.disconnected(this);
        held = to;
        spread.moved(this, to.key());
        failedAttempts = 0;
        failureAccounted = false;
    }

    /**
     * The server of the list this session tried longest ago (never tried first), not the one it is leaving, among those
     * with a free connection-budget slot; the one it holds when no other has a free slot. A server at its budget is
     * passed over, not waited for: it stays full while its sessions are connected, and the turn must go on to the
     * servers that can take this session (otherwise a session holding the slot of a dead server went back to it after
     * every attempt until it expired, while another live server had a free slot).
     */
    private ServerEntry leastRecentlyTried() {
        int limit = config.perServerConnectionBudget();
        ServerEntry oldest = null;
        long oldestAt = 0;
        for (ServerEntry e : servers) {
            if (e.key().equals(held.key()) || budget.count(e.key()) >= limit) {
                continue;
            }
            Long at = lastTried.get(e.key());
            if (at == null) {
                return e;
            }
            if (oldest == null || at - oldestAt < 0) {
                oldest = e;
                oldestAt = at;
            }
        }
        return oldest != null ? oldest : held;
    }

    /**
     * Counts the attempt being left as unanswered when it was neither connected nor moved away from, and ran out its
     * bound (a refused or reset connection fails well before).
     */
    private void noteUnanswered() {
        AttemptControl control = attempts;
        if (control == null || attemptBoundMs <= 0 || connected || moving) {
            return;
        }
        long silentMs = control.millisSinceLastSend();
        if (silentMs >= attemptBoundMs) {
            unansweredAttempts++;
            unansweredAtCap |= attemptBoundMs >= capMillis(control.negotiatedSessionTimeout());
            log.info(
                    "No answer from ZooKeeper server {} within {} ms; attempt given up ({} in a row)",
                    held.key(),
                    attemptBoundMs,
                    unansweredAttempts);
        }
    }

    private void leaveCurrent() {
        if (connected || moving) {
            if (connected && !moving) {
                noteSilentServer();
            }
            connected = false;
            moving = false;
        } else {
            if (!failureAccounted) {
                spread.recordFailure(held.key());
            }
            if (lastResolved != null && lastResolved.getAddress() != null) {
                failedAddress.put(held.key(), lastResolved.getAddress());
            }
            failedAttempts++;
        }
        failureAccounted = false;
        spread.disconnected(this);
    }

    /**
     * A connected server left because it sent nothing for ZooKeeper's read timeout (two thirds of the session timeout):
     * hung (SIGSTOP, a wedged process, a black-holed path), however idle the session was, so quarantined as a server
     * left by the hung-server check is, at least as long as it was silent. Without it the server, holding no sessions
     * now, looked the emptiest, and the sessions leaving a second frozen member went back to it and expired there
     * (Review21f). A healthy idle connection is heard at least every third of the session timeout (the answers to its
     * pings), so a silence of nine tenths of the read timeout is taken for it; a reset or closed connection (a server
     * killed or restarted) is left sooner and is not quarantined here.
     */
    private void noteSilentServer() {
        AttemptControl control = attempts;
        if (control == null) {
            return;
        }
        int negotiated = control.negotiatedSessionTimeout();
        long heard = control.millisSinceLastHeard();
        if (negotiated <= 0 || heard < 0) {
            return;
        }
        long readTimeout = negotiated * 2L / 3;
        if (heard * 10 < readTimeout * 9) {
            return;
        }
        spread.quarantineSilent(held.key(), lastResolved, control.clientConfig(), Duration.ofMillis(heard));
        log.info(
                "ZooKeeper server {} sent nothing for {} ms (ZooKeeper's read timeout {} ms): quarantined at least as"
                        + " long as it was silent",
                held.key(),
                heard,
                readTimeout);
    }

    private long reconnectDelayNanos(int failures) {
        if (failures <= 0) {
            return 0;
        }
        long base = config.reconnectJitterBase().toNanos();
        long cap = config.reconnectJitterCap().toNanos();
        int shift = failures - 1;
        long upper = (shift >= 63 || base > (cap >> shift)) ? cap : Math.min(cap, base << shift);
        return upper <= 0 ? 0 : config.random().nextLong(upper);
    }

    private void sleep(long nanos) {
        if (nanos <= 0) {
            return;
        }
        try {
            config.sleeper().sleepNanos(nanos);
        } catch (InterruptedException e) {
            // ZooKeeper's send thread is not interrupted in normal operation; keep the flag and connect now.
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The addresses of a server's name now, through the config's resolver, sorted so that they can be taken in turn;
     * null when the name does not resolve.
     */
    private InetAddress[] lookUp(InetSocketAddress address) {
        String host = address.getHostString();
        InetAddress[] all;
        try {
            all = config.resolver().resolve(host);
        } catch (UnknownHostException e) {
            log.warn("ZooKeeper server {} does not resolve: {}", ServerEntry.keyOf(address), e.toString());
            return null;
        } catch (RuntimeException e) {
            log.warn("Resolving ZooKeeper server {} failed: {}", ServerEntry.keyOf(address), e.toString());
            return null;
        }
        if (all == null || all.length == 0) {
            log.warn("ZooKeeper server {} resolves to no address", ServerEntry.keyOf(address));
            return null;
        }
        List<InetAddress> sorted = new ArrayList<>(all.length);
        for (InetAddress a : all) {
            if (a != null) {
                sorted.add(a);
            }
        }
        if (sorted.isEmpty()) {
            return null;
        }
        sorted.sort(Comparator.comparing(InetAddress::getHostAddress));
        return sorted.toArray(new InetAddress[0]);
    }

    /**
     * One address of a server's name: the one after the address this session last failed on (each address is tried
     * in turn while they fail), otherwise a random one.
     */
    private synchronized InetAddress chooseAddress(String key, InetAddress[] all) {
        InetAddress chosen = null;
        InetAddress failed = failedAddress.get(key);
        if (failed != null) {
            for (int i = 0; i < all.length; i++) {
                if (all[i].equals(failed)) {
                    chosen = all[(i + 1) % all.length];
                    break;
                }
            }
        }
        if (chosen == null) {
            chosen = all.length == 1 ? all[0] : all[config.random().nextInt(all.length)];
        }
        InetAddress before = lastAddress.put(key, chosen);
        if (before != null && !before.equals(chosen) && all.length == 1) {
            log.info(
                    "ZooKeeper server {} now resolves to {} (was {})",
                    key,
                    chosen.getHostAddress(),
                    before.getHostAddress());
        }
        return chosen;
    }

    private ServerEntry match(List<ServerEntry> list, InetSocketAddress address) {
        String key = ServerEntry.keyOf(address);
        for (ServerEntry e : list) {
            if (e.key().equals(key)) {
                return e;
            }
        }
        if (address.getAddress() != null
                && lastResolved != null
                && lastResolved.getAddress() != null
                && address.getPort() == lastResolved.getPort()
                && address.getAddress().equals(lastResolved.getAddress())) {
            for (ServerEntry e : list) {
                if (e.key().equals(held.key())) {
                    return e;
                }
            }
        }
        return null;
    }

    private void ensureOpen(String operation) {
        if (closed) {
            throw new IllegalStateException(
                    operation + "() on a closed WeightedHostProvider; close the ZooKeeper handle first");
        }
    }

    static List<ServerEntry> fold(Collection<InetSocketAddress> addresses, HostsConfig config) {
        if (addresses == null || addresses.isEmpty()) {
            throw new IllegalArgumentException("serverAddresses must not be empty, was " + addresses);
        }
        Map<String, InetSocketAddress> firstSeen = new LinkedHashMap<>();
        Map<String, Integer> listings = new HashMap<>();
        for (InetSocketAddress a : addresses) {
            if (a == null) {
                throw new IllegalArgumentException("serverAddresses must not contain null, was " + addresses);
            }
            String key = ServerEntry.keyOf(a);
            firstSeen.putIfAbsent(key, a);
            listings.merge(key, 1, Integer::sum);
        }
        List<ServerEntry> out = new ArrayList<>(firstSeen.size());
        boolean anyPositive = false;
        for (Map.Entry<String, InetSocketAddress> e : firstSeen.entrySet()) {
            int n = listings.get(e.getKey());
            if (n > 1) {
                log.warn(
                        "Connect string lists ZooKeeper server {} {} times; using it as one server with {} times its weight",
                        e.getKey(),
                        n,
                        n);
            }
            int weight = Math.multiplyExact(n, config.weightOfKey(e.getKey()));
            anyPositive |= weight > 0;
            out.add(new ServerEntry(e.getKey(), e.getValue(), weight));
        }
        if (!anyPositive) {
            throw new IllegalArgumentException(
                    "every server of " + firstSeen.keySet() + " has weight 0; at least one needs a positive weight");
        }
        return List.copyOf(out);
    }

    private static Map<String, Double> shares(List<ServerEntry> list) {
        double total = 0;
        for (ServerEntry e : list) {
            total += e.weight();
        }
        Map<String, Double> out = new HashMap<>();
        for (ServerEntry e : list) {
            out.put(e.key(), e.weight() / total);
        }
        return out;
    }

    private static List<String> keys(List<ServerEntry> list) {
        List<String> out = new ArrayList<>(list.size());
        for (ServerEntry e : list) {
            out.add(e.key());
        }
        return out;
    }
}
