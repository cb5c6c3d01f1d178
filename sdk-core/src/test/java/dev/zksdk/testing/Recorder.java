package dev.zksdk.testing;

import dev.zksdk.RecoveryEvent;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionListener;
import dev.zksdk.SessionState;
import dev.zksdk.WatchEvent;
import dev.zksdk.WatchListener;
import dev.zksdk.ZkException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A {@link SessionListener} and {@link WatchListener} that records every callback it is given, so that a test asserts
 * on what the pool told its listeners instead of writing a listener of its own. Register it as a pool listener
 * ({@code ZkSessionPool.builder().listener(recorder)} or {@code pool.addListener(recorder)}), as a watch listener
 * ({@code lease.watch(path, recorder)}, {@code watchTree}, {@code watchChildren}), or as both; use one recorder per
 * watch to tell the watches' events apart.
 *
 * <p>Every callback is kept as a {@link Callback}: which one it was ({@link Kind}), what it was told, the name of the
 * thread it ran on, and when it ran, on the {@link System#nanoTime()} clock and on the wall clock. Callbacks are kept
 * in the order they ran; the pool calls each listener one call at a time, so for one recorder that is the order the
 * pool told it.
 *
 * <p>It only records: a test whose listener must do something in the callback (block, call back into the SDK, throw)
 * writes that listener itself.
 *
 * <p>Thread-safe. Callbacks may run on any thread while a test reads; every query returns a copy taken at once, which
 * later callbacks do not change. The {@code await...} methods wake as soon as a callback is recorded. Like the other
 * fixtures it needs nothing but the SDK and the JDK (no Awaitility or AssertJ); a failed await throws an
 * {@link AssertionError} that lists everything recorded.
 */
public final class Recorder implements SessionListener, WatchListener {

    /** Which callback ran, and what {@link Callback#value()} holds for it. */
    public enum Kind {
        /** {@link SessionListener#onStateChange}: the {@link SessionEvent}. */
        STATE_CHANGE,
        /** {@link SessionListener#onTimeoutClamped}: a {@link TimeoutClamp}. */
        TIMEOUT_CLAMPED,
        /** {@link SessionListener#onRecovered}: the {@link RecoveryEvent}. */
        RECOVERED,
        /** {@link SessionListener#onEphemeralConflict}: an {@link EphemeralConflict}. */
        EPHEMERAL_CONFLICT,
        /** {@link SessionListener#onEphemeralMissing}: an {@link EphemeralMissing}. */
        EPHEMERAL_MISSING,
        /** {@link SessionListener#onEphemeralRestored}: the path, a {@link String}. */
        EPHEMERAL_RESTORED,
        /** {@link WatchListener#onEvent}: the {@link WatchEvent}. */
        WATCH_EVENT
    }

    /** The arguments of one {@link SessionListener#onTimeoutClamped} call. */
    public record TimeoutClamp(String ensemble, Duration requested, Duration negotiated) {}

    /** The arguments of one {@link SessionListener#onEphemeralConflict} call. */
    public record EphemeralConflict(String path, long ownerSessionId) {}

    /** The arguments of one {@link SessionListener#onEphemeralMissing} call. */
    public record EphemeralMissing(String path, ZkException cause) {}

    /**
     * One callback as it ran.
     *
     * @param kind which callback
     * @param value what it was told (see {@link Kind} for the type)
     * @param thread the name of the thread it ran on
     * @param nanoTime {@link System#nanoTime()} when it began
     * @param wallClock {@link Instant#now()} when it began, read just after {@code nanoTime}
     */
    public record Callback(Kind kind, Object value, String thread, long nanoTime, Instant wallClock) {

        public Callback {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(value, "value");
            Objects.requireNonNull(wallClock, "wallClock");
        }

        /**
         * {@link #value()} as a {@code type}.
         *
         * @throws ClassCastException if it is not one
         */
        public <T> T value(Class<T> type) {
            return type.cast(value);
        }

        /**
         * When what this callback told of happened, on the {@link System#nanoTime()} clock. For a state change that
         * is the moment of the {@link SessionEvent} ({@link SessionEvent#at()}, a wall-clock time, carried over to the
         * nanoTime clock by how long before the callback it was: listeners run on the pool's callback threads, a
         * little after the event); for every other callback, when the callback ran.
         */
        public long happenedAtNanos() {
            if (kind == Kind.STATE_CHANGE && ((SessionEvent) value).at() != null) {
                long lag = Math.max(
                        0,
                        Duration.between(((SessionEvent) value).at(), wallClock).toNanos());
                return nanoTime - lag;
            }
            return nanoTime;
        }

        @Override
        public String toString() {
            return kind + " " + value + " [" + thread + "]";
        }
    }

    private final Object lock = new Object();
    /** Guarded by {@link #lock}. */
    private final List<Callback> callbacks = new ArrayList<>();
    /** Guarded by {@link #lock}: counts every change, so that an await knows when to look again. */
    private long version;

    // ------------------------------------------------------------------------------------------------ callbacks

    @Override
    public void onStateChange(SessionEvent event) {
        record(Kind.STATE_CHANGE, event);
    }

    @Override
    public void onTimeoutClamped(String ensemble, Duration requested, Duration negotiated) {
        record(Kind.TIMEOUT_CLAMPED, new TimeoutClamp(ensemble, requested, negotiated));
    }

    @Override
    public void onRecovered(RecoveryEvent event) {
        record(Kind.RECOVERED, event);
    }

    @Override
    public void onEphemeralConflict(String path, long ownerSessionId) {
        record(Kind.EPHEMERAL_CONFLICT, new EphemeralConflict(path, ownerSessionId));
    }

    @Override
    public void onEphemeralMissing(String path, ZkException cause) {
        record(Kind.EPHEMERAL_MISSING, new EphemeralMissing(path, cause));
    }

    @Override
    public void onEphemeralRestored(String path) {
        record(Kind.EPHEMERAL_RESTORED, path);
    }

    @Override
    public void onEvent(WatchEvent event) {
        record(Kind.WATCH_EVENT, event);
    }

    private void record(Kind kind, Object value) {
        long nanoTime = System.nanoTime();
        Callback callback = new Callback(kind, value, Thread.currentThread().getName(), nanoTime, Instant.now());
        synchronized (lock) {
            callbacks.add(callback);
            version++;
            lock.notifyAll();
        }
    }

    // ------------------------------------------------------------------------------------------------ every callback

    /** Every callback so far, in the order they ran. */
    public List<Callback> callbacks() {
        synchronized (lock) {
            return List.copyOf(callbacks);
        }
    }

    /** The callbacks of one kind so far, in the order they ran. */
    public List<Callback> callbacks(Kind kind) {
        synchronized (lock) {
            return callbacks.stream().filter(c -> c.kind() == kind).toList();
        }
    }

    /** The state changes to {@code state} so far, in the order they ran: with their threads and times. */
    public List<Callback> callbacks(SessionState state) {
        synchronized (lock) {
            return callbacks.stream()
                    .filter(c -> c.kind() == Kind.STATE_CHANGE
                            && c.value(SessionEvent.class).state() == state)
                    .toList();
        }
    }

    /** The names of the threads callbacks ran on so far, each once, in the order first seen. */
    public Set<String> threads() {
        Set<String> threads = new LinkedHashSet<>();
        for (Callback c : callbacks()) {
            threads.add(c.thread());
        }
        return threads;
    }

    // ------------------------------------------------------------------------------------------------ sessions

    /** Every session event so far ({@link SessionListener#onStateChange}), in order. */
    public List<SessionEvent> sessionEvents() {
        return values(Kind.STATE_CHANGE, SessionEvent.class);
    }

    /** The session events so far whose new state is {@code state}, in order. */
    public List<SessionEvent> sessionEvents(SessionState state) {
        return sessionEvents().stream().filter(e -> e.state() == state).toList();
    }

    /** The new state of every session event so far, in order. */
    public List<SessionState> states() {
        return sessionEvents().stream().map(SessionEvent::state).toList();
    }

    /** Whether a session event so far changed a session to {@code state}. */
    public boolean saw(SessionState state) {
        return first(state).isPresent();
    }

    /** Whether a session event so far matches. */
    public boolean saw(Predicate<SessionEvent> matching) {
        return first(matching).isPresent();
    }

    /** The first session event so far that changed a session to {@code state}. */
    public Optional<SessionEvent> first(SessionState state) {
        return first(e -> e.state() == state);
    }

    /** The first session event so far that matches. */
    public Optional<SessionEvent> first(Predicate<SessionEvent> matching) {
        return sessionEvents().stream().filter(matching).findFirst();
    }

    /** How many session events so far changed a session to {@code state}. */
    public long count(SessionState state) {
        return sessionEvents(state).size();
    }

    /** Every {@link SessionListener#onTimeoutClamped} so far, in order. */
    public List<TimeoutClamp> timeoutClamps() {
        return values(Kind.TIMEOUT_CLAMPED, TimeoutClamp.class);
    }

    /** Every finished recovery so far ({@link SessionListener#onRecovered}), in order. */
    public List<RecoveryEvent> recoveries() {
        return values(Kind.RECOVERED, RecoveryEvent.class);
    }

    // ------------------------------------------------------------------------------------------------ ephemerals

    /** Every {@link SessionListener#onEphemeralConflict} so far, in order. */
    public List<EphemeralConflict> conflicts() {
        return values(Kind.EPHEMERAL_CONFLICT, EphemeralConflict.class);
    }

    /** The path of every {@link SessionListener#onEphemeralConflict} so far, in order (repeats included). */
    public List<String> conflictPaths() {
        return conflicts().stream().map(EphemeralConflict::path).toList();
    }

    /** Every {@link SessionListener#onEphemeralMissing} so far, in order. */
    public List<EphemeralMissing> missing() {
        return values(Kind.EPHEMERAL_MISSING, EphemeralMissing.class);
    }

    /** The path of every {@link SessionListener#onEphemeralMissing} so far, in order (repeats included). */
    public List<String> missingPaths() {
        return missing().stream().map(EphemeralMissing::path).toList();
    }

    /** The cause of the latest {@link SessionListener#onEphemeralMissing} for {@code path} so far, if any. */
    public Optional<ZkException> missingCause(String path) {
        List<EphemeralMissing> missing = missing();
        for (int i = missing.size() - 1; i >= 0; i--) {
            if (missing.get(i).path().equals(path)) {
                return Optional.of(missing.get(i).cause());
            }
        }
        return Optional.empty();
    }

    /** The path of every {@link SessionListener#onEphemeralRestored} so far, in order (repeats included). */
    public List<String> restoredPaths() {
        return values(Kind.EPHEMERAL_RESTORED, String.class);
    }

    // ------------------------------------------------------------------------------------------------ watches

    /** Every watch event so far ({@link WatchListener#onEvent}), in order. */
    public List<WatchEvent> watchEvents() {
        return values(Kind.WATCH_EVENT, WatchEvent.class);
    }

    /** How many watch events of {@code type} so far, at any path. */
    public long count(WatchEvent.Type type) {
        return watchEvents().stream().filter(e -> e.type() == type).count();
    }

    /** Whether a watch event of {@code type} at {@code path} came so far. */
    public boolean saw(WatchEvent.Type type, String path) {
        return watchEvents().contains(new WatchEvent(type, path));
    }

    // ------------------------------------------------------------------------------------------------ awaiting

    /**
     * Waits until a session event matches.
     *
     * @return the first one that does
     * @throws AssertionError if none does within {@code timeout}
     */
    public SessionEvent awaitSessionEvent(Duration timeout, Predicate<SessionEvent> matching) {
        return awaitValue("a matching session event", timeout, r -> r.first(matching));
    }

    /**
     * Waits until a session event changes a session to {@code state}.
     *
     * @return the first one that does
     * @throws AssertionError if none does within {@code timeout}
     */
    public SessionEvent awaitState(SessionState state, Duration timeout) {
        return awaitValue("a session event to " + state, timeout, r -> r.first(state));
    }

    /**
     * Waits until a watch event of {@code type} at {@code path} comes.
     *
     * @throws AssertionError if none comes within {@code timeout}
     */
    public WatchEvent awaitWatchEvent(WatchEvent.Type type, String path, Duration timeout) {
        WatchEvent expected = new WatchEvent(type, path);
        awaitUntil("the watch event " + expected, timeout, r -> r.saw(type, path));
        return expected;
    }

    /**
     * Waits until {@code condition} holds for this recorder: it is tested now and again after every callback.
     *
     * @param what what is awaited, for the failure's message
     * @throws AssertionError if it does not hold within {@code timeout}
     * @throws IllegalStateException if the calling thread is interrupted while waiting
     */
    public void awaitUntil(String what, Duration timeout, Predicate<Recorder> condition) {
        awaitValue(what, timeout, r -> condition.test(r) ? Optional.of(Boolean.TRUE) : Optional.empty());
    }

    private <T> T awaitValue(String what, Duration timeout, Function<Recorder, Optional<T>> probe) {
        Polling.requirePositive("timeout", timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long seen;
            synchronized (lock) {
                seen = version;
            }
            // Tested without the lock: a slow condition must not hold up the callbacks.
            Optional<T> found = probe.apply(this);
            if (found.isPresent()) {
                return found.get();
            }
            synchronized (lock) {
                while (version == seen) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new AssertionError("waited " + timeout.toMillis() + " ms for " + what + "; recorded "
                                + describe(callbacks));
                    }
                    try {
                        lock.wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while waiting for " + what, e);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ resetting

    /** Forgets every callback so far. */
    public void clear() {
        synchronized (lock) {
            callbacks.clear();
            version++;
        }
    }

    /** Forgets the callbacks of one kind so far (for example {@link Kind#WATCH_EVENT}), keeping the others. */
    public void clear(Kind kind) {
        synchronized (lock) {
            callbacks.removeIf(c -> c.kind() == kind);
            version++;
        }
    }

    /** Every callback so far, one a line. */
    @Override
    public String toString() {
        synchronized (lock) {
            return "Recorder " + describe(callbacks);
        }
    }

    private <T> List<T> values(Kind kind, Class<T> type) {
        synchronized (lock) {
            return callbacks.stream()
                    .filter(c -> c.kind() == kind)
                    .map(c -> c.value(type))
                    .toList();
        }
    }

    private static String describe(List<Callback> callbacks) {
        if (callbacks.isEmpty()) {
            return "no callback";
        }
        StringBuilder s = new StringBuilder()
                .append(callbacks.size())
                .append(callbacks.size() == 1 ? " callback:" : " callbacks:");
        for (Callback c : callbacks) {
            s.append("\n  ").append(c);
        }
        return s.toString();
    }
}
