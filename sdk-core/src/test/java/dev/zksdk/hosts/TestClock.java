package dev.zksdk.hosts;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** A hand-driven nanosecond clock and a sleeper that records delays instead of waiting. */
final class TestClock implements LongSupplier, HostsConfig.Sleeper {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    final List<Long> sleeps = new ArrayList<>();

    @Override
    public long getAsLong() {
        return now.get();
    }

    void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Override
    public synchronized void sleepNanos(long nanos) {
        sleeps.add(nanos);
    }
}
