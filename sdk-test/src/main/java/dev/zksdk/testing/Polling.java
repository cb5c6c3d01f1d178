package dev.zksdk.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Condition polling for the fixtures themselves. The fixtures do not use Awaitility so that zk-sdk-test
 * needs no more than the ZooKeeper, curator-test and NetCrusher jars.
 */
final class Polling {

    static final Duration INTERVAL = Duration.ofMillis(100);

    private Polling() {}

    /**
     * Polls {@code condition} until it holds or {@code timeout} has passed.
     *
     * @return whether the condition held before the deadline
     * @throws IllegalStateException if the calling thread is interrupted while waiting
     */
    static boolean until(Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            sleep(INTERVAL);
        }
    }

    static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting", e);
        }
    }

    static void requirePositive(String setting, Duration value) {
        if (value == null || value.isZero() || value.isNegative()) {
            throw new IllegalArgumentException(setting + " must be a positive duration, was " + value);
        }
    }
}
