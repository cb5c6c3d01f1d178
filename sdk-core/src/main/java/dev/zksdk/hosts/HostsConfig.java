package dev.zksdk.hosts;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Immutable settings of the server-selection engine: weights, the per-server connection budget, quarantine
 * backoff for servers that fail to connect, reconnect jitter and the new-session rate limit.
 *
 * <p>Build with {@link #builder()}; every setter rejects a bad value at once with an
 * {@link IllegalArgumentException} naming the setting and the value, and {@link Builder#build()} checks
 * combinations (a maximum below its minimum). Nothing is clamped quietly. The random source, the clock and
 * the sleeper are injectable so tests run without real time; the defaults are a private {@link Random},
 * {@link System#nanoTime()} and {@link Thread#sleep}.
 *
 * <p>Weights are keyed by {@code host:port} exactly as the server is named in the connect string (host
 * compared case-insensitively). A server without a configured weight has {@link #DEFAULT_WEIGHT}; weight
 * {@code 0} means "only when no server of positive weight can be used".
 */
public final class HostsConfig {

    /** Weight of a server that has none configured. */
    public static final int DEFAULT_WEIGHT = 1;
    /** Largest accepted weight; keeps folded weights (weight times duplicates) far from overflow. */
    public static final int MAX_WEIGHT = 10_000;
    /**
     * Connections this process may hold to one server. Below ZooKeeper's {@code maxClientCnxns} default of
     * 60, which the server applies per client IP address.
     */
    public static final int DEFAULT_PER_SERVER_CONNECTION_BUDGET = 50;
    /** Quarantine after a server's first consecutive connect failure; doubles per further failure. */
    public static final Duration DEFAULT_QUARANTINE_INITIAL_BACKOFF = Duration.ofSeconds(1);
    /** Upper bound of the quarantine of a repeatedly failing server. */
    public static final Duration DEFAULT_QUARANTINE_MAX_BACKOFF = Duration.ofSeconds(30);
    /** Upper bound of the reconnect delay after the first failed attempt; doubles per further failure. */
    public static final Duration DEFAULT_RECONNECT_JITTER_BASE = Duration.ofMillis(100);
    /** Upper bound of any reconnect delay. */
    public static final Duration DEFAULT_RECONNECT_JITTER_CAP = Duration.ofSeconds(2);
    /** New ZooKeeper sessions per second, process-wide, before creation waits. */
    public static final double DEFAULT_SESSION_CREATION_RATE = 20.0;
    /** Largest accepted session-creation rate. */
    public static final double MAX_SESSION_CREATION_RATE = 1_000_000.0;
    /** How long a new session waits for a creation permit before it is refused. */
    public static final Duration DEFAULT_SESSION_CREATION_MAX_WAIT = Duration.ofSeconds(5);
    /**
     * The shortest time a connection attempt is given before it is abandoned unanswered, and what an attempt gets
     * before this process has seen any handshake; see {@link Builder#minConnectAttemptTimeout(Duration)}.
     */
    public static final Duration DEFAULT_MIN_CONNECT_ATTEMPT_TIMEOUT = Duration.ofMillis(500);
    /**
     * An attempt is given this many times the slowest of the process's recent handshakes (at least
     * {@link #minConnectAttemptTimeout()}).
     */
    public static final int CONNECT_ATTEMPT_MARGIN = 8;
    /**
     * How often, on average, a pool looks for an uneven spread of its sessions over the healthy servers and moves one
     * session; see {@link Builder#rebalance(Duration)}.
     */
    public static final Duration DEFAULT_REBALANCE_INTERVAL = Duration.ofSeconds(2);
    /**
     * How long a session stays on a server outside the client's zone before it moves back to a server in the zone; see
     * {@link Builder#fallbackSessionLifetime(Duration)}.
     */
    public static final Duration DEFAULT_FALLBACK_SESSION_LIFETIME = Duration.ofMinutes(10);

    /** Sleeps for a number of nanoseconds; injectable so tests record delays instead of waiting. */
    @FunctionalInterface
    public interface Sleeper {
        /**
         * Waits for about {@code nanos} nanoseconds.
         *
         * @param nanos how long to wait, in nanoseconds
         * @throws InterruptedException when the waiting thread is interrupted
         */
        void sleepNanos(long nanos) throws InterruptedException;
    }

    /**
     * Resolves a server's host name to its addresses; injectable so tests can move a name to another address. The
     * host selection calls it before every connection attempt to a server, on ZooKeeper's send thread.
     */
    @FunctionalInterface
    public interface Resolver {
        /**
         * The addresses of {@code host} now, as {@link InetAddress#getAllByName(String)} gives them.
         *
         * @param host the host as written in the connect string (a name or an IP literal, IPv6 without brackets)
         * @return its addresses; an empty array or null counts as a name that does not resolve
         * @throws UnknownHostException when the name does not resolve
         */
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    /** The default resolver: the JVM's, with its cache ({@code networkaddress.cache.ttl}). */
    public static final Resolver SYSTEM_RESOLVER = InetAddress::getAllByName;

    private static final Sleeper THREAD_SLEEPER = TimeUnit.NANOSECONDS::sleep;
    /** The default clock; quarantines kept on it can be shared by every pool of the process. */
    static final LongSupplier SYSTEM_NANO_CLOCK = System::nanoTime;

    private static final HostsConfig DEFAULTS = builder().build();

    private final Map<String, Integer> weights;
    private final int perServerConnectionBudget;
    private final Duration quarantineInitialBackoff;
    private final Duration quarantineMaxBackoff;
    private final Duration reconnectJitterBase;
    private final Duration reconnectJitterCap;
    private final double sessionCreationRate;
    private final Duration sessionCreationMaxWait;
    private final Duration connectAttemptTimeout;
    private final Duration minConnectAttemptTimeout;
    private final Duration rebalanceInterval;
    private final String clientZone;
    private final Map<String, String> serverZones;
    private final Duration fallbackSessionLifetime;
    private final Random random;
    private final LongSupplier nanoClock;
    private final Sleeper sleeper;
    private final Resolver resolver;

    private HostsConfig(Builder b) {
        this.weights = Collections.unmodifiableMap(new LinkedHashMap<>(b.weights));
        this.perServerConnectionBudget = b.perServerConnectionBudget;
        this.quarantineInitialBackoff = b.quarantineInitialBackoff;
        this.quarantineMaxBackoff = b.quarantineMaxBackoff;
        this.reconnectJitterBase = b.reconnectJitterBase;
        this.reconnectJitterCap = b.reconnectJitterCap;
        this.sessionCreationRate = b.sessionCreationRate;
        this.sessionCreationMaxWait = b.sessionCreationMaxWait;
        this.connectAttemptTimeout = b.connectAttemptTimeout;
        this.minConnectAttemptTimeout = b.minConnectAttemptTimeout;
        this.rebalanceInterval = b.rebalanceInterval;
        this.clientZone = b.clientZone;
        this.serverZones = Collections.unmodifiableMap(new LinkedHashMap<>(b.serverZones));
        this.fallbackSessionLifetime = b.fallbackSessionLifetime;
        this.random = b.random != null ? b.random : new Random();
        this.nanoClock = b.nanoClock;
        this.sleeper = b.sleeper;
        this.resolver = b.resolver;
    }

    /**
     * The default settings: every {@code DEFAULT_*} value, no weights, the system clock.
     *
     * @return the shared default config
     */
    public static HostsConfig defaults() {
        return DEFAULTS;
    }

    /**
     * Starts a config from the defaults.
     *
     * @return a builder with every setting at its default
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder holding these settings, to derive a changed copy.
     *
     * @return a builder with this config's settings, its random source, clock and sleeper included
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.weights.putAll(weights);
        b.perServerConnectionBudget = perServerConnectionBudget;
        b.quarantineInitialBackoff = quarantineInitialBackoff;
        b.quarantineMaxBackoff = quarantineMaxBackoff;
        b.reconnectJitterBase = reconnectJitterBase;
        b.reconnectJitterCap = reconnectJitterCap;
        b.sessionCreationRate = sessionCreationRate;
        b.sessionCreationMaxWait = sessionCreationMaxWait;
        b.connectAttemptTimeout = connectAttemptTimeout;
        b.minConnectAttemptTimeout = minConnectAttemptTimeout;
        b.rebalanceInterval = rebalanceInterval;
        b.clientZone = clientZone;
        b.serverZones.putAll(serverZones);
        b.fallbackSessionLifetime = fallbackSessionLifetime;
        b.random = random;
        b.nanoClock = nanoClock;
        b.sleeper = sleeper;
        b.resolver = resolver;
        return b;
    }

    /**
     * The configured weights; servers not listed weigh {@link #DEFAULT_WEIGHT}.
     *
     * @return an unmodifiable map from canonical {@code host:port} to weight, in the order set
     */
    public Map<String, Integer> weights() {
        return weights;
    }

    /**
     * The weight of one server.
     *
     * @param hostPort the server, {@code host:port} or {@code [ipv6]:port} (host compared case-insensitively)
     * @return its configured weight, or {@link #DEFAULT_WEIGHT}
     * @throws IllegalArgumentException when {@code hostPort} is not {@code host:port}
     */
    public int weight(String hostPort) {
        return weights.getOrDefault(ServerEntry.parseKey("hostPort", hostPort), DEFAULT_WEIGHT);
    }

    int weightOfKey(String key) {
        return weights.getOrDefault(key, DEFAULT_WEIGHT);
    }

    /**
     * Connections this process may hold to one server, counted over every pool in the JVM; a session does not
     * connect to a server at its budget.
     *
     * @return the budget (default {@link #DEFAULT_PER_SERVER_CONNECTION_BUDGET}, 50)
     */
    public int perServerConnectionBudget() {
        return perServerConnectionBudget;
    }

    /**
     * How long a server is skipped after its first consecutive connect failure; each further failure doubles it.
     *
     * @return the first quarantine (default {@link #DEFAULT_QUARANTINE_INITIAL_BACKOFF}, 1 s)
     */
    public Duration quarantineInitialBackoff() {
        return quarantineInitialBackoff;
    }

    /**
     * The longest a repeatedly failing server is skipped.
     *
     * @return the quarantine's upper bound (default {@link #DEFAULT_QUARANTINE_MAX_BACKOFF}, 30 s)
     */
    public Duration quarantineMaxBackoff() {
        return quarantineMaxBackoff;
    }

    /**
     * The bound of the random delay before reconnecting after the first failed attempt; it doubles per further
     * failure, up to {@link #reconnectJitterCap()}.
     *
     * @return the base, zero when reconnect delays are off (default {@link #DEFAULT_RECONNECT_JITTER_BASE}, 100 ms)
     */
    public Duration reconnectJitterBase() {
        return reconnectJitterBase;
    }

    /**
     * The upper bound of any reconnect delay.
     *
     * @return the cap (default {@link #DEFAULT_RECONNECT_JITTER_CAP}, 2 s)
     */
    public Duration reconnectJitterCap() {
        return reconnectJitterCap;
    }

    /**
     * New sessions per second, process-wide; see {@link SessionCreationLimiter#shared(double)}.
     *
     * @return the rate (default {@link #DEFAULT_SESSION_CREATION_RATE}, 20)
     */
    public double sessionCreationRate() {
        return sessionCreationRate;
    }

    /**
     * How long a new session waits for a creation permit before it is refused with
     * {@link SessionRateLimitedException}.
     *
     * @return the wait, zero to refuse at once (default {@link #DEFAULT_SESSION_CREATION_MAX_WAIT}, 5 s)
     */
    public Duration sessionCreationMaxWait() {
        return sessionCreationMaxWait;
    }

    /**
     * The longest one connection attempt may go unanswered before the client gives it up and tries the next server;
     * null when not set, and then an attempt gets at most the session timeout divided by the number of servers, and
     * at most a third of it. Within that bound an attempt is given much less when handshakes are fast: see
     * {@link #minConnectAttemptTimeout()}.
     *
     * @return the bound, or null when not set
     */
    public Duration connectAttemptTimeout() {
        return connectAttemptTimeout;
    }

    /**
     * The shortest time an unanswered connection attempt is given (default
     * {@link #DEFAULT_MIN_CONNECT_ATTEMPT_TIMEOUT}); see {@link Builder#minConnectAttemptTimeout(Duration)}.
     *
     * @return the shortest attempt timeout
     */
    public Duration minConnectAttemptTimeout() {
        return minConnectAttemptTimeout;
    }

    /**
     * The mean time between two looks of a pool at the spread of its sessions over the servers (each look moves at
     * most one session); see {@link Builder#rebalance(Duration)}.
     *
     * @return the interval, or null when rebalancing is off (default {@link #DEFAULT_REBALANCE_INTERVAL}, 2 s)
     */
    public Duration rebalanceInterval() {
        return rebalanceInterval;
    }

    /**
     * The zone (availability zone, rack, data centre) this client runs in; see {@link Builder#clientZone(String)}.
     *
     * @return the zone, or null when not set (no zone preference)
     */
    public String clientZone() {
        return clientZone;
    }

    /**
     * The configured zone of each server.
     *
     * @return an unmodifiable map from canonical {@code host:port} to zone, in the order set
     */
    public Map<String, String> serverZones() {
        return serverZones;
    }

    /**
     * Whether a server is in the client's zone: true for every server when no client zone is set.
     *
     * @param key the server, canonical {@code host:port}
     * @return true when sessions should prefer it
     */
    public boolean inClientZone(String key) {
        return clientZone == null || clientZone.equals(serverZones.get(key));
    }

    /**
     * How long a session on a server outside the client's zone stays there, about (jittered), before it moves back to a
     * healthy server in the zone; see {@link Builder#fallbackSessionLifetime(Duration)}.
     *
     * @return the lifetime (default {@link #DEFAULT_FALLBACK_SESSION_LIFETIME}, 10 min)
     */
    public Duration fallbackSessionLifetime() {
        return fallbackSessionLifetime;
    }

    /**
     * The source of randomness for server order, jitter and rebalancing.
     *
     * @return the random source; a private {@link Random} unless one was set
     */
    public Random random() {
        return random;
    }

    /**
     * The monotonic clock of quarantine deadlines.
     *
     * @return the clock, in nanoseconds; {@link System#nanoTime()} unless one was set
     */
    public LongSupplier nanoClock() {
        return nanoClock;
    }

    /**
     * How reconnect delays are waited out.
     *
     * @return the sleeper; {@link Thread#sleep} unless one was set
     */
    public Sleeper sleeper() {
        return sleeper;
    }

    /**
     * How server names are resolved before each connection attempt.
     *
     * @return the resolver; {@link #SYSTEM_RESOLVER} unless one was set
     */
    public Resolver resolver() {
        return resolver;
    }

    @Override
    public String toString() {
        return "HostsConfig{weights=" + weights
                + ", perServerConnectionBudget=" + perServerConnectionBudget
                + ", quarantineInitialBackoff=" + quarantineInitialBackoff
                + ", quarantineMaxBackoff=" + quarantineMaxBackoff
                + ", reconnectJitterBase=" + reconnectJitterBase
                + ", reconnectJitterCap=" + reconnectJitterCap
                + ", sessionCreationRate=" + sessionCreationRate
                + ", sessionCreationMaxWait=" + sessionCreationMaxWait
                + (connectAttemptTimeout == null ? "" : ", connectAttemptTimeout=" + connectAttemptTimeout)
                + ", minConnectAttemptTimeout=" + minConnectAttemptTimeout
                + ", rebalanceInterval=" + (rebalanceInterval == null ? "off" : rebalanceInterval)
                + (clientZone == null
                        ? ""
                        : ", clientZone=" + clientZone + ", serverZones=" + serverZones + ", fallbackSessionLifetime="
                                + fallbackSessionLifetime)
                + (resolver == SYSTEM_RESOLVER ? "" : ", resolver=custom") + "}";
    }

    /** Mutable builder of {@link HostsConfig}; not thread-safe. */
    public static final class Builder {
        private final Map<String, Integer> weights = new LinkedHashMap<>();
        private int perServerConnectionBudget = DEFAULT_PER_SERVER_CONNECTION_BUDGET;
        private Duration quarantineInitialBackoff = DEFAULT_QUARANTINE_INITIAL_BACKOFF;
        private Duration quarantineMaxBackoff = DEFAULT_QUARANTINE_MAX_BACKOFF;
        private Duration reconnectJitterBase = DEFAULT_RECONNECT_JITTER_BASE;
        private Duration reconnectJitterCap = DEFAULT_RECONNECT_JITTER_CAP;
        private double sessionCreationRate = DEFAULT_SESSION_CREATION_RATE;
        private Duration sessionCreationMaxWait = DEFAULT_SESSION_CREATION_MAX_WAIT;
        private Duration connectAttemptTimeout;
        private Duration minConnectAttemptTimeout = DEFAULT_MIN_CONNECT_ATTEMPT_TIMEOUT;
        private Duration rebalanceInterval = DEFAULT_REBALANCE_INTERVAL;
        private String clientZone;
        private final Map<String, String> serverZones = new LinkedHashMap<>();
        private Duration fallbackSessionLifetime = DEFAULT_FALLBACK_SESSION_LIFETIME;
        private Random random;
        private LongSupplier nanoClock = SYSTEM_NANO_CLOCK;
        private Sleeper sleeper = THREAD_SLEEPER;
        private Resolver resolver = SYSTEM_RESOLVER;

        private Builder() {}

        /**
         * Sets the relative weight of one server; a later call for the same server replaces the earlier one.
         *
         * @param hostPort the server as named in the connect string, {@code host:port} or {@code [ipv6]:port}
         * @param weight {@code 0..MAX_WEIGHT}; {@code 0} = use only when no server of positive weight is usable
         * @return this builder
         * @throws IllegalArgumentException when {@code hostPort} is not {@code host:port} or the weight is out of range
         */
        public Builder weight(String hostPort, int weight) {
            String key = ServerEntry.parseKey("weight", hostPort);
            if (weight < 0 || weight > MAX_WEIGHT) {
                throw new IllegalArgumentException(
                        "weight for " + key + " must be within 0.." + MAX_WEIGHT + ", was " + weight);
            }
            weights.put(key, weight);
            return this;
        }

        /**
         * Connections this process may hold to one server, counted over every pool in the JVM.
         *
         * @param budget the budget, at least 1 (default {@link #DEFAULT_PER_SERVER_CONNECTION_BUDGET}, 50)
         * @return this builder
         * @throws IllegalArgumentException when below 1
         */
        public Builder perServerConnectionBudget(int budget) {
            if (budget < 1) {
                throw new IllegalArgumentException("perServerConnectionBudget must be >= 1, was " + budget);
            }
            this.perServerConnectionBudget = budget;
            return this;
        }

        /**
         * How long a server is skipped after its first consecutive connect failure; doubles per further failure.
         *
         * @param backoff the first quarantine, positive (default {@link #DEFAULT_QUARANTINE_INITIAL_BACKOFF}, 1 s)
         * @return this builder
         * @throws IllegalArgumentException when null, zero or negative
         */
        public Builder quarantineInitialBackoff(Duration backoff) {
            this.quarantineInitialBackoff = positive("quarantineInitialBackoff", backoff);
            return this;
        }

        /**
         * The longest a repeatedly failing server is skipped; {@link #build()} checks it is not below the initial one.
         *
         * @param backoff the upper bound, positive (default {@link #DEFAULT_QUARANTINE_MAX_BACKOFF}, 30 s)
         * @return this builder
         * @throws IllegalArgumentException when null, zero or negative
         */
        public Builder quarantineMaxBackoff(Duration backoff) {
            this.quarantineMaxBackoff = positive("quarantineMaxBackoff", backoff);
            return this;
        }

        /**
         * The bound of the random delay before reconnecting after the first failed attempt; doubles per further
         * failure. Zero disables reconnect delays.
         *
         * @param base the base, zero or more (default {@link #DEFAULT_RECONNECT_JITTER_BASE}, 100 ms)
         * @return this builder
         * @throws IllegalArgumentException when null or negative
         */
        public Builder reconnectJitterBase(Duration base) {
            this.reconnectJitterBase = nonNegative("reconnectJitterBase", base);
            return this;
        }

        /**
         * The upper bound of any reconnect delay; {@link #build()} checks it is not below the base.
         *
         * @param cap the cap, zero or more (default {@link #DEFAULT_RECONNECT_JITTER_CAP}, 2 s)
         * @return this builder
         * @throws IllegalArgumentException when null or negative
         */
        public Builder reconnectJitterCap(Duration cap) {
            this.reconnectJitterCap = nonNegative("reconnectJitterCap", cap);
            return this;
        }

        /**
         * New ZooKeeper sessions per second, process-wide.
         *
         * @param permitsPerSecond the rate (default {@link #DEFAULT_SESSION_CREATION_RATE}, 20)
         * @return this builder
         * @throws IllegalArgumentException when not a finite number within (0, MAX_SESSION_CREATION_RATE]
         */
        public Builder sessionCreationRate(double permitsPerSecond) {
            this.sessionCreationRate = checkRate("sessionCreationRate", permitsPerSecond);
            return this;
        }

        /**
         * How long a new session waits for a creation permit before it is refused; zero = refuse at once when no
         * permit is free.
         *
         * @param maxWait the wait, zero or more (default {@link #DEFAULT_SESSION_CREATION_MAX_WAIT}, 5 s)
         * @return this builder
         * @throws IllegalArgumentException when null or negative
         */
        public Builder sessionCreationMaxWait(Duration maxWait) {
            this.sessionCreationMaxWait = nonNegative("sessionCreationMaxWait", maxWait);
            return this;
        }

        /**
         * Bounds one connection attempt: an attempt that a server accepts and does not answer (a stopped process
         * behind a load balancer, a server still loading its database) is given up after this long and the next
         * server tried. ZooKeeper gives an attempt the session timeout divided by the number of servers, and the pool
         * at most a third of the session timeout; with a long session timeout that is many seconds of a session
         * without a connection. A shorter bound only ever shortens that figure; the attempt's share of the
         * negotiated session timeout still applies when it is shorter. Leave it well above the time a connection and
         * its handshake (TLS, SASL) take on the slowest network the clients use: an attempt cut short is retried on
         * the next server, not failed.
         *
         * @param timeout the bound, positive (default: not set)
         * @return this builder
         * @throws IllegalArgumentException when null, zero or negative
         */
        public Builder connectAttemptTimeout(Duration timeout) {
            this.connectAttemptTimeout = positive("connectAttemptTimeout", timeout);
            return this;
        }

        /**
         * The shortest time a connection attempt is given before it is abandoned unanswered (default
         * {@link #DEFAULT_MIN_CONNECT_ATTEMPT_TIMEOUT}). A healthy server answers a connect request in milliseconds; one
         * that accepts the connection and never answers (SIGSTOPped, black-holed behind a proxy, restarting:
         * ZOOKEEPER-5051 leaves connections made while it loads its database unanswered) would otherwise hold the
         * attempt for the session timeout divided by the number of servers. An attempt is given
         * {@value #CONNECT_ATTEMPT_MARGIN} times the slowest of the last handshakes this process completed, at least
         * this, at most the attempt's share of the session timeout (and {@link #connectAttemptTimeout(Duration)} when
         * set); before any handshake completed, this. Each attempt of a session that was abandoned unanswered quadruples
         * the next one's bound, so a slow but working ensemble is still reached. Set it to the connect attempt's
         * share of the session timeout (or higher) to give every attempt its full share, as ZooKeeper does.
         *
         * @param timeout the shortest attempt timeout, positive
         * @return this builder
         * @throws IllegalArgumentException when null, zero or negative
         */
        public Builder minConnectAttemptTimeout(Duration timeout) {
            this.minConnectAttemptTimeout = positive("minConnectAttemptTimeout", timeout);
            return this;
        }

        /**
         * Rebalancing after failover: after a rolling restart (or any outage of some servers) all sessions of a pool
         * can end up on the servers that stayed up, and stay there. Every {@code interval} on average (uniformly
         * between half and one and a half times it, on the pool's scheduler, nothing on the call path) the pool
         * compares how many of its connected sessions each server of the list holds, weighed by the server's weight,
         * and moves <b>one</b> session from the most loaded server to the least loaded healthy one (not quarantined,
         * positive weight, below its {@link #perServerConnectionBudget(int) connection budget}) when that makes the
         * spread more even both for the pool and for the process's connection counts: with equal weights, only when the
         * two differ by at least 2 (hysteresis: a move never makes the target the more loaded one, so sessions do not
         * go back and forth). The move is a reconnect of the same session (its id, watches and ephemerals stay):
         * the connection is dropped and the session connects to the target, as for a membership change. A session
         * with requests waiting for replies or still to be sent is never moved (another one is, or the next look
         * tries again); while any of the pool's sessions is not connected, or the last move has not connected yet,
         * nothing is moved. Each move is logged at INFO naming both servers and counted in
         * {@code zksdk.hosts.rebalance.moves}.
         *
         * @param interval the mean time between two looks, positive (default {@link #DEFAULT_REBALANCE_INTERVAL}, 2 s)
         * @return this builder
         * @throws IllegalArgumentException when null, zero or negative
         */
        public Builder rebalance(Duration interval) {
            this.rebalanceInterval = positive("rebalance", interval);
            return this;
        }

        /**
         * The zone (availability zone, rack, data centre) this client runs in. With it set, sessions prefer the servers
         * of that zone ({@link #serverZone(String, String)}; a server without a zone is outside it): a session is handed
         * a server outside the zone only when none in it is usable (all quarantined or at their connection budget), and
         * weights apply within the zone. A session that fell back to a server outside the zone moves back, keeping its
         * id, after its {@link #fallbackSessionLifetime(Duration) fallback lifetime}, once a server in the zone is
         * healthy; rebalancing ({@link #rebalance(Duration)}, which makes that move, must be on) evens sessions out over
         * the zone's servers only.
         *
         * @param zone the zone, not blank
         * @return this builder
         * @throws IllegalArgumentException when null or blank
         */
        public Builder clientZone(String zone) {
            if (zone == null || zone.isBlank()) {
                throw new IllegalArgumentException(
                        "clientZone must not be blank, was " + (zone == null ? null : "'" + zone + "'"));
            }
            this.clientZone = zone;
            return this;
        }

        /**
         * Sets the zone of one server; a later call for the same server replaces the earlier one.
         *
         * @param hostPort the server as named in the connect string, {@code host:port} or {@code [ipv6]:port}
         * @param zone its zone, not blank
         * @return this builder
         * @throws IllegalArgumentException when {@code hostPort} is not {@code host:port} or the zone is blank
         */
        public Builder serverZone(String hostPort, String zone) {
            String key = ServerEntry.parseKey("serverZone", hostPort);
            if (zone == null || zone.isBlank()) {
                throw new IllegalArgumentException("serverZone for " + key + " must not be blank, was "
                        + (zone == null ? null : "'" + zone + "'"));
            }
            serverZones.put(key, zone);
            return this;
        }

        /**
         * How long a session that fell back to a server outside the client's zone stays there before it moves back to a
         * healthy server in the zone (jittered: between three quarters of it and one and a quarter times it, so that
         * sessions that fell back together do not move back together).
         *
         * @param lifetime the lifetime, positive (default {@link #DEFAULT_FALLBACK_SESSION_LIFETIME}, 10 min)
         * @return this builder
         * @throws IllegalArgumentException when null, zero or negative
         */
        public Builder fallbackSessionLifetime(Duration lifetime) {
            this.fallbackSessionLifetime = positive("fallbackSessionLifetime", lifetime);
            return this;
        }

        /**
         * Turns rebalancing after failover off (see {@link #rebalance(Duration)}): sessions stay where they connected
         * until they lose their connection.
         *
         * @return this builder
         */
        public Builder noRebalance() {
            this.rebalanceInterval = null;
            return this;
        }

        /**
         * Source of randomness for server order, jitter and rebalancing; for tests (a seeded one repeats a run).
         *
         * @param random the random source (default: a private {@link Random})
         * @return this builder
         * @throws IllegalArgumentException when null
         */
        public Builder random(Random random) {
            this.random = notNull("random", random);
            return this;
        }

        /**
         * Monotonic clock for quarantine deadlines; for tests. With another clock than the default, quarantines are
         * not shared with the process's other pools.
         *
         * @param nanoClock the clock, in nanoseconds (default {@link System#nanoTime()})
         * @return this builder
         * @throws IllegalArgumentException when null
         */
        public Builder nanoClock(LongSupplier nanoClock) {
            this.nanoClock = notNull("nanoClock", nanoClock);
            return this;
        }

        /**
         * How reconnect delays are waited out; for tests that record delays instead of waiting.
         *
         * @param sleeper the sleeper (default {@link Thread#sleep})
         * @return this builder
         * @throws IllegalArgumentException when null
         */
        public Builder sleeper(Sleeper sleeper) {
            this.sleeper = notNull("sleeper", sleeper);
            return this;
        }

        /**
         * How server names are resolved. Names are resolved again before every connection attempt (never once at
         * start), so a server that moved to another address is found again; a name with several addresses has each
         * tried in turn; a name that does not resolve is quarantined like a server that failed to connect.
         *
         * @param resolver the resolver (default {@link #SYSTEM_RESOLVER}, {@link InetAddress#getAllByName})
         * @return this builder
         * @throws IllegalArgumentException when null
         */
        public Builder resolver(Resolver resolver) {
            this.resolver = notNull("resolver", resolver);
            return this;
        }

        /**
         * Checks the settings together and builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException when a maximum is below its minimum, or a client zone is set with rebalancing
         *     off
         */
        public HostsConfig build() {
            if (quarantineMaxBackoff.compareTo(quarantineInitialBackoff) < 0) {
                throw new IllegalArgumentException("quarantineMaxBackoff (" + quarantineMaxBackoff
                        + ") must be >= quarantineInitialBackoff (" + quarantineInitialBackoff + ")");
            }
            if (reconnectJitterCap.compareTo(reconnectJitterBase) < 0) {
                throw new IllegalArgumentException("reconnectJitterCap (" + reconnectJitterCap
                        + ") must be >= reconnectJitterBase (" + reconnectJitterBase + ")");
            }
            if (clientZone != null && rebalanceInterval == null) {
                // Sessions that fell back out of the zone come back by the rebalancing's move: without it they never
                // would.
                throw new IllegalArgumentException("clientZone (" + clientZone
                        + ") needs rebalancing on to move fallback sessions back; noRebalance() was set");
            }
            return new HostsConfig(this);
        }
    }

    static double checkRate(String setting, double permitsPerSecond) {
        if (!Double.isFinite(permitsPerSecond)
                || permitsPerSecond <= 0
                || permitsPerSecond > MAX_SESSION_CREATION_RATE) {
            throw new IllegalArgumentException(setting + " must be within (0, " + MAX_SESSION_CREATION_RATE
                    + "] per second, was " + permitsPerSecond);
        }
        return permitsPerSecond;
    }

    static Duration nonNegative(String setting, Duration d) {
        if (d == null || d.isNegative()) {
            throw new IllegalArgumentException(setting + " must be >= 0, was " + d);
        }
        return d;
    }

    private static Duration positive(String setting, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(setting + " must be > 0, was " + d);
        }
        return d;
    }

    private static <T> T notNull(String setting, T value) {
        if (value == null) {
            throw new IllegalArgumentException(setting + " must not be null");
        }
        return value;
    }
}
