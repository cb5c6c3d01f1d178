package dev.zksdk.internal.recovery;

import dev.zksdk.OperationPolicy;
import dev.zksdk.RecoveryEvent;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionState;
import dev.zksdk.ZkException;
import dev.zksdk.ZkInterruptedException;
import dev.zksdk.ZkUnavailableException;
import dev.zksdk.internal.Backoff;
import dev.zksdk.internal.DaemonThreads;
import dev.zksdk.internal.ZkAsync;
import dev.zksdk.internal.session.SessionEvents;
import dev.zksdk.internal.session.SharedSession;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one ordered recovery of a pooled session. On a new session id: (1) {@code sync}; (2) every owned ephemeral
 * confirmed or re-created (a leftover of one of this session's dead ids is removed first; a node of another live
 * session is never taken); (3) every registered watch re-armed; (4) RESYNC delivered (caches invalidate on it);
 * (5) a {@link RecoveryEvent} published. Whatever a pass could not do (a missing ephemeral, a watch that could not be
 * armed) is tried again with the policy's recovery backoff. All of a step's nodes are sent at once (pipelined), not one round trip
 * after another.
 *
 * <p>Runs on one thread per session, so recoveries never overlap. A recovery cut short by another connection loss
 * leaves each item marked with the session it was confirmed in; the next connection resumes with what is left, so
 * nothing is created twice. A reconnect within the same session needs no work: ZooKeeper keeps the session's
 * ephemerals and re-registers its watches itself.
 */
public final class SessionRecovery implements SessionEvents {

    private static final Logger log = LoggerFactory.getLogger(SessionRecovery.class);

    private final SharedSession session;
    private final ExecutorService executor;
    private final OwnedEphemerals ephemerals;
    private final RegisteredWatches watches;
    private final EphemeralRegistry registry;
    private final RecoveryHost host;
    private final AtomicReference<ScheduledFuture<?>> pendingRetry = new AtomicReference<>();
    /** Passes in a row that left something to do (a missing ephemeral, a watch not armed): the backoff grows. */
    private int retriesInARow;

    private volatile boolean suspended = true;
    /** A session that reconnected within itself and whose watches still have to catch up; 0 when none. */
    private volatile long catchUpFor;

    private volatile boolean closed;
    /** A new session whose recovery has not finished yet: (old id, start time), consumed by the recovery that ends it. */
    private volatile PendingRecovery pending;

    public SessionRecovery(SharedSession session, EphemeralRegistry registry, RecoveryHost host) {
        this.session = session;
        this.registry = registry;
        this.host = host;
        this.executor = Executors.newSingleThreadExecutor(DaemonThreads.single(session.label() + "-recovery"));
        this.ephemerals = new OwnedEphemerals(this, registry);
        this.watches = new RegisteredWatches(this);
    }

    public OwnedEphemerals ephemerals() {
        return ephemerals;
    }

    public RegisteredWatches watches() {
        return watches;
    }

    SharedSession session() {
        return session;
    }

    /**
     * What this recovery is told and given by the pool: its ensemble.
     *
     * @return the host
     */
    public RecoveryHost host() {
        return host;
    }

    /** Told of the session's state changes (see {@link dev.zksdk.internal.session.SessionEvents}). */
    @Override
    public void onStateChange(SharedSession s, SessionEvent event) {
        switch (event.state()) {
            case CONNECTED:
            case RECONNECTED:
            case READ_ONLY:
                onConnected(event.sessionIdBefore(), event.sessionIdAfter(), System.nanoTime());
                break;
            case SUSPENDED:
            case LOST:
                onSuspended();
                break;
            default:
                break;
        }
    }

    boolean isSuspended() {
        return suspended;
    }

