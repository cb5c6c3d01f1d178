package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.InProcessEnsembles;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;

/** Every server down: once the breaker opens, calls fail at once; when the server returns, calls succeed again. */
class CircuitBreakerIT {

    @Test
    void breakerOpensWhileTheEnsembleIsDownAndClosesWhenItReturns() throws Exception {
        try (TestingServer server = InProcessEnsembles.startServer();
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .sessionTimeout(Duration.ofSeconds(20))
                        .connectionTimeout(Duration.ofMillis(500))
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofSeconds(1))
                                .breakerSlidingWindow(4)
                                .breakerMinimumCalls(2)
                                .breakerOpenDuration(Duration.ofSeconds(1))
                                .build())
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create("/x", "1".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
            server.stop();

            // The first failures wait out the operation timeout and open the breaker.
            Throwable first = catchThrowable(() -> lease.getData("/x"));
            assertThat(first).isInstanceOfAny(ZkUnavailableException.class, ZkConnectionLossException.class);
            catchThrowable(() -> lease.getData("/x"));
            // Now open: refused without trying, nothing sent.
            Throwable refused = catchThrowable(() -> lease.getData("/x"));
            assertThat(refused)
                    .isInstanceOf(ZkUnavailableException.class)
                    .hasMessageContaining("circuit breaker")
                    .hasCauseInstanceOf(CallNotPermittedException.class);
            assertThat(((ZkException) refused).code()).isEqualTo(KeeperException.Code.CONNECTIONLOSS);
            assertThat(((ZkException) refused).path()).isEqualTo("/x");

            server.restart();
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(200))
                    .ignoreExceptions()
                    .untilAsserted(
                            () -> assertThat(lease.getData("/x")).isEqualTo("1".getBytes(StandardCharsets.UTF_8)));
            assertThat(lease.getData("/x")).isEqualTo("1".getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void applicationResultsNeverOpenTheBreakerAndAreNotRetried() {
        try (TestingServer server = InProcessEnsembles.startServer();
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .operationPolicy(OperationPolicy.builder()
                                .breakerSlidingWindow(4)
                                .breakerMinimumCalls(2)
                                .build())
                        .build();
                ZkLease lease = pool.lease()) {
            for (int i = 0; i < 20; i++) {
                Throwable e = catchThrowable(() -> lease.getData("/missing"));
                assertThat(e).isInstanceOf(ZkNoNodeException.class);
                assertThat(((ZkException) e).code()).isEqualTo(KeeperException.Code.NONODE);
                assertThat(((ZkException) e).path()).isEqualTo("/missing");
            }
            lease.create("/here", new byte[0], CreateMode.PERSISTENT);
            assertThat(catchThrowable(() -> lease.create("/here", new byte[0], CreateMode.PERSISTENT)))
                    .isInstanceOf(ZkNodeExistsException.class);
            assertThat(catchThrowable(() -> lease.setData("/here", new byte[0], 7)))
                    .isInstanceOf(ZkBadVersionException.class);
            lease.create("/here/child", new byte[0], CreateMode.PERSISTENT);
            assertThat(catchThrowable(() -> lease.delete("/here", -1))).isInstanceOf(ZkNotEmptyException.class);
            assertThat(lease.exists("/here")).isNotNull();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
