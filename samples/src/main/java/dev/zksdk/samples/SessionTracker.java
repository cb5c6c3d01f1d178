package dev.zksdk.samples;

import dev.zksdk.RecoveryEvent;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionListener;
import dev.zksdk.SessionState;
import dev.zksdk.ZkException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * The soak's view of one pool's sessions, from its {@link SessionListener} events: each session's id and state and how
 * often it was disrupted, so that the checks can tell the live sessions of a pool and whether a lock holder's session
 * stayed connected while it held the lock. Events go to the recorder for the context of violations.
 *
 * <p>Thread-safe; the pool calls the listener methods on its callback threads, they only update state under this
 * object's lock and log.
 */
final class SessionTracker implements SessionListener {

    private final String pool;
    private final SoakRecorder recorder;
    private final SessionState[] states;
    private final long[] ids;
    private final long[] disruptions;
    private long recoveries;
    private long incompleteRecoveries;

    SessionTracker(String pool, int sessions, SoakRecorder recorder) {
        this.pool = pool;
        this.recorder = recorder;
        this.states = new SessionState[sessions];
        this.ids = new long[sessions];
        this.disruptions = new long[sessions];
        Arrays.fill(states, SessionState.CONNECTING);
    }

    @Override
    public synchronized void onStateChange(SessionEvent e) {
        int i = e.sessionIndex();
        if (i < 0 || i >= states.length) {
            return;
        }
        states[i] = e.state();
        switch (e.state()) {
            case CONNECTED, RECONNECTED, READ_ONLY -> {
                ids[i] = e.sessionIdAfter();
                recorder.event(
                        "%s session #%d %s 0x%x%s",
                        pool,
                        i,
                        e.state(),
                        e.sessionIdAfter(),
                        e.state() == SessionState.CONNECTED || e.sameSession()
                                ? ""
                                : String.format(Locale.ROOT, " (new; 0x%x expired)", e.sessionIdBefore()));
            }
            case SUSPENDED, LOST -> {
                disruptions[i]++;
                recorder.event("%s session #%d %s (0x%x)", pool, i, e.state(), e.sessionIdBefore());
            }
            default -> recorder.event("%s session #%d %s", pool, i, e.state());
        }
        notifyAll();
    }

    @Override
    public synchronized void onRecovered(RecoveryEvent e) {
        recoveries++;
        if (!e.complete()) {
            incompleteRecoveries++;
        }
        recorder.event(
                "%s recovery of 0x%x (replacing 0x%x) in %d ms: %d ephemeral(s) re-created, %d watch(es) re-armed%s",
                pool,
                e.newSessionId(),
                e.oldSessionId(),
                e.duration().toMillis(),
                e.ephemeralsRecreated(),
                e.watchesRearmed(),
                e.complete() ? "" : " (incomplete)");
    }

    @Override
    public void onEphemeralMissing(String path, ZkException cause) {
        recorder.event("%s ephemeral %s missing: %s", pool, path, cause.getMessage());
    }

    @Override
    public void onEphemeralConflict(String path, long ownerSessionId) {
        recorder.event("%s ephemeral %s held by another live session 0x%x", pool, path, ownerSessionId);
    }

    /** True when {@code sessionId} is one of this pool's sessions and connected now. */
    synchronized boolean isLiveAndConnected(long sessionId) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == sessionId) {
                return connected(states[i]);
            }
        }
        return false;
    }

    /** The disruption count of the session {@code sessionId} now, or -1 when it is not one of the pool's. */
    synchronized long disruptionsOf(long sessionId) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == sessionId) {
                return connected(states[i]) ? disruptions[i] : -1;
            }
        }
        return -1;
    }

    /** Waits up to {@code timeout} until every session is connected; true when they are. */
    synchronized boolean awaitAllConnected(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Arrays.stream(states).allMatch(SessionTracker::connected)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    synchronized String describe() {
        StringBuilder sb = new StringBuilder(pool).append(':');
        for (int i = 0; i < ids.length; i++) {
            sb.append(String.format(Locale.ROOT, " #%d 0x%x %s", i, ids[i], states[i]));
        }
        return sb.toString();
    }

    synchronized long recoveries() {
        return recoveries;
    }

    synchronized long incompleteRecoveries() {
        return incompleteRecoveries;
    }

    private static boolean connected(SessionState s) {
        return s == SessionState.CONNECTED || s == SessionState.RECONNECTED || s == SessionState.READ_ONLY;
    }
}
