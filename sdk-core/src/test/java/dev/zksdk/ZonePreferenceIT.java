package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 21, item 2: zones. Three separate-process servers, the first in zone "a" (the client's), the two others in
 * zone "b". Sessions connect to the zone's server; when it is killed they fall back to zone "b" with their ids; once it
 * serves again each moves back after its fallback lifetime (jittered), keeping its id. Figures on lines starting
 * {@code FIGURES}.
 */
class ZonePreferenceIT {

    static final Duration LIFETIME = Duration.ofSeconds(4);

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

    static List<SessionStatus> sessions(ZkSessionPool pool) {
        return pool.ensembles().get(0).sessions();
    }

    static boolean allOn(ZkSessionPool pool, String server) {
        return sessions(pool).stream().allMatch(s -> s.connected() && server.equals(s.server()));
    }

    static double fallbackSessions(SimpleMeterRegistry registry) {
        Gauge g = registry.find(MetricNames.HOSTS_ZONE_FALLBACK_SESSIONS).gauge();
        assertThat(g)
                .as(MetricNames.HOSTS_ZONE_FALLBACK_SESSIONS + " is registered")
                .isNotNull();
        return g.value();
    }

    @Test
    void sessionsPreferTheClientsZoneFallBackAndMoveBackAfterTheirLifetime() throws Exception {
        ServerProcess zoneA = ensemble.servers().get(0);
        HostsConfig.Builder hosts = HostsConfig.builder()
                .rebalance(Duration.ofMillis(500))
                .clientZone("a")
                .fallbackSessionLifetime(LIFETIME)
                .serverZone(zoneA.address(), "a");
        for (ServerProcess s : ensemble.servers().subList(1, 3)) {
            hosts.serverZone(s.address(), "b");
        }
        Queue<SessionEvent> events = new ConcurrentLinkedQueue<>();
        AtomicBoolean writing = new AtomicBoolean(true);
        // A live application writes: a restarted follower refuses sessions that saw later transactions until then.
        ZooKeeper writer = new ZooKeeper(ensemble.connectString(), 15_000, e -> {});
        Thread writes = new Thread(() -> {
            while (writing.get()) {
                writer.create(
                        "/zone-w-",
                        new byte[0],
                        ZooDefs.Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT_SEQUENTIAL,
                        (rc, path, ctx, name) -> {},
                        null);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            }
        });
        writes.setDaemon(true);
        writes.start();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                .name("zones")
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                .connectString(ensemble.connectString())
                .sessionTimeout(Duration.ofSeconds(15))
                .sessionsPerEnsemble(3)
                .hosts(hosts.build())
                .listener(new SessionListener() {
                    @Override
                    public void onStateChange(SessionEvent event) {
                        events.add(event);
                    }
                })
                .build()) {
            ZkLease lease = pool.lease();
            await("every session connected")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> sessions(pool).stream().allMatch(SessionStatus::connected));
            // At once: well within the fallback lifetime, so this is where they connected, not where they were moved.
            assertThat(sessions(pool))
                    .as("every session connected to the zone's server " + zoneA.address())
                    .allMatch(s -> zoneA.address().equals(s.server()));
            List<Long> ids = new ArrayList<>();
            sessions(pool).forEach(s -> ids.add(s.sessionId()));
            assertThat(fallbackSessions(registry))
                    .as(MetricNames.HOSTS_ZONE_FALLBACK_SESSIONS + " with every session in the zone")
                    .isZero();

            zoneA.kill9();
            await("every session fallen back to zone b")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> sessions(pool).stream()
                            .allMatch(s -> s.connected() && !zoneA.address().equals(s.server())));
            long fellBack = System.nanoTime();
            assertThat(fallbackSessions(registry))
                    .as(MetricNames.HOSTS_ZONE_FALLBACK_SESSIONS + " with every session fallen back")
                    .isEqualTo(3.0);
            zoneA.restart();
            zoneA.awaitServing(Duration.ofSeconds(60));
            ensemble.awaitQuorum(Duration.ofSeconds(60));
            long serving = System.nanoTime();
            await("every session back on " + zoneA.address())
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> allOn(pool, zoneA.address()));
            long back = System.nanoTime();
            assertThat(fallbackSessions(registry))
                    .as(MetricNames.HOSTS_ZONE_FALLBACK_SESSIONS + " with every session back in the zone")
                    .isZero();
            System.out.println("FIGURES zones: fell back, zone server serving again after "
                    + TimeUnit.NANOSECONDS.toMillis(serving - fellBack) + " ms, all back after "
                    + TimeUnit.NANOSECONDS.toMillis(back - fellBack) + " ms (fallback lifetime " + LIFETIME.toMillis()
                    + " ms, jittered 0.75-1.25)");
            assertThat(TimeUnit.NANOSECONDS.toMillis(back - fellBack))
                    .as("not all back before three quarters of the lifetime")
                    .isGreaterThanOrEqualTo(LIFETIME.toMillis() * 3 / 4);
            List<Long> after = new ArrayList<>();
            sessions(pool).forEach(s -> after.add(s.sessionId()));
            assertThat(after).as("same sessions").isEqualTo(ids);
            assertThat(events.stream().filter(e -> e.state() == SessionState.LOST))
                    .as("sessions lost")
                    .isEmpty();
            lease.close();
        } finally {
            writing.set(false);
            writes.join(10_000);
            writer.close();
        }
    }
}
