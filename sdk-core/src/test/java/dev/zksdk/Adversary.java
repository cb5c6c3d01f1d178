package dev.zksdk;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Helpers of the adversarial tests (issue 15): each call runs on its own fresh thread, so that the interrupt status
 * the call leaves behind can be checked on the very thread that made it, right after the call and again a while later
 * (a deadline timer that interrupts the caller after the call already returned shows up only then).
 */
final class Adversary {

    private Adversary() {}

    /** How long the calling thread waits after its call, to see whether an interrupt arrives late. */
    static final long LATE_INTERRUPT_WINDOW_MS = 300;

    /**
     * One finished call.
     *
     * @param interruptedAfter the calling thread's interrupt flag right after the call returned or threw
     * @param interruptedLater whether the thread was interrupted while it slept for {@link #LATE_INTERRUPT_WINDOW_MS}
     *     after the call (with the flag cleared first, so only a new interrupt counts)
     */
    record Outcome(
            String kind,
            boolean write,
            long start,
            long end,
            Throwable error,
            Object value,
            boolean interruptedAfter,
            boolean interruptedLater) {

        long millis() {
            return TimeUnit.NANOSECONDS.toMillis(end - start);
        }

        boolean ok() {
            return error == null;
        }

        /** A definite failure: the SDK says the write was not applied (anything but an unknown outcome). */
        boolean saysNotApplied() {
            return error != null
                    && !(error instanceof ZkConnectionLossException
                            && ((ZkConnectionLossException) error).outcomeUnknown())
                    && !(error instanceof ZkInterruptedException);
        }

        @Override
        public String toString() {
            return kind + " " + millis() + " ms " + (error == null ? "OK" : Timings.describe(error))
                    + (interruptedAfter ? " [INTERRUPTED after the call]" : "")
                    + (interruptedLater ? " [INTERRUPTED later]" : "");
        }
    }

    /** Runs a blocking call on a new thread. */
    static CompletableFuture<Outcome> sync(String kind, boolean write, Callable<?> call) {
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        Thread t = new Thread(() -> result.complete(runHere(kind, write, call)), "adv-" + kind);
        t.setDaemon(true);
        t.start();
        return result;
    }

    /** Runs a blocking call on the current thread and checks the thread's interrupt status after it. */
    static Outcome runHere(String kind, boolean write, Callable<?> call) {
        long start = System.nanoTime();
        Object value = null;
        Throwable error = null;
        try {
            value = call.call();
        } catch (Throwable e) {
            error = Timings.unwrap(e);
        }
        long end = System.nanoTime();
        boolean after = Thread.interrupted(); // clears it, so the sleep below sees only a new one
        boolean later = false;
        try {
            Thread.sleep(LATE_INTERRUPT_WINDOW_MS);
        } catch (InterruptedException e) {
            later = true;
        }
        return new Outcome(kind, write, start, end, error, value, after, later);
    }

    /**
     * Starts an asynchronous call on a new thread: the outcome's end is when the call's future completes; the interrupt
     * checks are of the thread that started it.
     */
    static CompletableFuture<Outcome> async(String kind, boolean write, Supplier<CompletableFuture<?>> call) {
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        Thread t = new Thread(
                () -> {
                    long start = System.nanoTime();
                    CompletableFuture<?> f;
                    try {
                        f = call.get();
                    } catch (Throwable e) {
                        long end = System.nanoTime();
                        result.complete(new Outcome(kind, write, start, end, e, null, Thread.interrupted(), false));
                        return;
                    }
                    boolean after = Thread.interrupted();
                    CompletableFuture<Outcome> done = new CompletableFuture<>();
                    f.whenComplete((v, e) -> done.complete(new Outcome(
                            kind,
                            write,
                            start,
                            System.nanoTime(),
                            e == null ? null : Timings.unwrap(e),
                            v,
                            after,
                            false)));
                    boolean later = false;
                    try {
                        Thread.sleep(LATE_INTERRUPT_WINDOW_MS);
                    } catch (InterruptedException e) {
                        later = true;
                    }
                    boolean laterFinal = later;
                    done.thenAccept(o -> result.complete(new Outcome(
                            o.kind(),
                            o.write(),
                            o.start(),
                            o.end(),
                            o.error(),
                            o.value(),
                            o.interruptedAfter(),
                            laterFinal)));
                },
                "adv-" + kind);
        t.setDaemon(true);
        t.start();
        return result;
    }

    /** Waits for every outcome up to {@code timeout}; a call that has not ended by then is reported as such. */
    static List<Outcome> collect(
            List<String> kinds, List<CompletableFuture<Outcome>> futures, long start, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Outcome> out = new ArrayList<>();
        for (int i = 0; i < futures.size(); i++) {
            CompletableFuture<Outcome> f = futures.get(i);
            long left = Math.max(1, deadline - System.nanoTime());
            try {
                out.add(f.get(left, TimeUnit.NANOSECONDS));
            } catch (Exception e) {
                out.add(new Outcome(
                        kinds.get(i) + " (NEVER ENDED within " + timeout.toSeconds() + " s)",
                        false,
                        start,
                        System.nanoTime(),
                        new IllegalStateException("did not end"),
                        null,
                        false,
                        false));
            }
        }
        return out;
    }

    static long maxMillis(List<Outcome> outcomes) {
        return outcomes.stream().mapToLong(Outcome::millis).max().orElse(-1);
    }

    static String summary(List<Outcome> outcomes) {
        return outcomes.stream().map(Outcome::toString).collect(Collectors.joining("\n  ", "  ", ""));
    }

    static void print(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
