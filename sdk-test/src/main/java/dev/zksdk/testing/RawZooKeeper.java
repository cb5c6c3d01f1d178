package dev.zksdk.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;

/**
 * A plain ZooKeeper client handle (no Curator, no SDK) that records every connection state its default watcher
 * sees, for tests that check what a fault does to a bare session.
 *
 * <p>Thread-safe. {@link #close()} closes the session.
 */
public final class RawZooKeeper implements AutoCloseable {

    /** How long {@link #connect} waits for the session to connect. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(15);

    private final ZooKeeper zooKeeper;
    private final List<KeeperState> states;

    private RawZooKeeper(ZooKeeper zooKeeper, List<KeeperState> states) {
        this.zooKeeper = zooKeeper;
        this.states = states;
    }

    /**
     * Opens a session and waits up to {@link #DEFAULT_CONNECT_TIMEOUT} until it is connected.
     *
     * @param connectString the servers, {@code host:port[,host:port...][/chroot]}
     * @param sessionTimeout the requested session timeout (the server may clamp it)
     * @return the connected handle
     * @throws IllegalStateException if the session is not connected in time (the handle is then closed)
     */
    public static RawZooKeeper connect(String connectString, Duration sessionTimeout) {
        Polling.requirePositive("sessionTimeout", sessionTimeout);
        List<KeeperState> states = new CopyOnWriteArrayList<>();
        ZooKeeper zooKeeper;
        try {
            zooKeeper = new ZooKeeper(connectString, Math.toIntExact(sessionTimeout.toMillis()), event -> {
                if (event.getType() == EventType.None) {
                    states.add(event.getState());
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("could not create a ZooKeeper handle for " + connectString, e);
        }
        RawZooKeeper raw = new RawZooKeeper(zooKeeper, states);
        try {
            raw.awaitState(KeeperState.SyncConnected, DEFAULT_CONNECT_TIMEOUT);
        } catch (IllegalStateException e) {
            raw.close();
            throw e;
        }
        return raw;
    }

    /**
     * The bare ZooKeeper handle, for requests the test makes itself.
     *
     * @return the handle; {@link #close()} closes it
     */
    public ZooKeeper zk() {
        return zooKeeper;
    }

    /**
     * The session's id, as the handle knows it.
     *
     * @return the id, 0 before the session is established
     */
    public long sessionId() {
        return zooKeeper.getSessionId();
    }

    /**
     * The session's password, for a second handle that joins the same session (or a {@link ForcedExpiry}).
     *
     * @return the password bytes
     */
    public byte[] sessionPassword() {
        return zooKeeper.getSessionPasswd();
    }

    /**
     * Every connection state seen so far, oldest first.
     *
     * @return an unmodifiable copy of the states seen
     */
    public List<KeeperState> states() {
        return List.copyOf(states);
    }

    /**
     * The number of times {@code state} has been seen so far.
     *
     * @param state the connection state
     * @return how often it was seen
     */
    public int count(KeeperState state) {
        return (int) states.stream().filter(s -> s == state).count();
    }

    /**
     * Waits until {@code state} has been seen (at any time since the handle was created).
     *
     * @param state the connection state to wait for
     * @param timeout how long to wait, positive
     * @throws IllegalStateException on timeout, with the states seen
     */
    public void awaitState(KeeperState state, Duration timeout) {
        awaitCount(state, 1, timeout);
    }

    /**
     * Waits until {@code state} has been seen at least {@code times} times.
     *
     * @param state the connection state to wait for
     * @param times how often it must have been seen
     * @param timeout how long to wait, positive
     * @throws IllegalStateException on timeout, with the states seen
     */
    public void awaitCount(KeeperState state, int times, Duration timeout) {
        if (!Polling.until(timeout, () -> count(state) >= times)) {
            throw new IllegalStateException("session 0x" + Long.toHexString(sessionId()) + " did not see " + state + " "
                    + times + " time(s) within " + timeout + "; saw " + states());
        }
    }

    @Override
    public void close() {
        try {
            zooKeeper.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "RawZooKeeper[session 0x" + Long.toHexString(sessionId()) + ", states " + states + "]";
    }
}
