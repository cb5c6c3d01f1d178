package dev.zksdk.benchmarks;

import dev.zksdk.SessionEvent;
import dev.zksdk.SessionListener;
import dev.zksdk.SessionState;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;

/**
 * One simulated host of {@link FleetStormBenchmark}: a JVM of its own whose ZooKeeper connections all leave from one
 * loopback address (see {@code org.apache.zookeeper.SourceBoundClientCnxnSocket}), running {@code workers} workers
 * that each need ZooKeeper.
 *
 * <ul>
 *   <li>{@code zookeeper}: each worker opens its own {@link ZooKeeper} handle (the incidents' clients);
 *   <li>{@code curator}: each worker starts its own {@link CuratorFramework};
 *   <li>{@code sdk}: the host's workers share one {@link ZkSessionPool} of {@code sdkSessions} sessions, each worker
 *       holding a lease.
 * </ul>
 *
 * <p>A <em>slot</em> is one session-holding client: a worker's handle or framework, or one of the pool's sessions. The
 * benchmark drives the host over standard input, one command a line, and reads its answers from standard output (lines
 * starting {@value #PREFIX}):
 *
 * <ul>
 *   <li>at start: {@code READY <connected>} once {@code expectConnected} slots are connected (the server's
 *       {@code maxClientCnxns} turns the others away);
 *   <li>{@code ARM}: the connected slots and their session ids are this storm's; answer {@code ARMED <n>}, then
 *       {@code DOWN} once each of them has seen the server go, then {@code BACK ...} once as many slots are connected
 *       again as were armed (the host holds as many sessions as before the kill);
 *   <li>{@code GIVEUP}: the benchmark waited long enough; unless {@code BACK} was sent meanwhile, answer {@code SHORT}
 *       with {@code BACK}'s fields as they are now;
 *   <li>{@code STATUS}: answer {@code STATUS} and what the host holds, for a message;
 *   <li>{@code STOP}: close everything, answer {@code STOPPED} and exit.
 * </ul>
 *
 * <p>{@code BACK <allBackNanos> <sameSession> <expired> <displaced> <newSessions> <t,t,...>}: when the host was back
 * ({@link System#nanoTime()}, the machine's monotonic clock, comparable across its processes); armed slots connected
 * again with their own session; armed slots whose session expired; armed slots not connected when the host was back
 * (another worker took their place: their sessions will expire); slots connected that were not armed (workers the
 * server had turned away before the kill); and when each connected slot came back.
 */
public final class FleetHost {

    static final String PREFIX = "FLEET ";
    static final String ZOOKEEPER = "zookeeper";
    static final String CURATOR = "curator";
    static final String SDK = "sdk";
    private static final Duration CONNECT_WAIT = Duration.ofSeconds(120);
    /** Handles and frameworks are opened this many at a time, each batch given a moment to try. */
    private static final int OPEN_BATCH = 25;
    /** How long closing one handle may wait for the server's answer. */
    private static final int CLOSE_WAIT_MILLIS = 200;

    private final PrintStream out;
    private final int slots;
    private final boolean[] connected;
    private final long[] sessionId;
    private final long[] connectedAt;
    private final boolean[] expiredFlag;

    // The storm being watched; guarded by this.
    private boolean armed;
    private boolean downReported;
    private boolean backReported;
    private long[] armedSession;
    private boolean[] wentDown;
    private int armedCount;
    private int downCount;

    private FleetHost(PrintStream out, int slots) {
        this.out = out;
        this.slots = slots;
        connected = new boolean[slots];
        sessionId = new long[slots];
        connectedAt = new long[slots];
        expiredFlag = new boolean[slots];
    }

