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
    /** The bound of an operation retry's random wait stops doubling here. */
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

    /**
     * The policy with every setting at its {@code DEFAULT_*} value.
     *
     * @return the shared default policy
     */
    public static OperationPolicy defaults() {
        return DEFAULTS;
    }

    /**
     * Starts a policy from the defaults.
     *
     * @return a builder with every setting at its {@code DEFAULT_*} value
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts a policy from this one, to change a few settings.
     *
     * @return a builder holding this policy's settings
     */
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

    /**
     * The longest one operation may take in all, its waits for a connection and its retries included.
     *
     * @return the operation timeout (default {@link #DEFAULT_OPERATION_TIMEOUT}, 15 s)
     */
    public Duration operationTimeout() {
        return operationTimeout;
    }

    /**
     * The bound of the first operation retry's random wait; each later retry doubles it up to
     * {@link #retryMaxBackoff()}.
     *
     * @return the initial backoff (default {@link #DEFAULT_RETRY_INITIAL_BACKOFF}, 20 ms)
     */
    public Duration retryInitialBackoff() {
        return retryInitialBackoff;
    }

    /**
     * The largest bound of an operation retry's random wait.
     *
     * @return the maximum backoff (default {@link #DEFAULT_RETRY_MAX_BACKOFF}, 1 s)
     */
    public Duration retryMaxBackoff() {
        return retryMaxBackoff;
    }

    /**
     * The share of connection-level failures, in percent of the calls in the window, at which the circuit breaker
     * opens.
     *
     * @return the threshold in percent, in (0, 100] (default {@link #DEFAULT_BREAKER_FAILURE_RATE_THRESHOLD}, 50)
     */
    public float breakerFailureRateThreshold() {
        return breakerFailureRateThreshold;
    }

    /**
     * How many of the latest calls the circuit breaker computes its failure rate over.
     *
     * @return the window in calls (default {@link #DEFAULT_BREAKER_SLIDING_WINDOW}, 10)
     */
    public int breakerSlidingWindow() {
        return breakerSlidingWindow;
    }

    /**
     * How many calls the circuit breaker must have seen before it may open.
     *
     * @return the minimum number of calls (default {@link #DEFAULT_BREAKER_MINIMUM_CALLS}, 4)
     */
    public int breakerMinimumCalls() {
        return breakerMinimumCalls;
    }

    /**
     * How long an open circuit breaker refuses calls (with {@link ZkUnavailableException}, at once) before it lets
     * trial calls through.
     *
     * @return the open duration (default {@link #DEFAULT_BREAKER_OPEN_DURATION}, 5 s)
     */
    public Duration breakerOpenDuration() {
        return breakerOpenDuration;
    }

    /**
     * How many trial calls a half-open circuit breaker lets through; their outcome closes or reopens it.
     *
     * @return the number of trial calls (default {@link #DEFAULT_BREAKER_HALF_OPEN_CALLS}, 2)
     */
    public int breakerHalfOpenCalls() {
        return breakerHalfOpenCalls;
    }

    /**
     * How many operations may be in flight per ensemble (the bulkhead); one more waits up to
     * {@link #maxInFlightWait()} for a slot, then fails with {@link ZkUnavailableException}.
     *
     * @return the in-flight limit (default {@link #DEFAULT_MAX_IN_FLIGHT}, 4096)
     */
    public int maxInFlight() {
        return maxInFlight;
    }

    /**
     * How long an operation may wait for an in-flight slot when {@link #maxInFlight()} are in flight.
     *
     * @return the wait (default {@link #DEFAULT_MAX_IN_FLIGHT_WAIT}, zero: refused at once)
     */
    public Duration maxInFlightWait() {
        return maxInFlightWait;
    }

    /**
     * The first wait before a recovery pass that left work undone is tried again (full jitter below it).
     *
     * @return the initial recovery backoff (default {@link #DEFAULT_RECOVERY_RETRY_INITIAL_BACKOFF}, 200 ms)
     */
    public Duration recoveryRetryInitialBackoff() {
        return recoveryRetryInitialBackoff;
    }

    /**
     * The longest wait between recovery passes that left work undone.
     *
     * @return the maximum recovery backoff (default {@link #DEFAULT_RECOVERY_RETRY_MAX_BACKOFF}, 5 s)
     */
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

        /**
         * The longest one operation may take, retries included; then it fails with the last connection error.
         *
         * @param v the timeout, positive (default {@link #DEFAULT_OPERATION_TIMEOUT}, 15 s)
         * @return this builder
         * @throws IllegalArgumentException when {@code v} is null, zero or negative
         */
        public Builder operationTimeout(Duration v) {
            this.operationTimeout = Validation.positive("operationTimeout", v);
            return this;
        }

        /**
         * The bound of the first operation retry's random wait; see {@link OperationPolicy#retryInitialBackoff()}.
         *
         * @param v the initial backoff, positive (default {@link #DEFAULT_RETRY_INITIAL_BACKOFF}, 20 ms)
         * @return this builder
         * @throws IllegalArgumentException when {@code v} is null, zero or negative
         */
        public Builder retryInitialBackoff(Duration v) {
            this.retryInitialBackoff = Validation.positive("retryInitialBackoff", v);
            return this;
        }

        /**
         * The largest bound of an operation retry's random wait; {@link #build()} checks it is not below the initial
         * backoff.
         *
         * @param v the maximum backoff, positive (default {@link #DEFAULT_RETRY_MAX_BACKOFF}, 1 s)
         * @return this builder
         * @throws IllegalArgumentException when {@code v} is null, zero or negative
         */
        public Builder retryMaxBackoff(Duration v) {
            this.retryMaxBackoff = Validation.positive("retryMaxBackoff", v);
            return this;
        }

        /**
         * The failure rate at which the circuit breaker opens; see
         * {@link OperationPolicy#breakerFailureRateThreshold()}.
         *
         * @param percent the threshold in percent, in (0, 100] (default
         *     {@link #DEFAULT_BREAKER_FAILURE_RATE_THRESHOLD}, 50)
         * @return this builder
         * @throws IllegalArgumentException when {@code percent} is not in (0, 100]
         */
        public Builder breakerFailureRateThreshold(float percent) {
            if (!(percent > 0f && percent <= 100f)) {
                throw new IllegalArgumentException(
                        "breakerFailureRateThreshold must be in (0, 100] percent, was " + percent);
            }
            this.breakerFailureRateThreshold = percent;
            return this;
        }

        /**
         * How many of the latest calls the circuit breaker looks at.
         *
         * @param calls the window, at least 1 (default {@link #DEFAULT_BREAKER_SLIDING_WINDOW}, 10)
         * @return this builder
         * @throws IllegalArgumentException when {@code calls} is less than 1
         */
        public Builder breakerSlidingWindow(int calls) {
            this.breakerSlidingWindow = Validation.positive("breakerSlidingWindow", calls);
            return this;
        }

        /**
         * How many calls the circuit breaker must see before it may open; {@link #build()} checks it does not exceed
         * the sliding window.
         *
         * @param calls the minimum, at least 1 (default {@link #DEFAULT_BREAKER_MINIMUM_CALLS}, 4)
         * @return this builder
         * @throws IllegalArgumentException when {@code calls} is less than 1
         */
        public Builder breakerMinimumCalls(int calls) {
            this.breakerMinimumCalls = Validation.positive("breakerMinimumCalls", calls);
            return this;
        }

        /**
         * How long an open circuit breaker refuses calls before letting trial calls through.
         *
         * @param v the open duration, positive (default {@link #DEFAULT_BREAKER_OPEN_DURATION}, 5 s)
         * @return this builder
         * @throws IllegalArgumentException when {@code v} is null, zero or negative
         */
        public Builder breakerOpenDuration(Duration v) {
            this.breakerOpenDuration = Validation.positive("breakerOpenDuration", v);
            return this;
        }

        /**
         * How many trial calls a half-open circuit breaker lets through.
         *
         * @param calls the number of trial calls, at least 1 (default {@link #DEFAULT_BREAKER_HALF_OPEN_CALLS}, 2)
         * @return this builder
         * @throws IllegalArgumentException when {@code calls} is less than 1
         */
        public Builder breakerHalfOpenCalls(int calls) {
            this.breakerHalfOpenCalls = Validation.positive("breakerHalfOpenCalls", calls);
            return this;
        }

        /**
         * How many operations may be in flight per ensemble; see {@link OperationPolicy#maxInFlight()}.
         *
         * @param operations the limit, at least 1 (default {@link #DEFAULT_MAX_IN_FLIGHT}, 4096)
         * @return this builder
         * @throws IllegalArgumentException when {@code operations} is less than 1
         */
        public Builder maxInFlight(int operations) {
            this.maxInFlight = Validation.positive("maxInFlight", operations);
            return this;
        }

        /**
         * How long an operation may wait for an in-flight slot before it is refused.
         *
         * @param v the wait, zero or more (default {@link #DEFAULT_MAX_IN_FLIGHT_WAIT}, zero: refused at once)
         * @return this builder
         * @throws IllegalArgumentException when {@code v} is null or negative
         */
        public Builder maxInFlightWait(Duration v) {
            this.maxInFlightWait = Validation.nonNegative("maxInFlightWait", v);
            return this;
        }

        /**
         * The first wait before a recovery pass that left work undone is tried again.
         *
         * @param v the initial recovery backoff, positive (default {@link #DEFAULT_RECOVERY_RETRY_INITIAL_BACKOFF})
         * @return this builder
         * @throws IllegalArgumentException when {@code v} is null, zero or negative
         */
        public Builder recoveryRetryInitialBackoff(Duration v) {
            this.recoveryRetryInitialBackoff = Validation.positive("recoveryRetryInitialBackoff", v);
            return this;
        }

        /**
         * The longest wait between recovery passes that left work undone; {@link #build()} checks it is not below the
         * initial recovery backoff.
         *
         * @param v the maximum recovery backoff, positive (default {@link #DEFAULT_RECOVERY_RETRY_MAX_BACKOFF}, 5 s)
         * @return this builder
         * @throws IllegalArgumentException when {@code v} is null, zero or negative
         */
        public Builder recoveryRetryMaxBackoff(Duration v) {
            this.recoveryRetryMaxBackoff = Validation.positive("recoveryRetryMaxBackoff", v);
            return this;
        }

        /**
         * Checks the settings together and builds the policy.
         *
         * @return the policy
         * @throws IllegalArgumentException when a maximum backoff is below its initial backoff, or
         *     {@code breakerMinimumCalls} exceeds {@code breakerSlidingWindow}
         */
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
