package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.SessionEvent;
import dev.zksdk.SessionState;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.security.TlsConfig;
import dev.zksdk.testing.CasesAtOnce;
import dev.zksdk.testing.CasesAtOnce.Case;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.SecureServer;
import dev.zksdk.testing.ServerProcess;
import dev.zksdk.testing.TestPki;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of the bounded connection handshake (items 1-2 of the issue): slow links, clamped session
 * timeouts, a black-holed member under concurrent pool creation, a healthy server still in quarantine, a SIGSTOPped
 * member. Real ZooKeeper servers, real faults.
 */
class HandshakeAdversarialIT {

    static final byte[] DATA = "review17".getBytes(StandardCharsets.UTF_8);

    /** The three-member ensemble of the cases that need one (each case's faults are undone before the next). */
    static ProcessEnsemble ensemble;

    @BeforeAll
    static void startEnsemble() {
        ensemble = ProcessEnsemble.builder().size(3).start();
    }

    @AfterAll
    static void stopEnsemble() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    /**
     * Every member running and answering again, whatever the previous case did to it, and none of them still in the
     * process-wide quarantine a previous case's fault put it in (a case must find the members as a fresh ensemble's
     * would be: each may be picked).
     */
    @BeforeEach
    void allMembersUpAndOutOfQuarantine() {
        ensemble.restoreAll(Duration.ofSeconds(60));
        SessionSpread quarantine = SessionSpread.ofPool(HostsConfig.defaults());
        await().atMost(Duration.ofSeconds(40))
                .until(() -> ensemble.servers().stream().noneMatch(s -> quarantine.isQuarantined(s.address())));
    }

    @BeforeEach
    @AfterEach
    void forgetHandshakes() {
        // A slow handshake of one case must not widen the next case's bound.
        HandshakeTimes.PROCESS.clear();
    }

    /**
     * Four cases whose faults are on proxies of their own, at once: the three slow-link cases, each on a server of its
     * own (latency that appears after connect, a clamped session over a slow link, TLS and digest over a slow link),
     * and the server back from an outage, on proxies of its own to the class's ensemble (it stops no member; the
     * process-wide quarantine is kept per address, and no other case here uses its proxies' addresses).
     */
    @Test
    void slowLinksKeepTheirSessionsAndAQuarantinedServerIsUsedWhenItIsTheOnlyOneLeft() throws Exception {
        Map<String, Case> cases = new LinkedHashMap<>();
        cases.put("latency after connect", this::latencyThatAppearsAfterConnectStillReconnectsTheSameSession);
        cases.put("clamped session, slow link", this::aClampedSessionOverASlowLinkIsKeptWherePlainZooKeeperKeepsIt);
        cases.put("TLS and digest, slow link", this::tlsAndDigestOverASlowLinkConnectAndReconnectTheSameSession);
        cases.put(
                "server back from an outage, the only one left",
                this::aServerBackFromAnOutageIsUsedWhileStillQuarantinedWhenItIsTheOnlyOneLeft);
        CasesAtOnce.run(cases);
    }

