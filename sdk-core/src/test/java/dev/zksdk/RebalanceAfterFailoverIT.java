package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.testing.CasesAtOnce;
import dev.zksdk.testing.CasesAtOnce.Case;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 21, item 3: rebalancing after failover. A rolling restart with kill -9 of a three-server separate-process
 * ensemble leaves a pool's sessions unevenly spread (the sessions of each killed server go to the servers up at that
 * moment, and a restarted server gets only the sessions of the next one killed); the pool then moves its sessions, one
 * at a time and each keeping its id, until no server holds two more of them than another. Figures are printed on lines
 * starting {@code FIGURES}.
 */
class RebalanceAfterFailoverIT {

    static final int SESSIONS = 6;
    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(15);
    static final Duration INTERVAL = Duration.ofMillis(500);
    static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);

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

    @BeforeEach
    void allServersUp() {
        ensemble.restoreAll(Duration.ofSeconds(60));
    }

    static void print(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static ZkSessionPool pool(
            String name, HostsConfig hosts, SimpleMeterRegistry registry, Queue<SessionEvent> events) {
        return ZkSessionPool.builder()
                .name(name)
                .connectString(ensemble.connectString())
                .sessionTimeout(SESSION_TIMEOUT)
                .sessionsPerEnsemble(SESSIONS)
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(20))
                        .build())
                .hosts(hosts)
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                .listener(new SessionListener() {
                    @Override
                    public void onStateChange(SessionEvent event) {
                        events.add(event);
                    }
                })
                .build();
    }

    static List<SessionStatus> sessions(ZkSessionPool pool) {
        EnsembleStatus e = pool.ensembles().get(0);
        return e.sessions();
    }

    /** Connected sessions per server of the ensemble (servers with none included); null while one is not connected. */
    static Map<String, Integer> spread(ZkSessionPool pool) {
        Map<String, Integer> out = new TreeMap<>();
        for (ServerProcess s : ensemble.servers()) {
            out.put(s.address(), 0);
        }
        for (SessionStatus s : sessions(pool)) {
            if (!s.connected() || s.server() == null) {
                return null;
            }
            out.merge(s.server(), 1, Integer::sum);
        }
        return out;
    }

    static int imbalance(Map<String, Integer> spread) {
        int max = spread.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        int min = spread.values().stream().mapToInt(Integer::intValue).min().orElse(0);
        return max - min;
    }

    static double moves(SimpleMeterRegistry registry) {
        FunctionCounter c = registry.find(MetricNames.HOSTS_REBALANCE_MOVES).functionCounter();
        assertThat(c).as(MetricNames.HOSTS_REBALANCE_MOVES + " is registered").isNotNull();
        return c.count();
    }

    /** One lease per session (each holding an ephemeral), opened once every session is connected. */
    static List<ZkLease> leasePerSession(ZkSessionPool pool, String dir) {
        ZkLease first = pool.lease();
        await("every session connected")
                .atMost(Duration.ofSeconds(60))
                .until(() -> sessions(pool).stream().allMatch(SessionStatus::connected));
        List<ZkLease> leases = new ArrayList<>();
        leases.add(first);
        for (int i = 1; i < SESSIONS; i++) {
            leases.add(pool.lease());
        }
        Set<Long> ids = new HashSet<>();
        for (ZkLease l : leases) {
            ids.add(l.sessionId());
        }
        assertThat(ids).as("one lease on each session").hasSize(SESSIONS);
        try (ZkLease l = pool.lease()) {
            if (l.exists(dir) == null) {
                l.create(dir, VALUE, CreateMode.PERSISTENT);
            }
        }
        for (int i = 0; i < SESSIONS; i++) {
            leases.get(i).ephemeral(dir + "/e" + i, VALUE);
        }
        return leases;
    }

    /**
     * Writes on short leases until stopped (sequential creates: their outcome after a connection lost in flight is
     * proven by the pool, so a lost connection is no failure); counts writes and failures.
     */
    static final class Writer implements AutoCloseable {
        final AtomicLong writes = new AtomicLong();
        final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Set<String> parents = new HashSet<>();
        private final Thread thread;

        Writer(ZkSessionPool pool, String path) {
            try (ZkLease l = pool.lease()) {
                if (l.exists(path) == null) {
                    l.create(path, VALUE, CreateMode.PERSISTENT);
                }
            }
            thread = new Thread(
                    () -> {
                        while (running.get()) {
                            try (ZkLease l = pool.lease()) {
                                // Under a parent per session: a lost create is proven by the children its parent
                                // has, which only this session's own (earlier, acknowledged) creates changed.
                                String parent = path + "/s" + Long.toHexString(l.sessionId());
                                if (parents.add(parent) && l.exists(parent) == null) {
                                    createParent(l, parent);
                                }
                                l.create(parent + "/w-", VALUE, CreateMode.PERSISTENT_SEQUENTIAL);
                                writes.incrementAndGet();
                            } catch (RuntimeException e) {
                                failures.add(e);
                            }
                        }
                    },
                    "rebalance-writer");
            thread.setDaemon(true);
            thread.start();
        }

        /**
         * A plain create in flight when its server is killed has an unknown outcome (the pool reports it, not sending
         * it again); only this writer creates this session's parent, so its presence is the outcome.
         */
        private void createParent(ZkLease l, String parent) {
            try {
                l.create(parent, VALUE, CreateMode.PERSISTENT);
            } catch (ZkConnectionLossException e) {
                if (l.exists(parent) == null) {
                    parents.remove(parent);
                    throw e;
                }
            } catch (RuntimeException e) {
                parents.remove(parent);
                throw e;
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(60_000);
        }
    }

    /**
     * Kill -9 each server in turn; each is restarted and serving before the next is killed. The sessions of the server
     * killed go to the others; the restarted one is left with few. One rolling restart is shared by the pools of the
     * cases run at once: each server is killed once every pool is ready, and restarted once no pool has a session on
     * it.
     */
    static final class RollingRestart {
        private final List<ServerProcess> servers = ensemble.servers();
        private final AtomicInteger next = new AtomicInteger();
        private final CyclicBarrier killed;
        private final CyclicBarrier restarted;

        RollingRestart(int pools) {
            killed = new CyclicBarrier(pools, () -> servers.get(next.get()).kill9());
            restarted = new CyclicBarrier(pools, () -> {
                ServerProcess s = servers.get(next.getAndIncrement());
                s.restart();
                s.awaitServing(Duration.ofSeconds(60));
                ensemble.awaitQuorum(Duration.ofSeconds(60));
            });
        }

        /** Returns the pool's spread once the last server was killed (every session connected to the two others). */
        Map<String, Integer> of(ZkSessionPool pool) throws Exception {
            Map<String, Integer> last = null;
            for (ServerProcess s : servers) {
                killed.await(3, TimeUnit.MINUTES);
                await("no session on killed " + s.address())
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> {
                            Map<String, Integer> now = spread(pool);
                            return now != null && now.get(s.address()) == 0;
                        });
                last = spread(pool);
                print("FIGURES rolling restart: killed " + s.address() + ", spread " + last);
                restarted.await(3, TimeUnit.MINUTES);
            }
            return last;
        }

        /** Runs {@code c}; if it fails, breaks the restart so that the other pools' cases do not wait for it. */
        Case orBreak(Case c) {
            return () -> {
                try {
                    c.run();
                } catch (Throwable e) {
                    killed.reset();
                    restarted.reset();
                    throw e;
                }
            };
        }
    }

    /**
     * Two pools through one rolling restart, side by side: the one with rebalancing on spreads its sessions evenly
     * again, the one with rebalancing off stays skewed. Each pool has its own sessions, paths and meters; the kills
     * are shared, so the two cases cannot run with any other case.
     */
    @Test
    void afterARollingRestartSessionsSpreadEvenlyAgainOnlyWithRebalancingOn() throws Exception {
        RollingRestart restart = new RollingRestart(2);
        Map<String, Case> cases = new LinkedHashMap<>();
        cases.put(
                "sessionsSpreadEvenlyAgainAfterARollingRestartKeepingTheirIds",
                restart.orBreak(() -> sessionsSpreadEvenlyAgainAfterARollingRestartKeepingTheirIds(restart)));
        cases.put(
                "withRebalancingOffTheSpreadStaysSkewed",
                restart.orBreak(() -> withRebalancingOffTheSpreadStaysSkewed(restart)));
        CasesAtOnce.run(cases);
    }

    /**
     * The two cases on proxies to two members, at once: neither kills nor stops a member, and each freezes, slows and
     * reads through proxies of its own, with its own pool, paths and meters.
     */
    @Test
    void aSessionWithARequestInFlightOrAnElectionIsNotMoved() throws Exception {
        Map<String, Case> cases = new LinkedHashMap<>();
        cases.put("aSessionWithARequestInFlightIsNotMoved", this::aSessionWithARequestInFlightIsNotMoved);
        cases.put("aSessionWithAnElectionIsNotMoved", this::aSessionWithAnElectionIsNotMoved);
        CasesAtOnce.run(cases);
    }

    /**
     * An idle ensemble: nothing is written after the leader is killed (kill -9), a new one elected and the old one
     * restarted. The sessions have seen the new epoch's first zxid (pings are answered with it), the restarted member
     * has applied only the old epoch's last transaction, and ZooKeeper refuses a session there that has seen more, until
     * something is written. Nothing the application writes is needed: the spread is even again, with the same ids and
     * ephemerals, and no write by the test after the kill.
     */
    @Test
    void anIdleEnsembleIsEvenedOutAfterItsLeaderRestarts() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Queue<SessionEvent> events = new ConcurrentLinkedQueue<>();
        HostsConfig hosts = HostsConfig.builder().rebalance(INTERVAL).build();
        try (ZkSessionPool pool = pool("rebalance-idle", hosts, registry, events)) {
            List<ZkLease> leases = leasePerSession(pool, "/rebalance-idle");
            Set<Long> poolIds = new HashSet<>();
            sessions(pool).forEach(s -> poolIds.add(s.sessionId()));
            ServerProcess leader = ensemble.leader();
            leader.kill9();
            await("every session on the two others")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> {
                        Map<String, Integer> now = spread(pool);
                        return now != null && now.get(leader.address()) == 0;
                    });
            leader.restart();
            leader.awaitServing(Duration.ofSeconds(60));
            ensemble.awaitQuorum(Duration.ofSeconds(60));
            long restarted = System.nanoTime();
            double movesBefore = moves(registry);
            AtomicReference<Map<String, Integer>> seen = new AtomicReference<>();
            try {
                await("sessions spread evenly again (max - min <= 1) with nothing written")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> {
                            Map<String, Integer> now = spread(pool);
                            seen.set(now);
                            return now != null && imbalance(now) <= 1;
                        });
            } finally {
                print("FIGURES idle: " + (System.nanoTime() - restarted) / 1_000_000 + " ms after the old leader"
                        + " served: spread " + seen.get() + ", moves " + (moves(registry) - movesBefore));
            }
            assertThat(events.stream().filter(e -> e.state() == SessionState.LOST))
                    .as("sessions lost")
                    .isEmpty();
            Set<Long> nowIds = new HashSet<>();
            sessions(pool).forEach(s -> nowIds.add(s.sessionId()));
            assertThat(nowIds).as("the pool's session ids, none new").isEqualTo(poolIds);
            for (int i = 0; i < SESSIONS; i++) {
                ZkLease l = leases.get(i);
                Stat stat = l.exists("/rebalance-idle/e" + i);
                assertThat(stat).as("ephemeral %d present", i).isNotNull();
                assertThat(stat.getEphemeralOwner())
                        .as("ephemeral %d owned by its session", i)
                        .isEqualTo(l.sessionId());
                l.close();
            }
        }
    }

    void sessionsSpreadEvenlyAgainAfterARollingRestartKeepingTheirIds(RollingRestart restart) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Queue<SessionEvent> events = new ConcurrentLinkedQueue<>();
        HostsConfig hosts = HostsConfig.builder().rebalance(INTERVAL).build();
        try (ZkSessionPool pool = pool("rebalance-on", hosts, registry, events)) {
            List<ZkLease> leases = leasePerSession(pool, "/rebalance-on");
            Map<Integer, Long> ids = new HashMap<>();
            for (int i = 0; i < SESSIONS; i++) {
                ids.put(i, leases.get(i).sessionId());
            }
            Set<Long> poolIds = new HashSet<>();
            sessions(pool).forEach(s -> poolIds.add(s.sessionId()));
            try (Writer writer = new Writer(pool, "/rebalance-on-w")) {
                Map<String, Integer> skewed = restart.of(pool);
                assertThat(skewed)
                        .as("the spread when the last server was killed")
                        .isNotNull();
                assertThat(imbalance(skewed))
                        .as("sessions uneven when the last server was killed: %s", skewed)
                        .isGreaterThanOrEqualTo(2);
                long lastRestart = System.nanoTime();
                Map<String, Integer> after = spread(pool);
                print("FIGURES after the last restart: spread " + after + ", moves so far " + moves(registry));
                AtomicReference<Map<String, Integer>> seen = new AtomicReference<>();
                await("sessions spread evenly again (max - min <= 1)")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> {
                            Map<String, Integer> now = spread(pool);
                            seen.set(now);
                            return now != null && imbalance(now) <= 1;
                        });
                print("FIGURES even again " + (System.nanoTime() - lastRestart) / 1_000_000 + " ms after the last"
                        + " restart: spread " + seen.get() + ", moves " + moves(registry) + ", writes "
                        + writer.writes.get());
                // a little more writing on the balanced pool
                long before = writer.writes.get();
                await().atMost(Duration.ofSeconds(30)).until(() -> writer.writes.get() > before + 20);
                writer.close();
                assertThat(writer.failures).as("failed writes").isEmpty();
                assertThat(writer.writes.get()).isPositive();
            }
            assertThat(moves(registry)).as(MetricNames.HOSTS_REBALANCE_MOVES).isPositive();
            assertThat(events.stream().filter(e -> e.state() == SessionState.LOST))
                    .as("sessions lost")
                    .isEmpty();
            Set<Long> nowIds = new HashSet<>();
            sessions(pool).forEach(s -> nowIds.add(s.sessionId()));
            assertThat(nowIds).as("the pool's session ids, none new").isEqualTo(poolIds);
            for (int i = 0; i < SESSIONS; i++) {
                ZkLease l = leases.get(i);
                assertThat(l.sessionId()).as("lease %d's session id", i).isEqualTo(ids.get(i));
                Stat stat = l.exists("/rebalance-on/e" + i);
                assertThat(stat).as("ephemeral %d present", i).isNotNull();
                assertThat(stat.getEphemeralOwner())
                        .as("ephemeral %d owned by its session", i)
                        .isEqualTo(ids.get(i));
                l.close();
            }
        }
    }

    void withRebalancingOffTheSpreadStaysSkewed(RollingRestart restart) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Queue<SessionEvent> events = new ConcurrentLinkedQueue<>();
        HostsConfig hosts = HostsConfig.builder().noRebalance().build();
        try (ZkSessionPool pool = pool("rebalance-off", hosts, registry, events)) {
            List<ZkLease> leases = leasePerSession(pool, "/rebalance-off");
            Map<String, Integer> skewed = restart.of(pool);
            assertThat(imbalance(skewed))
                    .as("sessions uneven when the last server was killed: %s", skewed)
                    .isGreaterThanOrEqualTo(2);
            AtomicReference<Map<String, Integer>> seen = new AtomicReference<>();
            await("every session connected after the last restart")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> spread(pool) != null);
            // The last server killed got no session back: nothing leaves the others for it.
            await("still skewed, for twelve rebalancing intervals of the other test")
                    .during(INTERVAL.multipliedBy(12))
                    .atMost(INTERVAL.multipliedBy(30))
                    .until(() -> {
                        Map<String, Integer> now = spread(pool);
                        seen.set(now);
                        return now == null || imbalance(now) >= 2;
                    });
            print("FIGURES rebalancing off: spread " + seen.get() + " "
                    + INTERVAL.multipliedBy(12).toMillis() + " ms after the last restart, moves " + moves(registry));
            assertThat(moves(registry)).as(MetricNames.HOSTS_REBALANCE_MOVES).isZero();
            leases.forEach(ZkLease::close);
        }
    }

    /**
     * Two sessions on one server (the other frozen while they connected), each reading a large node through a proxy
     * slowed to 150 kB/s: while both reads are in flight, neither session is moved, although the other server is
     * healthy and empty; once a read is over, its session moves and the spread is one and one.
     */
    void aSessionWithARequestInFlightIsNotMoved() throws Exception {
        ServerProcess a = ensemble.servers().get(0);
        ServerProcess b = ensemble.servers().get(1);
        byte[] big = new byte[900_000];
        HostsConfig off = HostsConfig.builder().noRebalance().build();
        try (ZkSessionPool setup = ZkSessionPool.builder()
                        .name("rebalance-setup")
                        .connectString(ensemble.connectString())
                        .hosts(off)
                        .build();
                ZkLease l = setup.lease()) {
            if (l.exists("/rebalance-big") == null) {
                l.create("/rebalance-big", big, CreateMode.PERSISTENT);
            }
        }
        try (dev.zksdk.testing.ProxiedEnsemble proxies =
                dev.zksdk.testing.ProxiedEnsemble.of(a.address() + "," + b.address())) {
            dev.zksdk.testing.ZkProxy toA = proxies.proxies().get(0);
            dev.zksdk.testing.ZkProxy toB = proxies.proxies().get(1);
            toB.freeze();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .name("rebalance-inflight")
                    .connectString(proxies.connectString())
                    .sessionTimeout(SESSION_TIMEOUT)
                    .sessionsPerEnsemble(2)
                    .operationPolicy(OperationPolicy.builder()
                            .operationTimeout(Duration.ofSeconds(60))
                            .build())
                    .hosts(HostsConfig.builder().rebalance(INTERVAL).build())
                    .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                    .build()) {
                ZkLease first = pool.lease();
                await("both sessions connected")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> sessions(pool).stream().allMatch(SessionStatus::connected));
                ZkLease second = pool.lease();
                assertThat(second.sessionId()).as("one lease per session").isNotEqualTo(first.sessionId());
                assertThat(sessions(pool))
                        .as("both sessions on the server whose proxy was not frozen")
                        .allMatch(st -> toA.connectString().equals(st.server()));
                long id1 = first.sessionId();
                long id2 = second.sessionId();
                toA.bandwidth(150_000);
                var read1 = first.getDataAsync("/rebalance-big");
                var read2 = second.getDataAsync("/rebalance-big");
                long readsStarted = System.nanoTime();
                toB.unfreeze();
                AtomicLong movedWhileBothRead = new AtomicLong();
                await("both reads done")
                        .atMost(Duration.ofSeconds(90))
                        .pollInterval(Duration.ofMillis(20))
                        .until(() -> {
                            double m = moves(registry);
                            if (m > 0 && !read1.isDone() && !read2.isDone()) {
                                movedWhileBothRead.set((long) m);
                            }
                            return read1.isDone() && read2.isDone();
                        });
                long readMs = (System.nanoTime() - readsStarted) / 1_000_000;
                toA.bandwidth(0);
                await("one session moved once a read was over")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> {
                            Map<String, Integer> now = new HashMap<>();
                            for (SessionStatus st : sessions(pool)) {
                                if (!st.connected()) {
                                    return false;
                                }
                                now.merge(st.server(), 1, Integer::sum);
                            }
                            return now.size() == 2;
                        });
                print("FIGURES in-flight: both reads took " + readMs + " ms; moves while both were in flight "
                        + movedWhileBothRead.get() + ", moves in all " + moves(registry));
                assertThat(movedWhileBothRead.get())
                        .as("sessions moved while each had a read in flight")
                        .isZero();
                assertThat(read1.get()).hasSize(big.length);
                assertThat(read2.get()).hasSize(big.length);
                assertThat(moves(registry))
                        .as(MetricNames.HOSTS_REBALANCE_MOVES)
                        .isEqualTo(1.0);
                assertThat(first.sessionId()).isEqualTo(id1);
                assertThat(second.sessionId()).isEqualTo(id2);
                first.close();
                second.close();
            }
        }
    }
    /**
     * Two sessions on one server (the other frozen while they connected), each with an election of the SDK: a move is a
     * reconnect, whose SUSPENDED would end the leader's turn, so neither session moves while its election is open
     * although the other server is healthy and empty (held for 8 looks); the leader's turn is never lost. Once one
     * election is closed, its session moves and the spread is one and one.
     */
    void aSessionWithAnElectionIsNotMoved() throws Exception {
        ServerProcess a = ensemble.servers().get(0);
        ServerProcess b = ensemble.servers().get(1);
        try (dev.zksdk.testing.ProxiedEnsemble proxies =
                dev.zksdk.testing.ProxiedEnsemble.of(a.address() + "," + b.address())) {
            dev.zksdk.testing.ZkProxy toA = proxies.proxies().get(0);
            dev.zksdk.testing.ZkProxy toB = proxies.proxies().get(1);
            toB.freeze();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .name("rebalance-elected")
                    .connectString(proxies.connectString())
                    .sessionTimeout(SESSION_TIMEOUT)
                    .sessionsPerEnsemble(2)
                    .hosts(HostsConfig.builder().rebalance(INTERVAL).build())
                    .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                    .build()) {
                ZkLease first = pool.lease();
                await("both sessions connected")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> sessions(pool).stream().allMatch(SessionStatus::connected));
                ZkLease second = pool.lease();
                assertThat(second.sessionId()).as("one lease per session").isNotEqualTo(first.sessionId());
                assertThat(sessions(pool))
                        .as("both sessions on the server whose proxy was not frozen")
                        .allMatch(st -> toA.connectString().equals(st.server()));
                Queue<String> lost = new ConcurrentLinkedQueue<>();
                LeadershipListener listener = new LeadershipListener() {
                    @Override
                    public void onLost(FencingToken token, SessionState cause) {
                        lost.add(token + " " + cause);
                    }
                };
                ZkLeadership e1 = first.leaderElection("/rebalance-elected", listener);
                ZkLeadership e2 = second.leaderElection("/rebalance-elected", listener);
                await("a leader").atMost(Duration.ofSeconds(30)).until(() -> e1.isLeader() || e2.isLeader());
                ZkLeadership leader = e1.isLeader() ? e1 : e2;
                toB.unfreeze();
                await("held for 8 looks with the other server healthy and empty")
                        .during(INTERVAL.multipliedBy(8))
                        .atMost(INTERVAL.multipliedBy(8).plusSeconds(30))
                        .until(() -> moves(registry) == 0 && leader.isLeader());
                assertThat(lost).as("turns lost while the elections were open").isEmpty();
                (leader == e1 ? e2 : e1).close();
                await("the session without an election moved")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> sessions(pool).stream()
                                        .filter(SessionStatus::connected)
                                        .map(SessionStatus::server)
                                        .distinct()
                                        .count()
                                == 2);
                assertThat(leader.isLeader())
                        .as("the leader's turn, its session not moved")
                        .isTrue();
                assertThat(lost)
                        .as("turns lost (the closed election never led)")
                        .isEmpty();
                assertThat(moves(registry))
                        .as(MetricNames.HOSTS_REBALANCE_MOVES)
                        .isEqualTo(1.0);
                leader.close();
                first.close();
                second.close();
            }
        }
    }
}
