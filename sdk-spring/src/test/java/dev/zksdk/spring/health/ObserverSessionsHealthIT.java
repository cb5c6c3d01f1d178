package dev.zksdk.spring.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ZkProxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/**
 * Health per role with sessions on an observer ({@code readsFromObservers}): a separate-process ensemble of three
 * participants and one observer; the pool's participant is reached through a proxy the test freezes. Observer sessions
 * down: UP (reads fall back), with {@code connectedObserverSessions} 0; only the observer session connected: DOWN,
 * naming it (writes and session-bound work need a participant); and UP again once each is back.
 */
class ObserverSessionsHealthIT {

    @Test
    void healthIsDownWithOnlyObserverSessionsAndUpWithOnlyParticipantSessions() {
        try (ProcessEnsemble ensemble =
                        ProcessEnsemble.builder().size(4).observers(4).start();
                ZkProxy participant = ZkProxy.to(ensemble.server(1).address())) {
            String observer = ensemble.server(4).address();
            String connectString = participant.connectString() + "," + observer;
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .connectString(connectString)
                    .observers(observer)
                    .readsFromObservers(1)
                    .sessionTimeout(Duration.ofSeconds(4))
                    .connectionTimeout(Duration.ofSeconds(4))
                    .build()) {
                try (ZkLease lease = pool.lease()) {
                    lease.create("/health", new byte[0], CreateMode.PERSISTENT);
                }
                ZkSessionPoolHealthIndicator indicator = new ZkSessionPoolHealthIndicator(pool);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> isUp(indicator) && observerSessions(indicator, connectString) == 1);
                assertThat(roles(indicator, connectString)).containsExactly(null, "observer");

                ensemble.server(4).kill9();
                await().atMost(Duration.ofSeconds(30)).until(() -> observerSessions(indicator, connectString) == 0);
                assertThat(indicator.health(true).getStatus()).isEqualTo(Status.UP);
                ensemble.server(4).restart();
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> isUp(indicator) && observerSessions(indicator, connectString) == 1);

                participant.freeze();
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    Health h = indicator.health(true);
                    return h.getStatus().equals(Status.DOWN)
                            && String.valueOf(h.getDetails().get("reason"))
                                    .contains("only observer sessions are connected");
                });
                assertThat(observerSessions(indicator, connectString)).isEqualTo(1);
                participant.unfreeze();
                await().atMost(Duration.ofSeconds(60)).until(() -> isUp(indicator));
            }
        }
    }

    static boolean isUp(ZkSessionPoolHealthIndicator indicator) {
        return indicator.health(true).getStatus().equals(Status.UP);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> ensembleDetails(ZkSessionPoolHealthIndicator indicator, String connectString) {
        Map<String, Object> ensembles =
                (Map<String, Object>) indicator.health(true).getDetails().get("ensembles");
        return (Map<String, Object>) ensembles.get(connectString);
    }

    static int observerSessions(ZkSessionPoolHealthIndicator indicator, String connectString) {
        return (Integer) ensembleDetails(indicator, connectString).get("connectedObserverSessions");
    }

    @SuppressWarnings("unchecked")
    static List<Object> roles(ZkSessionPoolHealthIndicator indicator, String connectString) {
        List<Map<String, Object>> sessions = (List<Map<String, Object>>)
                ensembleDetails(indicator, connectString).get("sessions");
        return sessions.stream().map(s -> s.get("role")).toList();
    }
}
