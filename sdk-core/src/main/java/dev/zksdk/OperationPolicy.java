package dev.zksdk;

import dev.zksdk.internal.Validation;
import java.time.Duration;

/**
 * How operations are protected: the retry deadline and backoff (exponential with full jitter), the per-ensemble
 * circuit breaker and the in-flight limit (bulkhead). Immutable; built with {@link #builder()}.
 *
 * <p>Every retry of the SDK is configured here, and all back off the same way (exponential with full jitter: attempt
 * n waits a random time below {@code min(max, initial * 2^(n-1))}):
 * <ul>
 *   <li><b>Operations</b> ({@link #retryInitialBackoff()}, {@link #retryMaxBackoff()}, within
 *       {@link #operationTimeout()}): a read or write that met {@code CONNECTIONLOSS}, {@code OPERATIONTIMEOUT} or
 *       {@code SESSIONMOVED}. Application results are never retried; a write lost in flight is sent again only when
 *       the server's state proves it was not applied.</li>
 *   <li><b>Curator's own</b>, for recipes run on {@code lease.curator()}: the same backoff, for as long as the
 *       operation timeout.</li>
 *   <li><b>Recovery</b> ({@link #recoveryRetryInitialBackoff()}, {@link #recoveryRetryMaxBackoff()}): a pass that left
 *       an owned ephemeral missing (a conflict, {@code NOAUTH}, a removed parent, the pool's expired session's node
 *       still there) or a watch unarmed is tried again, without end, until it succeeds or is closed.</li>
 * </ul>
 * Connection attempts to servers back off by the host selection's quarantine ({@link dev.zksdk.hosts.HostsConfig}).
 *
 * <p>Only "the ensemble is unreachable" (no session connected within the connection timeout) counts against the
 * circuit breaker; application results and calls cut by a connection change never do.
 */
public final class OperationPolicy {

    /** The longest an operation may take in all, its retries included. */
    public static final Duration DEFAULT_OPERATION_TIMEOUT = Duration.ofSeconds(15);
    /** The first retry waits a random time in [0, this]; each later one doubles the bound up to the max. */
    public static final Duration DEFAULT_RETRY_INITIAL_BACKOFF = Duration.ofMillis(20);

    public static final Duration DEFAULT_RETRY_MAX_BACKOFF = Duration.ofSeconds(1);
    /** Failure percentage (of connection-level failures) at which the breaker opens. */
    public static final float DEFAULT_BREAKER_FAILURE_RATE_THRESHOLD = 50f;
    /** Calls the breaker looks back over. */
    public static final int DEFAULT_BREAKER_SLIDING_WINDOW = 10;
    /** Calls the breaker needs to see before it may open. */
    public static final int DEFAULT_BREAKER_MINIMUM_CALLS = 4;
    /** How long an open breaker refuses calls before letting trial calls through. */
    public static final Duration DEFAULT_BREAKER_OPEN_DURATION = Duration.ofSeconds(5);
    /** Trial calls let through by a half-open breaker. */
    public static final int DEFAULT_BREAKER_HALF_OPEN_CALLS = 2;
    /** The first wait before a recovery pass that left work undone is tried again (full jitter below it). */
    public static final Duration DEFAULT_RECOVERY_RETRY_INITIAL_BACKOFF = Duration.ofMillis(200);
    /** The longest wait between recovery passes that left work undone. */
    public static final Duration DEFAULT_RECOVERY_RETRY_MAX_BACKOFF = Duration.ofSeconds(5);
    /** Operations in flight per ensemble before new ones are refused. */
    public static final int DEFAULT_MAX_IN_FLIGHT = 4096;
    /** How long an operation may wait for an in-flight slot. */
    public static final Duration DEFAULT_MAX_IN_FLIGHT_WAIT = Duration.ZERO;

    private static final OperationPolicy DEFAULTS = new Builder().build();

    private final Duration operationTimeout;
    private final Duration retryInitialBackoff;
    private final Duration retryMaxBackoff;
    private final float breakerFailureRateThreshold;
    private final int breakerSlidingWindow;
    private final int breakerMinimumCalls;
    private final Duration breakerOpenDuration;
    private final int breakerHalfOpenCalls;
    private final int maxInFlight;
    private final Duration maxInFlightWait;
    private final Duration recoveryRetryInitialBackoff;
    private final Duration recoveryRetryMaxBackoff;

