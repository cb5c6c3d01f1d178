package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real server-side expiry (a second handle with the same session id and password, then closed) while the pool's
 * connection is frozen: work bound to the dead session fails with {@link ZkSessionExpiredException}; a stateless read
 * runs on the replacement session.
 */
class SessionExpiredIT {

    TestingServer server;
    ZkProxy proxy;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        server.close();
    }

    @Test
    void sessionBoundWorkFailsAsExpiredAndReadsRunOnTheNewSession() throws Exception {
        Recorder events = new Recorder();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(proxy.connectString())
                        .sessionTimeout(Duration.ofSeconds(6))
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofSeconds(30))
                                .breakerFailureRateThreshold(100f)
                                .build())
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create("/data", "d".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
            ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
            long oldSession = zk.getSessionId();
            byte[] password = zk.getSessionPasswd();

            proxy.freeze();
            // Sent on the old session's connection while it cannot answer.
            CompletableFuture<String> ephemeralCreate = lease.createAsync("/bound", new byte[0], CreateMode.EPHEMERAL);
            CompletableFuture<byte[]> read = lease.getDataAsync("/data");
            ForcedExpiry.expireSession(server.getConnectString(), oldSession, password);
            proxy.unfreeze();

            assertThatThrownBy(() -> ephemeralCreate.get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .isInstanceOf(ZkSessionExpiredException.class)
                    .satisfies(e -> assertThat(((ZkException) e).code()).isEqualTo(KeeperException.Code.SESSIONEXPIRED))
                    .satisfies(e -> assertThat(((ZkException) e).path()).isEqualTo("/bound"));
            assertThat(read.get(30, TimeUnit.SECONDS)).isEqualTo("d".getBytes(StandardCharsets.UTF_8));

            long newSession = lease.sessionId();
            assertThat(newSession).isNotEqualTo(oldSession);
            assertThat(lease.exists("/bound"))
                    .as("the expired create was not redone on the new session")
                    .isNull();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> events.saw(e -> e.state() == SessionState.RECONNECTED && e.newSession()));
            SessionEvent replaced = events.first(e -> e.state() == SessionState.RECONNECTED && e.newSession())
                    .orElseThrow();
            assertThat(replaced.sessionIdBefore()).isEqualTo(oldSession);
            assertThat(replaced.sessionIdAfter()).isEqualTo(newSession);
            assertThat(replaced.sameSession()).isFalse();
            assertThat(events.sessionEvents()).anyMatch(e -> e.state() == SessionState.LOST);
            assertThat(pool.stats().sessionsOpened()).isEqualTo(2);
        }
    }
}