    /**
     * {@code client connectString workers sdkSessions expectConnected sessionTimeoutMillis}.
     *
     * @throws IllegalArgumentException for missing or bad arguments
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            throw new IllegalArgumentException(
                    "usage: FleetHost client connectString workers sdkSessions expectConnected sessionTimeoutMillis");
        }
        String client = args[0];
        String connect = args[1];
        int workers = Integer.parseInt(args[2]);
        int sdkSessions = Integer.parseInt(args[3]);
        int expect = Integer.parseInt(args[4]);
        int timeoutMillis = Integer.parseInt(args[5]);
        // Every worker turned away makes ZooKeeper's client log a warning with a stack trace, about once a second.
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("org.apache.zookeeper"))
                .setLevel(ch.qos.logback.classic.Level.ERROR);
        // The protocol has standard output to itself: logs go to standard error, which the benchmark keeps in a file.
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        List<AutoCloseable> closeables = new ArrayList<>();
        FleetHost host = new FleetHost(out, client.equals(SDK) ? sdkSessions : workers);
        try {
            switch (client) {
                case ZOOKEEPER -> host.openHandles(connect, workers, timeoutMillis, closeables);
                case CURATOR -> host.openFrameworks(connect, workers, timeoutMillis, closeables);
                case SDK -> host.openPool(connect, workers, sdkSessions, timeoutMillis, closeables);
                default ->
                    throw new IllegalArgumentException(
                            "client must be zookeeper, curator or sdk, was '" + client + "'");
            }
            host.awaitConnected(expect);
            out.println(PREFIX + "READY " + host.connectedCount());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.equals("ARM")) {
                    out.println(PREFIX + "ARMED " + host.arm());
                } else if (line.equals("GIVEUP")) {
                    host.giveUp();
                } else if (line.equals("STATUS")) {
                    out.println(PREFIX + "STATUS " + host.status());
                } else if (line.equals("STOP")) {
                    break;
                } else {
                    out.println(PREFIX + "ERROR unknown command '" + line + "'");
                }
            }
        } catch (Exception | Error e) {
            out.println(PREFIX + "ERROR " + e.toString().replace('\n', ' '));
            e.printStackTrace();
            System.exit(1);
        }
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                e.printStackTrace();
            }
        }
        out.println(PREFIX + "STOPPED");
        System.exit(0);
    }

    private void openHandles(String connect, int workers, int timeoutMillis, List<AutoCloseable> closeables)
            throws IOException, InterruptedException {
        for (int i = 0; i < workers; i++) {
            int slot = i;
            ZooKeeper[] self = new ZooKeeper[1];
            synchronized (self) {
                self[0] = new ZooKeeper(connect, timeoutMillis, event -> {
                    KeeperState state = event.getState();
                    if (state == KeeperState.SyncConnected) {
                        ZooKeeper zk;
                        synchronized (self) {
                            zk = self[0];
                        }
                        onConnected(slot, zk.getSessionId());
                    } else if (state == KeeperState.Disconnected) {
                        onDisconnected(slot);
                    } else if (state == KeeperState.Expired) {
                        onExpired(slot);
                    }
                });
            }
            ZooKeeper handle = self[0];
            // A handle the server turned away has no session to close: do not wait on it.
            closeables.add(() -> handle.close(CLOSE_WAIT_MILLIS));
            pauseEveryBatch(i);
        }
    }

    private void openFrameworks(String connect, int workers, int timeoutMillis, List<AutoCloseable> closeables)
            throws InterruptedException {
        for (int i = 0; i < workers; i++) {
            int slot = i;
            CuratorFramework curator = CuratorFrameworkFactory.newClient(
                    connect, timeoutMillis, timeoutMillis, new ExponentialBackoffRetry(1000, 3));
            curator.getConnectionStateListenable().addListener((c, state) -> {
                if (state == ConnectionState.CONNECTED || state == ConnectionState.RECONNECTED) {
                    long id;
                    try {
                        id = c.getZookeeperClient().getZooKeeper().getSessionId();
                    } catch (Exception e) {
                        id = -1;
                    }
                    onConnected(slot, id);
                } else if (state == ConnectionState.SUSPENDED) {
                    onDisconnected(slot);
                } else if (state == ConnectionState.LOST) {
                    onExpired(slot);
                }
            });
            curator.start();
            closeables.add(curator::close);
            pauseEveryBatch(i);
        }
    }

    private void openPool(
            String connect, int workers, int sessions, int timeoutMillis, List<AutoCloseable> closeables) {
        ZkSessionPool pool = ZkSessionPool.builder()
                .connectString(connect)
                .name("fleet")
                .sessionsPerEnsemble(sessions)
                .sessionTimeout(Duration.ofMillis(timeoutMillis))
                .connectionTimeout(Duration.ofMillis(timeoutMillis))
                .listener(new SessionListener() {
                    @Override
                    public void onStateChange(SessionEvent event) {
                        int slot = event.sessionIndex();
                        SessionState state = event.state();
                        if (state == SessionState.CONNECTED || state == SessionState.RECONNECTED) {
                            if (event.newSession() && state == SessionState.RECONNECTED) {
                                onExpired(slot);
                            }
                            onConnected(slot, event.sessionIdAfter());
                        } else if (state == SessionState.SUSPENDED) {
                            onDisconnected(slot);
                        } else if (state == SessionState.LOST) {
                            onExpired(slot);
                        }
                    }
                })
                .build();
        closeables.add(pool);
        for (int i = 0; i < workers; i++) {
            ZkLease lease = pool.lease();
            closeables.add(lease);
            // Leases go round robin over the pool's sessions: the first of each session opens it.
            lease.exists("/");
        }
    }

    private static void pauseEveryBatch(int i) throws InterruptedException {
        if ((i + 1) % OPEN_BATCH == 0) {
            TimeUnit.MILLISECONDS.sleep(100);
        }
    }

    private synchronized void awaitConnected(int expect) throws InterruptedException {
        long deadline = System.nanoTime() + CONNECT_WAIT.toNanos();
        while (connectedCount() < expect) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException(connectedCount() + " of " + slots + " slots connected within "
                        + CONNECT_WAIT + ", expected " + expect);
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    private int connectedCount() {
        int n = 0;
        for (boolean c : connected) {
            n += c ? 1 : 0;
        }
        return n;
    }

    private synchronized int arm() {
        armed = true;
        downReported = false;
        backReported = false;
        armedSession = new long[slots];
        wentDown = new boolean[slots];
        Arrays.fill(expiredFlag, false);
        armedCount = 0;
        downCount = 0;
        for (int i = 0; i < slots; i++) {
            if (connected[i]) {
                armedSession[i] = sessionId[i];
                armedCount++;
            }
        }
        return armedCount;
    }

    /** For a benchmark that waited in vain: what this host holds now and what it was waiting for. */
    private synchronized String status() {
        int armedConnected = 0;
        for (int i = 0; i < slots; i++) {
            if (armedSession != null && armedSession[i] != 0 && connected[i]) {
                armedConnected++;
            }
        }
        return "connected=" + connectedCount() + " of " + slots + " slots, armed=" + armedCount + ", went down="
                + downCount + ", armed and connected again=" + armedConnected + ", down reported=" + downReported
                + ", back reported=" + backReported;
    }

