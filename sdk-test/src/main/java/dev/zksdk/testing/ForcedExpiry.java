package dev.zksdk.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;

/**
 * Ends a live ZooKeeper session on the server side, the way a real expiry ends it.
 *
 * <p>A second raw {@link ZooKeeper} handle attaches to the session (same id and password), waits until it is
 * connected, and closes it. Closing sends {@code closeSession}: the ensemble deletes the session's ephemerals and
 * drops its watches at once, and every server closes the connection the session still has. The original client
 * then reconnects, is refused, and its default watcher sees {@link KeeperState#Expired}; every later operation on
 * it fails with {@code SESSIONEXPIRED}. Unlike Curator's client-side {@code KillSession}, the server really loses
 * the session.
 *
 * <p>Attaching moves the session's connection to the second handle, so the original client sees its connection closed
 * and reconnects; when it gets back before the second handle's close (a reconnect right away), the close finds no
 * connection and the session lives on. So the attach-and-close is repeated until an attach finds the session expired:
 * that answer, from the server, is what this method returns on.
 *
 * <p>Thread-safe; the client being expired is not touched.
 */
public final class ForcedExpiry {

    /** How long {@link #expireSession(String, long, byte[])} waits for its second handle to connect. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(15);

    /** Only used to attach; the session is closed right after, so the value barely matters. */
    private static final int ATTACH_SESSION_TIMEOUT_MS = 10_000;

    private ForcedExpiry() {}

    /**
     * Expires the session, waiting up to {@link #DEFAULT_TIMEOUT} to attach to it.
     *
     * @param connectString where to attach; any server of the session's ensemble
     * @param sessionId the session's id
     * @param password the session's password
     * @see #expireSession(String, long, byte[], Duration)
     */
    public static void expireSession(String connectString, long sessionId, byte[] password) {
        expireSession(connectString, sessionId, password, DEFAULT_TIMEOUT);
    }

    /**
     * Expires the session: attaches a second handle to it and closes that handle, again while an attach still finds
     * the session alive (its client reconnected first). Returns once an attach finds the session expired: at once if
     * it was expired already.
     *
     * @param connectString where to attach; any server of the session's ensemble
     * @param sessionId the session's id, from {@link ZooKeeper#getSessionId()}
     * @param password the session's password, from {@link ZooKeeper#getSessionPasswd()}
     * @param timeout how long to wait for the second handle to connect
     * @throws IllegalArgumentException if {@code sessionId} is 0, the password is missing, or the timeout is not
     *     positive
     * @throws IllegalStateException if the second handle cannot connect in time or is refused for a reason other
     *     than the session having expired
     */
    public static void expireSession(String connectString, long sessionId, byte[] password, Duration timeout) {
        if (sessionId == 0) {
            throw new IllegalArgumentException("sessionId must be a live session's id, was 0");
        }
        if (password == null || password.length == 0) {
            throw new IllegalArgumentException(
                    "password must be the session's password, was " + (password == null ? "null" : "empty"));
        }
        Polling.requirePositive("timeout", timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int attempt = 1; ; attempt++) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException("session 0x" + Long.toHexString(sessionId) + " still lives after "
                        + (attempt - 1) + " closes within " + timeout + ": its client reconnected before each close");
            }
            if (attachAndClose(connectString, sessionId, password, Duration.ofNanos(left)) == KeeperState.Expired) {
                return;
            }
        }
    }

    /** Attaches a handle to the session and closes it; what the attach found: connected, or the session expired. */
    private static KeeperState attachAndClose(String connectString, long sessionId, byte[] password, Duration timeout) {
        CountDownLatch settled = new CountDownLatch(1);
        AtomicReference<KeeperState> outcome = new AtomicReference<>();
        ZooKeeper attached;
        try {
            attached = new ZooKeeper(
                    connectString,
                    ATTACH_SESSION_TIMEOUT_MS,
                    event -> {
                        KeeperState state = event.getState();
                        if (state == KeeperState.SyncConnected
                                || state == KeeperState.Expired
                                || state == KeeperState.AuthFailed) {
                            outcome.compareAndSet(null, state);
                            settled.countDown();
                        }
                    },
                    sessionId,
                    password);
        } catch (IOException e) {
            throw new UncheckedIOException("could not open a second handle to " + connectString, e);
        }
        try {
            if (!settled.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("could not attach to session 0x" + Long.toHexString(sessionId) + " via "
                        + connectString + " within " + timeout);
            }
            if (outcome.get() == KeeperState.AuthFailed) {
                throw new IllegalStateException(
                        "attaching to session 0x" + Long.toHexString(sessionId) + " failed authentication");
            }
            return outcome.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while expiring session 0x" + Long.toHexString(sessionId), e);
        } finally {
            closeQuietly(attached);
        }
    }

    private static void closeQuietly(ZooKeeper handle) {
        try {
            handle.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
