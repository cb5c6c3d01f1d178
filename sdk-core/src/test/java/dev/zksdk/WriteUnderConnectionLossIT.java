package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Connections cut while creates are in flight (a second thread closes every proxied connection in a loop): afterwards
 * every create either succeeded exactly once, or reported that its outcome is unknown. No duplicates, no silent loss.
 */
class WriteUnderConnectionLossIT {

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

    enum Outcome {
        OK,
        UNKNOWN,
        FAILED
    }

    @Test
    void everyCreateHappensExactlyOnceOrSaysItsOutcomeIsUnknown() throws Exception {
        AtomicBoolean cutting = new AtomicBoolean(true);
        AtomicInteger cuts = new AtomicInteger();
        Map<Integer, Outcome> plain = new HashMap<>();
        Map<Integer, Outcome> sequential = new HashMap<>();
        Map<Integer, String> sequentialPaths = new HashMap<>();
        List<Throwable> unexpected = new ArrayList<>();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(proxy.connectString())
                        .sessionTimeout(Duration.ofSeconds(20))
                        .connectionTimeout(Duration.ofSeconds(5))
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofSeconds(8))
                                // Cutting connections is the test, not an unhealthy ensemble: keep the breaker out of
                                // it.
                                .breakerFailureRateThreshold(100f)
                                .build())
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create("/plain", new byte[0], CreateMode.PERSISTENT);
            lease.create("/seq", new byte[0], CreateMode.PERSISTENT);
            long session = lease.sessionId();
            Thread cutter = new Thread(
                    () -> {
                        while (cutting.get()) {
                            try {
                                // Cut at random moments; the creator never pauses, so many cuts land on a create in
                                // flight.
                                TimeUnit.MILLISECONDS.sleep(
                                        ThreadLocalRandom.current().nextInt(100, 400));
                            } catch (InterruptedException e) {
                                return;
                            }
                            proxy.closeAllConnections();
                            cuts.incrementAndGet();
                        }
                    },
                    "connection-cutter");
            cutter.start();
            try {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
                for (int n = 0; System.nanoTime() < end; n++) {
                    int i = n;
                    byte[] marker = ("op-" + i).getBytes(StandardCharsets.UTF_8);
                    plain.put(
                            i, attempt(() -> lease.create("/plain/n-" + i, marker, CreateMode.PERSISTENT), unexpected));
                    String[] path = new String[1];
                    sequential.put(
                            i,
                            attempt(
                                    () -> path[0] =
                                            lease.create("/seq/item-", marker, CreateMode.PERSISTENT_SEQUENTIAL),
                                    unexpected));
                    sequentialPaths.put(i, path[0]);
                }
            } finally {
                cutting.set(false);
                cutter.join();
            }
            assertThat(unexpected).isEmpty();
            assertThat(cuts.get()).isGreaterThan(10);
            int total = plain.size();
            assertThat(lease.sessionId()).isEqualTo(session);

            // The observer's view of the server decides.
            List<String> plainChildren = observer.zk().getChildren("/plain", false);
            List<String> seqChildren = observer.zk().getChildren("/seq", false);
            Map<String, Integer> seqByMarker = new HashMap<>();
            for (String child : seqChildren) {
                String data = new String(observer.zk().getData("/seq/" + child, false, null), StandardCharsets.UTF_8);
                seqByMarker.merge(data, 1, Integer::sum);
            }
            int unknown = 0;
            for (int i = 0; i < total; i++) {
                boolean plainExists = plainChildren.contains("n-" + i);
                switch (plain.get(i)) {
                    case OK:
                        assertThat(plainExists)
                                .as("plain create %d reported success", i)
                                .isTrue();
                        break;
                    case FAILED:
                        assertThat(plainExists)
                                .as("plain create %d reported failure", i)
                                .isFalse();
                        break;
                    default:
                        unknown++;
                }
                int copies = seqByMarker.getOrDefault("op-" + i, 0);
                assertThat(copies)
                        .as("sequential create %d made at most one node", i)
                        .isLessThanOrEqualTo(1);
                switch (sequential.get(i)) {
                    case OK:
                        assertThat(copies)
                                .as("sequential create %d reported success", i)
                                .isEqualTo(1);
                        assertThat(seqChildren).contains(sequentialPaths.get(i).substring("/seq/".length()));
                        break;
                    case FAILED:
                        assertThat(copies)
                                .as("sequential create %d reported failure", i)
                                .isZero();
                        break;
                    default:
                        unknown++;
                }
            }
            // Most creates must get through: retries are the point.
            assertThat(unknown).isLessThan(total);
            assertThat(total).isGreaterThan(50);
        }
    }

    private static Outcome attempt(Runnable create, List<Throwable> unexpected) {
        try {
            create.run();
            return Outcome.OK;
        } catch (ZkConnectionLossException e) {
            return e.outcomeUnknown() ? Outcome.UNKNOWN : Outcome.FAILED;
        } catch (ZkUnavailableException e) {
            return Outcome.FAILED; // nothing was sent
        } catch (RuntimeException e) {
            unexpected.add(e);
            return Outcome.FAILED;
        }
    }
}
