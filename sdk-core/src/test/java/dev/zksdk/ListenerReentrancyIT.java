package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * User code may call back into the SDK from every listener the SDK calls, and it never runs on ZooKeeper's threads or
 * on the SDK's recovery thread. From inside each kind of callback the same seven calls are made; each must succeed
 * well within the session timeout, and what they did must be visible on the server afterwards.
 */
class ListenerReentrancyIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(4);
    static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(3);
    /** Each call from a callback must return within this: ample for a local server, well below the session timeout. */
    static final Duration PROMPT = Duration.ofSeconds(2);
    /**
     * Once one call has hung, the rest are not made (they would mostly hang too, one timeout after another); the
     * failure names the one that hung.
     */
    static final boolean STOP_AFTER_A_SLOW_CALL = true;
    /** ZooKeeper's client threads ("...-EventThread", "...-SendThread(host:port)") and the SDK's recovery thread. */
    static final Pattern FORBIDDEN_THREAD = Pattern.compile(".*-(EventThread|SendThread).*|.*-recovery");

    static final byte[] DATA = "data".getBytes(StandardCharsets.UTF_8);

    TestingServer server;
    ZkProxy proxy;
    RawZooKeeper observer;
    ZkSessionPool pool;
    ZkLease lease;
    /** Registered before the callback; the callback closes it. */
    EphemeralNode toClose;
    /** Registered before the callback; the callback closes it. */
    WatchHandle watchToClose;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
        pool = ZkSessionPool.builder()
                .name("reentry")
                .connectString(proxy.connectString())
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(CONNECTION_TIMEOUT)
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(5))
                        .breakerFailureRateThreshold(100f)
                        .build())
                .build();
        lease = pool.lease();
        lease.create("/re", new byte[0], CreateMode.PERSISTENT);
        lease.create("/re/data", DATA, CreateMode.PERSISTENT);
        toClose = lease.ephemeral("/re/close-me", DATA);
        watchToClose = lease.watch("/re/unwatched", event -> {});
    }

    @AfterEach
    void stop() throws Exception {
        lease.close();
        pool.close();
        observer.close();
        proxy.close();
        server.close();
    }

    // -------------------------------------------------------------------------------------------- watch listeners

    @Test
    void aNodeWatchListenerMayCallBackIntoTheSdk() throws Exception {
        Reentry reentry = new Reentry("WatchListener of lease.watch");
        lease.create("/re/trigger", DATA, CreateMode.PERSISTENT);
        lease.watch("/re/trigger", event -> reentry.runOnce());
        observer.zk().setData("/re/trigger", DATA, -1);
        reentry.assertAllSucceeded();
    }

    @Test
    void aTreeWatchListenerMayCallBackIntoTheSdk() throws Exception {
        Reentry reentry = new Reentry("WatchListener of lease.watchTree");
        lease.create("/re/trigger", DATA, CreateMode.PERSISTENT);
        lease.watchTree("/re/trigger", event -> reentry.runOnce());
        observer.zk().create("/re/trigger/child", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        reentry.assertAllSucceeded();
    }

    @Test
    void aChildrenWatchListenerMayCallBackIntoTheSdk() throws Exception {
        Reentry reentry = new Reentry("WatchListener of lease.watchChildren");
        lease.create("/re/trigger", DATA, CreateMode.PERSISTENT);
        lease.watchChildren("/re/trigger", event -> reentry.runOnce());
        observer.zk().create("/re/trigger/child", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        reentry.assertAllSucceeded();
    }

    // ------------------------------------------------------------------------------------------ session listeners

    @Test
    void onStateChangeMayCallBackIntoTheSdkWhenReconnectedWithinTheSession() throws Exception {
        Reentry reentry = new Reentry("SessionListener.onStateChange(RECONNECTED, same session)");
        long session = lease.sessionId();
        pool.addListener(new SessionListener() {
            @Override
            public void onStateChange(SessionEvent event) {
                if (event.state() == SessionState.RECONNECTED) {
                    reentry.runOnce();
                }
            }
        });

        proxy.closeAllConnections();

        reentry.assertAllSucceeded();
        assertThat(lease.sessionId()).isEqualTo(session);
    }

    @Test
    void onStateChangeMayCallBackIntoTheSdkWhenANewSessionReplacedAnExpiredOne() throws Exception {
        Reentry reentry = new Reentry("SessionListener.onStateChange(RECONNECTED, new session)");
        pool.addListener(new SessionListener() {
            @Override
            public void onStateChange(SessionEvent event) {
                if (event.state() == SessionState.RECONNECTED && event.newSession()) {
                    reentry.runOnce();
                }
            }
        });

        expire();

        reentry.assertAllSucceeded();
    }

    @Test
    void onRecoveredMayCallBackIntoTheSdk() throws Exception {
        Reentry reentry = new Reentry("SessionListener.onRecovered");
        pool.addListener(new SessionListener() {
            @Override
            public void onRecovered(RecoveryEvent event) {
                reentry.runOnce();
            }
        });

        expire();

        reentry.assertAllSucceeded();
    }

    @Test
    void onEphemeralConflictMayCallBackIntoTheSdk() throws Exception {
        Reentry reentry = new Reentry("SessionListener.onEphemeralConflict");
        lease.ephemeral("/re/contested", DATA);
        List<String> conflicts = new CopyOnWriteArrayList<>();
        pool.addListener(new SessionListener() {
            @Override
            public void onEphemeralConflict(String path, long ownerSessionId) {
                conflicts.add(path);
                reentry.runOnce();
            }
        });

        // While the pool cannot reach the server its session ends, and another client takes the path.
        proxy.freeze();
        expire();
        observer.zk().create("/re/contested", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        proxy.unfreeze();

        reentry.assertAllSucceeded();
        assertThat(conflicts).contains("/re/contested");
        assertThat(observer.zk().exists("/re/contested", false).getEphemeralOwner())
                .isEqualTo(observer.sessionId());
    }

    // ------------------------------------------------------------------------------------ ephemeral path listener

    @Test
    void onPathChangeMayCallBackIntoTheSdk() throws Exception {
        Reentry reentry = new Reentry("EphemeralNode.onPathChange");
        EphemeralNode sequential = lease.ephemeral("/re/seq-", DATA, CreateMode.EPHEMERAL_SEQUENTIAL);
        String before = sequential.path();
        List<String> paths = new CopyOnWriteArrayList<>();
        sequential.onPathChange(path -> {
            paths.add(path);
            reentry.runOnce();
        });

        expire();

        reentry.assertAllSucceeded();
        assertThat(paths).isNotEmpty().doesNotContain(before);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** Ends the pool's session on the server (directly, not through the proxy). */
    private void expire() throws Exception {
        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
        ForcedExpiry.expireSession(server.getConnectString(), zk.getSessionId(), zk.getSessionPasswd());
    }

    /** The calls made from inside one callback, and what became of them. */
    private final class Reentry {
        final String callback;
        final AtomicBoolean ran = new AtomicBoolean();
        final CountDownLatch done = new CountDownLatch(1);
        final List<String> problems = new CopyOnWriteArrayList<>();
        final Recorder newWatch = new Recorder();
        volatile String thread;
        volatile boolean hung;

        Reentry(String callback) {
            this.callback = callback;
        }

        /** Makes the calls, the first time it is called; later calls return at once. */
        void runOnce() {
            if (!ran.compareAndSet(false, true)) {
                return;
            }
            thread = Thread.currentThread().getName();
            try {
                call(
                        "lease.getData",
                        () -> assertThat(lease.getData("/re/data")).isEqualTo(DATA));
                call("lease.create", () -> lease.create("/re/created", DATA, CreateMode.PERSISTENT));
                call("lease.ephemeral (a new path)", () -> lease.ephemeral("/re/registered", DATA));
                call("EphemeralNode.close", () -> toClose.close());
                call("lease.watch (a new watch)", () -> lease.watch("/re/new-watch", newWatch));
                call("WatchHandle.close", () -> watchToClose.close());
                call("pool.lease", () -> {
                    try (ZkLease another = pool.lease()) {
                        assertThat(another.exists("/re")).isNotNull();
                    }
                });
            } finally {
                done.countDown();
            }
        }

        private void call(String what, Runnable call) {
            if (hung && STOP_AFTER_A_SLOW_CALL) {
                problems.add(what + ": not tried, an earlier call hung");
                return;
            }
            long start = System.nanoTime();
            Throwable failure = null;
            try {
                call.run();
            } catch (Throwable e) {
                failure = e;
            }
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (tookMs > PROMPT.toMillis()) {
                hung = true;
                problems.add(what + " took " + tookMs + " ms" + (failure == null ? "" : " and threw " + failure));
            } else if (failure != null) {
                problems.add(what + " threw " + failure);
            }
        }

        /** Waits for the callback, then checks the calls, the thread, and what the calls did on the server. */
        void assertAllSucceeded() throws Exception {
            assertThat(done.await(60, TimeUnit.SECONDS))
                    .as("%s was called and returned", callback)
                    .isTrue();
            SoftAssertions.assertSoftly(softly -> {
                softly.assertThat(problems)
                        .as("SDK calls made from inside %s (on thread %s)", callback, thread)
                        .isEmpty();
                softly.assertThat(thread).as("the thread %s runs on", callback).doesNotMatch(FORBIDDEN_THREAD);
            });

            assertThat(observer.zk().exists("/re/created", false))
                    .as("/re/created")
                    .isNotNull();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                Stat registered = observer.zk().exists("/re/registered", false);
                assertThat(registered).as("/re/registered").isNotNull();
                assertThat(registered.getEphemeralOwner()).isEqualTo(lease.sessionId());
                assertThat(observer.zk().exists("/re/close-me", false))
                        .as("/re/close-me, closed")
                        .isNull();
            });
            observer.zk().create("/re/new-watch", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            await().atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(newWatch.watchEvents())
                            .as("events of the watch added from inside %s", callback)
                            .contains(new WatchEvent(WatchEvent.Type.CREATED, "/re/new-watch")));
        }
    }
}