    private OperationPolicy(Builder b) {
        this.operationTimeout = b.operationTimeout;
        this.retryInitialBackoff = b.retryInitialBackoff;
        this.retryMaxBackoff = b.retryMaxBackoff;
        this.breakerFailureRateThreshold = b.breakerFailureRateThreshold;
        this.breakerSlidingWindow = b.breakerSlidingWindow;
        this.breakerMinimumCalls = b.breakerMinimumCalls;
        this.breakerOpenDuration = b.breakerOpenDuration;
        this.breakerHalfOpenCalls = b.breakerHalfOpenCalls;
        this.maxInFlight = b.maxInFlight;
        this.maxInFlightWait = b.maxInFlightWait;
        this.recoveryRetryInitialBackoff = b.recoveryRetryInitialBackoff;
        this.recoveryRetryMaxBackoff = b.recoveryRetryMaxBackoff;
    }

    public static OperationPolicy defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.operationTimeout = operationTimeout;
        b.retryInitialBackoff = retryInitialBackoff;
        b.retryMaxBackoff = retryMaxBackoff;
        b.breakerFailureRateThreshold = breakerFailureRateThreshold;
        b.breakerSlidingWindow = breakerSlidingWindow;
        b.breakerMinimumCalls = breakerMinimumCalls;
        b.breakerOpenDuration = breakerOpenDuration;
        b.breakerHalfOpenCalls = breakerHalfOpenCalls;
        b.maxInFlight = maxInFlight;
        b.maxInFlightWait = maxInFlightWait;
        b.recoveryRetryInitialBackoff = recoveryRetryInitialBackoff;
        b.recoveryRetryMaxBackoff = recoveryRetryMaxBackoff;
        return b;
    }

    public Duration operationTimeout() {
        return operationTimeout;
    }

    public Duration retryInitialBackoff() {
        return retryInitialBackoff;
    }

    public Duration retryMaxBackoff() {
        return retryMaxBackoff;
    }

    public float breakerFailureRateThreshold() {
        return breakerFailureRateThreshold;
    }

    public int breakerSlidingWindow() {
        return breakerSlidingWindow;
    }

    public int breakerMinimumCalls() {
        return breakerMinimumCalls;
    }

    public Duration breakerOpenDuration() {
        return breakerOpenDuration;
    }

    public int breakerHalfOpenCalls() {
        return breakerHalfOpenCalls;
    }

    public int maxInFlight() {
        return maxInFlight;
    }

    public Duration maxInFlightWait() {
        return maxInFlightWait;
    }

    /** The first wait before a recovery pass that left work undone is tried again. */
    public Duration recoveryRetryInitialBackoff() {
        return recoveryRetryInitialBackoff;
    }

    /** The longest wait between recovery passes that left work undone. */
    public Duration recoveryRetryMaxBackoff() {
        return recoveryRetryMaxBackoff;
    }

    @Override
    public String toString() {
        return "OperationPolicy{operationTimeout=" + operationTimeout + ", retryBackoff=[" + retryInitialBackoff + ".."
                + retryMaxBackoff + "], breaker{failureRate=" + breakerFailureRateThreshold + "%, window="
                + breakerSlidingWindow + ", minimumCalls=" + breakerMinimumCalls + ", open=" + breakerOpenDuration
                + ", halfOpenCalls=" + breakerHalfOpenCalls + "}, maxInFlight=" + maxInFlight + ", maxInFlightWait="
                + maxInFlightWait + ", recoveryRetryBackoff=[" + recoveryRetryInitialBackoff + ".."
                + recoveryRetryMaxBackoff
                + "]}";
    }

    /** Builds an {@link OperationPolicy}; setters reject bad values at once, naming the setting and the value. */
    public static final class Builder {
        private Duration operationTimeout = DEFAULT_OPERATION_TIMEOUT;
        private Duration retryInitialBackoff = DEFAULT_RETRY_INITIAL_BACKOFF;
        private Duration retryMaxBackoff = DEFAULT_RETRY_MAX_BACKOFF;
        private float breakerFailureRateThreshold = DEFAULT_BREAKER_FAILURE_RATE_THRESHOLD;
        private int breakerSlidingWindow = DEFAULT_BREAKER_SLIDING_WINDOW;
        private int breakerMinimumCalls = DEFAULT_BREAKER_MINIMUM_CALLS;
        private Duration breakerOpenDuration = DEFAULT_BREAKER_OPEN_DURATION;
        private int breakerHalfOpenCalls = DEFAULT_BREAKER_HALF_OPEN_CALLS;
        private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
        private Duration maxInFlightWait = DEFAULT_MAX_IN_FLIGHT_WAIT;
        private Duration recoveryRetryInitialBackoff = DEFAULT_RECOVERY_RETRY_INITIAL_BACKOFF;
        private Duration recoveryRetryMaxBackoff = DEFAULT_RECOVERY_RETRY_MAX_BACKOFF;

        private Builder() {}

        /** The longest one operation may take, retries included; then it fails with the last connection error. */
        public Builder operationTimeout(Duration v) {
            this.operationTimeout = Validation.positive("operationTimeout", v);
            return this;
        }

        public Builder retryInitialBackoff(Duration v) {
            this.retryInitialBackoff = Validation.positive("retryInitialBackoff", v);
            return this;
        }

        public Builder retryMaxBackoff(Duration v) {
            this.retryMaxBackoff = Validation.positive("retryMaxBackoff", v);
            return this;
        }

        public Builder breakerFailureRateThreshold(float percent) {
            if (!(percent > 0f && percent <= 100f)) {
                throw new IllegalArgumentException(
                        "breakerFailureRateThreshold must be in (0, 100] percent, was " + percent);
            }
            this.breakerFailureRateThreshold = percent;
            return this;
        }

        public Builder breakerSlidingWindow(int calls) {
            this.breakerSlidingWindow = Validation.positive("breakerSlidingWindow", calls);
            return this;
        }

        public Builder breakerMinimumCalls(int calls) {
            this.breakerMinimumCalls = Validation.positive("breakerMinimumCalls", calls);
            return this;
        }

        public Builder breakerOpenDuration(Duration v) {
            this.breakerOpenDuration = Validation.positive("breakerOpenDuration", v);
            return this;
        }

        public Builder breakerHalfOpenCalls(int calls) {
            this.breakerHalfOpenCalls = Validation.positive("breakerHalfOpenCalls", calls);
            return this;
        }

        public Builder maxInFlight(int operations) {
            this.maxInFlight = Validation.positive("maxInFlight", operations);
            return this;
        }

        public Builder maxInFlightWait(Duration v) {
            this.maxInFlightWait = Validation.nonNegative("maxInFlightWait", v);
            return this;
        }

        public Builder recoveryRetryInitialBackoff(Duration v) {
            this.recoveryRetryInitialBackoff = Validation.positive("recoveryRetryInitialBackoff", v);
            return this;
        }

        public Builder recoveryRetryMaxBackoff(Duration v) {
            this.recoveryRetryMaxBackoff = Validation.positive("recoveryRetryMaxBackoff", v);
            return this;
        }

        public OperationPolicy build() {
            if (recoveryRetryMaxBackoff.compareTo(recoveryRetryInitialBackoff) < 0) {
                throw new IllegalArgumentException("recoveryRetryMaxBackoff (" + recoveryRetryMaxBackoff
                        + ") must not be shorter than recoveryRetryInitialBackoff (" + recoveryRetryInitialBackoff
                        + ")");
            }
            if (retryMaxBackoff.compareTo(retryInitialBackoff) < 0) {
                throw new IllegalArgumentException("retryMaxBackoff (" + retryMaxBackoff
                        + ") must not be shorter than retryInitialBackoff (" + retryInitialBackoff + ")");
            }
            if (breakerMinimumCalls > breakerSlidingWindow) {
                throw new IllegalArgumentException("breakerMinimumCalls (" + breakerMinimumCalls
                        + ") must not exceed breakerSlidingWindow (" + breakerSlidingWindow + ")");
            }
            return new OperationPolicy(this);
        }
    }
}