    private synchronized void onConnected(int slot, long id) {
        connected[slot] = true;
        sessionId[slot] = id;
        connectedAt[slot] = System.nanoTime();
        notifyAll();
        checkBack();
    }

    private synchronized void onDisconnected(int slot) {
        connected[slot] = false;
        if (armed && armedSession[slot] != 0 && !wentDown[slot]) {
            wentDown[slot] = true;
            downCount++;
            if (downCount == armedCount && !downReported) {
                downReported = true;
                out.println(PREFIX + "DOWN");
            }
        }
    }

    private synchronized void onExpired(int slot) {
        connected[slot] = false;
        if (armed && armedSession[slot] != 0) {
            expiredFlag[slot] = true;
        }
    }

    /** Once every armed slot went down, the host is back when as many slots are connected as were armed. */
    private void checkBack() {
        if (!armed || !downReported || backReported || connectedCount() < armedCount) {
            return;
        }
        report("BACK");
    }

    /**
     * The benchmark stopped waiting: unless the host was back meanwhile, reports what it holds now as {@code SHORT},
     * with the same fields as {@code BACK}.
     */
    private synchronized void giveUp() {
        if (!armed || backReported) {
            return;
        }
        report("SHORT");
    }

    private void report(String what) {
        backReported = true;
        armed = false;
        long now = System.nanoTime();
        int same = 0;
        int expired = 0;
        int displaced = 0;
        int fresh = 0;
        StringJoiner times = new StringJoiner(",");
        for (int i = 0; i < slots; i++) {
            boolean wasArmed = armedSession[i] != 0;
            if (connected[i]) {
                times.add(Long.toString(connectedAt[i]));
            }
            if (!wasArmed) {
                fresh += connected[i] ? 1 : 0;
            } else if (expiredFlag[i] || (connected[i] && sessionId[i] != armedSession[i])) {
                expired++;
            } else if (connected[i]) {
                same++;
            } else {
                displaced++;
            }
        }
        out.println(
                PREFIX + what + " " + now + " " + same + " " + expired + " " + displaced + " " + fresh + " " + times);
    }
}
