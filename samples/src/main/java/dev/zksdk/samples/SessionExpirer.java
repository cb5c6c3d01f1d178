package dev.zksdk.samples;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;

/**
 * Ends a live session on the server side, as a real expiry does: a second handle attaches with the session's id and
 * password, then closes. The ensemble deletes the session's ephemerals and drops its watches at once; the session's
 * own client learns of it on its next connection, which the server refuses as expired.
 */
final class SessionExpirer {

    private SessionExpirer() {}

    /**
     * Expires the session; returns once the server has closed it (or at once when it had expired already).
     *
     * @throws IllegalStateException when the second handle cannot attach within {@code timeout}
     */
    static void expire(String connectString, long sessionId, byte[] password, Duration timeout)
            throws IOException, InterruptedException {
        CountDownLatch settled = new CountDownLatch(1);
        AtomicReference<KeeperState> outcome = new AtomicReference<>();
        ZooKeeper attached = new ZooKeeper(
                connectString,
                (int) timeout.toMillis(),
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
        try {
            if (!settled.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("could not attach to session 0x" + Long.toHexString(sessionId)
                        + " within " + timeout.toMillis() + " ms");
            }
            if (outcome.get() == KeeperState.AuthFailed) {
                throw new IllegalStateException(
                        "attaching to session 0x" + Long.toHexString(sessionId) + " failed authentication");
            }
        } finally {
            // close() sends closeSession and waits for the server's answer when connected.
            attached.close();
        }
    }
}
