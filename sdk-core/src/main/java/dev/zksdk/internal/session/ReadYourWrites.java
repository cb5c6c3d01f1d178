package dev.zksdk.internal.session;

import dev.zksdk.hosts.BudgetedZooKeeper;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;

/**
 * How far one pooled session's server is known to be, for read-your-writes across leases: the zxid of the handle's last
 * reply, or what a {@code sync} brought it up to; and the one sync in flight that every read behind shares.
 */
final class ReadYourWrites {

    /** The highest zxid a {@code sync} on {@code syncedSession} is known to have brought the session's server up to. */
    private volatile long syncedZxid;

    private volatile long syncedSession;
    /** The sync in flight, shared by every read that needs one; null when none. */
    private final AtomicReference<PendingSync> pendingSync = new AtomicReference<>();

    /**
     * The highest zxid this session's server is known to have applied, as far as {@code zk} (a handle of this session)
     * can tell: the zxid of its last reply, or what a {@code sync} brought it up to. 0 when unknown.
     */
    long seenZxid(ZooKeeper zk) {
        long replies = zk instanceof BudgetedZooKeeper ? ((BudgetedZooKeeper) zk).lastZxid() : 0;
        return syncedSession == zk.getSessionId() ? Math.max(replies, syncedZxid) : replies;
    }

    /**
     * Completes once this session's server has applied every transaction up to {@code zxid}: at once when it is known
     * to have, else after one {@code sync}, shared by every read that needs it. {@code target} is the pool's newest
     * completed write when the sync is sent: once the sync is answered, the server has applied everything up to it.
     */
    CompletableFuture<Void> catchUp(ZooKeeper zk, long zxid, LongSupplier target) {
        long sid = zk.getSessionId();
        while (true) {
            if (seenZxid(zk) >= zxid) {
                return CompletableFuture.completedFuture(null);
            }
            PendingSync pending = pendingSync.get();
            if (pending != null && pending.session == sid && pending.target >= zxid && !pending.done.isDone()) {
                return pending.done;
            }
            PendingSync mine = new PendingSync(sid, target.getAsLong());
            if (!pendingSync.compareAndSet(pending, mine)) {
                continue;
            }
            zk.sync(
                    "/",
                    (rc, path, ctx) -> {
                        if (rc == 0) {
                            synchronized (pendingSync) {
                                if (syncedSession != sid) {
                                    syncedSession = sid;
                                    syncedZxid = mine.target;
                                } else {
                                    syncedZxid = Math.max(syncedZxid, mine.target);
                                }
                            }
                            mine.done.complete(null);
                        } else {
                            mine.done.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), "/"));
                        }
                        pendingSync.compareAndSet(mine, null);
                    },
                    null);
            return mine.done;
        }
    }

    private static final class PendingSync {
        final long session;
        final long target;
        final CompletableFuture<Void> done = new CompletableFuture<>();

        PendingSync(long session, long target) {
            this.session = session;
            this.target = target;
        }
    }
}