    /** Called (on Curator's state thread) whenever the session is connected, with the ids before and after. */
    public void onConnected(long previousId, long newId, long connectedAtNanos) {
        if (previousId != 0 && previousId != newId) {
            registry.pastSessions.add(previousId);
            // A recovery not finished yet (cut short, or waiting on a read-only server) reports the id it started from.
            PendingRecovery unfinished = pending;
            pending = new PendingRecovery(unfinished != null ? unfinished.oldId : previousId, newId, connectedAtNanos);
        } else if (previousId != 0 && suspended) {
            // Reconnected within the same session: persistent watches missed whatever changed in the gap.
            catchUpFor = newId;
        }
        suspended = false;
        schedule();
    }

    public void onSuspended() {
        suspended = true;
    }

    /** Asks for a recovery pass: it does whatever is not yet confirmed in the live session. */
    void schedule() {
        if (closed) {
            return;
        }
        try {
            executor.execute(this::runPass);
        } catch (RejectedExecutionException e) {
            // closed concurrently
        }
    }

    private void scheduleRetry(Duration delay) {
        ScheduledExecutorService scheduler = schedulerOrNull();
        if (scheduler == null || closed) {
            return;
        }
        try {
            ScheduledFuture<?> f = scheduler.schedule(this::schedule, delay.toMillis(), TimeUnit.MILLISECONDS);
            ScheduledFuture<?> old = pendingRetry.getAndSet(f);
            if (old != null) {
                old.cancel(false);
            }
        } catch (RejectedExecutionException e) {
            // the pool is closing
        }
    }

    private ScheduledExecutorService schedulerOrNull() {
        return host.scheduler();
    }

    /**
     * Whether the session is connected to a read-only server (ZooKeeper's read-only mode): nothing can be created or
     * synced there (ZooKeeper's {@code ReadOnlyRequestProcessor} answers NOTREADONLY to sync, create, delete, setData,
     * setACL, check, multi and reconfig), so ephemerals wait for a read-write server; reads are served, watches too
     * (exists, getData, getChildren with a watch, addWatch, setWatches), so watches are armed there.
     */
    boolean isReadOnly() {
        return session.state() == SessionState.READ_ONLY;
    }

