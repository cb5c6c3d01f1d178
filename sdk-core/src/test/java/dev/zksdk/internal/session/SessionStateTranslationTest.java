package dev.zksdk.internal.session;

import static dev.zksdk.SessionState.CONNECTED;
import static dev.zksdk.SessionState.CONNECTING;
import static dev.zksdk.SessionState.LOST;
import static dev.zksdk.SessionState.READ_ONLY;
import static dev.zksdk.SessionState.RECONNECTED;
import static dev.zksdk.SessionState.SUSPENDED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.OperationPolicy;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionState;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.OfflineZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.utils.ZookeeperFactory;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How {@link SharedSession} turns its handles' raw ZooKeeper events into the pool's {@link SessionEvent}s, without a
 * server. A handle is made as the {@link HandleFactory} makes one for Curator ({@code newHandleWatcher}, then the
 * handle with that watcher, then {@code attach}); here the handle is an {@link OfflineZooKeeper}, which never connects,
 * and the test hands its watcher the events ZooKeeper's client would. What the session made of them is read through
 * its subscription API ({@link SharedSession#subscribe}), as the pool reads it.
 */
class SessionStateTranslationTest {

    private static final long FIRST = 0x1001L;
    private static final long SECOND = 0x2002L;
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(30);

    private ScheduledExecutorService scheduler;
    private SharedSession session;
    private final List<SessionEvent> events = new CopyOnWriteArrayList<>();
    private final List<ZooKeeper> handles = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() {
        scheduler = Executors.newScheduledThreadPool(1, r -> {
            Thread t = new Thread(r, "session-test-scheduler");
            t.setDaemon(true);
            return t;
        });
        session = newSession(SESSION_TIMEOUT, (connectString, timeout, watcher, readOnly) -> {
            throw new IllegalStateException("this test makes the handles itself");
        });
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        session.close();
        for (ZooKeeper zk : handles) {
            zk.close();
        }
        scheduler.shutdownNow();
    }

    @Test
    void theFirstConnectionIsReportedAsConnected() {
        Handle a = handle(FIRST);

        a.syncConnected();

        assertThat(states()).containsExactly(CONNECTED);
        SessionEvent e = last();
        assertThat(e.previousState()).isEqualTo(CONNECTING);
        assertThat(e.sessionIdAfter()).isEqualTo(FIRST);
        assertThat(e.negotiatedTimeout()).isEqualTo(SESSION_TIMEOUT);
        assertThat(session.state()).isEqualTo(CONNECTED);
        assertThat(session.sessionId()).isEqualTo(FIRST);
        assertThat(session.connectedHandle()).isSameAs(a.zk);
        assertThat(session.sessionsOpened()).isEqualTo(1);
    }

    @Test
    void aLostConnectionIsReportedAsSuspendedKeepingTheSessionId() {
        Handle a = handle(FIRST);
        a.syncConnected();

        a.disconnected();

        assertThat(states()).containsExactly(CONNECTED, SUSPENDED);
        SessionEvent e = last();
        assertThat(e.previousState()).isEqualTo(CONNECTED);
        assertThat(e.sessionIdBefore()).isEqualTo(FIRST);
        assertThat(e.sessionIdAfter()).isEqualTo(FIRST);
        assertThat(e.negotiatedTimeout()).as("not connected").isNull();
        assertThat(session.connectedHandle()).isNull();
    }

    @Test
    void aReconnectionWithinTheSessionIsReportedAsReconnectedWithTheSameSession() {
        Handle a = handle(FIRST);
        a.syncConnected();
        a.disconnected();

        a.syncConnected();

        assertThat(states()).containsExactly(CONNECTED, SUSPENDED, RECONNECTED);
        SessionEvent e = last();
        assertThat(e.previousState()).isEqualTo(SUSPENDED);
        assertThat(e.sameSession()).isTrue();
        assertThat(e.newSession()).isFalse();
        assertThat(session.sessionsOpened()).isEqualTo(1);
        assertThat(session.connectedHandle()).isSameAs(a.zk);
    }

    @Test
    void anExpiryReportedByTheServerIsLost() {
        Handle a = handle(FIRST);
        a.syncConnected();
        a.disconnected();

        a.expired();

        assertThat(states()).containsExactly(CONNECTED, SUSPENDED, LOST);
        SessionEvent e = last();
        assertThat(e.previousState()).isEqualTo(SUSPENDED);
        assertThat(e.sessionIdBefore()).isEqualTo(FIRST);
        assertThat(e.detectedByClient()).as("a server reported it").isFalse();
        assertThat(session.connectedHandle()).isNull();
    }

    @Test
    void aNewSessionAfterAnExpiryIsReportedAsReconnectedWithTheNewSession() {
        Handle a = handle(FIRST);
        a.syncConnected();
        a.disconnected();
        a.expired();

        Handle b = handle(SECOND); // Curator replaces the expired handle
        b.syncConnected();

        assertThat(states()).containsExactly(CONNECTED, SUSPENDED, LOST, RECONNECTED);
        SessionEvent e = last();
        assertThat(e.previousState()).isEqualTo(LOST);
        assertThat(e.sessionIdBefore()).isEqualTo(FIRST);
        assertThat(e.sessionIdAfter()).isEqualTo(SECOND);
        assertThat(e.newSession()).isTrue();
        assertThat(e.sameSession()).isFalse();
        assertThat(session.sessionId()).isEqualTo(SECOND);
        assertThat(session.sessionsOpened()).isEqualTo(2);
        assertThat(session.connectedHandle()).isSameAs(b.zk);
    }

    @Test
    void aRepeatedDisconnectedOrExpiredIsReportedOnceAndNoneBeforeTheFirstConnection() {
        Handle a = handle(FIRST);
        a.disconnected(); // a failed first connection attempt: still connecting

        a.syncConnected();
        a.disconnected();
        a.disconnected();
        a.expired();
        a.expired();

        assertThat(states()).containsExactly(CONNECTED, SUSPENDED, LOST);
    }

    @Test
    void aReconnectionWhoseDisconnectedZooKeeperNeverDeliveredIsReportedAsSuspendedThenReconnected() {
        Handle a = handle(FIRST);
        a.syncConnected();

        a.syncConnected(); // connected again, with no Disconnected in between

        assertThat(states()).containsExactly(CONNECTED, SUSPENDED, RECONNECTED);
        assertThat(events.get(1).previousState()).isEqualTo(CONNECTED);
        assertThat(last().previousState()).isEqualTo(SUSPENDED);
        assertThat(last().sameSession()).isTrue();
    }

    @Test
    void eventsOfAReplacedHandleChangeNothing() {
        Handle a = handle(FIRST);
        a.syncConnected();
        a.disconnected();
        Handle b = handle(SECOND); // Curator made a new handle: the old one's late events are history

        a.expired();
        a.syncConnected();
        a.disconnected();
        assertThat(states()).containsExactly(CONNECTED, SUSPENDED);
        assertThat(session.state()).isEqualTo(SUSPENDED);
        assertThat(session.sessionId()).isEqualTo(FIRST);
        assertThat(session.connectedHandle()).isNull();

        b.syncConnected();
        a.disconnected();
        a.expired();
        a.syncConnected();

        assertThat(states()).containsExactly(CONNECTED, SUSPENDED, RECONNECTED);
        assertThat(last().sessionIdAfter()).isEqualTo(SECOND);
        assertThat(session.state()).isEqualTo(RECONNECTED);
        assertThat(session.connectedHandle()).isSameAs(b.zk);
    }

    @Test
    void aReadOnlyConnectionIsReportedAsReadOnly() {
        Handle a = handle(FIRST);

        a.connectedReadOnly();

        assertThat(states()).containsExactly(READ_ONLY);
        assertThat(last().previousState()).isEqualTo(CONNECTING);
        assertThat(last().sessionIdAfter()).isEqualTo(FIRST);
        assertThat(session.state()).isEqualTo(READ_ONLY);
    }

    @Test
    void aSessionNoServerCanExpireIsDeclaredLostByTheClientAfterTheNegotiatedTimeout() {
        useSession(Duration.ofMillis(300));
        Handle a = handle(FIRST);
        a.syncConnected();

        a.disconnected(); // and no server reachable: nobody will report the expiry

        await().atMost(Duration.ofSeconds(5)).until(() -> states().contains(LOST));
        assertThat(states()).containsExactly(CONNECTED, SUSPENDED, LOST);
        SessionEvent e = last();
        assertThat(e.detectedByClient()).isTrue();
        assertThat(e.sessionIdBefore()).isEqualTo(FIRST);
    }

    @Test
    void aReconnectionBeforeTheNegotiatedTimeoutCallsOffTheClientsExpiry() {
        useSession(Duration.ofMillis(300));
        Handle a = handle(FIRST);
        a.syncConnected();
        a.disconnected();

        a.syncConnected();

        // The expiry would have been due 300 ms (plus two 20 ms samples) after the disconnect.
        await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(2)).until(() -> !states().contains(LOST));
        assertThat(states()).containsExactly(CONNECTED, SUSPENDED, RECONNECTED);
    }

    @Test
    void aConnectionLostWithoutAnyEventIsFoundFromTheHandlesStateAndReportedAsSuspended() {
        // The handle is made by Curator, through the session's HandleFactory, once the session starts.
        List<Handle> made = new CopyOnWriteArrayList<>();
        useSession(SESSION_TIMEOUT, new ZookeeperFactory() {
            @Override
            public ZooKeeper newZooKeeper(String connectString, int timeout, Watcher watcher, boolean readOnly) {
                OfflineZooKeeper zk = OfflineZooKeeper.open(FIRST, timeout, watcher);
                handles.add(zk);
                made.add(new Handle((SharedSession.HandleWatcher) watcher, zk));
                return zk;
            }

            @Override
            public ZooKeeper newZooKeeper(
                    String connectString, int timeout, Watcher watcher, boolean readOnly, ZKClientConfig clientConfig) {
                return newZooKeeper(connectString, timeout, watcher, readOnly);
            }
        });
        session.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> !made.isEmpty());
        assertThat(made).hasSize(1);
        Handle a = made.get(0);
        a.syncConnected();
        assertThat(states()).containsExactly(CONNECTED);

        // ZooKeeper's client lost the connection and reported nothing (see SharedSession.checkMissedDisconnect).
        a.zk.state(ZooKeeper.States.CONNECTING);

        await().atMost(Duration.ofSeconds(5)).until(() -> states().contains(SUSPENDED));
        assertThat(states()).containsExactly(CONNECTED, SUSPENDED);
        assertThat(session.connectedHandle()).isNull();
    }

    // ---------------------------------------------------------------- fixtures

    private SharedSession newSession(Duration sessionTimeout, ZookeeperFactory handleFactory) {
        Duration connectionTimeout = EnsembleConfig.DEFAULT_CONNECTION_TIMEOUT;
        EnsembleConfig config = EnsembleConfig.builder()
                .connectString("127.0.0.1:2181")
                .sessionTimeout(sessionTimeout)
                .connectionTimeout(sessionTimeout.compareTo(connectionTimeout) < 0 ? sessionTimeout : connectionTimeout)
                .build();
        SharedSession s = new SharedSession(
                "unit",
                config,
                0,
                0,
                handleFactory,
                scheduler,
                null,
                new RetryOneTime(1),
                // Handles without a server here: nothing would answer the version probe of a first connection.
                ServerFeatures.current(config.connectString()),
                ZkSessionPool.DEFAULT_CLOSE_TIMEOUT,
                HungServerCheck.bound(
                        sessionTimeout, OperationPolicy.DEFAULT_OPERATION_TIMEOUT, config.connectionTimeout()));
        s.subscribe((from, event) -> events.add(event));
        return s;
    }

    private void useSession(Duration sessionTimeout) {
        useSession(sessionTimeout, (connectString, timeout, watcher, readOnly) -> {
            throw new IllegalStateException("this test makes the handles itself");
        });
    }

    /** Replaces the session of {@link #setUp} with one of another session timeout. */
    private void useSession(Duration sessionTimeout, ZookeeperFactory handleFactory) {
        session.close();
        events.clear();
        session = newSession(sessionTimeout, handleFactory);
    }

    /**
     * A new handle of session {@code id}, made as the {@link HandleFactory} makes one for Curator: its watcher becomes
     * the session's current one. The negotiated timeout is the one asked for.
     */
    private Handle handle(long id) {
        SharedSession.HandleWatcher watcher = session.newHandleWatcher(event -> {}); // Curator is not started here
        OfflineZooKeeper zk = OfflineZooKeeper.open(
                id, (int) session.config().sessionTimeout().toMillis(), watcher);
        handles.add(zk);
        watcher.attach(zk);
        return new Handle(watcher, zk);
    }

    private List<SessionState> states() {
        List<SessionState> states = new ArrayList<>();
        for (SessionEvent e : events) {
            states.add(e.state());
        }
        return states;
    }

    private SessionEvent last() {
        return events.get(events.size() - 1);
    }

    /** One handle and its watcher; each method is an event ZooKeeper's client delivers, with the handle's state. */
    private static final class Handle {
        final SharedSession.HandleWatcher watcher;
        final OfflineZooKeeper zk;

        Handle(SharedSession.HandleWatcher watcher, OfflineZooKeeper zk) {
            this.watcher = watcher;
            this.zk = zk;
        }

        void syncConnected() {
            zk.state(ZooKeeper.States.CONNECTED);
            deliver(KeeperState.SyncConnected);
        }

        void connectedReadOnly() {
            zk.state(ZooKeeper.States.CONNECTEDREADONLY);
            deliver(KeeperState.ConnectedReadOnly);
        }

        void disconnected() {
            zk.state(ZooKeeper.States.CONNECTING);
            deliver(KeeperState.Disconnected);
        }

        void expired() {
            zk.state(ZooKeeper.States.CLOSED);
            deliver(KeeperState.Expired);
        }

        private void deliver(KeeperState state) {
            watcher.process(new WatchedEvent(EventType.None, state, null));
        }
    }
}
