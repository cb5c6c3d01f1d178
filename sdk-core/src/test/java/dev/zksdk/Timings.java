package dev.zksdk;

import dev.zksdk.testing.Recorder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Timing of calls and session events on one clock ({@link System#nanoTime()}), for the tests that bound how long a
 * call may take under a fault (BoundedTimeIT, ExpiryDetectionIT, OversizedResponseIT).
 */
final class Timings {

    private Timings() {}

    /** One finished call: what it was, when it started and ended, and how it failed (null: it succeeded). */
    record Call(String kind, boolean write, long start, long end, Throwable error) {

        long millis() {
            return TimeUnit.NANOSECONDS.toMillis(end - start);
        }

        boolean ok() {
            return error == null;
        }

        /** Refused by an open circuit breaker. */
        boolean refusedByBreaker() {
            return error instanceof ZkUnavailableException
                    && String.valueOf(error.getMessage()).contains("circuit breaker");
        }

        @Override
        public String toString() {
            return kind + " " + millis() + " ms " + (error == null ? "OK" : describe(error));
        }
    }

    /** Runs a synchronous call and times it. */
    static Call time(String kind, boolean write, Runnable call) {
        long start = System.nanoTime();
        try {
            call.run();
            return new Call(kind, write, start, System.nanoTime(), null);
        } catch (RuntimeException | Error e) {
            return new Call(kind, write, start, System.nanoTime(), e);
        }
    }

    /** Starts an asynchronous call; the returned future completes with its timing when the call's future does. */
    static CompletableFuture<Call> timeAsync(String kind, boolean write, Supplier<CompletableFuture<?>> call) {
        long start = System.nanoTime();
        CompletableFuture<Call> timed = new CompletableFuture<>();
        CompletableFuture<?> f;
        try {
            f = call.get();
        } catch (RuntimeException e) {
            timed.complete(new Call(kind, write, start, System.nanoTime(), e));
            return timed;
        }
        f.whenComplete((v, e) ->
                timed.complete(new Call(kind, write, start, System.nanoTime(), e == null ? null : unwrap(e))));
        return timed;
    }

    /** Runs an asynchronous call and waits for it, timing the call itself (not the wait). */
    static Call timeAsyncJoin(String kind, boolean write, Supplier<CompletableFuture<?>> call) {
        return timeAsync(kind, write, call).join();
    }

    static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    static String describe(Throwable e) {
        String extra = e instanceof ZkConnectionLossException
                ? " outcomeUnknown=" + ((ZkConnectionLossException) e).outcomeUnknown()
                : "";
        String code = e instanceof ZkException ? " code=" + ((ZkException) e).code() : "";
        return e.getClass().getSimpleName() + code + extra + " \"" + e.getMessage() + "\"";
    }

    static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    static long maxMillis(List<Call> calls) {
        return calls.stream().mapToLong(Call::millis).max().orElse(-1);
    }

    /** Runs {@code action} on every item at once, each on its own thread, and waits for all. */
    /** A test case that may throw. */
    @FunctionalInterface
    interface Case<T> {
        void run(T value) throws Exception;
    }

    /**
     * Runs every case at once, each on its own thread (cases whose faults are their own: each with its own pool and
     * proxies), and fails naming every case that failed, with its failure.
     */
    static <T> void allCasesAtOnce(List<T> cases, Case<T> test) {
        List<String> failed = new CopyOnWriteArrayList<>();
        List<Throwable> causes = new CopyOnWriteArrayList<>();
        inParallel(cases, value -> {
            try {
                test.run(value);
            } catch (Throwable e) {
                failed.add(value + ": " + e);
                causes.add(e);
            }
        });
        if (!failed.isEmpty()) {
            AssertionError error = new AssertionError(
                    failed.size() + " of " + cases.size() + " cases failed:\n" + String.join("\n", failed));
            causes.forEach(error::addSuppressed);
            throw error;
        }
    }

    static <T> void inParallel(List<T> items, Consumer<T> action) {
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        for (T item : items) {
            Thread t = new Thread(() -> {
                try {
                    action.accept(item);
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException("a parallel action failed", failures.get(0));
        }
    }

    /** A session event with the moment it happened on the nanoTime clock (see {@link #timed}). */
    record Timed(SessionEvent event, long at) {}

    /**
     * The session events a {@link Recorder} got, each with the moment it happened on the {@link System#nanoTime()}
     * clock ({@link Recorder.Callback#happenedAtNanos()}: the listener runs on the pool's callback threads, a little
     * after the event; the event's own wall-clock time corrects for that), in the order the recorder got them.
     */
    static List<Timed> timed(Recorder events) {
        return events.callbacks(Recorder.Kind.STATE_CHANGE).stream()
                .map(c -> new Timed(c.value(SessionEvent.class), c.happenedAtNanos()))
                .toList();
    }

    /** The first session event after {@code since} (nanoTime) that matches. */
    static Optional<Timed> firstAfter(Recorder events, long since, Predicate<SessionEvent> matching) {
        return timed(events).stream()
                .filter(t -> t.at() - since >= 0 && matching.test(t.event()))
                .min(Comparator.comparingLong(t -> t.at() - since));
    }

    static long countAfter(Recorder events, long since, SessionState state) {
        return timed(events).stream()
                .filter(t -> t.at() - since >= 0 && t.event().state() == state)
                .count();
    }

    static List<Timed> after(Recorder events, long since) {
        return timed(events).stream().filter(t -> t.at() - since >= 0).toList();
    }

    /** A connection (back) up: first connection, reconnect, or read-only. */
    static boolean up(SessionEvent e) {
        return e.state() == SessionState.CONNECTED
                || e.state() == SessionState.RECONNECTED
                || e.state() == SessionState.READ_ONLY;
    }
}
