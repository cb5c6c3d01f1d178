package dev.zksdk.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The deadline wheel ends what is due, on time, and holds nothing that ended. */
class DeadlinesTest {

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    /** An asynchronous call for the tests: records when it was expired. */
    private static final class Call extends Deadlines.Expiring {
        final long deadline;
        final AtomicBoolean done = new AtomicBoolean();
        final AtomicLong expiredAt = new AtomicLong();

        Call(long deadline) {
            this.deadline = deadline;
        }

        @Override
        long deadlineNanos() {
            return deadline;
        }

        @Override
        boolean ended() {
            return done.get();
        }

        @Override
        void expire() {
            if (done.compareAndSet(false, true)) {
                expiredAt.set(System.nanoTime());
            }
        }
    }

    @Test
    void aThreadThatMadeManyCallsIsInterruptedAtTheDeadlineOfTheOneThatHangs() throws InterruptedException {
        Deadlines deadlines = new Deadlines(scheduler);
        AtomicLong lateByNanos = new AtomicLong(-1);
        AtomicBoolean stray = new AtomicBoolean();
        Thread caller = new Thread(() -> {
            // Calls that end at once, over several ticks: the record stays filed under an earlier deadline.
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
            while (System.nanoTime() - until < 0) {
                Deadlines.Caller c = deadlines.begin(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50));
                if (deadlines.end(c) || Thread.currentThread().isInterrupted()) {
                    stray.set(true);
                }
            }
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
            Deadlines.Caller c = deadlines.begin(deadline);
            try {
                new CountDownLatch(1).await(); // hangs until interrupted
            } catch (InterruptedException e) {
                lateByNanos.set(System.nanoTime() - deadline);
            }
            assertThat(deadlines.end(c)).isTrue();
        });
        caller.start();
        caller.join(10_000);
        assertThat(stray).as("a call that ended in time was interrupted").isFalse();
        assertThat(lateByNanos.get())
                .as("ns from the deadline to the interrupt")
                .isBetween(0L, TimeUnit.MILLISECONDS.toNanos(500));
    }

    @Test
    void anAsynchronousCallIsExpiredAtItsDeadlineAndOneThatEndedIsNot() {
        Deadlines deadlines = new Deadlines(scheduler);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(150);
        Call due = new Call(deadline);
        deadlines.watch(due);
        List<Call> endedInTime = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            Call c = new Call(deadline);
            deadlines.watch(c);
            c.done.set(true);
            deadlines.unwatch(c);
            endedInTime.add(c);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> due.expiredAt.get() != 0);
        assertThat(due.expiredAt.get() - deadline).isBetween(0L, TimeUnit.MILLISECONDS.toNanos(500));
        assertThat(endedInTime).allSatisfy(c -> assertThat(c.expiredAt.get()).isZero());
    }
}
