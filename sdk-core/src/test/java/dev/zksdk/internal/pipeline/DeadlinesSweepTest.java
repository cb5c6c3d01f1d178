package dev.zksdk.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The sweep that ends calls at their deadlines must not cost more per tick when more callers wait for a later
 * deadline (issue 20: a walk over every caller cost ~9 ms per sweep at 20,000 virtual threads, every 10 ms).
 */
class DeadlinesSweepTest {

    private static final int WAITING = 4000;

    /** Runs nothing: the test calls the sweep it was given. */
    private static final class ManualScheduler extends ScheduledThreadPoolExecutor {
        Runnable sweep;

        ManualScheduler() {
            super(1);
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long delay, long period, TimeUnit unit) {
            sweep = command;
            return null;
        }
    }

    @Test
    void aSweepCostsNoMoreWithThousandsOfCallersWaitingForLaterDeadlines() throws InterruptedException {
        ManualScheduler scheduler = new ManualScheduler();
        Deadlines deadlines = new Deadlines(scheduler);
        Runnable sweep = scheduler.sweep;
        double idle = nanosPerSweep(sweep);

        CountDownLatch started = new CountDownLatch(WAITING);
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.HOURS.toNanos(1);
        for (int i = 0; i < WAITING; i++) {
            Thread t = new Thread(
                    null,
                    () -> {
                        Deadlines.Caller c = deadlines.begin(deadline);
                        started.countDown();
                        try {
                            release.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        deadlines.end(c);
                    },
                    "waiting-caller-" + i,
                    64 * 1024);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        try {
            assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
            sweep.run(); // takes in what the callers handed over
            double waiting = nanosPerSweep(sweep);
            System.out.printf(
                    "Deadlines sweep: %.0f ns with no caller waiting, %.0f ns with %,d callers waiting%n",
                    idle, waiting, WAITING);
            assertThat(waiting)
                    .as("ns per sweep with %,d callers waiting (%.0f ns with none)", WAITING, idle)
                    .isLessThan(Math.max(10 * idle, 2_000));
        } finally {
            release.countDown();
            for (Thread t : threads) {
                t.join(10_000);
            }
            scheduler.shutdownNow();
        }
    }

    /** The least of 15 batches' mean (what the sweep costs when the machine does not interfere). */
    private static double nanosPerSweep(Runnable sweep) {
        for (int i = 0; i < 20_000; i++) {
            sweep.run();
        }
        double[] batches = new double[15];
        for (int b = 0; b < batches.length; b++) {
            long start = System.nanoTime();
            for (int i = 0; i < 200; i++) {
                sweep.run();
            }
            batches[b] = (System.nanoTime() - start) / 200.0;
        }
        return Arrays.stream(batches).min().orElseThrow();
    }
}
