package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * CONNECTIONLOSS within the session: a proxy freeze longer than ZooKeeper's read timeout (2/3 of the session
 * timeout) and shorter than the session timeout. The client drops the connection and reconnects to the same session.
 */
class ConnectionLossIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(8); // read timeout ~5.3 s
    static final Duration FREEZE = Duration.ofMillis(6500);

    TestingServer server;
    ZkProxy proxy;
    RawZooKeeper observer;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
    }

    @AfterEach
    void stop() throws Exception {
        observer.close();
        proxy.close();
        server.close();
    }

    @Test
    void readsDuringAFreezeCompleteAfterItOnTheSameSessionAndTheEphemeralNeverDisappears() throws Exception {
        Recorder events = new Recorder();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(proxy.connectString())
                        .sessionTimeout(SESSION_TIMEOUT)
                        .connectionTimeout(Duration.ofSeconds(10))
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofSeconds(20))
                                .build())
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create("/config", "v1".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
            EphemeralNode me = lease.ephemeral("/services/api/host-1", "host-1".getBytes(StandardCharsets.UTF_8));
            long sessionBefore = lease.sessionId();

            // The independent observer (not behind the proxy) records every deletion of the ephemeral.
            List<WatchedEvent> deletions = new CopyOnWriteArrayList<>();
            Watcher watcher = new Watcher() {
                @Override
                public void process(WatchedEvent e) {
                    if (e.getType() == Event.EventType.NodeDeleted) {
                        deletions.add(e);
                    }
                }
            };
            observer.zk().addWatch("/services/api/host-1", watcher, AddWatchMode.PERSISTENT);
            Stat owned = observer.zk().exists("/services/api/host-1", false);
            assertThat(owned.getEphemeralOwner()).isEqualTo(sessionBefore);

            proxy.freeze();
            long frozenAt = System.nanoTime();
            List<CompletableFuture<byte[]>> reads = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                reads.add(lease.getDataAsync("/config"));
            }
            // The client notices the dead connection after its read timeout and suspends.
            await().atMost(Duration.ofSeconds(10)).until(() -> events.saw(SessionState.SUSPENDED));
            long waitMore = FREEZE.toNanos() - (System.nanoTime() - frozenAt);
            if (waitMore > 0) {
                // The fault's length is the scenario itself, not a wait for a condition.
                TimeUnit.NANOSECONDS.sleep(waitMore);
            }
            assertThat(reads).noneMatch(CompletableFuture::isDone);
            proxy.unfreeze();

            for (CompletableFuture<byte[]> read : reads) {
                assertThat(read.get(20, TimeUnit.SECONDS)).isEqualTo("v1".getBytes(StandardCharsets.UTF_8));
            }
            assertThat(lease.sessionId()).isEqualTo(sessionBefore);
            await().atMost(Duration.ofSeconds(10)).until(() -> events.saw(SessionState.RECONNECTED));
            SessionEvent reconnected = events.first(SessionState.RECONNECTED).orElseThrow();
            assertThat(reconnected.previousState()).isEqualTo(SessionState.SUSPENDED);
            assertThat(reconnected.sameSession()).isTrue();
            assertThat(reconnected.sessionIdBefore()).isEqualTo(sessionBefore);
            assertThat(reconnected.sessionIdAfter()).isEqualTo(sessionBefore);

            assertThat(deletions).isEmpty();
            Stat after = observer.zk().exists("/services/api/host-1", false);
            assertThat(after).isNotNull();
            assertThat(after.getEphemeralOwner()).isEqualTo(sessionBefore);
            assertThat(me.isPresent()).isTrue();
            assertThat(pool.stats().sessionsOpened()).isEqualTo(1);
            assertThat(observer.zk().getChildren("/services/api", false)).containsExactly("host-1");
        }
    }

    @Test
    void droppedConnectionsReconnectToTheSameSessionAndReportIt() throws Exception {
        Recorder events = new Recorder();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(proxy.connectString())
                        .sessionTimeout(SESSION_TIMEOUT)
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            long before = lease.sessionId();
            proxy.closeAllConnections();
            await().atMost(Duration.ofSeconds(15)).until(() -> events.saw(SessionState.RECONNECTED));
            assertThat(lease.exists("/")).isNotNull();
            assertThat(lease.sessionId()).isEqualTo(before);
            SessionEvent suspended = events.first(SessionState.SUSPENDED).orElseThrow();
            assertThat(suspended.previousState()).isEqualTo(SessionState.CONNECTED);
            assertThat(suspended.sessionIdBefore()).isEqualTo(before);
            SessionEvent reconnected = events.first(SessionState.RECONNECTED).orElseThrow();
            assertThat(reconnected.sameSession()).isTrue();
            assertThat(reconnected.newSession()).isFalse();
            assertThat(reconnected.server()).isEqualTo(proxy.connectString());
        }
    }

    @Test
    void negotiatedTimeoutIsExposedAndAClampIsReported() throws Exception {
        try (TestingServer clamping = InProcessEnsembles.startServer(InProcessEnsembles.options()
                .maxSessionTimeout(Duration.ofSeconds(4))
                .build())) {
            Recorder recorder = new Recorder();
            try (ZkSessionPool pool = ZkSessionPool.builder()
                            .connectString(clamping.getConnectString())
                            .sessionTimeout(Duration.ofSeconds(30))
                            .listener(recorder)
                            .build();
                    ZkLease lease = pool.lease()) {
                assertThat(lease.sessionId()).isNotZero();
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> !recorder.timeoutClamps().isEmpty());
                assertThat(pool.negotiatedSessionTimeout()).isEqualTo(Duration.ofSeconds(4));
                assertThat(recorder.timeoutClamps().get(0).requested()).isEqualTo(Duration.ofSeconds(30));
                assertThat(recorder.timeoutClamps().get(0).negotiated()).isEqualTo(Duration.ofSeconds(4));
            }
        }
    }
}
