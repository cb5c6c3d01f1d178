package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.internal.session.HungServerCheck;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.security.TlsConfig;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerProcess;
import dev.zksdk.testing.TestPki;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.zookeeper.CreateMode;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The hung-server check over TLS: its out-of-band {@code srvr} goes with the session's TLS settings (ZooKeeper's
 * Netty client socket on the session, a TLS client port on the servers). Three separate-process servers with TLS
 * client ports (syncLimit 5 s), the leader at weight 0 so the session sits on a follower. A leader paused for a second
 * past the bound leaves the follower's connection alone (it answers the probe over TLS); a follower paused leaves a
 * probe blocked in its TLS handshake (ZooKeeper's {@code send4LetterWord} sets no read timeout before it), and the
 * connection is still dropped at the bound. Figures are printed on lines starting {@code FIGURES}.
 */
class HungServerTlsIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(9);
    static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(6);
    static final Duration CONNECTION_TIMEOUT = EnsembleConfig.DEFAULT_CONNECTION_TIMEOUT;
    static final Duration BOUND = HungServerCheck.bound(SESSION_TIMEOUT, OPERATION_TIMEOUT, CONNECTION_TIMEOUT);
    static final long READ_TIMEOUT_MS = SESSION_TIMEOUT.toMillis() * 2 / 3;
    static final AtomicInteger RUN = new AtomicInteger();

    static TestPki pki;
    static ProcessEnsemble ensemble;

    @BeforeAll
    static void startEnsemble() {
        pki = TestPki.shared();
        ensemble = ProcessEnsemble.builder()
                .size(3)
                .syncLimit(25)
                .secureClientPort(pki)
                .start();
    }

    @AfterAll
    static void stopEnsemble() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    static void print(String line) {
        System.out.println("FIGURES " + line);
    }

    static ZkSessionPool pool(String name, SimpleMeterRegistry registry, Recorder events) {
        return ZkSessionPool.builder()
                .name(name)
                .connectString(ensemble.secureConnectString())
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(CONNECTION_TIMEOUT)
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(OPERATION_TIMEOUT)
                        .build())
                .hosts(HostsConfig.builder()
                        .weight(ensemble.leader().secureAddress(), 0)
                        .build())
                .tls(TlsConfig.builder()
                        .trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword())
                        .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword())
                        .build())
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                .listener(events)
                .build();
    }

    static double hungDrops(SimpleMeterRegistry registry) {
        FunctionCounter c = registry.find(MetricNames.HOSTS_HUNG_DROPS).functionCounter();
        assertThat(c).as(MetricNames.HOSTS_HUNG_DROPS + " is registered").isNotNull();
        return c.count();
    }

    static ServerProcess serverOf(ZkSessionPool pool) {
        String server = pool.ensembles().get(0).sessions().get(0).server();
        return ensemble.servers().stream()
                .filter(s -> s.secureAddress().equals(server))
                .findFirst()
                .orElseThrow(() -> new AssertionError("the pool's session is on no server of the ensemble: " + server));
    }

    static long sessionId(ZkSessionPool pool) {
        return pool.ensembles().get(0).sessions().get(0).sessionId();
    }

    /** Threads creating sequential nodes one after another; what failed is kept. */
    static final class Writers implements AutoCloseable {
        final AtomicInteger ok = new AtomicInteger();
        final Queue<String> failed = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();

        Writers(ZkLease lease, String parent, int n) {
            for (int i = 0; i < n; i++) {
                Thread t = new Thread(() -> {
                    while (running.get()) {
                        long start = System.nanoTime();
                        try {
                            lease.create(parent + "/n-", new byte[0], CreateMode.PERSISTENT_SEQUENTIAL);
                            ok.incrementAndGet();
                        } catch (RuntimeException e) {
                            failed.add((System.nanoTime() - start) / 1_000_000 + " ms " + e);
                        }
                    }
                });
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(OPERATION_TIMEOUT.toMillis() * 2);
            }
        }
    }

    @Test
    void aLeaderPauseLeavesTheFollowerAloneOverTls() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Recorder events = new Recorder();
        String parent = "/hung-tls-leader-" + RUN.incrementAndGet() + "-" + System.nanoTime();
        ServerProcess leader = ensemble.leader();
        Duration pause = BOUND.plusSeconds(1);
        try (ZkSessionPool pool = pool("hung-tls-leader", registry, events);
                ZkLease lease = pool.lease()) {
            lease.create(parent, new byte[0], CreateMode.PERSISTENT);
            ServerProcess follower = serverOf(pool);
            try (Writers writers = new Writers(lease, parent, 4)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> writers.ok.get() >= 50);
                leader.sigstop();
                await().pollDelay(pause).atMost(pause.plusSeconds(1)).until(() -> true);
                leader.sigcont();
                int before = writers.ok.get();
                await().atMost(Duration.ofSeconds(30)).until(() -> writers.ok.get() >= before + 8);
                writers.close();
                print("tls-leader: bound " + BOUND.toMillis() + " ms; leader " + leader + " paused " + pause.toMillis()
                        + " ms; session on " + follower + " -> " + serverOf(pool) + "; hung drops "
                        + hungDrops(registry)
                        + "; events " + events.states() + "; writes OK " + writers.ok.get() + ", failed "
                        + writers.failed);
                SoftAssertions soft = new SoftAssertions();
                soft.assertThat(hungDrops(registry))
                        .as("no drop of a healthy follower")
                        .isZero();
                soft.assertThat(events.saw(SessionState.SUSPENDED))
                        .as("no disconnect")
                        .isFalse();
                soft.assertThat(writers.failed).as("every write OK").isEmpty();
                soft.assertThat(serverOf(pool)).as("still on the follower").isEqualTo(follower);
                soft.assertAll();
            }
        } finally {
            if (leader.isSuspended()) {
                leader.sigcont();
            }
        }
    }

    @Test
    void aHungFollowerIsLeftWithinTheBoundOverTls() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Recorder events = new Recorder();
        String parent = "/hung-tls-follower-" + RUN.incrementAndGet() + "-" + System.nanoTime();
        ServerProcess victim = null;
        try (ZkSessionPool pool = pool("hung-tls-follower", registry, events);
                ZkLease lease = pool.lease()) {
            lease.create(parent, new byte[0], CreateMode.PERSISTENT);
            victim = serverOf(pool);
            long session = sessionId(pool);
            try (Writers writers = new Writers(lease, parent, 2)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> writers.ok.get() >= 20);
                victim.sigstop();
                long stopped = System.nanoTime();
                SessionEvent back = events.awaitSessionEvent(
                        Duration.ofMillis(READ_TIMEOUT_MS + 3_000), e -> e.state() == SessionState.RECONNECTED);
                long backMs = (System.nanoTime() - stopped) / 1_000_000;
                writers.close();
                ServerProcess now = serverOf(pool);
                print("tls-follower: bound " + BOUND.toMillis() + " ms; SIGSTOP of " + victim + "; RECONNECTED on "
                        + now + " " + backMs + " ms after the stop; hung drops " + hungDrops(registry)
                        + "; same session " + (sessionId(pool) == session) + "; events " + events.states());
                SoftAssertions soft = new SoftAssertions();
                soft.assertThat(backMs)
                        .as("back before ZooKeeper's read timeout (%d ms)", READ_TIMEOUT_MS)
                        .isLessThan(READ_TIMEOUT_MS);
                soft.assertThat(hungDrops(registry)).as("one hung drop").isEqualTo(1.0);
                soft.assertThat(now).as("on another member").isNotEqualTo(victim);
                soft.assertThat(sessionId(pool)).as("same session").isEqualTo(session);
                soft.assertThat(back.state()).isEqualTo(SessionState.RECONNECTED);
                soft.assertAll();
            }
        } finally {
            if (victim != null && victim.isSuspended()) {
                victim.sigcont();
            }
        }
    }
}
