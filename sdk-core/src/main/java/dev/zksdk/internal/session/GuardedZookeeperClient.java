package dev.zksdk.internal.session;

import java.lang.reflect.Field;
import org.apache.curator.CuratorZookeeperClient;
import org.apache.curator.RetryLoop;
import org.apache.curator.RetryPolicy;
import org.apache.curator.SessionFailRetryLoop;
import org.apache.curator.TimeTrace;
import org.apache.curator.drivers.OperationTrace;
import org.apache.curator.drivers.TracerDriver;
import org.apache.curator.ensemble.fixed.FixedEnsembleProvider;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.utils.DefaultZookeeperFactory;
import org.apache.curator.utils.ZookeeperCompatibility;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's {@link CuratorZookeeperClient} as everyone sees it ({@code lease.curator().getZookeeperClient()}, and
 * Curator itself): every call goes to the shared client, except those that would end or replace the session for
 * every lease on it ({@code close}, {@code start}, {@code reset}, a new retry policy). Those are refused unless the
 * pool itself makes them ({@link #asPool}), or, for {@code reset}, Curator's connection-state manager (it resets a
 * handle whose event thread died, CURATOR-561).
 *
 * <p>A subclass, because Curator hands this type out as a class; installed in place of the Curator client's own (see
 * {@link #install}), because Curator's {@code CuratorFrameworkImpl} is final and recipes such as {@code CuratorCache}
 * need the real framework type, so a wrapper around the framework cannot be used. The instance's own state (an
 * unstarted connection with no thread and no socket) is never used: every public method is overridden, which a test
 * checks.
 */
final class GuardedZookeeperClient extends CuratorZookeeperClient {

    private static final Logger log = LoggerFactory.getLogger(GuardedZookeeperClient.class);
    private static final ThreadLocal<Boolean> POOL_CALL = new ThreadLocal<>();

    private final CuratorZookeeperClient delegate;

    GuardedZookeeperClient(CuratorZookeeperClient delegate) {
        super(
                new DefaultZookeeperFactory(),
                new FixedEnsembleProvider("127.0.0.1:1"),
                1,
                1,
                0,
                null,
                new RetryOneTime(1),
                false);
        this.delegate = delegate;
    }

    /**
     * Puts a guard in front of {@code framework}'s client: its {@code getZookeeperClient()} returns the guard from now
     * on, to recipes and lease holders as to Curator itself. Returns false (and logs) when this Curator version keeps
     * its client elsewhere: the pool then works unguarded.
     */
    static boolean install(CuratorFramework framework) {
        try {
            Field field = framework.getClass().getDeclaredField("client");
            field.setAccessible(true);
            CuratorZookeeperClient real = (CuratorZookeeperClient) field.get(framework);
            field.set(framework, new GuardedZookeeperClient(real));
            return framework.getZookeeperClient() instanceof GuardedZookeeperClient;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn(
                    "this Curator version ({}) keeps its ZooKeeper client where zk-sdk cannot guard it: "
                            + "lease.curator().getZookeeperClient().close() is not refused",
                    framework.getClass().getName(),
                    e);
            return false;
        }
    }

    /**
     * Tells {@code framework} (and so every recipe made on it, such as {@code CuratorCache}, which then uses one-shot
     * watches, and {@code watchers()}, which then refuses) that the servers have no persistent watches. Curator fixes
     * this when the client is built, before the pool knows the servers; logged and left when this Curator version keeps
     * it elsewhere.
     */
    static void withoutPersistentWatches(CuratorFramework framework) {
        if (!framework.getZookeeperCompatibility().hasPersistentWatchers()) {
            return;
        }
        try {
            Field field = framework.getClass().getDeclaredField("zookeeperCompatibility");
            field.setAccessible(true);
            field.set(
                    framework,
                    ZookeeperCompatibility.builder()
                            .hasPersistentWatchers(false)
                            .build());
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn(
                    "this Curator version ({}) keeps its ZooKeeper compatibility where zk-sdk cannot set it: Curator "
                            + "recipes on lease.curator() may send persistent watches to servers without them",
                    framework.getClass().getName(),
                    e);
        }
    }

    /** Runs {@code action} (a start or close of the pool's own Curator client) with the guard open on this thread. */
    static void asPool(Runnable action) {
        Boolean before = POOL_CALL.get();
        POOL_CALL.set(Boolean.TRUE);
        try {
            action.run();
        } finally {
            if (before == null) {
                POOL_CALL.remove();
            }
        }
    }

    private static boolean byPool() {
        return POOL_CALL.get() != null;
    }

    private static boolean byCuratorStateManager() {
        return StackWalker.getInstance()
                .walk(frames -> frames.anyMatch(
                        f -> f.getClassName().equals("org.apache.curator.framework.state.ConnectionStateManager")));
    }

    private static UnsupportedOperationException refused(String what) {
        return new UnsupportedOperationException("this CuratorZookeeperClient is shared by the zk-sdk pool: " + what
                + " would end or replace the session of every lease on it; close the lease or the pool instead");
    }

    @Override
    public ZooKeeper getZooKeeper() throws Exception {
        return delegate.getZooKeeper();
    }

    @Override
    public RetryLoop newRetryLoop() {
        return delegate.newRetryLoop();
    }

    @Override
    public SessionFailRetryLoop newSessionFailRetryLoop(SessionFailRetryLoop.Mode mode) {
        return delegate.newSessionFailRetryLoop(mode);
    }

    @Override
    public boolean isConnected() {
        return delegate.isConnected();
    }

    @Override
    public boolean blockUntilConnectedOrTimedOut() throws InterruptedException {
        return delegate.blockUntilConnectedOrTimedOut();
    }

    @Override
    public void start() throws Exception {
        if (!byPool()) {
            throw refused("start()");
        }
        delegate.start();
    }

    @Override
    public void close() {
        if (!byPool()) {
            throw refused("close()");
        }
        delegate.close();
    }

    @Override
    public void close(int waitForShutdownTimeoutMs) {
        if (!byPool()) {
            throw refused("close(int)");
        }
        delegate.close(waitForShutdownTimeoutMs);
    }

    @Override
    public void setRetryPolicy(RetryPolicy policy) {
        if (delegate == null) {
            super.setRetryPolicy(policy); // the superclass's constructor, for the unused state of this instance
            return;
        }
        throw refused("setRetryPolicy(...)");
    }

    @Override
    public RetryPolicy getRetryPolicy() {
        return delegate.getRetryPolicy();
    }

    @Override
    public TimeTrace startTracer(String name) {
        return delegate.startTracer(name);
    }

    @Override
    public OperationTrace startAdvancedTracer(String name) {
        return delegate.startAdvancedTracer(name);
    }

    @Override
    public TracerDriver getTracerDriver() {
        return delegate.getTracerDriver();
    }

    @Override
    public void setTracerDriver(TracerDriver tracer) {
        delegate.setTracerDriver(tracer);
    }

    @Override
    public String getCurrentConnectionString() {
        return delegate.getCurrentConnectionString();
    }

    @Override
    public int getConnectionTimeoutMs() {
        return delegate.getConnectionTimeoutMs();
    }

    @Override
    public void reset() throws Exception {
        if (!byPool() && !byCuratorStateManager()) {
            throw refused("reset()");
        }
        delegate.reset();
    }

    @Override
    public long getInstanceIndex() {
        return delegate.getInstanceIndex();
    }

    @Override
    public int getLastNegotiatedSessionTimeoutMs() {
        return delegate.getLastNegotiatedSessionTimeoutMs();
    }

    @Override
    public void internalBlockUntilConnectedOrTimedOut() throws InterruptedException {
        delegate.internalBlockUntilConnectedOrTimedOut();
    }

    @Override
    public String toString() {
        return "pooled " + delegate;
    }
}
