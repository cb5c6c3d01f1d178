package dev.zksdk.samples;

import dev.zksdk.RecoveryEvent;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionListener;
import dev.zksdk.SessionState;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * The demo's timeline: prints what happens to the pool's sessions as it happens, with the time since the demo started,
 * and keeps per-session state so that the demo can wait for recoveries and a request can tell whether a fault touched
 * its session.
 *
 * <p>Thread-safe. The pool calls the listener methods on its event threads (one per session); they only print and
 * update state under this object's lock, so they never block for long.
 */
final class Timeline implements SessionListener {

    private final PrintStream out;
    private final long startNanos;
    private final UnaryOperator<String> serverName;

    // Per session index; guarded by this.
    private final SessionState[] states;
    private final long[] ids;
    private final long[] disruptions;
    private final long[] disconnectedAt;
    private final String[] servers;
    private final List<RecoveryEvent> recoveries = new ArrayList<>();
    private final List<Duration> reconnects = new ArrayList<>();

    /**
     * @param sessions how many sessions the pool keeps
     * @param serverName turns a connected address into a readable server name
     */
    Timeline(PrintStream out, long startNanos, int sessions, UnaryOperator<String> serverName) {
        this.out = out;
        this.startNanos = startNanos;
        this.serverName = serverName;
        this.states = new SessionState[sessions];
        this.ids = new long[sessions];
        this.disruptions = new long[sessions];
        this.disconnectedAt = new long[sessions];
        this.servers = new String[sessions];
        Arrays.fill(states, SessionState.CONNECTING);
    }

    /** Prints one line of the timeline. */
    void say(String format, Object... args) {
        out.printf(Locale.ROOT, "[%5.1fs] %s%n", seconds(), String.format(Locale.ROOT, format, args));
    }

    double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    @Override
    public synchronized void onStateChange(SessionEvent e) {
        int i = e.sessionIndex();
        if (i < 0 || i >= states.length) {
            return;
        }
        states[i] = e.state();
        long now = System.nanoTime();
        switch (e.state()) {
            case CONNECTED:
                ids[i] = e.sessionIdAfter();
                servers[i] = serverName.apply(e.server());
                say(
                        "session #%d connected to %s: session 0x%x, timeout %d ms",
                        i, servers[i], e.sessionIdAfter(), e.negotiatedTimeout().toMillis());
                break;
            case SUSPENDED:
                disruptions[i]++;
                disconnectedAt[i] = now;
                say("session #%d SUSPENDED: connection to %s lost; its requests wait or retry", i, servers[i]);
                break;
            case LOST:
                disruptions[i]++;
                if (disconnectedAt[i] == 0) {
                    disconnectedAt[i] = now;
                }
                say("session #%d LOST: session 0x%x has expired", i, e.sessionIdBefore());
                break;
            case RECONNECTED:
            case READ_ONLY:
                ids[i] = e.sessionIdAfter();
                servers[i] = serverName.apply(e.server());
                Duration gap = Duration.ofNanos(disconnectedAt[i] == 0 ? 0 : now - disconnectedAt[i]);
                disconnectedAt[i] = 0;
                reconnects.add(gap);
                if (e.sameSession()) {
                    say(
                            "session #%d %s to %s after %s, same session 0x%x: nothing lost, nothing to recover",
                            i, e.state(), servers[i], millis(gap), e.sessionIdAfter());
                } else {
                    say(
                            "session #%d %s to %s after %s with NEW session 0x%x (0x%x expired): recovering",
                            i, e.state(), servers[i], millis(gap), e.sessionIdAfter(), e.sessionIdBefore());
                }
                break;
            case CLOSED:
                say("session #%d closed", i);
                break;
            default:
                break;
        }
        notifyAll();
    }

    @Override
    public synchronized void onRecovered(RecoveryEvent e) {
        recoveries.add(e);
        say(
                "recovery of new session 0x%x done in %d ms: %d ephemeral(s) re-created, %d watch(es) re-armed and told to"
                        + " RESYNC%s",
                e.newSessionId(),
                e.duration().toMillis(),
                e.ephemeralsRecreated(),
                e.watchesRearmed(),
                e.complete() ? "" : " (INCOMPLETE: the pool keeps trying)");
        notifyAll();
    }

    @Override
    public void onTimeoutClamped(String ensemble, Duration requested, Duration negotiated) {
        say(
                "WARNING: the servers clamped the session timeout: requested %d ms, granted %d ms",
                requested.toMillis(), negotiated.toMillis());
    }

    @Override
    public void onEphemeralConflict(String path, long ownerSessionId) {
        say("WARNING: %s belongs to another live session 0x%x; the pool waits for it to go", path, ownerSessionId);
    }

    /** What a request remembers before it runs, to tell afterwards whether a fault touched its session. */
    synchronized Mark mark() {
        boolean[] connected = new boolean[states.length];
        for (int i = 0; i < states.length; i++) {
            connected[i] = isConnected(states[i]);
        }
        return new Mark(disruptions.clone(), connected);
    }

    /**
     * True when the session {@code sessionId} was not connected at {@code mark}, or lost its connection since: a
     * request on it that succeeded was held or retried by the pool. An unknown id is a session that replaced an expired
     * one after the mark.
     */
    synchronized boolean touched(Mark mark, long sessionId) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == sessionId) {
                return !mark.connected[i] || disruptions[i] != mark.disruptions[i];
            }
        }
        return true;
    }

    /** Total disconnects (SUSPENDED or LOST) seen so far, over all sessions. */
    synchronized long disruptions() {
        long sum = 0;
        for (long d : disruptions) {
            sum += d;
        }
        return sum;
    }

    synchronized boolean allConnected() {
        for (SessionState s : states) {
            if (!isConnected(s)) {
                return false;
            }
        }
        return true;
    }

    /** Waits up to {@code timeout} until more than {@code before} disconnects have been seen; true when they were. */
    synchronized boolean awaitDisruption(long before, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (disruptions() <= before) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    /** Waits up to {@code timeout} until every session is connected; true when they are. */
    synchronized boolean awaitAllConnected(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!allConnected()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    /** The recovery that replaced {@code oldSessionId}, waiting up to {@code timeout}; null when none came. */
    synchronized RecoveryEvent awaitRecovery(long oldSessionId, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (RecoveryEvent r : recoveries) {
                if (r.oldSessionId() == oldSessionId) {
                    return r;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /** Index of the session with this id, or -1. */
    synchronized int indexOf(long sessionId) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == sessionId) {
                return i;
            }
        }
        return -1;
    }

    /** Each session's id, by index. */
    synchronized long[] sessionIds() {
        return ids.clone();
    }

    /** How long each reconnect took, from losing the connection to connecting again. */
    synchronized List<Duration> reconnects() {
        return List.copyOf(reconnects);
    }

    private static boolean isConnected(SessionState s) {
        return s == SessionState.CONNECTED || s == SessionState.RECONNECTED || s == SessionState.READ_ONLY;
    }

    static String millis(Duration d) {
        return d.toMillis() < 1000 ? d.toMillis() + " ms" : String.format(Locale.ROOT, "%.2f s", d.toMillis() / 1000.0);
    }

    /** Per-session state at the start of a request. */
    static final class Mark {
        final long[] disruptions;
        final boolean[] connected;

        Mark(long[] disruptions, boolean[] connected) {
            this.disruptions = disruptions;
            this.connected = connected;
        }
    }
}
