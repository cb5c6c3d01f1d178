package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A reconnection attempt that a server accepts and never answers must not cost the session. ZooKeeper gives one
 * attempt the session timeout divided by its host provider's size; on a one-server connect string (a single address,
 * often a load balancer's) that was the whole session timeout, so one hung attempt outlived the session. The case is
 * real: a ZooKeeper server restarting leaves a connection made while it loads its database open and unanswered
 * (ZOOKEEPER-5051), which the reconnect-storm benchmark hit a few times per restart of a server with 200 sessions.
 */
class HungConnectionAttemptIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);
    static final byte[] DATA = "member".getBytes(StandardCharsets.UTF_8);

    TestingServer server;
    ZkProxy proxy;
    RawZooKeeper observer;
    ZkSessionPool pool;
    final Recorder events = new Recorder();

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        pool = ZkSessionPool.builder()
                .name("hung-attempt")
                .connectString(proxy.connectString())
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(20))
                .listener(events)
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        pool.close();
        observer.close();
        proxy.close();
        server.close();
    }

    @Test
    void anAttemptThatIsNeverAnsweredIsAbandonedInTimeToKeepTheSession() throws Exception {
        long sessionId;
        try (ZkLease lease = pool.lease()) {
            sessionId = lease.sessionId();
            lease.ephemeral("/hung/member", DATA);
        }
        assertThat(pool.negotiatedSessionTimeout()).isEqualTo(SESSION_TIMEOUT);
        events.clear();

        proxy.blackholeNextConnections(1);
        proxy.closeAllConnections();

        // Reconnected within the session: the hung attempt was given up after a third of the session timeout (2 s), not
        // all of it (after which the server has expired the session, as the ephemeral's deletion would show).
        await().atMost(Duration.ofSeconds(30))
                .until(() -> events.saw(e -> e.state() == SessionState.RECONNECTED || e.state() == SessionState.LOST));
        assertThat(proxy.blackholedConnections())
                .as("the reconnection attempt that hung")
                .isEqualTo(1);
        assertThat(events.sessionEvents()).noneMatch(e -> e.state() == SessionState.LOST || e.newSession());
        assertThat(events.sessionEvents())
                .anyMatch(e -> e.state() == SessionState.RECONNECTED && e.sessionIdAfter() == sessionId);
        try (ZkLease lease = pool.lease()) {
            assertThat(lease.sessionId()).isEqualTo(sessionId);
        }
        Stat stat = observer.zk().exists("/hung/member", false);
        assertThat(stat).isNotNull();
        assertThat(stat.getEphemeralOwner()).isEqualTo(sessionId);
        assertThat(pool.stats().sessionsOpened()).isEqualTo(1);
    }

    /**
     * With a long session timeout a third of it is still a long time without a connection: 8 s of a 24 s session here.
     * {@link HostsConfig.Builder#connectAttemptTimeout} bounds the attempt itself, so the hung one is given up after 1 s.
     */
    @Test
    void aConnectAttemptTimeoutGivesUpTheHungAttemptSooner() throws Exception {
        Duration longSession = Duration.ofSeconds(24);
        Duration defaultBound = longSession.dividedBy(3);
        Recorder own = new Recorder();
        try (ZkSessionPool bounded = ZkSessionPool.builder()
                .name("bounded-attempt")
                .connectString(proxy.connectString())
                .sessionTimeout(longSession)
                .connectionTimeout(Duration.ofSeconds(20))
                .hosts(HostsConfig.builder()
                        .connectAttemptTimeout(Duration.ofSeconds(1))
                        .build())
                .listener(own)
                .build()) {
            long sessionId;
            try (ZkLease lease = bounded.lease()) {
                sessionId = lease.sessionId();
                lease.ephemeral("/bounded/member", DATA);
            }
            assertThat(bounded.negotiatedSessionTimeout()).isEqualTo(longSession);
            own.clear();

            proxy.blackholeNextConnections(1);
            long cut = System.nanoTime();
            proxy.closeAllConnections();

            await().atMost(Duration.ofSeconds(60))
                    .until(() -> own.saw(SessionState.RECONNECTED) || own.saw(SessionState.LOST));
            assertThat(proxy.blackholedConnections())
                    .as("the reconnection attempt that hung")
                    .isEqualTo(1);
            assertThat(own.sessionEvents()).noneMatch(e -> e.state() == SessionState.LOST || e.newSession());
            assertThat(own.sessionEvents())
                    .anyMatch(e -> e.state() == SessionState.RECONNECTED && e.sessionIdAfter() == sessionId);
            // Without the bound ZooKeeper would have waited the whole default bound on the hung attempt before the
            // next.
            long reconnectedAt = own.callbacks(SessionState.RECONNECTED).get(0).nanoTime();
            assertThat(Duration.ofNanos(reconnectedAt - cut)).isLessThan(defaultBound.minusSeconds(2));
            Stat stat = observer.zk().exists("/bounded/member", false);
            assertThat(stat).isNotNull();
            assertThat(stat.getEphemeralOwner()).isEqualTo(sessionId);
        }
    }
}
