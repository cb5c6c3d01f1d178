package dev.zksdk.internal.session;

import dev.zksdk.hosts.BudgetedZooKeeper;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.zookeeper.ZooKeeper;

/**
 * Declares a session expired on the client when no server can: the server expires a session once the negotiated
 * timeout has passed since it last heard from the client, and while no server is reachable nobody says so (Curator
 * would declare it only a session timeout after the disconnect, which itself comes up to two thirds of a timeout after
 * the last contact). So the live handle's received-packet count (and the bytes of a packet still arriving) is sampled while connected, and when the connection
 * is lost an expiry is due at the last contact plus the negotiated timeout (plus two sampling periods): no later than
 * the server's own expiry by more than that margin, and no earlier than it by more than the server's tick.
 *
 * <p>When the count cannot be read (another ZooKeeper version), the expiry is due a session timeout after the
 * disconnect, as Curator's own timer would have it (the pool turns Curator's off, so that only this one declares it).
 */
final class ExpiryDetector {

    private final ScheduledExecutorService scheduler;
    private final Duration samplePeriod;
    private final Supplier<ZooKeeper> liveHandle;
    /** Run on every sample of a connected handle, with the last contact; null for none. */
    private final HungServerCheck hung;

    private volatile ScheduledFuture<?> sampler;
    private volatile ScheduledFuture<?> due;
    private volatile long lastReceived = -1;
    private volatile long lastContactNanos;

    /**
     * @param requestedTimeout the session timeout asked for: the sampling period is a twentieth of it, 20–100 ms
     * @param liveHandle the connected handle, or null while disconnected
     * @param hung checks each sample for a hung server; null for none
     */
    ExpiryDetector(
            ScheduledExecutorService scheduler,
            Duration requestedTimeout,
            Supplier<ZooKeeper> liveHandle,
            HungServerCheck hung) {
        this.scheduler = scheduler;
        this.samplePeriod = Duration.ofMillis(Math.max(20, Math.min(100, requestedTimeout.toMillis() / 20)));
        this.liveHandle = liveHandle;
        this.hung = hung;
    }

    void start() {
        long period = samplePeriod.toMillis();
        try {
            sampler = scheduler.scheduleWithFixedDelay(this::sample, period, period, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // the pool is closing
        }
    }

    /** While connected: notes when the ensemble was last heard from (any packet: a reply, a ping's answer). */
    private void sample() {
        ZooKeeper zk = liveHandle.get();
        if (!(zk instanceof BudgetedZooKeeper)) {
            return;
        }
        BudgetedZooKeeper handle = (BudgetedZooKeeper) zk;
        long n = handle.receivedProgress();
        if (n < 0) {
            return;
        }
        long now = System.nanoTime();
        if (n != lastReceived) {
            lastReceived = n;
            lastContactNanos = now;
        }
        if (hung != null && zk.getState().isConnected()) {
            hung.check(handle, lastContactNanos, now);
        }
    }

    /** {@code zk} connected: it is in contact now; any expiry due is off. */
    void connected(ZooKeeper zk) {
        lastContactNanos = System.nanoTime();
        lastReceived = zk instanceof BudgetedZooKeeper ? ((BudgetedZooKeeper) zk).receivedProgress() : -1;
        if (hung != null) {
            hung.connected();
        }
        cancel();
    }

    /**
     * The connection was lost: runs {@code expire} when the session, negotiated at {@code timeout}, has expired on the
     * servers (unless a connection or {@link #cancel()} comes first).
     */
    void disconnected(Duration timeout, Runnable expire) {
        if (timeout == null) {
            return;
        }
        // When the count cannot be read, the last contact known is the disconnect itself (as Curator's timer counts).
        long since = lastReceived < 0 ? System.nanoTime() : lastContactNanos;
        long dueNanos = since + timeout.toNanos() + 2 * samplePeriod.toNanos();
        long delay = Math.max(0, dueNanos - System.nanoTime());
        cancel();
        try {
            due = scheduler.schedule(expire, delay, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // the pool is closing
        }
    }

    void cancel() {
        ScheduledFuture<?> f = due;
        if (f != null) {
            f.cancel(false);
        }
    }

    void close() {
        ScheduledFuture<?> s = sampler;
        if (s != null) {
            s.cancel(false);
        }
        cancel();
    }
}
