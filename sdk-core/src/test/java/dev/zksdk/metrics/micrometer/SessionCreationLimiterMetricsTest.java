package dev.zksdk.metrics.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zksdk.hosts.SessionCreationLimiter;
import dev.zksdk.hosts.SessionRateLimitedException;
import dev.zksdk.metrics.MetricNames;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SessionCreationLimiterMetricsTest {

    @Test
    void waitsForPermitsAndRefusalsAreMeasured() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // 10 permits per second, no burst: the second permit is 100 ms after the first.
        SessionCreationLimiter limiter = SessionCreationLimiter.create(10, System::nanoTime);
        new SessionCreationLimiterMetrics(limiter, Tags.of("app", "test")).bindTo(registry);

        limiter.acquire(Duration.ofSeconds(5));
        limiter.acquire(Duration.ofSeconds(5));
        assertThatThrownBy(() -> limiter.acquire(Duration.ZERO)).isInstanceOf(SessionRateLimitedException.class);

        FunctionTimer waits = registry.get(MetricNames.SESSION_CREATION_WAIT)
                .tags("rate", "10", "app", "test")
                .functionTimer();
        assertThat(waits.count()).isEqualTo(2.0);
        assertThat(waits.totalTime(TimeUnit.MILLISECONDS)).isGreaterThan(0.0);
        assertThat(registry.get(MetricNames.SESSION_CREATION_REFUSED)
                        .tags("rate", "10")
                        .functionCounter()
                        .count())
                .isEqualTo(1.0);
    }
}
