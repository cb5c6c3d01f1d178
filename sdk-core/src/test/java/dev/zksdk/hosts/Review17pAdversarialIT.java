package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.zksdk.EphemeralNode;
import dev.zksdk.ZkException;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.LogCapture;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import dev.zksdk.testing.ZkProxy;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Field;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.ClientCnxn;
import org.apache.zookeeper.ClientCnxnSocketNIO;
import org.apache.zookeeper.ClientCnxnSocketNetty;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.PromptClientCnxnSocketNIO;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/**
 * Review of issue 17 (host selection): a refused connection costs no pause before the next server
 * ({@code PromptClientCnxnSocketNIO} ends ZooKeeper's 100 ms sleep after a closed connection by running ZooKeeper's
 * cleanup with the send thread's interrupt flag set). Attacks: interrupt leaking out of the trick, tight reconnect
 * loops when the whole ensemble is down or a server accepts and closes at once, close during a reconnect loop, and an
 * application's own {@code zookeeper.clientCnxnSocket}. Figures on lines starting {@code FIGURES}.
 */
class Review17pAdversarialIT {

    static final byte[] V = "v".getBytes(StandardCharsets.UTF_8);

    static void print(String s) {
        System.out.println("FIGURES " + s);
    }

    static String deadAddress() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    static Set<Thread> zkThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().contains("SendThread") || t.getName().contains("EventThread"))
                .collect(Collectors.toSet());
    }

    /**
     * The send thread's flag is set for a moment inside each cleanup by design; interrupted at three samples 50 ms
     * apart means it is left set (a selector would then spin).
     */
    static boolean persistentlyInterrupted(Thread t) {
        for (int i = 0; i < 3; i++) {
            if (!t.isInterrupted() || !t.isAlive()) {
                return false;
            }
            await().pollDelay(Duration.ofMillis(50))
                    .atMost(Duration.ofSeconds(1))
                    .until(() -> true);
        }
        return true;
    }

    static Object field(Object o, Class<?> owner, String name) throws Exception {
        Field f = owner.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }

    /** The class of the socket ZooKeeper's send thread of this lease's handle uses. */
    static Class<?> socketClassOf(ZkLease lease) throws Exception {
        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
        Object cnxn = field(zk, ZooKeeper.class, "cnxn");
        Object sendThread = field(cnxn, ClientCnxn.class, "sendThread");
        return field(sendThread, sendThread.getClass(), "clientCnxnSocket").getClass();
    }

    /** Records every event logged on a ZooKeeper send thread while that thread's interrupt flag is set. */
    static final class InterruptedAppender extends AppenderBase<ILoggingEvent> {
        final ConcurrentLinkedQueue<String> interrupted = new ConcurrentLinkedQueue<>();
        final AtomicLong sendThreadEvents = new AtomicLong();
        final ConcurrentLinkedQueue<String> channelFailures = new ConcurrentLinkedQueue<>();
        final java.nio.file.Path channelFile;

        InterruptedAppender() throws java.io.IOException {
            channelFile = java.nio.file.Files.createTempFile("r17p-channel", ".log");
        }

        @Override
        protected void append(ILoggingEvent e) {
            Thread t = Thread.currentThread();
            if (t.getName().contains("SendThread")) {
                sendThreadEvents.incrementAndGet();
                if (t.isInterrupted()) {
                    interrupted.add(e.getLoggerName() + " " + e.getLevel() + " " + e.getFormattedMessage());
                }
                // What an appender writing through a FileChannel (interruptible) meets on this thread.
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(
                        channelFile, java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.APPEND)) {
                    ch.write(java.nio.ByteBuffer.wrap(
                            (e.getFormattedMessage() + "\n").getBytes(StandardCharsets.UTF_8)));
                } catch (java.io.IOException x) {
                    channelFailures.add(x.getClass().getName());
                }
            }
        }
    }

    static ZkSessionPool.Builder refusedFirst(String name, String dead, String live) {
        return ZkSessionPool.builder()
                .name(name)
                .connectString(dead + "," + live)
                .sessionsPerEnsemble(1)
                .sessionTimeout(Duration.ofSeconds(30))
                .connectionTimeout(Duration.ofSeconds(20))
                .hosts(HostsConfig.builder()
                        .nanoClock(System::nanoTime)
                        .weight(dead, HostsConfig.MAX_WEIGHT)
                        .build());
    }

    /**
     * Case 1: the interrupt the trick sets must not reach code other than ZooKeeper's close. ZooKeeper's cleanup logs
     * (at DEBUG) each close step that throws, and a refused connection's channel is already closed: with the flag set,
     * the application's logging appenders run on an interrupted thread (an appender writing through an interruptible
     * channel, e.g. logback's prudent FileAppender taking a FileChannel lock, gets ClosedByInterruptException and
     * loses its file). Found by this review (6 of 12 events in each of 3 runs, FileChannel writes failing with
     * ClosedByInterruptException); fixed: the socket now closes the connection itself and sets the flag only for the
     * sleep.
     */
    @Test
    void noLogEventIsDeliveredOnAnInterruptedSendThread() throws Exception {
        String dead = deadAddress();
        LoggerContext ctx = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        Logger nio = ctx.getLogger(ClientCnxnSocketNIO.class.getName());
        Level saved = nio.getLevel();
        boolean additive = nio.isAdditive();
        InterruptedAppender app = new InterruptedAppender();
        app.setContext(ctx);
        app.start();
        nio.addAppender(app);
        // A stock logback appender: prudent mode takes a FileChannel lock for each event (interruptible).
        java.nio.file.Path file = java.nio.file.Files.createTempFile("r17p-prudent", ".log");
        ch.qos.logback.classic.encoder.PatternLayoutEncoder enc =
                new ch.qos.logback.classic.encoder.PatternLayoutEncoder();
        enc.setContext(ctx);
        enc.setPattern("%thread %msg%n");
        enc.start();
        ch.qos.logback.core.FileAppender<ILoggingEvent> prudent = new ch.qos.logback.core.FileAppender<>();
        prudent.setContext(ctx);
        prudent.setName("r17p-prudent");
        prudent.setFile(file.toString());
        prudent.setPrudent(true);
        prudent.setEncoder(enc);
        prudent.start();
        nio.addAppender(prudent);
        int statusBefore = ctx.getStatusManager().getCount();
        nio.setLevel(Level.DEBUG);
        nio.setAdditive(false);
        TestingServer server = InProcessEnsembles.startServer();
        try (server) {
            String live = "127.0.0.1:" + server.getPort();
            for (int i = 0; i < 3; i++) {
                try (ZkSessionPool pool =
                                refusedFirst("r17p-log-" + i, dead, live).build();
                        ZkLease lease = pool.lease()) {
                    lease.exists("/");
                }
            }
        } finally {
            nio.detachAppender(prudent);
            prudent.stop();
            nio.detachAppender(app);
            nio.setLevel(saved);
            nio.setAdditive(additive);
        }
        print("case1 send-thread events from ClientCnxnSocketNIO: " + app.sendThreadEvents.get()
                + ", on an interrupted thread: " + app.interrupted.size() + " " + app.interrupted);
        List<String> written = java.nio.file.Files.readAllLines(file);
        List<String> errors = ctx.getStatusManager().getCopyOfStatusList().stream()
                .skip(statusBefore)
                .filter(st -> st.getLevel() >= ch.qos.logback.core.status.Status.WARN)
                .map(st -> st.getMessage() + " / " + st.getThrowable())
                .collect(Collectors.toList());
        print("case1 prudent FileAppender: events " + app.sendThreadEvents.get() + ", lines written " + written.size()
                + ", logback status warnings/errors " + errors);
        print("case1 FileChannel writes on the send thread that failed: " + app.channelFailures);
        assertThat(app.sendThreadEvents.get()).as("events seen").isPositive();
        assertThat(app.channelFailures)
                .as("an appender's FileChannel writes on the send thread")
                .isEmpty();
        assertThat(app.interrupted)
                .as("events logged on an interrupted send thread")
                .isEmpty();
    }

    /**
     * Case 2: the whole ensemble down (kill -9) with a connected pool: no tight reconnect loop (attempts over 10 s and
     * the send thread's CPU stay bounded, the send thread is never seen interrupted), and on restart the same session is
     * back with its ephemeral owned by it.
     */
    @Test
    void ensembleDownNoTightLoopAndSessionBack() throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder().size(3).start();
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name("r17p-down")
                        .connectString(ensemble.connectString())
                        .sessionsPerEnsemble(1)
                        .sessionTimeout(Duration.ofSeconds(40))
                        .connectionTimeout(Duration.ofSeconds(30))
                        .build();
                ZkLease lease = pool.lease()) {
            long sid = lease.sessionId();
            EphemeralNode eph = lease.ephemeral("/r17p-down", V);
            await().atMost(Duration.ofSeconds(20)).until(eph::isPresent);
            Set<Thread> before = zkThreads();
            Thread send = before.stream()
                    .filter(t -> t.getName().contains("SendThread"))
                    .findFirst()
                    .orElseThrow();
            long attempts;
            long cpuNanos;
            int interruptedSeen = 0;
            try (LogCapture log = LogCapture.atDebug()) {
                for (ServerProcess s : ensemble.servers()) {
                    s.kill9();
                }
                long cpu0 = mx.getThreadCpuTime(send.getId());
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                AtomicBoolean done = new AtomicBoolean();
                while (System.nanoTime() < end) {
                    if (persistentlyInterrupted(send)) {
                        interruptedSeen++;
                    }
                    await().pollDelay(Duration.ofMillis(20))
                            .atMost(Duration.ofSeconds(1))
                            .until(() -> true);
                }
                cpuNanos = mx.getThreadCpuTime(send.getId()) - cpu0;
                attempts = log.count(l -> l.contains("Opening socket connection to server"));
                done.set(true);
            }
            print("case2 ensemble down 10 s: socket openings " + attempts + ", send thread cpu "
                    + TimeUnit.NANOSECONDS.toMillis(cpuNanos) + " ms, samples with send thread left interrupted "
                    + interruptedSeen);
            // ZooKeeper pauses up to 1 s before each reconnect and the host provider backs off after each round:
            // a tight loop would be hundreds or thousands of attempts.
            assertThat(attempts)
                    .as("connection attempts in 10 s, 3 servers down")
                    .isLessThanOrEqualTo(100);
            assertThat(cpuNanos).as("send thread CPU over 10 s").isLessThan(TimeUnit.SECONDS.toNanos(3));
            assertThat(interruptedSeen)
                    .as("send thread seen with its interrupt flag set")
                    .isZero();
            for (ServerProcess s : ensemble.servers()) {
                s.restart();
            }
            ensemble.awaitQuorum(Duration.ofSeconds(90));
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                lease.exists("/");
                return true;
            });
            assertThat(lease.sessionId()).as("session id after restart").isEqualTo(sid);
            Stat st = await().atMost(Duration.ofSeconds(30))
                    .ignoreExceptions()
                    .until(() -> lease.exists("/r17p-down"), s -> s != null);
            assertThat(st.getEphemeralOwner()).as("ephemeral owner").isEqualTo(sid);
        }
    }

    /**
     * Case 3: a server that accepts and closes at once (maxClientCnxns=1, the slot held by a raw socket): a new
     * session's attempts must stay bounded, and once the slot frees the session connects.
     */
    @Test
    void acceptThenCloseIsNotHammered() throws Exception {
        try (ProcessEnsemble ensemble =
                ProcessEnsemble.builder().size(1).maxClientCnxns(1).start()) {
            ServerProcess s = ensemble.server(1);
            Socket holder = new Socket("127.0.0.1", s.clientPort());
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            long attempts;
            try (LogCapture log = LogCapture.atDebug();
                    ZkSessionPool pool = ZkSessionPool.builder()
                            .name("r17p-full")
                            .connectString(ensemble.connectString())
                            .sessionsPerEnsemble(1)
                            .sessionTimeout(Duration.ofSeconds(30))
                            .connectionTimeout(Duration.ofSeconds(60))
                            .build()) {
                Set<Thread> baseline = zkThreads();
                CompletableFuture<Long> first = CompletableFuture.supplyAsync(() -> {
                    try (ZkLease lease = pool.lease()) {
                        lease.exists("/");
                        return lease.sessionId();
                    }
                });
                long t0 = System.nanoTime();
                await().pollDelay(Duration.ofSeconds(10))
                        .atMost(Duration.ofSeconds(11))
                        .until(() -> true);
                attempts = log.count(l -> l.contains("Opening socket connection to server"));
                long cpu = 0;
                for (Thread t : zkThreads()) {
                    if (t.getName().contains("SendThread")) {
                        cpu += mx.getThreadCpuTime(t.getId());
                    }
                }
                print("case3 accept-then-close ~10 s: socket openings " + attempts + ", send threads cpu "
                        + TimeUnit.NANOSECONDS.toMillis(cpu) + " ms, elapsed "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms, first done "
                        + first.isDone() + ", baseline threads " + baseline.size());
                assertThat(attempts)
                        .as("attempts on a server that closes each connection, ~10 s")
                        .isLessThanOrEqualTo(100);
                holder.close();
                Long sid = first.get(60, TimeUnit.SECONDS);
                assertThat(sid).isNotZero();
            } finally {
                holder.close();
            }
        }
    }

    /**
     * Case 4: connections cut again and again (ZkProxy.closeAllConnections) while application threads run requests:
     * every request succeeds or fails with a ZkException, no application thread is left interrupted, the session is
     * kept, and the send thread is never seen interrupted.
     */
    @Test
    void repeatedCutsLeakNoInterrupts() throws Exception {
        TestingServer server = InProcessEnsembles.startServer();
        try (server;
                ZkProxy proxy = ZkProxy.to("127.0.0.1:" + server.getPort());
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name("r17p-cuts")
                        .connectString(proxy.connectString())
                        .sessionsPerEnsemble(1)
                        .sessionTimeout(Duration.ofSeconds(30))
                        .connectionTimeout(Duration.ofSeconds(20))
                        .build()) {
            long sid;
            try (ZkLease l = pool.lease()) {
                sid = l.sessionId();
                l.create("/r17p-cuts", V, CreateMode.PERSISTENT);
            }
            AtomicBoolean stop = new AtomicBoolean();
            Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
            ConcurrentLinkedQueue<String> bad = new ConcurrentLinkedQueue<>();
            AtomicLong sendInterrupted = new AtomicLong();
            List<Thread> workers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                Thread t = new Thread(() -> {
                    while (!stop.get()) {
                        try (ZkLease l = pool.lease()) {
                            l.setData("/r17p-cuts", V, -1);
                            l.getData("/r17p-cuts");
                            outcomes.computeIfAbsent("ok", k -> new AtomicLong())
                                    .incrementAndGet();
                        } catch (ZkException e) {
                            outcomes.computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicLong())
                                    .incrementAndGet();
                        } catch (Throwable e) {
                            bad.add(e.toString());
                        }
                        if (Thread.currentThread().isInterrupted()) {
                            bad.add("worker left interrupted");
                            Thread.interrupted();
                        }
                    }
                });
                t.start();
                workers.add(t);
            }
            for (int i = 0; i < 20; i++) {
                proxy.closeAllConnections();
                await().atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(10))
                        .until(() -> {
                            for (Thread t : zkThreads()) {
                                if (t.getName().contains("SendThread") && persistentlyInterrupted(t)) {
                                    sendInterrupted.incrementAndGet();
                                }
                            }
                            return proxy.clientConnectionCount() > 0;
                        });
                long okBefore =
                        outcomes.computeIfAbsent("ok", k -> new AtomicLong()).get();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> outcomes.get("ok").get() > okBefore);
            }
            stop.set(true);
            for (Thread t : workers) {
                t.join(30_000);
            }
            long sidAfter;
            try (ZkLease l = pool.lease()) {
                sidAfter = l.sessionId();
            }
            print("case4 20 cuts: outcomes " + outcomes + ", unexpected " + bad + ", send thread seen interrupted "
                    + sendInterrupted.get() + ", session " + Long.toHexString(sid) + " -> "
                    + Long.toHexString(sidAfter));
            assertThat(bad).as("undocumented outcomes").isEmpty();
            assertThat(sendInterrupted.get()).isZero();
            assertThat(sidAfter).isEqualTo(sid);
        }
    }

    /**
     * Case 5: pool.close() while sessions loop over refused addresses only: returns within a generous bound (twice the
     * close timeout plus slack) and leaves no ZooKeeper thread behind.
     */
    @Test
    void closeDuringRefusedReconnectLoopLeavesNoThreads() throws Exception {
        Set<Thread> baseline = zkThreads();
        String connect = deadAddress() + "," + deadAddress() + "," + deadAddress();
        ZkSessionPool pool = ZkSessionPool.builder()
                .name("r17p-close")
                .connectString(connect)
                .sessionsPerEnsemble(2)
                .sessionTimeout(Duration.ofSeconds(30))
                .connectionTimeout(Duration.ofSeconds(30))
                .build();
        CompletableFuture<Object> waiting = CompletableFuture.supplyAsync(() -> {
            try (ZkLease l = pool.lease()) {
                return l.exists("/");
            }
        });
        await().atMost(Duration.ofSeconds(20)).until(() -> zkThreads().size() > baseline.size());
        await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> true);
        long t0 = System.nanoTime();
        pool.close();
        long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        Object waiterOutcome;
        try {
            waiterOutcome = waiting.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            waiterOutcome = e.getCause();
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            Set<Thread> now = zkThreads();
            now.removeAll(baseline);
            return now.stream().noneMatch(Thread::isAlive);
        });
        Set<Thread> left = zkThreads();
        left.removeAll(baseline);
        print("case5 close during refused loop: " + closeMs + " ms, waiter got " + waiterOutcome + ", left " + left);
        assertThat(closeMs).as("close (ms)").isLessThan(20_000);
        assertThat(left).isEmpty();
    }

    /** Case 6: an application's own zookeeper.clientCnxnSocket (NIO or Netty) is what the handle uses. */
    @Test
    void applicationSocketPropertyIsHonoured() throws Exception {
        String key = "zookeeper.clientCnxnSocket";
        String saved = System.getProperty(key);
        TestingServer server = InProcessEnsembles.startServer();
        try (server) {
            String live = "127.0.0.1:" + server.getPort();
            Map<String, String> seen = new ConcurrentHashMap<>();
            for (Class<?> wanted : List.of(ClientCnxnSocketNIO.class, ClientCnxnSocketNetty.class)) {
                System.setProperty(key, wanted.getName());
                seen.put(wanted.getSimpleName(), socketClassOfANewPool(live));
            }
            restore(key, saved);
            seen.put("default", socketClassOfANewPool(live));
            print("case6 socket classes: " + seen);
            assertThat(seen.get("ClientCnxnSocketNIO")).isEqualTo(ClientCnxnSocketNIO.class.getName());
            assertThat(seen.get("ClientCnxnSocketNetty")).isEqualTo(ClientCnxnSocketNetty.class.getName());
            assertThat(seen.get("default")).isEqualTo(PromptClientCnxnSocketNIO.class.getName());
        } finally {
            restore(key, saved);
        }
    }

    /** The socket class of the handle of a new one-session pool on {@code live}. */
    private static String socketClassOfANewPool(String live) throws Exception {
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .name("r17p-prop")
                        .connectString(live)
                        .sessionsPerEnsemble(1)
                        .sessionTimeout(Duration.ofSeconds(30))
                        .connectionTimeout(Duration.ofSeconds(20))
                        .build();
                ZkLease lease = pool.lease()) {
            lease.exists("/");
            return socketClassOf(lease).getName();
        }
    }

    private static void restore(String key, String saved) {
        if (saved == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, saved);
        }
    }
}
