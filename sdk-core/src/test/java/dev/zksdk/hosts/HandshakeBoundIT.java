package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.SessionEvent;
import dev.zksdk.SessionState;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerProcess;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A connection attempt that a server accepts and never answers is given up after a bound learnt from the handshakes
 * this process has seen ({@link HostsConfig#minConnectAttemptTimeout()}, 500 ms by default; a healthy server answers
 * in milliseconds), not after ZooKeeper's share of the session timeout (a third of it: 10 s of the 30 s sessions
 * here). A server that is slow but answers is still reached: each unanswered attempt doubles the next one's bound.
 */
class HandshakeBoundIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(30);
    /** ZooKeeper's bound for one attempt here: the session timeout over max(servers, 3). */
    static final Duration ZOOKEEPERS_BOUND = SESSION_TIMEOUT.dividedBy(3);

    static final int HUNG = 20;
    /** For the restart: ZooKeeper's bound is then 20 s, far from what the pool needs on a loaded machine. */
    static final Duration LONG_SESSION_TIMEOUT = Duration.ofSeconds(60);

    static final byte[] DATA = "member".getBytes(StandardCharsets.UTF_8);

    @BeforeEach
    @AfterEach
    void forgetHandshakes() {
        // The record is the process's: a slow handshake of one test must not widen the next test's bound.
        HandshakeTimes.PROCESS.clear();
    }

    /** A reconnect whose first attempt lands on a connection nobody answers (a frozen proxy). */
    @Test
    void aReconnectAttemptThatIsNeverAnsweredIsGivenUpWithinTheLearntBound() throws Exception {
        TestingServer server = InProcessEnsembles.startServer();
        try (server;
                ZkProxy proxy = ZkProxy.to(server.getConnectString());
                RawZooKeeper observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30))) {
            Recorder events = new Recorder();
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .name("handshake-reconnect")
                    .connectString(proxy.connectString())
                    .sessionTimeout(SESSION_TIMEOUT)
                    .connectionTimeout(Duration.ofSeconds(20))
                    .listener(events)
                    .build()) {
                long sessionId;
                try (ZkLease lease = pool.lease()) {
                    sessionId = lease.sessionId();
                    lease.ephemeral("/handshake/member", DATA);
                }
                events.clear();

                proxy.blackholeNextConnections(1);
                long cut = System.nanoTime();
                proxy.closeAllConnections();

                await().atMost(Duration.ofSeconds(60))
                        .until(() -> events.saw(SessionState.RECONNECTED) || events.saw(SessionState.LOST));
                long reconnected =
                        events.callbacks(SessionState.RECONNECTED).get(0).nanoTime();
                assertThat(proxy.blackholedConnections())
                        .as("the attempt nobody answered")
                        .isEqualTo(1);
                assertThat(events.sessionEvents()).noneMatch(e -> e.state() == SessionState.LOST || e.newSession());
                assertThat(events.sessionEvents())
                        .anyMatch(e -> e.state() == SessionState.RECONNECTED && e.sessionIdAfter() == sessionId);
                // 500 ms for the unanswered attempt, a jitter of at most 100 ms, then a handshake of milliseconds;
                // ZooKeeper's own bound would be 10 s.
                assertThat(Duration.ofNanos(reconnected - cut))
                        .as("from the cut to the session being back")
                        .isLessThan(Duration.ofSeconds(3));
                Stat stat = observer.zk().exists("/handshake/member", false);
                assertThat(stat).isNotNull();
                assertThat(stat.getEphemeralOwner()).isEqualTo(sessionId);
            }
        }
    }

    /**
     * A server restarted with {@code kill -9} whose first {@value #HUNG} connections after the restart are accepted and
     * never answered (what ZOOKEEPER-5051 does to connections made while the server loads its database), under 50
     * sessions reconnecting at once: no session is lost and all are back within seconds of the server serving. A plain
     * ZooKeeper handle on this one-address connect string gives each such attempt its whole connect timeout (the
     * session timeout) and loses its session; with the pool's former bound, a third of it, they were back after 20 s.
     */
    @Test
    void aRestartWhoseFirstAttemptsHangCostsNoSessionAndOnlySeconds() throws Exception {
        int sessions = 50;
        try (ProcessEnsemble ensemble =
                        ProcessEnsemble.builder().size(1).maxClientCnxns(0).start();
                ZkProxy proxy = ZkProxy.to(ensemble.server(1).address())) {
            ServerProcess server = ensemble.server(1);
            Recorder events = new Recorder();
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .name("handshake-restart")
                    .connectString(proxy.connectString())
                    .sessionTimeout(LONG_SESSION_TIMEOUT)
                    .connectionTimeout(Duration.ofSeconds(20))
                    .sessionsPerEnsemble(sessions)
                    .hosts(HostsConfig.builder()
                            .perServerConnectionBudget(sessions)
                            .sessionCreationRate(100)
                            .build())
                    .listener(events)
                    .build()) {
                List<ZkLease> leases = new ArrayList<>();
                for (int i = 0; i < sessions; i++) {
                    leases.add(pool.lease());
                }
                await().atMost(Duration.ofSeconds(60))
                        .until(() ->
                                pool.stats().connectionsPerServer().getOrDefault(proxy.connectString(), 0) == sessions);
                List<Long> ids = leases.stream().map(ZkLease::sessionId).toList();
                events.clear();

                server.kill9();
                server.restart();
                proxy.blackholeNextConnections(HUNG);
                server.awaitServing(Duration.ofSeconds(60));
                long servingAt = System.nanoTime();
                await().atMost(Duration.ofSeconds(60))
                        .until(() ->
                                events.count(SessionState.RECONNECTED) >= sessions || events.saw(SessionState.LOST));
                long allBackAt = System.nanoTime();

                assertThat(events.sessionEvents(SessionState.LOST))
                        .as("sessions lost")
                        .isEmpty();
                assertThat(proxy.blackholedConnections())
                        .as("attempts left unanswered")
                        .isEqualTo(HUNG);
                assertThat(leases.stream().map(ZkLease::sessionId).toList()).isEqualTo(ids);
                // ZooKeeper's bound here is 20 s per hung attempt (a third of 60 s); 15 s still tells the two apart and
                // leaves room for a loaded 2-core machine (10.7 s in one CI run while other tests ran).
                assertThat(Duration.ofNanos(allBackAt - servingAt))
                        .as("from the server serving to every session back")
                        .isLessThan(Duration.ofSeconds(15));
                leases.forEach(ZkLease::close);
            }
        }
    }

    /**
     * A new pool whose first pick is a SIGSTOPped member (the kernel accepts the connection, the process never
     * answers): its first lease works within about a second, on another member.
     */
    @Test
    void aSigstoppedMemberCostsTheFirstConnectAboutHalfASecond() throws Exception {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder().size(3).start()) {
            ServerProcess stopped = ensemble.server(1);
            try (RawZooKeeper admin = RawZooKeeper.connect(ensemble.connectString(2, 3), Duration.ofSeconds(30))) {
                admin.zk().create("/first", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            stopped.sigstop();
            try {
                Recorder events = new Recorder();
                long start = System.nanoTime();
                try (ZkSessionPool pool = ZkSessionPool.builder()
                                .name("handshake-first-connect")
                                .connectString(ensemble.connectString())
                                .sessionTimeout(SESSION_TIMEOUT)
                                .connectionTimeout(Duration.ofSeconds(20))
                                .sessionsPerEnsemble(1)
                                // The stopped member is all but certain to be tried first.
                                .hosts(HostsConfig.builder()
                                        .weight(stopped.address(), HostsConfig.MAX_WEIGHT)
                                        .build())
                                .listener(events)
                                .build();
                        ZkLease lease = pool.lease()) {
                    assertThat(lease.getData("/first")).isEqualTo(DATA);
                    Duration firstRead = Duration.ofNanos(System.nanoTime() - start);
                    // Listeners hear of the connection on the pool's callback threads, possibly after the read.
                    await().atMost(Duration.ofSeconds(5))
                            .until(() -> events.first(SessionState.CONNECTED).isPresent());
                    SessionEvent connected =
                            events.first(SessionState.CONNECTED).orElseThrow();
                    assertThat(connected.server()).isNotEqualTo(stopped.address());
                    // ZooKeeper's bound would hold the first attempt 10 s.
                    assertThat(firstRead).as("from build() to the first read").isLessThan(Duration.ofMillis(2_500));
                }
            } finally {
                stopped.sigcont();
            }
        }
    }

    /**
     * A server that answers the handshake after 600 ms (more than the 500 ms first bound): the first attempt is given
     * up, the next gets twice the bound, and the session connects. Without the doubling it would never connect.
     */
    @Test
    void aSlowButWorkingServerIsReachedBecauseEachUnansweredAttemptDoublesTheBound() throws Exception {
        TestingServer server = InProcessEnsembles.startServer();
        try (server;
                ZkProxy proxy = ZkProxy.to(server.getConnectString())) {
            proxy.latency(Duration.ofMillis(300));
            try (ZkSessionPool pool = ZkSessionPool.builder()
                            .name("handshake-slow")
                            .connectString(proxy.connectString())
                            .sessionTimeout(SESSION_TIMEOUT)
                            .connectionTimeout(Duration.ofSeconds(20))
                            .build();
                    ZkLease lease = pool.lease()) {
                assertThat(lease.exists("/")).isNotNull();
                // The slow handshake is now part of what this process knows: later attempts get 8 times it.
                assertThat(HandshakeTimes.PROCESS.slowestRecentNanos(proxy.connectString()))
                        .isGreaterThan(Duration.ofMillis(500).toNanos());
            }
        }
    }
}
