package dev.zksdk.spring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of the auto-configured {@link dev.zksdk.ZkSessionPool}, under {@code zksdk.*}. Every pool setting has a
 * property; the defaults are the core's ({@code EnsembleConfig}, {@code OperationPolicy}, {@code HostsConfig}
 * {@code DEFAULT_*} constants). Values are validated by the core builders when the pool is created: a bad value fails
 * start-up with an
 * {@link org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException} naming the
 * property and the value (a credential's value is never shown).
 *
 * <p>Durations take Spring's forms: {@code 500ms}, {@code 30s}, {@code PT30S}; a bare number is milliseconds.
 */
@ConfigurationProperties(prefix = "zksdk")
public class ZkSdkProperties {

    /** Whether to auto-configure the ZooKeeper session pool. */
    private boolean enabled = true;

    /** Name of the pool: used in thread names, logs and the "pool" tag of its meters. */
    private String name = "zksdk";

    /**
     * ZooKeeper connect string: "host:port[,host:port...]", optionally followed by a chroot such as "/apps/billing".
     * Every server needs its port.
     */
    private String connectString = "localhost:2181";

    /** Chroot appended to the connect string, such as "/apps/billing"; leave unset when the connect string has one. */
    private String chroot;

    /** Session timeout to request. The server clamps it to its min/max session timeout; the granted one is reported. */
    private Duration sessionTimeout = Duration.ofSeconds(30);

    /** How long to wait for a connected session, when leasing and in each operation. */
    private Duration connectionTimeout = Duration.ofSeconds(15);

    /** Long-lived sessions kept per ensemble; leases spread over them. */
    private int sessionsPerEnsemble = 1;

    /** Longest time one operation may take in all, its retries included. */
    private Duration operationTimeout = Duration.ofSeconds(15);

    /** Credentials added to every session (ZooKeeper addAuthInfo), in order. */
    private List<Auth> auth = new ArrayList<>();

    private final Retry retry = new Retry();

    private final CircuitBreaker circuitBreaker = new CircuitBreaker();

    private final Bulkhead bulkhead = new Bulkhead();

    private final Hosts hosts = new Hosts();

    private final Metrics metrics = new Metrics();

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String getConnectString() {
        return connectString;
    }

    public void setConnectString(String connectString) {
        this.connectString = connectString;
    }

    public String getChroot() {
        return chroot;
    }

    public void setChroot(String chroot) {
        this.chroot = chroot;
    }

    public Duration getSessionTimeout() {
        return sessionTimeout;
    }

    public void setSessionTimeout(Duration sessionTimeout) {
        this.sessionTimeout = sessionTimeout;
    }

    public Duration getConnectionTimeout() {
        return connectionTimeout;
    }

    public void setConnectionTimeout(Duration connectionTimeout) {
        this.connectionTimeout = connectionTimeout;
    }

    public int getSessionsPerEnsemble() {
        return sessionsPerEnsemble;
    }

    public void setSessionsPerEnsemble(int sessionsPerEnsemble) {
        this.sessionsPerEnsemble = sessionsPerEnsemble;
    }

    public Duration getOperationTimeout() {
        return operationTimeout;
    }

    public void setOperationTimeout(Duration operationTimeout) {
        this.operationTimeout = operationTimeout;
    }

    public List<Auth> getAuth() {
        return auth;
    }

    public void setAuth(List<Auth> auth) {
        this.auth = auth;
    }

    public Retry getRetry() {
        return retry;
    }

    public CircuitBreaker getCircuitBreaker() {
        return circuitBreaker;
    }

    public Bulkhead getBulkhead() {
        return bulkhead;
    }

    public Hosts getHosts() {
        return hosts;
    }

    public Metrics getMetrics() {
        return metrics;
    }

    @Override
    public String toString() {
        return "ZkSdkProperties{name=" + name + ", connectString=" + connectString + ", chroot=" + chroot
                + ", sessionTimeout=" + sessionTimeout + ", connectionTimeout=" + connectionTimeout
                + ", sessionsPerEnsemble="
                + sessionsPerEnsemble + ", operationTimeout=" + operationTimeout + ", auth=" + auth + "}";
    }

    /** One credential. Printed as {@code scheme:****}. */
    public static class Auth {

        /** Authentication scheme, such as "digest". */
        private String scheme = "digest";

        /** The credential, such as "user:password" for the digest scheme; sent as UTF-8 bytes and never logged. */
        private String credentials;

        public String getScheme() {
            return scheme;
        }

        public void setScheme(String scheme) {
            this.scheme = scheme;
        }

        public String getCredentials() {
            return credentials;
        }

        public void setCredentials(String credentials) {
            this.credentials = credentials;
        }

        @Override
        public String toString() {
            return scheme + ":****";
        }
    }

    /**
     * Every retry of the SDK: operations after connection loss (exponential backoff with full jitter, bounded by the
     * operation timeout; Curator's own retry for recipes follows the same), and recovery passes that left work undone.
     */
    public static class Retry {

        /** Upper bound of the first retry's random wait; each later retry doubles it, up to the max backoff. */
        private Duration initialBackoff = Duration.ofMillis(20);

        /** Upper bound of any retry's random wait. */
        private Duration maxBackoff = Duration.ofSeconds(1);

        /**
         * Upper bound of the first random wait before a recovery pass that left an owned ephemeral missing or a watch
         * unarmed is tried again; each later one doubles it, up to the recovery max backoff.
         */
        private Duration recoveryInitialBackoff = Duration.ofMillis(200);

        /** Upper bound of any random wait between recovery passes that left work undone. */
        private Duration recoveryMaxBackoff = Duration.ofSeconds(5);

        public Duration getRecoveryInitialBackoff() {
            return recoveryInitialBackoff;
        }

        public void setRecoveryInitialBackoff(Duration recoveryInitialBackoff) {
            this.recoveryInitialBackoff = recoveryInitialBackoff;
        }

        public Duration getRecoveryMaxBackoff() {
            return recoveryMaxBackoff;
        }

        public void setRecoveryMaxBackoff(Duration recoveryMaxBackoff) {
            this.recoveryMaxBackoff = recoveryMaxBackoff;
        }

        public Duration getInitialBackoff() {
            return initialBackoff;
        }

        public void setInitialBackoff(Duration initialBackoff) {
            this.initialBackoff = initialBackoff;
        }

        public Duration getMaxBackoff() {
            return maxBackoff;
        }

        public void setMaxBackoff(Duration maxBackoff) {
            this.maxBackoff = maxBackoff;
        }
    }

    /** The per-ensemble circuit breaker: counts only connection-level failures, never application results. */
    public static class CircuitBreaker {

        /** Failure percentage, in (0, 100], at which the breaker opens. */
        private float failureRateThreshold = 50f;

        /** Calls the breaker looks back over. */
        private int slidingWindow = 10;

        /** Calls the breaker needs to see before it may open; at most the sliding window. */
        private int minimumCalls = 4;

        /** How long an open breaker refuses calls before letting trial calls through. */
        private Duration openDuration = Duration.ofSeconds(5);

        /** Trial calls let through by a half-open breaker. */
        private int halfOpenCalls = 2;

        public float getFailureRateThreshold() {
            return failureRateThreshold;
        }

        public void setFailureRateThreshold(float failureRateThreshold) {
            this.failureRateThreshold = failureRateThreshold;
        }

        public int getSlidingWindow() {
            return slidingWindow;
        }

        public void setSlidingWindow(int slidingWindow) {
            this.slidingWindow = slidingWindow;
        }

        public int getMinimumCalls() {
            return minimumCalls;
        }

        public void setMinimumCalls(int minimumCalls) {
            this.minimumCalls = minimumCalls;
        }

        public Duration getOpenDuration() {
            return openDuration;
        }

        public void setOpenDuration(Duration openDuration) {
            this.openDuration = openDuration;
        }

        public int getHalfOpenCalls() {
            return halfOpenCalls;
        }

        public void setHalfOpenCalls(int halfOpenCalls) {
            this.halfOpenCalls = halfOpenCalls;
        }
    }

    /** The per-ensemble in-flight limit. */
    public static class Bulkhead {

        /** Operations in flight per ensemble before new ones are refused. */
        private int maxInFlight = 4096;

        /** How long an operation may wait for an in-flight slot; 0 refuses at once. */
        private Duration maxWait = Duration.ZERO;

        public int getMaxInFlight() {
            return maxInFlight;
        }

        public void setMaxInFlight(int maxInFlight) {
            this.maxInFlight = maxInFlight;
        }

        public Duration getMaxWait() {
            return maxWait;
        }

        public void setMaxWait(Duration maxWait) {
            this.maxWait = maxWait;
        }
    }

    /** Server selection: weights, connection budget, quarantine, reconnect jitter and the session-creation rate limit. */
    public static class Hosts {

        /**
         * Relative weight per server, keyed "host:port" as in the connect string. Bracket the key, and in a .properties
         * file escape its colon: zksdk.hosts.weights.[zk1\:2181]=3 (YAML: "[zk1:2181]": 3). Servers not listed weigh 1;
         * weight 0 means "only when no other server can be used".
         */
        private Map<String, Integer> weights = new LinkedHashMap<>();

        /** Connections this process may hold to one server, over all pools of the JVM; keep below maxClientCnxns. */
        private int perServerConnectionBudget = 50;

        /** Quarantine of a server after its first failed connect; doubles per further failure. */
        private Duration quarantineInitialBackoff = Duration.ofSeconds(1);

        /** Upper bound of a repeatedly failing server's quarantine. */
        private Duration quarantineMaxBackoff = Duration.ofSeconds(30);

        /** Upper bound of the reconnect delay after a first failed attempt; doubles per further failure. 0 disables it. */
        private Duration reconnectJitterBase = Duration.ofMillis(100);

        /** Upper bound of any reconnect delay. */
        private Duration reconnectJitterCap = Duration.ofSeconds(2);

        /** New ZooKeeper sessions per second, process-wide: protects the servers' accept queues from bursts. */
        private double sessionCreationRate = 20.0;

        /** How long a new session waits for a creation permit before it is refused. */
        private Duration sessionCreationMaxWait = Duration.ofSeconds(5);

        /**
         * The longest one connection attempt may go unanswered before the next server is tried; unset, an attempt gets
         * the session timeout divided by the number of servers, and at most a third of it.
         */
        private Duration connectAttemptTimeout;

        /**
         * The shortest time an unanswered connection attempt is given; an attempt gets 8 times the slowest recent
         * handshake with the server, at least this, four times longer per unanswered attempt of the session.
         */
        private Duration minConnectAttemptTimeout = Duration.ofMillis(500);

        public Duration getMinConnectAttemptTimeout() {
            return minConnectAttemptTimeout;
        }

        public void setMinConnectAttemptTimeout(Duration minConnectAttemptTimeout) {
            this.minConnectAttemptTimeout = minConnectAttemptTimeout;
        }

        public Map<String, Integer> getWeights() {
            return weights;
        }

        public void setWeights(Map<String, Integer> weights) {
            this.weights = weights;
        }

        public int getPerServerConnectionBudget() {
            return perServerConnectionBudget;
        }

        public void setPerServerConnectionBudget(int perServerConnectionBudget) {
            this.perServerConnectionBudget = perServerConnectionBudget;
        }

        public Duration getQuarantineInitialBackoff() {
            return quarantineInitialBackoff;
        }

        public void setQuarantineInitialBackoff(Duration quarantineInitialBackoff) {
            this.quarantineInitialBackoff = quarantineInitialBackoff;
        }

        public Duration getQuarantineMaxBackoff() {
            return quarantineMaxBackoff;
        }

        public void setQuarantineMaxBackoff(Duration quarantineMaxBackoff) {
            this.quarantineMaxBackoff = quarantineMaxBackoff;
        }

        public Duration getReconnectJitterBase() {
            return reconnectJitterBase;
        }

        public void setReconnectJitterBase(Duration reconnectJitterBase) {
            this.reconnectJitterBase = reconnectJitterBase;
        }

        public Duration getConnectAttemptTimeout() {
            return connectAttemptTimeout;
        }

        public void setConnectAttemptTimeout(Duration connectAttemptTimeout) {
            this.connectAttemptTimeout = connectAttemptTimeout;
        }

        public Duration getReconnectJitterCap() {
            return reconnectJitterCap;
        }

        public void setReconnectJitterCap(Duration reconnectJitterCap) {
            this.reconnectJitterCap = reconnectJitterCap;
        }

        public double getSessionCreationRate() {
            return sessionCreationRate;
        }

        public void setSessionCreationRate(double sessionCreationRate) {
            this.sessionCreationRate = sessionCreationRate;
        }

        public Duration getSessionCreationMaxWait() {
            return sessionCreationMaxWait;
        }

        public void setSessionCreationMaxWait(Duration sessionCreationMaxWait) {
            this.sessionCreationMaxWait = sessionCreationMaxWait;
        }
    }

    /** Micrometer metrics of the pool. */
    public static class Metrics {

        /** Whether to publish the pool's meters to the application's MeterRegistry (when Micrometer is present). */
        private boolean enabled = true;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }
}
