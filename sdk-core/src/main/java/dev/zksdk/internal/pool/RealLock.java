package dev.zksdk.internal.pool;

import dev.zksdk.FencingToken;
import dev.zksdk.LeadershipListener;
import dev.zksdk.ZkException;
import dev.zksdk.ZkInterruptedException;
import dev.zksdk.ZkLock;
import dev.zksdk.internal.Validation;
import dev.zksdk.internal.pipeline.OperationRunner;
import dev.zksdk.internal.session.SharedSession;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** An {@link InterProcessMutex} whose holders are proven by epoch bumps (see {@link FencedTurns}). */
final class RealLock extends FencedTurns implements ZkLock {

    private static final Logger log = LoggerFactory.getLogger(RealLock.class);

    /** Curator keeps the lock node per thread; exposed so the acquiring thread can hand it to the bumps. */
    private static final class Mutex extends InterProcessMutex {
        Mutex(CuratorFramework client, String path) {
            super(client, path);
        }

        String ownPath() {
            return getLockPath();
        }
    }

    private final Mutex mutex;
    /** The lock node while acquired, else null. */
    private volatile String lockNode;

    RealLock(RealLease lease, RealSessionPool pool, SharedSession session, String path, LeadershipListener listener) {
        super(lease, pool, session, "lock", path, listener);
        this.mutex = new Mutex(curator, path);
    }

    @Override
    boolean recipeHolds() {
        return lockNode != null;
    }

    @Override
    String ownNode() {
        return lockNode;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public FencingToken acquire(Duration timeout) {
        Validation.positive("timeout", timeout);
        if (isClosed()) {
            throw new IllegalStateException("the lock on " + path + " is closed");
        }
        if (lockNode != null) {
            throw new IllegalStateException("the lock on " + path + " is already held by this ZkLock (not reentrant)");
        }
        boolean acquired;
        try {
            acquired = mutex.acquire(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ZkInterruptedException(path, "interrupted while acquiring the lock on " + path, e);
        } catch (Exception e) {
            throw asZkException(e, "acquiring the lock on " + path + " failed");
        }
        if (!acquired) {
            return null;
        }
        lockNode = mutex.ownPath();
        FencingToken t;
        try {
            // Proven before it is handed out: the bump must land while the lock node exists.
            t = proveTurn()
                    .get(
                            session.config().connectionTimeout().toNanos()
                                    + pool.operationPolicy().operationTimeout().toNanos(),
                            TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            releaseQuietly();
            throw new ZkInterruptedException(path, "interrupted while proving the lock on " + path, e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            releaseQuietly();
            throw asZkException(
                    e instanceof ExecutionException ? e.getCause() : e,
                    "the lock on " + path + " was acquired but its epoch bump failed; released");
        }
        if (t == null) {
            releaseQuietly();
            throw new ZkException(
                    KeeperException.Code.CONNECTIONLOSS,
                    path,
                    "the lock on " + path + " was acquired but its ownership became unknown (connection lost) before "
                            + "its turn was proven; released");
        }
        return t;
    }

    private void releaseQuietly() {
        try {
            release();
        } catch (RuntimeException e) {
            log.warn("{}: releasing the lock on {} failed; its node goes with the session", pool.name(), path, e);
        }
    }

    @Override
    public boolean isHeld() {
        return holds();
    }

    @Override
    public FencingToken token() {
        return currentToken();
    }

    @Override
    public void release() {
        if (lockNode == null) {
            return;
        }
        if (!mutex.isOwnedByCurrentThread()) {
            throw new IllegalStateException("the lock on " + path + " must be released by the thread that acquired it");
        }
        lockNode = null;
        lose(dev.zksdk.SessionState.CLOSED);
        try {
            mutex.release();
            lease.recipeWriteCompleted(); // Curator deleted the node before returning: the pool's reads see it gone
        } catch (IllegalMonitorStateException e) {
            throw new IllegalStateException(
                    "the lock on " + path + " must be released by the thread that acquired it", e);
        } catch (Exception e) {
            throw asZkException(e, "releasing the lock on " + path + " failed");
        }
    }

    @Override
    void closeRecipe() {
        String node = lockNode;
        if (node == null) {
            return;
        }
        if (mutex.isOwnedByCurrentThread()) {
            releaseQuietly();
            return;
        }
        // Closed by another thread (the lease's or the pool's close): Curator's mutex lets only its owner thread
        // release, so the node is deleted directly; this lock is closed and is never acquired again. Curator's
        // guaranteed delete keeps trying across reconnects (other waiters must not wait for the session's end); the
        // pipeline's, waited for, makes the pool's next read see it gone (Review23p).
        lockNode = null;
        try {
            curator.delete()
                    .guaranteed()
                    .inBackground((client, event) -> lease.recipeWriteCompleted())
                    .forPath(node);
        } catch (Exception e) {
            log.warn(
                    "{}: deleting the lock node {} failed; it goes with the session: {}",
                    pool.name(),
                    node,
                    e.toString());
        }
        lease.deleteRecipeNode(node);
    }

    private static RuntimeException asZkException(Throwable e, String what) {
        Throwable cause = OperationRunner.unwrap(e);
        if (cause instanceof ZkException) {
            return (ZkException) cause;
        }
        if (cause instanceof KeeperException) {
            KeeperException k = (KeeperException) cause;
            return new ZkException(k.code(), k.getPath(), what + ": " + k.getMessage(), k);
        }
        if (cause instanceof RuntimeException) {
            return (RuntimeException) cause;
        }
        return new ZkException(KeeperException.Code.SYSTEMERROR, null, what + ": " + cause, cause);
    }
}
