package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.testing.ProcessEnsemble;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.Test;

/**
 * An ensemble with observers follows dynamic reconfiguration by role: the leases' sessions follow the voting members,
 * the read sessions the observers (the voting members while the membership has none). Three participants and one
 * observer in separate processes; the observer is removed by {@code reconfig}, then added back as an observer.
 *
 * <p>What must hold: once the observer is removed, the read session is connected on a participant (not left on the
 * removed server) and reads after writes see them; once it is back, the read session returns to it; no lease session is
 * ever on the observer (sampled throughout); no session is lost (the ids stay).
 */
class ObserverMembershipIT {

    static final int OBSERVER = 4;

    @Test
    void readSessionsFollowTheObserversAndLeaseSessionsTheVotersThroughReconfiguration() throws Exception {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder()
                        .size(4)
                        .observers(OBSERVER)
                        .reconfigEnabled(true)
                        .jvmOption("-Dzookeeper.skipACL=yes")
                        .start();
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name("obs-membership")
                        .connectString(ensemble.connectString())
                        .observers(ensemble.server(OBSERVER).address())
                        .sessionsPerEnsemble(2)
                        .readsFromObservers(1)
                        .sessionTimeout(Duration.ofSeconds(10))
                        .connectionTimeout(Duration.ofSeconds(8))
                        .build()) {
            String observer = ensemble.server(OBSERVER).address();
            List<String> participants = List.of(
                    ensemble.server(1).address(),
                    ensemble.server(2).address(),
                    ensemble.server(3).address());
            String participantsConnect = ensemble.connectString(1, 2, 3);
            Set<String> leaseServersSeen = ConcurrentHashMap.newKeySet();
            AtomicBoolean sampling = new AtomicBoolean(true);
            Thread sampler = new Thread(() -> {
                while (sampling.get()) {
                    for (SessionStatus s : sessions(pool)) {
                        if (s.role() == SessionStatus.Role.PARTICIPANT && s.connected() && s.server() != null) {
                            leaseServersSeen.add(s.server());
                        }
                    }
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            sampler.setDaemon(true);
            sampler.start();
            try (ZkLease lease = pool.lease()) {
                lease.create("/om", bytes("0"), CreateMode.PERSISTENT);
                await("read session on the observer")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> observer.equals(readSession(pool).server()));
                long readId = readSession(pool).sessionId();
                List<Long> leaseIds = sessions(pool).stream()
                        .filter(s -> s.role() == SessionStatus.Role.PARTICIPANT)
                        .map(SessionStatus::sessionId)
                        .toList();

                String spec = EnsembleChangeIT.membershipLine(ensemble, ensemble.server(OBSERVER));
                assertThat(spec).contains(":observer");
                EnsembleChangeIT.reconfig(participantsConnect, null, String.valueOf(OBSERVER));
                await("read session on a participant once the observer left the membership")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> {
                            SessionStatus r = readSession(pool);
                            return r.connected() && r.server() != null && participants.contains(r.server());
                        });
                for (int i = 1; i <= 5; i++) {
                    lease.setData("/om", bytes(String.valueOf(i)), -1);
                    assertThat(new String(lease.getData("/om"), StandardCharsets.UTF_8))
                            .isEqualTo(String.valueOf(i));
                }

                EnsembleChangeIT.reconfig(participantsConnect, spec, null);
                await("read session back on the observer once it rejoined as one")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> {
                            SessionStatus r = readSession(pool);
                            return r.connected() && observer.equals(r.server());
                        });
                lease.setData("/om", bytes("back"), -1);
                assertThat(new String(lease.getData("/om"), StandardCharsets.UTF_8))
                        .isEqualTo("back");

                assertThat(readSession(pool).sessionId())
                        .as("the read session kept its id")
                        .isEqualTo(readId);
                assertThat(sessions(pool).stream()
                                .filter(s -> s.role() == SessionStatus.Role.PARTICIPANT)
                                .map(SessionStatus::sessionId)
                                .toList())
                        .as("the lease sessions kept their ids")
                        .isEqualTo(leaseIds);
            } finally {
                sampling.set(false);
                sampler.join(5_000);
            }
            assertThat(leaseServersSeen)
                    .as("servers the lease sessions were on")
                    .doesNotContain(observer);
            assertThat(leaseServersSeen).isNotEmpty();
        }
    }

    private static List<SessionStatus> sessions(ZkSessionPool pool) {
        return pool.ensembles().stream()
                .map(EnsembleStatus::sessions)
                .flatMap(List::stream)
                .toList();
    }

    private static SessionStatus readSession(ZkSessionPool pool) {
        return sessions(pool).stream()
                .filter(s -> s.role() == SessionStatus.Role.OBSERVER)
                .findFirst()
                .orElseThrow();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
