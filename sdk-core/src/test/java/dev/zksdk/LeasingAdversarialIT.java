package dev.zksdk;

import static dev.zksdk.Adversary.print;
import static dev.zksdk.Timings.ms;
import static org.awaitility.Awaitility.await;

import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ProxiedEnsemble;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.zookeeper.CreateMode;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 15, item 3. README: "leases go to the sessions that are connected"; issue: "leases go to
 * a connected session (least-loaded), a down session costs other leases nothing, health reports which sessions are
 * down". Three sessions on three servers behind proxies; two of them cut off (their proxies frozen, their connections
 * closed, and their reconnect attempts to the third server black-holed), then back.
 */
class LeasingAdversarialIT {

    static final byte[] V = "v".getBytes(StandardCharsets.UTF_8);
    static ProcessEnsemble ensemble;

    @BeforeAll
    static void start() {
        ensemble = ProcessEnsemble.builder().size(3).start();
    }

    @AfterAll
    static void stop() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    record Taken(long millis, long sessionId, boolean ok, String error) {}

    /** Takes a lease, reads through it, keeps it open; timed. */
    static Taken take(ZkSessionPool pool, String path, List<ZkLease> held) {
        long s = System.nanoTime();
        try {
            ZkLease l = pool.lease();
            held.add(l);
            long id = l.sessionId();
            l.getData(path);
            return new Taken(ms(System.nanoTime() - s), id, true, null);
        } catch (RuntimeException e) {
            return new Taken(ms(System.nanoTime() - s), 0, false, Timings.describe(e));
        }
    }

    static Map<Long, Long> bySession(List<Taken> taken) {
        return taken.stream().collect(Collectors.groupingBy(Taken::sessionId, TreeMap::new, Collectors.counting()));
    }

    @Test
    void leasesGoToConnectedSessionsAndSpreadAgainWhenTheOthersReturn() throws Exception {
        Recorder events = new Recorder();
        String path = "/lease-" + System.nanoTime();
        try (ProxiedEnsemble proxies = ProxiedEnsemble.of(ensemble.connectString());
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name("lease3")
                        .connectString(proxies.connectString())
                        .sessionsPerEnsemble(3)
                        .sessionTimeout(Duration.ofSeconds(15))
                        .connectionTimeout(Duration.ofSeconds(2))
                        .listener(events)
                        .build()) {
            try (ZkLease l = pool.lease()) {
                l.create(path, V, CreateMode.PERSISTENT);
            }
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> pool.ensembles().get(0).connectedSessions() == 3);
            EnsembleStatus all = pool.ensembles().get(0);

            // All up: 30 held leases spread over the three.
            List<ZkLease> held = new ArrayList<>();
            List<Taken> phaseUp = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                phaseUp.add(take(pool, path, held));
            }
            held.forEach(ZkLease::close);
            held.clear();

            // Two sessions cut off: their proxies frozen and connections closed; their reconnects to the third
            // black-holed.
            SessionStatus keep = all.sessions().get(2);
            ZkProxy keepProxy = proxies.proxies().stream()
                    .filter(p -> p.connectString().equals(keep.server()))
                    .findFirst()
                    .orElseThrow();
            List<ZkProxy> cut =
                    proxies.proxies().stream().filter(p -> p != keepProxy).toList();
            keepProxy.blackholeNextConnections(20);
            cut.forEach(ZkProxy::freeze);
            cut.forEach(ZkProxy::closeAllConnections);
            long cutAt = System.nanoTime();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> pool.ensembles().get(0).connectedSessions() == 1);
            long seenMs = ms(System.nanoTime() - cutAt);
            EnsembleStatus down = pool.ensembles().get(0);
            Set<Long> connectedIds = down.sessions().stream()
                    .filter(SessionStatus::connected)
                    .map(SessionStatus::sessionId)
                    .collect(Collectors.toSet());
            List<Taken> phaseDown = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                phaseDown.add(take(pool, path, held));
            }
            EnsembleStatus downAfter = pool.ensembles().get(0);
            held.forEach(ZkLease::close);
            held.clear();

            // Back.
            cut.forEach(ZkProxy::unfreeze);
            keepProxy.blackholeNextConnections(0);
            long back = System.nanoTime();
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> pool.ensembles().get(0).connectedSessions() == 3);
            long allBackMs = ms(System.nanoTime() - back);
            EnsembleStatus again = pool.ensembles().get(0);
            List<Taken> phaseBack = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                phaseBack.add(take(pool, path, held));
            }
            held.forEach(ZkLease::close);

            print("FIGURES leasing all up: " + all);
            print("FIGURES leasing all up, 30 held leases by session: " + bySession(phaseUp) + ", max "
                    + phaseUp.stream().mapToLong(Taken::millis).max().orElse(-1) + " ms");
            print("FIGURES leasing two cut: status seen " + seenMs + " ms after the cut: " + down);
            print("FIGURES leasing two cut, 30 held leases by session: " + bySession(phaseDown) + ", failed "
                    + phaseDown.stream().filter(t -> !t.ok()).count() + ", max "
                    + phaseDown.stream().mapToLong(Taken::millis).max().orElse(-1) + " ms; status after " + downAfter);
            phaseDown.stream().filter(t -> !t.ok()).limit(3).forEach(t -> print("FIGURES leasing   failed " + t));
            print("FIGURES leasing back: all 3 connected " + allBackMs + " ms after the network healed: " + again);
            print("FIGURES leasing back, 30 held leases by session: " + bySession(phaseBack) + ", max "
                    + phaseBack.stream().mapToLong(Taken::millis).max().orElse(-1) + " ms");

            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(all.sessions().stream()
                            .map(SessionStatus::server)
                            .distinct()
                            .count())
                    .as("three sessions on three servers")
                    .isEqualTo(3);
            soft.assertThat(bySession(phaseUp).values())
                    .as("all up: every session gets leases")
                    .hasSize(3)
                    .allSatisfy(n -> soft.assertThat(n).isGreaterThanOrEqualTo(5L));
            soft.assertThat(down.sessions().stream().filter(s -> !s.connected()).count())
                    .as("status shows two sessions down: " + down)
                    .isEqualTo(2);
            soft.assertThat(phaseDown)
                    .as("with two sessions down, every lease works and goes to the connected one " + connectedIds)
                    .allSatisfy(t -> {
                        soft.assertThat(t.ok()).as(t.toString()).isTrue();
                        soft.assertThat(connectedIds).as(t.toString()).contains(t.sessionId());
                        soft.assertThat(t.millis())
                                .as("lease + read, no connection wait: " + t)
                                .isLessThan(500);
                    });
            soft.assertThat(bySession(phaseBack).values())
                    .as("back: leases spread over the three again " + bySession(phaseBack))
                    .hasSize(3)
                    .allSatisfy(n -> soft.assertThat(n).isGreaterThanOrEqualTo(5L));
            soft.assertAll();
        }
    }
}
