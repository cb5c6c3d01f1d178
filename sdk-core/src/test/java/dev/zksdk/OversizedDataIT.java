package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.VirtualThreads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A node whose data is over the client's {@code jute.maxbuffer} (the server allows 4 MB) is reported alike however it
 * is read: a synchronous getData from a platform thread (ZooKeeper's synchronous API) and from a virtual thread (sent
 * asynchronously, the caller parks on a future), getNode, getDataAsync. Each fails with
 * {@link ZkResponseTooLargeException} carrying the path, the node's exact size and the client's limit, with one message.
 * On JDK 21+ the virtual-thread read runs too (in the build's JDK 25 run the test method itself is on a virtual thread,
 * so the platform read gets a platform thread of its own).
 */
class OversizedDataIT {

    static final String DATA = "/big-data";
    static final int DATA_BYTES = 2 * 1024 * 1024;
    static final int CLIENT_LIMIT =
            new ZKClientConfig().getInt("jute.maxbuffer", ZKClientConfig.CLIENT_MAX_PACKET_LENGTH_DEFAULT);

    static ProcessEnsemble ensemble;

    @BeforeAll
    static void startAndWriteTheBigNode() throws Exception {
        ensemble = ProcessEnsemble.builder()
                .size(1)
                .jvmOption("-Djute.maxbuffer=4194304")
                .start();
        ZooKeeper zk = OversizedAdversarialIT.bigClient(ensemble);
        try {
            zk.create(DATA, new byte[DATA_BYTES], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertThat(zk.exists(DATA, false).getDataLength()).isEqualTo(DATA_BYTES);
        } finally {
            zk.close();
        }
    }

    @AfterAll
    static void stop() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    @Test
    void anOversizedReadIsReportedAlikeOnEveryPath() throws Exception {
        assertThat(DATA_BYTES).as("the node is over the client's limit").isGreaterThan(CLIENT_LIMIT);
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .name("oversized-data")
                        .connectString(ensemble.connectString())
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofSeconds(10))
                                .build())
                        .build();
                ZkLease lease = pool.lease()) {
            List<String> forms = new ArrayList<>();
            List<Throwable> errors = new ArrayList<>();
            forms.add("getData on a platform thread");
            errors.add(on(false, () -> lease.getData(DATA)));
            if (VirtualThreads.available()) {
                forms.add("getData on a virtual thread");
                errors.add(on(true, () -> lease.getData(DATA)));
            }
            forms.add("getNode");
            errors.add(on(false, () -> lease.getNode(DATA)));
            forms.add("getDataAsync");
            errors.add(on(false, () -> lease.getDataAsync(DATA).join()));

            String expected = "getData " + DATA + ": the answer (the node's data, " + DATA_BYTES
                    + " bytes) is larger than the client's jute.maxbuffer of " + CLIENT_LIMIT + " bytes";
            SoftAssertions soft = new SoftAssertions();
            for (int i = 0; i < forms.size(); i++) {
                String form = forms.get(i);
                Throwable error = errors.get(i);
                System.out.println("FIGURES oversized data, " + form + ": " + error);
                soft.assertThat(error).as(form).isInstanceOf(ZkResponseTooLargeException.class);
                if (error instanceof ZkResponseTooLargeException) {
                    ZkResponseTooLargeException e = (ZkResponseTooLargeException) error;
                    soft.assertThat(e.path()).as(form + ": path").isEqualTo(DATA);
                    soft.assertThat(e.responseBytes()).as(form + ": size").isEqualTo(DATA_BYTES);
                    soft.assertThat(e.limitBytes())
                            .as(form + ": jute.maxbuffer")
                            .isEqualTo(CLIENT_LIMIT);
                    soft.assertThat(e.getMessage()).as(form + ": message").startsWith(expected);
                }
            }
            soft.assertAll();
        }
    }

    /** The failure of {@code read}, made on a new virtual or platform thread; null when it succeeded. */
    private static Throwable on(boolean virtual, Supplier<?> read) throws Exception {
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        long start = System.nanoTime();
        Runnable task = () -> {
            try {
                read.get();
                outcome.complete(null);
            } catch (Throwable e) {
                outcome.complete(
                        e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                                ? e.getCause()
                                : e);
            }
        };
        Thread thread = virtual ? VirtualThreads.newVirtualThread(task, "virtual-read") : new Thread(task, "read");
        assertThat(VirtualThreads.isVirtual(thread)).isEqualTo(virtual);
        thread.start();
        Throwable error = outcome.get(1, TimeUnit.MINUTES);
        System.out.println("FIGURES oversized data, " + (virtual ? "virtual" : "platform") + " thread: failed after "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms");
        return error;
    }
}