    private void runPass() {
        if (closed || !session.isConnected()) {
            return;
        }
        // A read-only server refuses sync and create (NOTREADONLY): on one, only the watches are armed (reads are
        // served there); the ephemerals and the RecoveryEvent wait until the session reaches a read-write server,
        // which it reports as a new connection (onConnected schedules a pass then).
        boolean readOnly = isReadOnly();
        ZooKeeper zk = session.connectedHandle();
        if (zk == null) {
            return;
        }
        long sid = zk.getSessionId();
        PendingRecovery recovering = pending;
        boolean newSession = recovering != null && recovering.newId == sid;
        Duration timeout =
                session.config().connectionTimeout().plus(session.config().sessionTimeout());
        try {
            if (newSession && !readOnly) {
                // (1) sync: the server we are on has caught up with the leader before we look at our old nodes.
                CompletableFuture<Void> synced = new CompletableFuture<>();
                zk.sync(
                        "/",
                        (rc, path, ctx) -> {
                            if (rc == 0) {
                                synced.complete(null);
                            } else {
                                synced.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), "/"));
                            }
                        },
                        null);
                synced.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            // (2) ephemerals
            OwnedEphemerals.PassResult eph =
                    readOnly ? new OwnedEphemerals.PassResult() : ephemerals.ensureAll(zk, sid, timeout);
            // (3) watches: re-armed first, then RESYNC, so a change made after RESYNC is always seen
            int watchesLeft = watches.ensureAll(zk, sid, timeout);
            watches.removeClosed(zk, sid, timeout);
            if (!newSession && catchUpFor == sid) {
                watches.catchUp(zk, sid, timeout);
                catchUpFor = 0;
            }
            if (newSession) {
                // (4) RESYNC (caches drop what they hold on it)
                watches.deliverResync(sid);
            }
            if (newSession && readOnly) {
                log.debug(
                        "{}: the session is read-only: watches armed, ephemerals wait for a read-write server",
                        session.label());
            } else if (newSession) {
                // (5) recovered
                if (pending == recovering) {
                    pending = null;
                }
                Duration took = Duration.ofNanos(System.nanoTime() - recovering.connectedAtNanos);
                RecoveryEvent event = new RecoveryEvent(
                        session.config().connectString(),
                        recovering.oldId,
                        sid,
                        ephemerals.confirmedIn(sid),
                        watches.armedIn(sid),
                        took,
                        eph.pending == 0 && watchesLeft == 0);
                log.info("{}: recovered after new session: {}", session.label(), event);
                host.recovered(event);
            }
            if (eph.pending > 0 || watchesLeft > 0) {
                scheduleRetry(backoff());
            } else {
                retriesInARow = 0;
            }
        } catch (TimeoutException | ExecutionException e) {
            // Connection lost again (or the server is slow): what was confirmed stays confirmed; the next connection
            // (or this retry, if the connection held) resumes with the rest.
            log.info(
                    "{}: recovery pass cut short ({}); it resumes on the next connection",
                    session.label(),
                    e.getCause() != null ? e.getCause().toString() : e.toString());
            if (session.isConnected()) {
                scheduleRetry(backoff());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("{}: recovery pass failed; retrying", session.label(), e);
            scheduleRetry(backoff());
        }
    }

    /**
     * The wait before the next pass when one left work undone: full jitter over an exponential bound, from the policy's
     * recovery backoff (see {@link dev.zksdk.OperationPolicy}). Node watches wake a pass sooner when the state changes.
     */
    private Duration backoff() {
        int n = Math.min(retriesInARow++, 16);
        OperationPolicy policy = host.policy();
        return Duration.ofMillis(Backoff.fullJitter(
                        policy.recoveryRetryInitialBackoff().toMillis(),
                        policy.recoveryRetryMaxBackoff().toMillis())
                .apply(n + 1));
    }

    public void close() {
        closed = true;
        ScheduledFuture<?> f = pendingRetry.getAndSet(null);
        if (f != null) {
            f.cancel(false);
        }
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ephemerals.closeAll();
        watches.closeAll();
    }

    /**
     * Waits until a registration ({@code what}: "ephemeral", "watch") is first confirmed on the server, up to the
     * connection timeout plus the session timeout; on failure, timeout or interrupt it is undone ({@code undo}) and the
     * caller gets the reason. {@code why} tells, on a timeout, what kept it from the server (null: no connection).
     */
    void awaitRegistration(
            String what, String path, CompletableFuture<Void> confirmed, Runnable undo, Supplier<ZkException> why) {
        Duration wait =
                session.config().connectionTimeout().plus(session.config().sessionTimeout());
        try {
            confirmed.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            undo.run();
            Throwable cause = ZkAsync.unwrap(e);
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            throw new ZkException(Code.SYSTEMERROR, path, what + " " + path + ": " + cause, cause);
        } catch (TimeoutException e) {
            undo.run();
            ZkException reason = why.get();
            throw new ZkUnavailableException(
                    path,
                    what + " " + path + ": not confirmed on the server within " + wait.toMillis() + " ms"
                            + (reason != null ? " (" + reason.getMessage() + ")" : " (no connected session)")
                            + "; it was not registered",
                    reason != null ? reason : e);
        } catch (InterruptedException e) {
            undo.run();
            Thread.currentThread().interrupt();
            throw new ZkInterruptedException(path, "interrupted while registering " + what + " " + path, e);
        }
    }

    boolean isClosed() {
        return closed;
    }

    private static final class PendingRecovery {
        final long oldId;
        final long newId;
        final long connectedAtNanos;

        PendingRecovery(long oldId, long newId, long connectedAtNanos) {
            this.oldId = oldId;
            this.newId = newId;
            this.connectedAtNanos = connectedAtNanos;
        }
    }
}
