package dev.zksdk.hosts;

import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Limits how fast this process creates new ZooKeeper sessions (a resilience4j rate limiter), so a burst of
 * session creation (start-up, mass expiry) cannot overflow the servers' listen backlogs.
 *
 * <p>Permits are spaced evenly, one every {@code 1/rate} seconds, with no burst allowance: the accept queue
 * is what is protected. {@link #shared(double)} returns the process-wide limiter for a rate, so every pool of
 * the JVM configured with that rate (normally the default) draws from one limiter. {@link #create} makes a
 * private one (tests, isolation).
 *
 * <p>Thread-safe.
 */
public final class SessionCreationLimiter {

    private static final ConcurrentMap<Double, SessionCreationLimiter> SHARED = new ConcurrentHashMap<>();
    /** Waiting re-checks at least this often, so a permit freed early is not slept through. */
    private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final double permitsPerSecond;
    private final AtomicRateLimiter limiter;
    private final LongSupplier nanoClock;
    private final LongAdder acquired = new LongAdder();
    private final LongAdder waitedNanos = new LongAdder();
    private final LongAdder refused = new LongAdder();

    private SessionCreationLimiter(double permitsPerSecond, LongSupplier nanoClock) {
        this.permitsPerSecond = permitsPerSecond;
        this.nanoClock = nanoClock;
        long periodNanos = Math.max(1L, Math.round(1_000_000_000.0 / permitsPerSecond));
        RateLimiterConfig config = RateLimiterConfig.custom()
                .limitForPeriod(1)
                .limitRefreshPeriod(Duration.ofNanos(periodNanos))
                // waiting is done here, with a per-call deadline; the limiter itself never blocks
                .timeoutDuration(Duration.ZERO)
                .build();
        this.limiter = new AtomicRateLimiter(
                "zk-session-creation-" + permitsPerSecond, config, Map.of(), nanoClock::getAsLong);
    }

    /**
     * The process-wide limiter at {@link HostsConfig#DEFAULT_SESSION_CREATION_RATE}.
     *
     * @return the shared limiter for the default rate
     */
    public static SessionCreationLimiter shared() {
        return shared(HostsConfig.DEFAULT_SESSION_CREATION_RATE);
    }

    /**
     * The process-wide limiter for {@code permitsPerSecond}; the same instance for the same rate.
     *
     * @param permitsPerSecond new sessions per second
     * @return the shared limiter for that rate
     * @throws IllegalArgumentException when the rate is not within (0, MAX_SESSION_CREATION_RATE]
     */
    public static SessionCreationLimiter shared(double permitsPerSecond) {
        HostsConfig.checkRate("sessionCreationRate", permitsPerSecond);
        return SHARED.computeIfAbsent(permitsPerSecond, r -> new SessionCreationLimiter(r, System::nanoTime));
    }

    /**
     * A private limiter, not shared with the rest of the process.
     *
     * @param permitsPerSecond new sessions per second
     * @param nanoClock monotonic clock in nanoseconds (tests inject one)
     * @return a new limiter
     * @throws IllegalArgumentException when the rate is out of range or the clock null
     */
    public static SessionCreationLimiter create(double permitsPerSecond, LongSupplier nanoClock) {
        HostsConfig.checkRate("sessionCreationRate", permitsPerSecond);
        if (nanoClock == null) {
            throw new IllegalArgumentException("nanoClock must not be null");
        }
        return new SessionCreationLimiter(permitsPerSecond, nanoClock);
    }

    /**
     * Takes a permit to create one session, waiting up to {@code maxWait} for it. Thread-safe.
     *
     * @param maxWait the longest to wait; zero to refuse at once when no permit is free
     * @throws SessionRateLimitedException when no permit came within {@code maxWait}, or the wait was interrupted
     *     (the interrupt flag is kept)
     * @throws IllegalArgumentException when maxWait is null or negative
     */
    public void acquire(Duration maxWait) {
        HostsConfig.nonNegative("sessionCreationMaxWait", maxWait);
        long start = nanoClock.getAsLong();
        long deadline = start + maxWait.toNanos();
        while (!limiter.acquirePermission()) {
            long remaining = deadline - nanoClock.getAsLong();
            if (remaining <= 0) {
                refused.increment();
                throw new SessionRateLimitedException(permitsPerSecond, maxWait, null);
            }
            long wait = Math.max(1L, limiter.getDetailedMetrics().getNanosToWait());
            LockSupport.parkNanos(Math.min(Math.min(wait, remaining), MAX_PARK_NANOS));
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                refused.increment();
                throw new SessionRateLimitedException(
                        permitsPerSecond,
                        maxWait,
                        new InterruptedException("interrupted while waiting for a session-creation permit"));
            }
        }
        waitedNanos.add(Math.max(0L, nanoClock.getAsLong() - start));
        acquired.increment();
    }

    /**
     * Permits granted so far (for metrics).
     *
     * @return the number of permits granted since the limiter was made
     */
    public long acquiredCount() {
        return acquired.sum();
    }

    /**
     * How long the granted permits were waited for, in all (for metrics: mean wait = this / acquired).
     *
     * @return the total wait in nanoseconds
     */
    public long totalWaitNanos() {
        return waitedNanos.sum();
    }

    /**
     * Session creations refused: no permit within the max wait, or interrupted while waiting (for metrics).
     *
     * @return the number of refusals since the limiter was made
     */
    public long refusedCount() {
        return refused.sum();
    }

    /**
     * The limiter's rate.
     *
     * @return permits per second
     */
    public double permitsPerSecond() {
        return permitsPerSecond;
    }

    @Override
    public String toString() {
        return "SessionCreationLimiter{" + permitsPerSecond + "/s}";
    }
}