    /**
     * The session connected over a fast link (the learnt bound is the 500 ms floor); the link then becomes slow
     * (about 1.4 s per handshake, 700 ms each way) and the connection is cut. The session timeout is 30 s, so an
     * attempt may last up to 10 s: the doubling (0.5, 1, 2 s) must reach the server and keep the session.
     */
    void latencyThatAppearsAfterConnectStillReconnectsTheSameSession() throws Exception {
        TestingServer server = InProcessEnsembles.startServer();
        try (server;
                ZkProxy proxy = ZkProxy.to(server.getConnectString());
                RawZooKeeper observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30))) {
            Recorder events = new Recorder();
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .name("r17-late-latency")
                    .connectString(proxy.connectString())
                    .sessionTimeout(Duration.ofSeconds(30))
                    .connectionTimeout(Duration.ofSeconds(20))
                    .listener(events)
                    .build()) {
                long sessionId;
                try (ZkLease lease = pool.lease()) {
                    sessionId = lease.sessionId();
                    lease.ephemeral("/r17-late/member", DATA);
                }
                events.clear();
                proxy.latency(Duration.ofMillis(700));
                long cut = System.nanoTime();
                proxy.closeAllConnections();

                await().atMost(Duration.ofSeconds(40))
                        .until(() -> events.saw(SessionState.RECONNECTED) || events.saw(SessionState.LOST));
                assertThat(events.sessionEvents()).noneMatch(e -> e.state() == SessionState.LOST || e.newSession());
                long back = events.callbacks(SessionState.RECONNECTED).get(0).nanoTime();
                // 0.5 + 1 + 2 s of attempts, jitter below 2 s, a 1.4 s handshake: well under 10 s.
                assertThat(Duration.ofNanos(back - cut))
                        .as("from the cut to the session back over the slow link")
                        .isLessThan(Duration.ofSeconds(10));
                Stat stat = observer.zk().exists("/r17-late/member", false);
                assertThat(stat).isNotNull();
                assertThat(stat.getEphemeralOwner()).isEqualTo(sessionId);
            }
        }
    }

    /**
     * A one-address connect string to a server that clamps sessions to 6 s (so a third is 2 s), and a link that
     * becomes slow at the moment of a cut: the handshake then takes about 1.8 s (900 ms each way), more than three
     * times the 500 ms learnt before. A plain ZooKeeper handle on the same proxy gives its reconnect attempt the whole
     * 6 s and keeps its session; the pool's session must be kept too (its attempts get 0.5 s, then 2 s).
     *
     * <p>Known limit, not tested here: with 1.1 s each way (a 2.2 s handshake, over the 2 s cap) the pool spends 0.5 s
     * and 2 s on attempts cut short, after ZooKeeper's own pause of up to a second, before its attempt with
     * ZooKeeper's full share; the 2.2 s handshake then ends just after the 6 s session (observed: LOST at 6.0 s). A plain
     * handle keeps that session.
     */
    void aClampedSessionOverASlowLinkIsKeptWherePlainZooKeeperKeepsIt() throws Exception {
        try (ProcessEnsemble clamping = ProcessEnsemble.builder()
                        .size(1)
                        .maxSessionTimeout(Duration.ofSeconds(6))
                        .start();
                ZkProxy proxy = ZkProxy.to(clamping.server(1).address());
                RawZooKeeper observer = RawZooKeeper.connect(clamping.server(1).address(), Duration.ofSeconds(30))) {
            Recorder events = new Recorder();
            try (RawZooKeeper plain = RawZooKeeper.connect(proxy.connectString(), Duration.ofSeconds(30));
                    ZkSessionPool pool = ZkSessionPool.builder()
                            .name("r17-clamped-slow")
                            .connectString(proxy.connectString())
                            .sessionTimeout(Duration.ofSeconds(30))
                            .connectionTimeout(Duration.ofSeconds(20))
                            .listener(events)
                            .build()) {
                long sessionId;
                try (ZkLease lease = pool.lease()) {
                    sessionId = lease.sessionId();
                    lease.ephemeral("/r17-clamped", DATA);
                }
                assertThat(pool.negotiatedSessionTimeout()).isEqualTo(Duration.ofSeconds(6));
                long plainId = plain.sessionId();
                events.clear();
                proxy.latency(Duration.ofMillis(900));
                proxy.closeAllConnections();

                await().atMost(Duration.ofSeconds(30))
                        .until(() -> (events.saw(SessionState.RECONNECTED) || events.saw(SessionState.LOST))
                                && (plain.count(KeeperState.SyncConnected) >= 2
                                        || plain.count(KeeperState.Expired) > 0));
                // The control: plain ZooKeeper, same link, same server, kept its session.
                assertThat(plain.states()).as("plain ZooKeeper's states").doesNotContain(KeeperState.Expired);
                assertThat(plain.zk().getSessionId()).isEqualTo(plainId);
                assertThat(events.sessionEvents())
                        .as("the pool's session events")
                        .noneMatch(e -> e.state() == SessionState.LOST || e.newSession());
                Stat stat = observer.zk().exists("/r17-clamped", false);
                assertThat(stat).isNotNull();
                assertThat(stat.getEphemeralOwner()).isEqualTo(sessionId);
            }
        }
    }

    /**
     * Item 2 with several pools created at once: one member black-holed (accepts, never answers) and weighted to be
     * every pool's first pick. Each pool's first read must come within what the SDK promises for it (well under a
     * second on an idle machine, the figure): its turn at the process-wide session-creation limiter, one
     * attempt on the black-holed member given up after the learnt bound, and one attempt on a member that answers,
     * bounded the same way (see {@link #promisedFirstReadMillis}). Plain ZooKeeper gives the first attempt a third of
     * the 30 s session, 10 s. A pool made after them must not try the black-holed member at all (quarantined for the
     * whole process).
     */
    @Test
    void poolsCreatedConcurrentlyWithABlackholedMemberEachConnectWithinTheLearntAttemptBound() throws Exception {
        int pools = 6;
        try (ZkProxy dead = ZkProxy.to(ensemble.server(1).address())) {
            try (RawZooKeeper admin = RawZooKeeper.connect(ensemble.connectString(2, 3), Duration.ofSeconds(30))) {
                admin.zk().create("/r17-first", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            dead.blackholeNextConnections(1_000);
            String connectString = dead.connectString() + "," + ensemble.connectString(2, 3);
            HostsConfig hosts = HostsConfig.builder()
                    .weight(dead.connectString(), HostsConfig.MAX_WEIGHT)
                    .build();
            ExecutorService executor = Executors.newFixedThreadPool(pools);
            List<ZkSessionPool> opened = new ArrayList<>();
            try {
                List<Callable<Long>> builds = new ArrayList<>();
                for (int i = 0; i < pools; i++) {
                    int n = i;
                    builds.add(() -> {
                        long start = System.nanoTime();
                        ZkSessionPool pool = ZkSessionPool.builder()
                                .name("r17-concurrent-" + n)
                                .connectString(connectString)
                                .sessionTimeout(Duration.ofSeconds(30))
                                .connectionTimeout(Duration.ofSeconds(20))
                                .sessionsPerEnsemble(1)
                                .hosts(hosts)
                                .build();
                        synchronized (opened) {
                            opened.add(pool);
                        }
                        try (ZkLease lease = pool.lease()) {
                            assertThat(lease.getData("/r17-first")).isEqualTo(DATA);
                        }
                        return System.nanoTime() - start;
                    });
                }
                List<Long> millis = new ArrayList<>();
                for (Future<Long> f : executor.invokeAll(builds)) {
                    millis.add(f.get() / 1_000_000);
                }
                int hungSoFar = dead.blackholedConnections();
                long bound = promisedFirstReadMillis(pools, hosts, Duration.ofSeconds(30), connectString);

                long start = System.nanoTime();
                Recorder events = new Recorder();
                try (ZkSessionPool later = ZkSessionPool.builder()
                                .name("r17-concurrent-later")
                                .connectString(connectString)
                                .sessionTimeout(Duration.ofSeconds(30))
                                .connectionTimeout(Duration.ofSeconds(20))
                                .sessionsPerEnsemble(1)
                                .hosts(hosts)
                                .listener(events)
                                .build();
                        ZkLease lease = later.lease()) {
                    assertThat(lease.getData("/r17-first")).isEqualTo(DATA);
                    long laterMillis = (System.nanoTime() - start) / 1_000_000;
                    assertThat(dead.blackholedConnections())
                            .as("attempts on the black-holed member by the pool made after the failure")
                            .isEqualTo(hungSoFar);
                    System.out.println("r17 concurrent pools, build() to first read (ms): " + millis + " (promised < "
                            + bound + "); later pool: " + laterMillis + "; hung attempts " + hungSoFar);
                    // The event is delivered on the session's event thread, possibly after lease() returned.
                    await().atMost(Duration.ofSeconds(5)).until(() -> events.saw(SessionState.CONNECTED));
                    assertThat(events.first(SessionState.CONNECTED)
                                    .orElseThrow()
                                    .server())
                            .isNotEqualTo(dead.connectString());
                    long laterBound = promisedFirstReadMillis(1, hosts, Duration.ofSeconds(30), connectString);
                    assertThat(laterMillis)
                            .as("later pool, build() to first read (ms); promised %d ms", laterBound)
                            .isLessThan(laterBound);
                }
                assertThat(millis)
                        .as(
                                "each concurrent pool, build() to first read (ms); promised %d ms; hung attempts %d",
                                bound, hungSoFar)
                        .allMatch(ms -> ms < bound);
            } finally {
                executor.shutdownNow();
                synchronized (opened) {
                    opened.forEach(ZkSessionPool::close);
                }
            }
        }
    }

    /**
     * A member that was hung for a few seconds (restarting: accepts, never answers) while new pools kept trying it, as
     * the pools of a process do: its quarantine escalates (1, 2, 4, 8, 16 s). It then serves again. The two other members
     * become unreachable from this client (connections cut, new ones hang): the only working server is the one still
     * in quarantine. A 6 s session must move to it and keep its id, as a plain ZooKeeper handle would.
     */
    void aServerBackFromAnOutageIsUsedWhileStillQuarantinedWhenItIsTheOnlyOneLeft() throws Exception {
        try (ZkProxy p1 = ZkProxy.to(ensemble.server(1).address());
                ZkProxy p2 = ZkProxy.to(ensemble.server(2).address());
                ZkProxy p3 = ZkProxy.to(ensemble.server(3).address());
                RawZooKeeper observer = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30))) {
            String connectString = p1.connectString() + "," + p2.connectString() + "," + p3.connectString();
            SessionSpread processQuarantine = SessionSpread.ofPool(HostsConfig.defaults());

            // The outage of member 1: new pools of the process (defaults, member 1 first by weight) try it whenever
            // its quarantine has ended.
            p1.blackholeNextConnections(1_000);
            HostsConfig preferOne = HostsConfig.builder()
                    .weight(p1.connectString(), HostsConfig.MAX_WEIGHT)
                    .build();
            for (int round = 0; round < 5; round++) {
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> !processQuarantine.isQuarantined(p1.connectString()));
                int before = p1.blackholedConnections();
                try (ZkSessionPool prober = ZkSessionPool.builder()
                                .name("r17-prober-" + round)
                                .connectString(connectString)
                                .sessionTimeout(Duration.ofSeconds(30))
                                .connectionTimeout(Duration.ofSeconds(20))
                                .sessionsPerEnsemble(1)
                                .hosts(preferOne)
                                .build();
                        ZkLease lease = prober.lease()) {
                    assertThat(lease.exists("/")).isNotNull();
                }
                assertThat(p1.blackholedConnections()).isGreaterThan(before);
            }
            // Member 1 serves again (it never stopped serving the quorum; its clients' connections pass again).
            p1.blackholeNextConnections(0);
            assertThat(processQuarantine.isQuarantined(p1.connectString())).isTrue();

            Recorder events = new Recorder();
            // The control: a plain ZooKeeper handle on the same three addresses and session timeout.
            try (RawZooKeeper plain = RawZooKeeper.connect(connectString, Duration.ofSeconds(6));
                    ZkSessionPool pool = ZkSessionPool.builder()
                            .name("r17-last-one-left")
                            .connectString(connectString)
                            .sessionTimeout(Duration.ofSeconds(6))
                            .connectionTimeout(Duration.ofSeconds(20))
                            .sessionsPerEnsemble(1)
                            .listener(events)
                            .build()) {
                long sessionId;
                try (ZkLease lease = pool.lease()) {
                    sessionId = lease.sessionId();
                    lease.ephemeral("/r17-last", DATA);
                }
                String first =
                        events.first(SessionState.CONNECTED).orElseThrow().server();
                assertThat(first).as("connected first to").isNotEqualTo(p1.connectString());
                events.clear();

                // Members 2 and 3 unreachable from here: connections cut, new ones hang.
                long cut = System.nanoTime();
                p2.blackholeNextConnections(1_000);
                p3.blackholeNextConnections(1_000);
                p2.closeAllConnections();
                p3.closeAllConnections();

                await().atMost(Duration.ofSeconds(30))
                        .until(() -> events.saw(SessionState.RECONNECTED) || events.saw(SessionState.LOST));
                long decided = System.nanoTime();
                await().atMost(Duration.ofSeconds(15))
                        .until(() -> plain.zk().getState().isConnected() || plain.count(KeeperState.Expired) > 0);
                assertThat(plain.states())
                        .as("plain ZooKeeper's states (%s)", plain.zk())
                        .doesNotContain(KeeperState.Expired);
                System.out.println("r17 plain ZooKeeper control after the cut: " + plain.states() + " " + plain.zk());
                List<SessionEvent> seen = events.sessionEvents();
                assertThat(seen)
                        .as(
                                "session events after members 2 and 3 became unreachable (%d ms after the cut; %s still "
                                        + "quarantined: %s; hung attempts on 2/3: %d/%d)",
                                (decided - cut) / 1_000_000,
                                p1.connectString(),
                                processQuarantine.isQuarantined(p1.connectString()),
                                p2.blackholedConnections(),
                                p3.blackholedConnections())
                        .noneMatch(e -> e.state() == SessionState.LOST || e.newSession());
                assertThat(seen)
                        .anyMatch(e -> e.state() == SessionState.RECONNECTED
                                && e.sessionIdAfter() == sessionId
                                && p1.connectString().equals(e.server()));
                Stat stat = observer.zk().exists("/r17-last", false);
                assertThat(stat).isNotNull();
                assertThat(stat.getEphemeralOwner()).isEqualTo(sessionId);
            }
        }
    }

    /**
     * Item 2 in a process that also has a pool on a slow link (another data centre: handshakes of about 1.4 s). A
     * new pool for a local three-member ensemble whose first pick is a SIGSTOPped member must still have a usable
     * session in well under a second; 2.5 s asserted, the figure of the project's own HandshakeBoundIT for this case.
     * The bound is learnt for the whole process, so the remote pool's handshakes set the local pool's bound too.
     */
    @Test
    void aSlowRemotePoolDoesNotMakeALocalPoolWaitOnAStoppedMember() throws Exception {
        TestingServer remote = InProcessEnsembles.startServer();
        try (remote;
                ZkProxy wan = ZkProxy.to(remote.getConnectString())) {
            wan.latency(Duration.ofMillis(700));
            try (ZkSessionPool remotePool = ZkSessionPool.builder()
                            .name("r17-remote")
                            .connectString(wan.connectString())
                            .sessionTimeout(Duration.ofSeconds(30))
                            .connectionTimeout(Duration.ofSeconds(20))
                            .build();
                    ZkLease remoteLease = remotePool.lease()) {
                assertThat(remoteLease.exists("/")).isNotNull();

                // A follower (the class's ensemble may have a new leader by now): the other two keep serving.
                ServerProcess leader = ensemble.leader(Duration.ofSeconds(30));
                ServerProcess stopped = ensemble.servers().stream()
                        .filter(x -> x != leader)
                        .findFirst()
                        .orElseThrow();
                int[] others = ensemble.servers().stream()
                        .filter(x -> x != stopped)
                        .mapToInt(ServerProcess::id)
                        .toArray();
                try (RawZooKeeper admin =
                        RawZooKeeper.connect(ensemble.connectString(others), Duration.ofSeconds(30))) {
                    admin.zk().create("/r17-local", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                }
                stopped.sigstop();
                try {
                    long start = System.nanoTime();
                    try (ZkSessionPool localPool = ZkSessionPool.builder()
                                    .name("r17-local")
                                    .connectString(ensemble.connectString())
                                    .sessionTimeout(Duration.ofSeconds(30))
                                    .connectionTimeout(Duration.ofSeconds(20))
                                    .sessionsPerEnsemble(1)
                                    .hosts(HostsConfig.builder()
                                            .weight(stopped.address(), HostsConfig.MAX_WEIGHT)
                                            .build())
                                    .build();
                            ZkLease lease = localPool.lease()) {
                        assertThat(lease.getData("/r17-local")).isEqualTo(DATA);
                        assertThat(Duration.ofNanos(System.nanoTime() - start))
                                .as("local pool, build() to first read, its first pick SIGSTOPped")
                                .isLessThan(Duration.ofMillis(2_500));
                    }
                } finally {
                    stopped.sigcont();
                }
            }
        }
    }

    /**
     * A real fault: the leader of a three-member ensemble is killed with {@code kill -9} under 30 sessions of 6 s.
     * The followers drop their clients, elect, and sync with the new leader (connections made meanwhile may be
     * accepted and left unanswered). Every session must keep its id and its ephemeral node.
     */
    @Test
    void aLeaderKilledUnderThirtySessionsCostsNoSession() throws Exception {
        int sessions = 30;
        ServerProcess leader = ensemble.leader(Duration.ofSeconds(30));
        Recorder events = new Recorder();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                .name("r17-leader-kill")
                .connectString(ensemble.connectString())
                .sessionTimeout(Duration.ofSeconds(6))
                .connectionTimeout(Duration.ofSeconds(20))
                .sessionsPerEnsemble(sessions)
                .hosts(HostsConfig.builder().sessionCreationRate(100).build())
                .listener(events)
                .build()) {
            List<ZkLease> leases = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                leases.add(pool.lease());
            }
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> pool.stats().connectionsPerServer().values().stream()
                                    .mapToInt(Integer::intValue)
                                    .sum()
                            == sessions);
            Map<String, Long> owners = new HashMap<>();
            for (int i = 0; i < sessions; i++) {
                String path = "/r17-kill-" + i;
                leases.get(i).ephemeral(path, DATA);
                owners.put(path, leases.get(i).sessionId());
            }
            List<Long> ids = leases.stream().map(ZkLease::sessionId).toList();
            events.clear();

            long killed = System.nanoTime();
            leader.kill9();
            await().atMost(Duration.ofSeconds(40))
                    .until(() -> events.saw(SessionState.LOST)
                            || (events.count(SessionState.SUSPENDED) > 0
                                    && events.count(SessionState.RECONNECTED) >= events.count(SessionState.SUSPENDED)));
            System.out.println("r17 leader kill: " + events.count(SessionState.SUSPENDED) + " suspended, "
                    + events.count(SessionState.RECONNECTED) + " reconnected, "
                    + (System.nanoTime() - killed) / 1_000_000 + " ms");
            assertThat(events.sessionEvents(SessionState.LOST))
                    .as("sessions lost")
                    .isEmpty();
            assertThat(leases.stream().map(ZkLease::sessionId).toList()).isEqualTo(ids);
            try (RawZooKeeper observer = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30))) {
                for (Map.Entry<String, Long> e : owners.entrySet()) {
                    Stat stat = observer.zk().exists(e.getKey(), false);
                    assertThat(stat).as(e.getKey()).isNotNull();
                    assertThat(stat.getEphemeralOwner()).as(e.getKey()).isEqualTo(e.getValue());
                }
            }
            leases.forEach(ZkLease::close);
        }
    }

    /**
     * TLS (client certificate) and digest authentication over a slow link (150 ms each way): the TLS handshake
     * counts inside the attempt's bound, so a handshake is several round trips, more than the 500 ms first bound. The
     * pool must connect, and after a cut reconnect the same session and keep its ephemeral node.
     */
    void tlsAndDigestOverASlowLinkConnectAndReconnectTheSameSession() throws Exception {
        TestPki pki = TestPki.shared();
        try (SecureServer server = SecureServer.start(pki, Map.of());
                ZkProxy proxy = ZkProxy.to(server.secureConnectString());
                RawZooKeeper observer = RawZooKeeper.connect(server.plainConnectString(), Duration.ofSeconds(30))) {
            proxy.latency(Duration.ofMillis(150));
            Recorder events = new Recorder();
            long start = System.nanoTime();
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .name("r17-tls-slow")
                    .connectString(proxy.connectString())
                    .sessionTimeout(Duration.ofSeconds(30))
                    .connectionTimeout(Duration.ofSeconds(20))
                    .tls(TlsConfig.builder()
                            .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword())
                            .trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword())
                            .build())
                    .digest("r17", "secret")
                    .listener(events)
                    .build()) {
                long sessionId;
                try (ZkLease lease = pool.lease()) {
                    sessionId = lease.sessionId();
                    lease.ephemeral("/r17-tls", DATA);
                }
                Duration firstConnect = Duration.ofNanos(System.nanoTime() - start);
                events.clear();
                long cut = System.nanoTime();
                proxy.closeAllConnections();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> events.saw(SessionState.RECONNECTED) || events.saw(SessionState.LOST));
                long back = events.saw(SessionState.RECONNECTED)
                        ? events.callbacks(SessionState.RECONNECTED).get(0).nanoTime()
                        : System.nanoTime();
                System.out.println("r17 tls slow link: first connect " + firstConnect.toMillis() + " ms, reconnect "
                        + (back - cut) / 1_000_000 + " ms");
                assertThat(events.sessionEvents()).noneMatch(e -> e.state() == SessionState.LOST || e.newSession());
                assertThat(firstConnect)
                        .as("build() to the first ephemeral over TLS")
                        .isLessThan(Duration.ofSeconds(10));
                assertThat(Duration.ofNanos(back - cut))
                        .as("cut to reconnect over TLS")
                        .isLessThan(Duration.ofSeconds(10));
                Stat stat = observer.zk().exists("/r17-tls", false);
                assertThat(stat).isNotNull();
                assertThat(stat.getEphemeralOwner()).isEqualTo(sessionId);
            }
        }
    }

    /**
     * The sessions of a SIGSTOPped follower notice after the read timeout (2/3 of the session timeout): a third is
     * left to reach another member. Their first reconnect attempt must not go back to the member they just left and
     * wait out a bound there. Here the process has seen one slow handshake (a pool over a 700 ms link), so the learnt
     * bound is at its cap, a third of the 6 s session: going back to the stopped member first costs the session.
     * Plain ZooKeeper moves on to the next server in its list.
     */
    @Test
    void sessionsOfAStoppedFollowerDoNotGoBackToItFirst() throws Exception {
        sessionsOfAStoppedFollowerKeepTheirIds(Duration.ofSeconds(6), true);
    }

    /** As above, in a process that has only seen fast local handshakes, with 4 s sessions (a third: 1.33 s). */
    @Test
    void sessionsOfAStoppedFollowerReconnectWithinTheLastThirdOfTheirTimeout() throws Exception {
        sessionsOfAStoppedFollowerKeepTheirIds(Duration.ofSeconds(4), false);
    }

    private void sessionsOfAStoppedFollowerKeepTheirIds(Duration sessionTimeout, boolean slowHandshakeSeen)
            throws Exception {
        int sessions = 12;
        TestingServer remote = InProcessEnsembles.startServer();
        try (remote;
                ZkProxy wan = ZkProxy.to(remote.getConnectString())) {
            if (slowHandshakeSeen) {
                wan.latency(Duration.ofMillis(700));
                try (ZkSessionPool remotePool = ZkSessionPool.builder()
                                .name("r17-remote-once")
                                .connectString(wan.connectString())
                                .sessionTimeout(Duration.ofSeconds(30))
                                .connectionTimeout(Duration.ofSeconds(20))
                                .build();
                        ZkLease lease = remotePool.lease()) {
                    assertThat(lease.exists("/")).isNotNull();
                }
            }
            ServerProcess leader = ensemble.leader(Duration.ofSeconds(30));
            ServerProcess victim = ensemble.servers().stream()
                    .filter(x -> x != leader)
                    .findFirst()
                    .orElseThrow();
            Recorder events = new Recorder();
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .name("r17-stopped-follower")
                    .connectString(ensemble.connectString())
                    .sessionTimeout(sessionTimeout)
                    .connectionTimeout(Duration.ofSeconds(20))
                    .sessionsPerEnsemble(sessions)
                    .listener(events)
                    .build()) {
                List<ZkLease> leases = new ArrayList<>();
                for (int i = 0; i < sessions; i++) {
                    leases.add(pool.lease());
                }
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> pool.stats().connectionsPerServer().values().stream()
                                        .mapToInt(Integer::intValue)
                                        .sum()
                                == sessions);
                List<Long> ids = leases.stream().map(ZkLease::sessionId).toList();
                int onVictim = pool.stats().connectionsPerServer().getOrDefault(victim.address(), 0);
                assertThat(onVictim).as("sessions on the member to be stopped").isPositive();
                events.clear();
                long learntMs = HandshakeTimes.PROCESS.slowestRecentNanos(
                                pool.stats().connectionsPerServer().keySet())
                        / 1_000_000;
                victim.sigstop();
                try {
                    await().atMost(Duration.ofSeconds(30))
                            .until(() -> events.count(SessionState.RECONNECTED) + events.count(SessionState.LOST)
                                    >= onVictim);
                } finally {
                    victim.sigcont();
                }
                List<String> back = new ArrayList<>();
                for (SessionEvent e : events.sessionEvents()) {
                    if (e.state() == SessionState.RECONNECTED || e.state() == SessionState.LOST) {
                        back.add(e.state() + " " + e.sessionIndex() + " on " + e.server());
                    }
                }
                List<Long> suspendedToBack = new ArrayList<>();
                List<Recorder.Callback> suspended = events.callbacks(SessionState.SUSPENDED);
                List<Recorder.Callback> reconnected = events.callbacks(SessionState.RECONNECTED);
                for (Recorder.Callback r : reconnected) {
                    int index = r.value(SessionEvent.class).sessionIndex();
                    suspended.stream()
                            .filter(c -> c.value(SessionEvent.class).sessionIndex() == index)
                            .findFirst()
                            .ifPresent(c -> suspendedToBack.add((r.nanoTime() - c.nanoTime()) / 1_000_000));
                }
                System.out.println("r17 stopped follower (" + sessionTimeout + ", slow handshake seen: "
                        + slowHandshakeSeen + ", slowest recent handshake " + learntMs + " ms): " + onVictim
                        + " sessions on " + victim.address() + "; " + back
                        + "; SUSPENDED->RECONNECTED ms " + suspendedToBack);
                assertThat(events.sessionEvents(SessionState.LOST))
                        .as("sessions lost; " + back)
                        .isEmpty();
                assertThat(leases.stream().map(ZkLease::sessionId).toList()).isEqualTo(ids);
                // The read timeout leaves a third of the session timeout to reconnect.
                assertThat(suspendedToBack)
                        .as("SUSPENDED to RECONNECTED (ms), a third of the session timeout left")
                        .allMatch(ms -> ms < sessionTimeout.toMillis() / 3);
                leases.forEach(ZkLease::close);
            }
        }
    }

    /**
     * Twelve 6 s sessions spread over three members; a follower holding some of them is SIGSTOPped for 10 s (longer
     * than the session timeout and than any attempt bound), then resumed. Every session keeps its id and its
     * ephemeral node; closing the pool leaves no connection-budget slot and no ZooKeeper client thread.
     */
    @Test
    void aFollowerStoppedLongerThanTheSessionTimeoutCostsNoSessionAndCloseLeavesNothing() throws Exception {
        int sessions = 12;
        try (RawZooKeeper observer = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30))) {
            ServerProcess leader = ensemble.leader(Duration.ofSeconds(30));
            ServerProcess victim = ensemble.servers().stream()
                    .filter(s -> s != leader)
                    .findFirst()
                    .orElseThrow();
            Set<String> addresses = new LinkedHashSet<>();
            ensemble.servers().forEach(s -> addresses.add(s.address()));
            Recorder events = new Recorder();
            ZkSessionPool pool = ZkSessionPool.builder()
                    .name("r17-sigstop")
                    .connectString(ensemble.connectString())
                    .sessionTimeout(Duration.ofSeconds(6))
                    .connectionTimeout(Duration.ofSeconds(20))
                    .sessionsPerEnsemble(sessions)
                    .listener(events)
                    .build();
            try {
                List<ZkLease> leases = new ArrayList<>();
                for (int i = 0; i < sessions; i++) {
                    leases.add(pool.lease());
                }
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> pool.stats().connectionsPerServer().values().stream()
                                        .mapToInt(Integer::intValue)
                                        .sum()
                                == sessions);
                Map<String, Long> owners = new HashMap<>();
                for (int i = 0; i < leases.size(); i++) {
                    String path = "/r17-stop-" + i;
                    leases.get(i).ephemeral(path, DATA);
                    owners.put(path, leases.get(i).sessionId());
                }
                List<Long> ids = leases.stream().map(ZkLease::sessionId).toList();
                int onVictim = pool.stats().connectionsPerServer().getOrDefault(victim.address(), 0);
                assertThat(onVictim).as("sessions on the member to be stopped").isPositive();
                events.clear();

                victim.sigstop();
                try {
                    await().atMost(Duration.ofSeconds(20))
                            .until(() -> events.count(SessionState.RECONNECTED) >= onVictim
                                    || events.saw(SessionState.LOST));
                    // Keep it stopped 10 s in all.
                    await().pollDelay(Duration.ofSeconds(10))
                            .atMost(Duration.ofSeconds(11))
                            .until(() -> true);
                } finally {
                    victim.sigcont();
                }
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> victim.fourLetter("ruok").contains("imok"));
                // Attempts abandoned on the stopped member are read by it once resumed (their connect requests sat in
                // its socket buffers): every session must still write, through whatever server it is on now.
                long resumed = System.nanoTime();
                for (int i = 0; i < leases.size(); i++) {
                    assertThat(leases.get(i).setData("/r17-stop-" + i, DATA, -1))
                            .isNotNull();
                }
                await().pollDelay(Duration.ofSeconds(2))
                        .atMost(Duration.ofSeconds(3))
                        .until(() -> true);
                for (int i = 0; i < leases.size(); i++) {
                    assertThat(leases.get(i).setData("/r17-stop-" + i, DATA, -1))
                            .isNotNull();
                }
                long disruptedAfterResume = events.callbacks(SessionState.SUSPENDED).stream()
                        .filter(c -> c.nanoTime() > resumed)
                        .count();
                System.out.println("r17 sigstop: victim " + victim.address() + ", " + onVictim
                        + " sessions on it; suspensions after it resumed: " + disruptedAfterResume + "; states "
                        + events.states());
                assertThat(events.sessionEvents(SessionState.LOST))
                        .as("sessions lost")
                        .isEmpty();
                assertThat(events.sessionEvents()).noneMatch(SessionEvent::newSession);
                assertThat(leases.stream().map(ZkLease::sessionId).toList()).isEqualTo(ids);
                for (Map.Entry<String, Long> e : owners.entrySet()) {
                    Stat stat = observer.zk().exists(e.getKey(), false);
                    assertThat(stat).as(e.getKey()).isNotNull();
                    assertThat(stat.getEphemeralOwner()).as(e.getKey()).isEqualTo(e.getValue());
                }
                leases.forEach(ZkLease::close);
            } finally {
                pool.close();
            }
            await().atMost(Duration.ofSeconds(15))
                    .untilAsserted(() -> assertThat(
                                    ConnectionBudget.shared().snapshot().keySet())
                            .as("budget slots left after close")
                            .doesNotContainAnyElementsOf(addresses));
            await().atMost(Duration.ofSeconds(15))
                    // This pool's own threads: another test class in the same JVM may still be closing its pools.
                    .untilAsserted(() -> assertThat(zooKeeperClientThreads("r17-sigstop-"))
                            .as("ZooKeeper client threads of the pool left after close")
                            .isEmpty());
        }
    }

    /**
     * How long the SDK lets a new pool take from build() to its first read when its first pick accepts connections and
     * never answers, {@code pools} pools being created at once, derived from what it promises (README, "A connection
     * attempt that a server accepts and never answers"): each session waits its turn at the process-wide limiter, one
     * every {@code 1/sessionCreationRate} (at most {@code pools} turns, one more for a permit taken just before); the
     * hung attempt is given up after the learnt bound, {@value HostsConfig#CONNECT_ATTEMPT_MARGIN} times the slowest
     * recent handshake with the ensemble, at least {@link HostsConfig#minConnectAttemptTimeout()}, at most a third of
     * the session timeout; the attempt on a member that answers is bounded the same way (it would be given up too).
     * Read after the pools connected, the slowest recent handshake is the largest any of their bounds was. The read
     * itself and the pool's own set-up are left within the second attempt's bound: an answered handshake takes at most
     * an eighth of it.
     */
    private static long promisedFirstReadMillis(
            int pools, HostsConfig hosts, Duration sessionTimeout, String connectString) {
        long slowestMs =
                Math.max(0, HandshakeTimes.PROCESS.slowestRecentNanos(List.of(connectString.split(","))) / 1_000_000);
        long attemptBound = Math.min(
                sessionTimeout.toMillis() / 3,
                Math.max(
                        hosts.minConnectAttemptTimeout().toMillis(),
                        HostsConfig.CONNECT_ATTEMPT_MARGIN * Math.max(1, slowestMs)));
        long turns = (long) Math.ceil((pools + 1) * 1_000 / hosts.sessionCreationRate());
        return turns + 2 * attemptBound;
    }

    private static List<String> zooKeeperClientThreads(String prefix) {
        List<String> names = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive()
                    && t.getName().startsWith(prefix)
                    && (t.getName().contains("-SendThread(") || t.getName().endsWith("-EventThread"))) {
                names.add(t.getName());
            }
        }
        return names;
    }
}
