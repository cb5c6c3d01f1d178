package dev.zksdk.diagnostics;

import dev.zksdk.security.TlsConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of one {@link EnsembleDoctor} probe. Immutable; built with {@link #builder()}. Every setter rejects a
 * bad value at once with an {@link IllegalArgumentException} naming the setting and the value; nothing is
 * corrected silently.
 *
 * <p>Defaults: {@link #DEFAULT_TIMEOUT} per request, no requested session timeout (clamping is not judged), the
 * client address derived from the route to the first server ({@code 127.0.0.1} when every server is on
 * loopback), connection budget {@link #DEFAULT_CONNECTION_BUDGET_RATIO} of {@code maxClientCnxns}, AdminServer on
 * port {@link #DEFAULT_ADMIN_PORT} used as {@link AdminServerUse#FALLBACK}, and the thresholds named by the other
 * {@code DEFAULT_*} constants, and four-letter words in plain text (no {@link #tls()}).
 */
public final class DoctorOptions {

    /** Time allowed for each request to a member (TCP connect, and then the answer). */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
    /** Share of {@code maxClientCnxns} from one address at which {@link FindingCode#CONNECTION_BUDGET} is raised. */
    public static final double DEFAULT_CONNECTION_BUDGET_RATIO = 0.8;
    /** ZooKeeper's default AdminServer port ({@code admin.serverPort}). */
    public static final int DEFAULT_ADMIN_PORT = 8080;
    /** Transactions a member may be behind the leader before {@link FindingCode#LAGGING_MEMBER}. */
    public static final long DEFAULT_MAX_ZXID_LAG = 1000;
    /** Average request latency above which {@link FindingCode#HIGH_LATENCY} is raised. */
    public static final Duration DEFAULT_AVG_LATENCY_THRESHOLD = Duration.ofMillis(100);
    /** Maximum request latency (since start or the last {@code srst}) above which {@link FindingCode#HIGH_LATENCY} is raised. */
    public static final Duration DEFAULT_MAX_LATENCY_THRESHOLD = Duration.ofSeconds(10);
    /** Queued requests above which {@link FindingCode#OUTSTANDING_REQUESTS} is raised. */
    public static final long DEFAULT_OUTSTANDING_REQUESTS_THRESHOLD = 100;
    /** Bytes in dataDir plus dataLogDir above which {@link FindingCode#DATA_DIR_LARGE} is raised (10 GiB). */
    public static final long DEFAULT_DATA_SIZE_THRESHOLD_BYTES = 10L * 1024 * 1024 * 1024;

    private final Duration timeout;
    private final Duration requestedSessionTimeout;
    private final String clientAddress;
    private final double connectionBudgetRatio;
    private final int adminPort;
    private final AdminServerUse adminServerUse;
    private final long maxZxidLag;
    private final Duration avgLatencyThreshold;
    private final Duration maxLatencyThreshold;
    private final long outstandingRequestsThreshold;
    private final long dataSizeThresholdBytes;
    private final TlsConfig tls;

    private DoctorOptions(Builder b) {
        this.timeout = b.timeout;
        this.requestedSessionTimeout = b.requestedSessionTimeout;
        this.clientAddress = b.clientAddress;
        this.connectionBudgetRatio = b.connectionBudgetRatio;
        this.adminPort = b.adminPort;
        this.adminServerUse = b.adminServerUse;
        this.maxZxidLag = b.maxZxidLag;
        this.avgLatencyThreshold = b.avgLatencyThreshold;
        this.maxLatencyThreshold = b.maxLatencyThreshold;
        this.outstandingRequestsThreshold = b.outstandingRequestsThreshold;
        this.dataSizeThresholdBytes = b.dataSizeThresholdBytes;
        this.tls = b.tls;
    }

    /**
     * A builder with every default.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Options with every default.
     *
     * @return the default options
     */
    public static DoctorOptions defaults() {
        return builder().build();
    }

    /**
     * A builder holding these options, to change some of them.
     *
     * @return a builder with these options
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.timeout = timeout;
        b.requestedSessionTimeout = requestedSessionTimeout;
        b.clientAddress = clientAddress;
        b.connectionBudgetRatio = connectionBudgetRatio;
        b.adminPort = adminPort;
        b.adminServerUse = adminServerUse;
        b.maxZxidLag = maxZxidLag;
        b.avgLatencyThreshold = avgLatencyThreshold;
        b.maxLatencyThreshold = maxLatencyThreshold;
        b.outstandingRequestsThreshold = outstandingRequestsThreshold;
        b.dataSizeThresholdBytes = dataSizeThresholdBytes;
        b.tls = tls;
        return b;
    }

    /**
     * Time allowed for each request to a member: the TCP connect, and then the answer.
     *
     * @return the per-request timeout (default {@link #DEFAULT_TIMEOUT}, 2 s)
     */
    public Duration timeout() {
        return timeout;
    }

    /**
     * The session timeout a client will request, or {@code null} when clamping is not to be judged.
     *
     * @return the requested session timeout, or null
     */
    public Duration requestedSessionTimeout() {
        return requestedSessionTimeout;
    }

    /**
     * The client address whose connections are counted against {@code maxClientCnxns}, or {@code null} to
     * derive it from the route to the first server.
     *
     * @return the client's address, or null
     */
    public String clientAddress() {
        return clientAddress;
    }

    /**
     * Share of {@code maxClientCnxns} in use from one address at which the budget is reported.
     *
     * @return the ratio, in (0, 1] (default {@link #DEFAULT_CONNECTION_BUDGET_RATIO})
     */
    public double connectionBudgetRatio() {
        return connectionBudgetRatio;
    }

    /**
     * The AdminServer port of every member.
     *
     * @return the port (default {@link #DEFAULT_ADMIN_PORT})
     */
    public int adminPort() {
        return adminPort;
    }

    /**
     * When the AdminServer is asked.
     *
     * @return when the AdminServer is asked (default {@link AdminServerUse#FALLBACK})
     */
    public AdminServerUse adminServerUse() {
        return adminServerUse;
    }

    /**
     * Transactions a member may trail the leader by.
     *
     * @return the allowed lag in transactions (default {@link #DEFAULT_MAX_ZXID_LAG})
     */
    public long maxZxidLag() {
        return maxZxidLag;
    }

    /**
     * Average latency threshold.
     *
     * @return the threshold (default {@link #DEFAULT_AVG_LATENCY_THRESHOLD}, 100 ms)
     */
    public Duration avgLatencyThreshold() {
        return avgLatencyThreshold;
    }

    /**
     * Maximum latency threshold.
     *
     * @return the threshold (default {@link #DEFAULT_MAX_LATENCY_THRESHOLD}, 10 s)
     */
    public Duration maxLatencyThreshold() {
        return maxLatencyThreshold;
    }

    /**
     * Outstanding requests threshold.
     *
     * @return the threshold in requests (default {@link #DEFAULT_OUTSTANDING_REQUESTS_THRESHOLD})
     */
    public long outstandingRequestsThreshold() {
        return outstandingRequestsThreshold;
    }

    /**
     * Data size threshold in bytes.
     *
     * @return the threshold in bytes (default {@link #DEFAULT_DATA_SIZE_THRESHOLD_BYTES}, 10 GiB)
     */
    public long dataSizeThresholdBytes() {
        return dataSizeThresholdBytes;
    }

    /**
     * TLS for the four-letter words, for members whose client port is a {@code secureClientPort}; null for plain
     * text. The AdminServer is always asked over plain HTTP.
     *
     * @return the TLS settings, or null
     */
    public TlsConfig tls() {
        return tls;
    }

    @Override
    public String toString() {
        return "DoctorOptions{timeout=" + timeout
                + ", requestedSessionTimeout=" + requestedSessionTimeout
                + ", clientAddress=" + clientAddress
                + ", connectionBudgetRatio=" + connectionBudgetRatio
                + ", adminPort=" + adminPort
                + ", adminServerUse=" + adminServerUse
                + ", maxZxidLag=" + maxZxidLag
                + ", avgLatencyThreshold=" + avgLatencyThreshold
                + ", maxLatencyThreshold=" + maxLatencyThreshold
                + ", outstandingRequestsThreshold=" + outstandingRequestsThreshold
                + ", dataSizeThresholdBytes=" + dataSizeThresholdBytes
                + ", tls=" + (tls == null ? "off" : tls) + '}';
    }

    /** Builds {@link DoctorOptions}; not thread-safe. */
    public static final class Builder {
        private Duration timeout = DEFAULT_TIMEOUT;
        private Duration requestedSessionTimeout;
        private String clientAddress;
        private double connectionBudgetRatio = DEFAULT_CONNECTION_BUDGET_RATIO;
        private int adminPort = DEFAULT_ADMIN_PORT;
        private AdminServerUse adminServerUse = AdminServerUse.FALLBACK;
        private long maxZxidLag = DEFAULT_MAX_ZXID_LAG;
        private Duration avgLatencyThreshold = DEFAULT_AVG_LATENCY_THRESHOLD;
        private Duration maxLatencyThreshold = DEFAULT_MAX_LATENCY_THRESHOLD;
        private long outstandingRequestsThreshold = DEFAULT_OUTSTANDING_REQUESTS_THRESHOLD;
        private long dataSizeThresholdBytes = DEFAULT_DATA_SIZE_THRESHOLD_BYTES;
        private TlsConfig tls;

        private Builder() {}

        /**
         * Time allowed for each request to a member (TCP connect, then the answer); between 1 ms and 5 minutes.
         *
         * @param timeout the per-request timeout
         * @return this builder
         * @throws IllegalArgumentException when null or out of range
         */
        public Builder timeout(Duration timeout) {
            this.timeout = positiveMillis("timeout", timeout, Duration.ofMinutes(5));
            return this;
        }

        /**
         * The session timeout clients request, to judge {@link FindingCode#SESSION_TIMEOUT_CLAMPED}; {@code null}
         * to skip that check.
         *
         * @param requestedSessionTimeout the requested session timeout, or null
         * @return this builder
         * @throws IllegalArgumentException when not positive or not below {@link Integer#MAX_VALUE} ms
         */
        public Builder requestedSessionTimeout(Duration requestedSessionTimeout) {
            this.requestedSessionTimeout = requestedSessionTimeout == null
                    ? null
                    : positiveMillis(
                            "requestedSessionTimeout", requestedSessionTimeout, Duration.ofMillis(Integer.MAX_VALUE));
            return this;
        }

        /**
         * The address ZooKeeper sees this client connect from (an IP literal or a host name, without port), to
         * judge {@link FindingCode#CONNECTION_BUDGET} for it; {@code null} to derive it.
         *
         * @param clientAddress the client's address, or null
         * @return this builder
         * @throws IllegalArgumentException when blank, or holding whitespace, a port or a scheme
         */
        public Builder clientAddress(String clientAddress) {
            if (clientAddress == null) {
                this.clientAddress = null;
                return this;
            }
            String address = clientAddress.startsWith("/") ? clientAddress.substring(1) : clientAddress;
            if (address.isBlank()
                    || address.chars().anyMatch(Character::isWhitespace)
                    || address.contains("/")
                    || address.contains("[")
                    || (address.indexOf(':') >= 0 && address.indexOf(':') == address.lastIndexOf(':'))) {
                throw new IllegalArgumentException(
                        "clientAddress must be a bare IP address or host name without port, was '" + clientAddress
                                + "'");
            }
            this.clientAddress = address;
            return this;
        }

        /**
         * Share of {@code maxClientCnxns} in use from one address at which {@link FindingCode#CONNECTION_BUDGET}
         * is raised; greater than 0 and at most 1.
         *
         * @param connectionBudgetRatio the ratio, in (0, 1]
         * @return this builder
         * @throws IllegalArgumentException when out of range or not a number
         */
        public Builder connectionBudgetRatio(double connectionBudgetRatio) {
            if (!(connectionBudgetRatio > 0 && connectionBudgetRatio <= 1)) {
                throw new IllegalArgumentException(
                        "connectionBudgetRatio must be in (0, 1], was " + connectionBudgetRatio);
            }
            this.connectionBudgetRatio = connectionBudgetRatio;
            return this;
        }

        /**
         * The AdminServer port of the members ({@code admin.serverPort}), 1-65535.
         *
         * @param adminPort the port
         * @return this builder
         * @throws IllegalArgumentException when out of range
         */
        public Builder adminPort(int adminPort) {
            if (adminPort < 1 || adminPort > 65535) {
                throw new IllegalArgumentException("adminPort must be in 1-65535, was " + adminPort);
            }
            this.adminPort = adminPort;
            return this;
        }

        /**
         * When the AdminServer is asked.
         *
         * @param adminServerUse when to ask the AdminServer
         * @return this builder
         * @throws IllegalArgumentException when null
         */
        public Builder adminServerUse(AdminServerUse adminServerUse) {
            if (adminServerUse == null) {
                throw new IllegalArgumentException("adminServerUse must not be null");
            }
            this.adminServerUse = adminServerUse;
            return this;
        }

        /**
         * Transactions a follower may trail the leader before {@link FindingCode#LAGGING_MEMBER}; at least 0.
         *
         * @param maxZxidLag the allowed lag in transactions
         * @return this builder
         * @throws IllegalArgumentException when negative
         */
        public Builder maxZxidLag(long maxZxidLag) {
            if (maxZxidLag < 0) {
                throw new IllegalArgumentException("maxZxidLag must be >= 0, was " + maxZxidLag);
            }
            this.maxZxidLag = maxZxidLag;
            return this;
        }

        /**
         * Average latency above which {@link FindingCode#HIGH_LATENCY} is raised.
         *
         * @param avgLatencyThreshold the threshold
         * @return this builder
         * @throws IllegalArgumentException when null or not positive
         */
        public Builder avgLatencyThreshold(Duration avgLatencyThreshold) {
            this.avgLatencyThreshold = positiveMillis("avgLatencyThreshold", avgLatencyThreshold, Duration.ofDays(1));
            return this;
        }

        /**
         * Maximum latency above which {@link FindingCode#HIGH_LATENCY} is raised.
         *
         * @param maxLatencyThreshold the threshold
         * @return this builder
         * @throws IllegalArgumentException when null or not positive
         */
        public Builder maxLatencyThreshold(Duration maxLatencyThreshold) {
            this.maxLatencyThreshold = positiveMillis("maxLatencyThreshold", maxLatencyThreshold, Duration.ofDays(1));
            return this;
        }

        /**
         * Queued requests above which {@link FindingCode#OUTSTANDING_REQUESTS} is raised; at least 0.
         *
         * @param outstandingRequestsThreshold the threshold in requests
         * @return this builder
         * @throws IllegalArgumentException when negative
         */
        public Builder outstandingRequestsThreshold(long outstandingRequestsThreshold) {
            if (outstandingRequestsThreshold < 0) {
                throw new IllegalArgumentException(
                        "outstandingRequestsThreshold must be >= 0, was " + outstandingRequestsThreshold);
            }
            this.outstandingRequestsThreshold = outstandingRequestsThreshold;
            return this;
        }

        /**
         * Bytes in dataDir plus dataLogDir above which {@link FindingCode#DATA_DIR_LARGE} is raised; positive.
         *
         * @param dataSizeThresholdBytes the threshold in bytes
         * @return this builder
         * @throws IllegalArgumentException when not positive
         */
        public Builder dataSizeThresholdBytes(long dataSizeThresholdBytes) {
            if (dataSizeThresholdBytes <= 0) {
                throw new IllegalArgumentException("dataSizeThresholdBytes must be > 0, was " + dataSizeThresholdBytes);
            }
            this.dataSizeThresholdBytes = dataSizeThresholdBytes;
            return this;
        }

        /**
         * Sends the four-letter words over TLS with these settings, applied as a pooled session applies them: stores,
         * host name verification, {@link TlsConfig#enabledProtocols()} (default TLSv1.3 and TLSv1.2) and
         * {@link TlsConfig#cipherSuites()} (default the JVM's); null (the default) for plain text. A member whose
         * port speaks the other protocol, or refuses every protocol or cipher suite offered, is reported as
         * {@link FindingCode#TLS_MISMATCH}.
         *
         * @param tls the TLS settings, or null for plain text
         * @return this builder
         */
        public Builder tls(TlsConfig tls) {
            this.tls = tls;
            return this;
        }

        /**
         * The options. Every value was checked by its setter; there are no combinations to reject.
         *
         * @return the options
         */
        public DoctorOptions build() {
            return new DoctorOptions(this);
        }

        private static Duration positiveMillis(String setting, Duration value, Duration max) {
            Objects.requireNonNull(setting);
            if (value == null) {
                throw new IllegalArgumentException(setting + " must not be null");
            }
            if (value.isNegative() || value.isZero() || value.compareTo(Duration.ofMillis(1)) < 0) {
                throw new IllegalArgumentException(setting + " must be at least 1 ms, was " + value);
            }
            if (value.compareTo(max) > 0) {
                throw new IllegalArgumentException(setting + " must be at most " + max + ", was " + value);
            }
            return value;
        }
    }
}
