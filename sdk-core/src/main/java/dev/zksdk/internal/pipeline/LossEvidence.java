package dev.zksdk.internal.pipeline;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * The server's state read after a write attempt was lost in flight: a {@code sync}, then the stat of each node the
 * write touched and of every ancestor, and the children of the nodes asked for, all sent at once (the session's
 * FIFO order puts every read after the sync).
 *
 * <p>Why this tells the truth. {@code sentAfterZxid} is a zxid committed before the attempt was sent (the handle's
 * last seen zxid, or the pool's newest completed write on any session if larger): the attempt, if applied, got a larger
 * zxid. The reads run on the same session after it reconnected, so the lost
 * attempt is settled by then: on the same server it was queued before them; on another server the session's move
 * makes the old server's leftover requests fail ({@code SESSIONMOVED}). So: a node whose {@code mzxid} is at most
 * {@code sentAfterZxid} was not written by the attempt; one whose {@code czxid} is at most that was neither created
 * nor deleted by it; and a node that is absent now, under an ancestor that has had no child created or deleted since
 * (its {@code pzxid}), was absent all along.
 */
final class LossEvidence {

    private final Map<String, Stat> stats;
    private final Map<String, List<String>> children;

    private LossEvidence(Map<String, Stat> stats, Map<String, List<String>> children) {
        this.stats = stats;
        this.children = children;
    }

    static CompletableFuture<LossEvidence> read(ZooKeeper zk, List<String> paths) {
        return read(zk, paths, List.of());
    }

    /** Fails with the read's {@code KeeperException} when one fails (connection loss: the caller tries again). */
    static CompletableFuture<LossEvidence> read(ZooKeeper zk, List<String> paths, List<String> childrenOf) {
        Set<String> all = new LinkedHashSet<>();
        for (String p : paths) {
            for (String q = p; ; q = Calls.parentOf(q)) {
                all.add(q);
                if (q.equals("/")) {
                    break;
                }
            }
        }
        Map<String, Stat> stats = new HashMap<>();
        Map<String, List<String>> children = new HashMap<>();
        CompletableFuture<LossEvidence> out = new CompletableFuture<>();
        AtomicInteger left = new AtomicInteger(1 + all.size() + childrenOf.size());
        Runnable oneDone = () -> {
            if (left.decrementAndGet() == 0) {
                synchronized (stats) {
                    out.complete(new LossEvidence(new HashMap<>(stats), new HashMap<>(children)));
                }
            }
        };
        zk.sync(
                "/",
                (rc, p, ctx) -> {
                    if (rc != 0) {
                        out.completeExceptionally(ZkCall.error(rc, "/"));
                    }
                    oneDone.run();
                },
                null);
        for (String p : all) {
            zk.exists(
                    p,
                    false,
                    (rc, rp, ctx, stat) -> {
                        if (rc == 0 || rc == Code.NONODE.intValue()) {
                            synchronized (stats) {
                                stats.put(p, stat);
                            }
                        } else {
                            out.completeExceptionally(ZkCall.error(rc, p));
                        }
                        oneDone.run();
                    },
                    null);
        }
        for (String p : childrenOf) {
            zk.getChildren(
                    p,
                    false,
                    (rc, rp, ctx, names) -> {
                        if (rc == 0 || rc == Code.NONODE.intValue()) {
                            synchronized (stats) {
                                children.put(p, names == null ? null : new ArrayList<>(names));
                            }
                        } else {
                            out.completeExceptionally(ZkCall.error(rc, p));
                        }
                        oneDone.run();
                    },
                    null);
        }
        return out;
    }

    /** The node's stat, null when it does not exist. */
    Stat stat(String path) {
        return stats.get(path);
    }

    /** The node's children, null when it does not exist (only for nodes asked for). */
    List<String> children(String path) {
        return children.get(path);
    }

    /**
     * True when no node has existed at {@code path} at any moment after {@code zxid}: it is absent now, and its nearest
     * existing ancestor has had no child created or deleted since.
     */
    boolean absentSince(String path, long zxid) {
        if (stats.get(path) != null) {
            return false;
        }
        for (String q = Calls.parentOf(path); ; q = Calls.parentOf(q)) {
            Stat s = stats.get(q);
            if (s != null) {
                return s.getPzxid() <= zxid;
            }
            if (q.equals("/")) {
                return false;
            }
        }
    }

    /** True when the node has not been modified, created or deleted after {@code zxid}. */
    boolean unchangedSince(String path, long zxid) {
        Stat s = stats.get(path);
        return s == null ? absentSince(path, zxid) : s.getMzxid() <= zxid;
    }

    /** True when the node now at {@code path} (if any) existed already at {@code zxid}, or none has existed since. */
    boolean sameNodeSince(String path, long zxid) {
        Stat s = stats.get(path);
        return s == null ? absentSince(path, zxid) : s.getCzxid() <= zxid;
    }

    static String hex(long zxid) {
        return "0x" + Long.toHexString(zxid);
    }
}
