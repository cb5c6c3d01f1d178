package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.VirtualThreads;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Synchronous lease calls from virtual threads neither pin a carrier nor wait inside a monitor, recorded with JFR
 * (threshold 0) while 200 virtual threads make every kind of synchronous call against a real server. A wait inside a
 * monitor ({@code jdk.JavaMonitorWait} on a request thread; ZooKeeper's synchronous API waits in
 * {@code synchronized (packet) { packet.wait(); }}) pins the carrier for the whole request on JDK 21–23; JDK 24+ no
 * longer pins there, so on JDK 25 the monitor waits are what is checked, and {@code jdk.VirtualThreadPinned} catches
 * what still pins on every JDK (a native frame or class initializer on the stack). Skipped before JDK 21.
 */
class VirtualThreadPinningIT {

    private static final int THREADS = 200;

    @Test
    void syncCallsFromVirtualThreadsNeitherPinNorWaitInAMonitor(@TempDir Path dir) throws Exception {
        assumeTrue(VirtualThreads.available(), "virtual threads need JDK 21+; this is Java " + Runtime.version());
        Set<Long> requestThreads = ConcurrentHashMap.newKeySet();
        Path file = dir.resolve("pinning.jfr");
        try (TestingServer server = InProcessEnsembles.startServer();
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .sessionTimeout(Duration.ofSeconds(10))
                        .sessionsPerEnsemble(2)
                        .build()) {
            try (ZkLease lease = pool.lease()) {
                lease.create("/vt", new byte[0], CreateMode.PERSISTENT);
            }
            ExecutorService executor = VirtualThreads.newVirtualThreadPerTaskExecutor();
            // Once before recording: what a first use loads and initializes (classes of the SDK, ZooKeeper, AssertJ)
            // may pin while another thread holds the class's lock, once per JVM; that is not what is measured.
            executor.submit(() -> calls(pool, "/vt/warm-up")).get(1, TimeUnit.MINUTES);
            try (Recording recording = new Recording()) {
                recording
                        .enable("jdk.VirtualThreadPinned")
                        .withThreshold(Duration.ZERO)
                        .withStackTrace();
                recording
                        .enable("jdk.JavaMonitorWait")
                        .withThreshold(Duration.ZERO)
                        .withStackTrace();
                recording.start();
                List<Future<?>> calls = new ArrayList<>();
                for (int i = 0; i < THREADS; i++) {
                    String path = "/vt/n" + i;
                    calls.add(executor.submit(() -> {
                        requestThreads.add(Thread.currentThread().getId());
                        return calls(pool, path);
                    }));
                }
                for (Future<?> call : calls) {
                    assertThat(call.get(2, TimeUnit.MINUTES)).isEqualTo(true);
                }
                recording.stop();
                recording.dump(file);
            } finally {
                executor.shutdown();
            }
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        List<RecordedEvent> pinned = named(events, "jdk.VirtualThreadPinned");
        List<RecordedEvent> waits = named(events, "jdk.JavaMonitorWait").stream()
                .filter(e -> e.getThread() != null
                        && requestThreads.contains(e.getThread().getJavaThreadId()))
                .collect(Collectors.toList());
        List<RecordedEvent> pinnedInSdk =
                pinned.stream().filter(VirtualThreadPinningIT::inSdk).collect(Collectors.toList());
        System.out.printf(
                "JFR on Java %s, %d virtual threads x 7 sync lease calls: %d jdk.VirtualThreadPinned (%d with zk-sdk"
                        + " frames), %d jdk.JavaMonitorWait on request threads%n",
                Runtime.version(), THREADS, pinned.size(), pinnedInSdk.size(), waits.size());
        assertThat(requestThreads).hasSize(THREADS);
        assertThat(pinnedInSdk)
                .as("pinned with zk-sdk frames: %s", describe(pinnedInSdk))
                .isEmpty();
        assertThat(waits)
                .as("monitor waits on request threads: %s", describe(waits))
                .isEmpty();
        Files.deleteIfExists(file);
    }

    /** The build's JDK 25 run really runs test methods on virtual threads (the extension is found and switched on). */
    @Test
    void testMethodsRunOnVirtualThreadsWhenSwitchedOn() {
        assertThat(VirtualThreads.isVirtual(Thread.currentThread()))
                .as("%s=%s", VirtualThreads.PROPERTY, System.getProperty(VirtualThreads.PROPERTY))
                .isEqualTo(VirtualThreads.enabled());
    }

    /** Every synchronous lease call once, on {@code path}; true when each answered as it must. */
    private static boolean calls(ZkSessionPool pool, String path) {
        try (ZkLease lease = pool.lease()) {
            byte[] v1 = "1".getBytes(StandardCharsets.UTF_8);
            lease.create(path, v1, CreateMode.PERSISTENT);
            boolean ok = Arrays.equals(lease.getData(path), v1);
            Stat stat = lease.exists(path);
            lease.setData(path, "2".getBytes(StandardCharsets.UTF_8), stat.getVersion());
            ok &= lease.getNode(path).stat().getVersion() == 1;
            ok &= lease.getChildren("/vt").contains(path.substring("/vt/".length()));
            lease.delete(path, -1);
            return ok && VirtualThreads.isVirtual(Thread.currentThread());
        }
    }

    private static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream()
                .filter(e -> e.getEventType().getName().equals(name))
                .collect(Collectors.toList());
    }

    private static boolean inSdk(RecordedEvent event) {
        return event.getStackTrace() != null
                && event.getStackTrace().getFrames().stream()
                        .map(f -> f.getMethod().getType().getName())
                        .anyMatch(type -> type.startsWith("dev.zksdk.")
                                && !type.startsWith(VirtualThreadPinningIT.class.getName()));
    }

    /** The first events' stacks, for the failure message. */
    private static String describe(List<RecordedEvent> events) {
        return events.stream()
                .limit(3)
                .map(e -> e.getEventType().getName()
                        + (e.hasField("monitorClass")
                                ? " on " + e.getClass("monitorClass").getName()
                                : "")
                        + " at "
                        + (e.getStackTrace() == null
                                ? "?"
                                : e.getStackTrace().getFrames().stream()
                                        .limit(12)
                                        .map(VirtualThreadPinningIT::frame)
                                        .collect(Collectors.joining(" <- "))))
                .collect(Collectors.joining("\n"));
    }

    private static String frame(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName() + ":" + f.getLineNumber();
    }
}
