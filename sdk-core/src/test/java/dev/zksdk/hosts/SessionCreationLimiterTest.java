package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SessionCreationLimiterTest {

    @Test
    void permitsAreSpacedByTheRate() {
        TestClock clock = new TestClock();
        SessionCreationLimiter limiter = SessionCreationLimiter.create(10, clock);
        limiter.acquire(Duration.ZERO);
        assertThatThrownBy(() -> limiter.acquire(Duration.ZERO))
                .isInstanceOf(SessionRateLimitedException.class)
                .hasMessageContaining("sessionCreationRate=10.0/s")
                .hasMessageContaining("sessionCreationMaxWait=PT0S")
                .satisfies(e -> {
                    SessionRateLimitedException s = (SessionRateLimitedException) e;
                    assertThat(s.permitsPerSecond()).isEqualTo(10.0);
                    assertThat(s.maxWait()).isZero();
                });
        clock.advance(Duration.ofMillis(100));
        limiter.acquire(Duration.ZERO);
        assertThatThrownBy(() -> limiter.acquire(Duration.ZERO)).isInstanceOf(SessionRateLimitedException.class);
    }

    @Test
    void acquireWaitsForTheNextPermitWithinMaxWait() {
        SessionCreationLimiter limiter = SessionCreationLimiter.create(50, System::nanoTime);
        long start = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            limiter.acquire(Duration.ofSeconds(5));
        }
        // five permits at 50/s cannot be had in less than four 20 ms periods
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(75));
    }

    @Test
    void interruptedWaitFailsAndKeepsTheFlag() {
        SessionCreationLimiter limiter = SessionCreationLimiter.create(0.1, System::nanoTime);
        limiter.acquire(Duration.ZERO);
        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> limiter.acquire(Duration.ofSeconds(30)))
                    .isInstanceOf(SessionRateLimitedException.class)
                    .hasCauseInstanceOf(InterruptedException.class);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void sharedLimiterIsOnePerRate() {
        assertThat(SessionCreationLimiter.shared())
                .isSameAs(SessionCreationLimiter.shared(HostsConfig.DEFAULT_SESSION_CREATION_RATE));
        assertThat(SessionCreationLimiter.shared(7))
                .isSameAs(SessionCreationLimiter.shared(7.0))
                .isNotSameAs(SessionCreationLimiter.shared());
        assertThat(SessionCreationLimiter.shared().permitsPerSecond()).isEqualTo(20.0);
    }

    @Test
    void badArgumentsAreRejected() {
        assertThatThrownBy(() -> SessionCreationLimiter.shared(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sessionCreationRate")
                .hasMessageContaining("0.0");
        assertThatThrownBy(() -> SessionCreationLimiter.create(1, null)).hasMessageContaining("nanoClock");
        SessionCreationLimiter limiter = SessionCreationLimiter.create(1, System::nanoTime);
        assertThatThrownBy(() -> limiter.acquire(Duration.ofMillis(-5)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sessionCreationMaxWait")
                .hasMessageContaining("PT-0.005S");
        assertThatThrownBy(() -> limiter.acquire(null)).hasMessageContaining("null");
    }
}
