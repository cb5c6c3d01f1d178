package dev.zksdk.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.HostProvider;

/**
 * A real {@link ZooKeeper} handle for unit tests that never reaches a server and never even tries: its host provider
 * holds ZooKeeper's connection thread until the handle is closed, so the handle makes no connection attempt and its
 * client reports no event of its own (no Disconnected per failed attempt). What the code under test reads of a handle
 * is set by the test: the session id, the negotiated timeout and the state.
 *
 * <p>The watcher is the handle's real default watcher: {@code getTestable().injectSessionExpiration()} (which the
 * pool's client-side expiry calls) delivers {@code Expired} to it on the handle's event thread, as ZooKeeper would.
 * {@link #close()} ends the handle the same way, so the watcher gets one last {@code Expired}.
 */
public final class OfflineZooKeeper extends ZooKeeper {

    private final CountDownLatch closed;
    private volatile long sessionId;
    private volatile int sessionTimeoutMillis;
    private volatile States state = States.CONNECTING;

    private OfflineZooKeeper(Watcher watcher, CountDownLatch closed, long sessionId, int sessionTimeoutMillis)
            throws IOException {
        super("127.0.0.1:1", sessionTimeoutMillis, watcher, false, new ParkedHostProvider(closed));
        this.closed = closed;
        this.sessionId = sessionId;
        this.sessionTimeoutMillis = sessionTimeoutMillis;
    }

    /**
     * A handle of session {@code sessionId}, negotiated at {@code sessionTimeoutMillis}, in state CONNECTING.
     *
     * @param sessionId the id {@link #getSessionId()} reports
     * @param sessionTimeoutMillis the timeout {@link #getSessionTimeout()} reports, in milliseconds
     * @param watcher the handle's default watcher
     * @return the handle; close it to release its connection thread
     */
    public static OfflineZooKeeper open(long sessionId, int sessionTimeoutMillis, Watcher watcher) {
        try {
            return new OfflineZooKeeper(watcher, new CountDownLatch(1), sessionId, sessionTimeoutMillis);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A handle of session {@code sessionId} whose events nobody hears.
     *
     * @param sessionId the id {@link #getSessionId()} reports
     * @return the handle, with a 30 s session timeout; close it to release its connection thread
     */
    public static OfflineZooKeeper open(long sessionId) {
        return open(sessionId, 30_000, event -> {});
    }

    /**
     * Changes the session id the handle reports, as a new session would.
     *
     * @param id the new id
     * @return this handle
     */
    public OfflineZooKeeper sessionId(long id) {
        this.sessionId = id;
        return this;
    }

    /**
     * Changes the state the handle reports ({@link #getState()}); no event is delivered.
     *
     * @param s the new state
     * @return this handle
     */
    public OfflineZooKeeper state(States s) {
        this.state = s;
        return this;
    }

    @Override
    public long getSessionId() {
        return sessionId;
    }

    @Override
    public int getSessionTimeout() {
        return sessionTimeoutMillis;
    }

    @Override
    public States getState() {
        States s = state;
        return s != null ? s : super.getState(); // null only while ZooKeeper's constructor runs
    }

    /** Ends the handle at once (no close request to send) and releases its connection thread. */
    @Override
    public synchronized void close() throws InterruptedException {
        state = States.CLOSED;
        if (super.getState().isAlive()) {
            getTestable().injectSessionExpiration();
        }
        closed.countDown();
        super.close(); // the client is already closed: returns at once
    }

    @Override
    public boolean close(int waitForShutdownTimeoutMs) throws InterruptedException {
        close();
        return true;
    }

    /** Gives ZooKeeper's connection thread no server until the handle is closed. */
    private static final class ParkedHostProvider implements HostProvider {
        private final CountDownLatch closed;

        ParkedHostProvider(CountDownLatch closed) {
            this.closed = closed;
        }

        @Override
        public int size() {
            return 1;
        }

        @Override
        public InetSocketAddress next(long spinDelay) {
            try {
                closed.await(1, TimeUnit.HOURS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            // By now the client is closed: it refuses to connect to anything.
            return InetSocketAddress.createUnresolved("127.0.0.1", 1);
        }

        @Override
        public void onConnected() {}

        @Override
        public boolean updateServerList(Collection<InetSocketAddress> serverAddresses, InetSocketAddress currentHost) {
            return false;
        }
    }
}
