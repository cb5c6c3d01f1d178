package dev.zksdk.metrics.micrometer;

import dev.zksdk.hosts.SessionCreationLimiter;
import dev.zksdk.metrics.MetricNames;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.concurrent.TimeUnit;

/**
 * Binds a {@link SessionCreationLimiter}: {@value MetricNames#SESSION_CREATION_WAIT} (a function timer: permits granted
 * and the time waited for them) and {@value MetricNames#SESSION_CREATION_REFUSED} (creations refused for want of a
 * permit), tagged {@code rate} with the limiter's permits per second. The limiter is process-wide (one per rate), so
 * its meters are not per pool.
 */
public final class SessionCreationLimiterMetrics implements MeterBinder {

    private final SessionCreationLimiter limiter;
    private final Tags tags;

    /**
     * Meters of {@code limiter}, registered when bound to a registry.
     *
     * @param limiter the limiter whose counts the meters read
     * @param tags further tags of every meter (may be empty)
     * @throws IllegalArgumentException when {@code limiter} is null
     */
    public SessionCreationLimiterMetrics(SessionCreationLimiter limiter, Iterable<Tag> tags) {
        if (limiter == null) {
            throw new IllegalArgumentException("limiter must not be null");
        }
        this.limiter = limiter;
        this.tags = Tags.of(tags).and("rate", rate(limiter.permitsPerSecond()));
    }

    private static String rate(double permitsPerSecond) {
        return permitsPerSecond == Math.rint(permitsPerSecond)
                ? Long.toString((long) permitsPerSecond)
                : Double.toString(permitsPerSecond);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        FunctionTimer.builder(
                        MetricNames.SESSION_CREATION_WAIT,
                        limiter,
                        SessionCreationLimiter::acquiredCount,
                        SessionCreationLimiter::totalWaitNanos,
                        TimeUnit.NANOSECONDS)
                .description(
                        "Waits for a session-creation permit (new ZooKeeper sessions are rate-limited per process)")
                .tags(tags)
                .register(registry);
        FunctionCounter.builder(MetricNames.SESSION_CREATION_REFUSED, limiter, SessionCreationLimiter::refusedCount)
                .description("Session creations refused: no permit within the max wait")
                .tags(tags)
                .register(registry);
    }
}
