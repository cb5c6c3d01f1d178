package dev.zksdk.internal.pool;

import dev.zksdk.FencingToken;
import dev.zksdk.LeadershipListener;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionState;
import dev.zksdk.ZkException;
import dev.zksdk.ZkNodeExistsException;
import dev.zksdk.internal.SerialQueue;
import dev.zksdk.internal.ZkAsync;
import dev.zksdk.internal.session.SharedSession;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an election and a lock share: the turns of one participant, each proven by an epoch bump, and their loss
 * reported in one place.
 *
 * <p>A turn starts when the recipe says this participant holds ({@link #tryBump()}) and the bump
 * {@code multi(check(ownNode), setData(epoch))} lands; it ends at the first of: the session's SUSPENDED or LOST (seen
 * on the session's state gate, on ZooKeeper's event thread, before any listener hears of it), the recipe's own loss,
 * the deletion of the holder's own node (an exists watch armed at the start of every turn: the recipes do not watch
 * their own node; ZooKeeper sets it again after a reconnect within the session and reports a deletion missed meanwhile),
 * close. Every loss increments {@link #generation}, so a bump that was in flight when ownership became unknown never
 * starts a turn. The user's listener runs on its own queue on the pool's callback threads.
 */
abstract class FencedTurns implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FencedTurns.class);
    /** Wait before a bump that failed (connection loss) is tried again, while the recipe still says this one holds. */
    private static final long BUMP_RETRY_MILLIS = 100;

    static final LeadershipListener NO_LISTENER = new LeadershipListener() {};

    final RealLease lease;
    final RealSessionPool pool;
    final SharedSession session;
    final String path;
    final String epochPath;
    final CuratorFramework curator;
    /** Runs the recipe's callbacks and the bumps' outcomes, in order, off ZooKeeper's and Curator's threads. */
    final SerialQueue control;

    private final LeadershipListener listener;
    private final SerialQueue listenerQueue;
    private final Consumer<SessionEvent> gate = this::onSessionEvent;
    private final byte[] participant;

    private final Object lock = new Object();
    /** Incremented by every loss and by close: a bump started under an older generation starts no turn. */
    private long generation;

    private boolean bumping;
    private boolean closed;
    /** The current turn's token; non-null exactly while this participant holds a proven turn. */
    private volatile FencingToken token;

    FencedTurns(
            RealLease lease,
            RealSessionPool pool,
            SharedSession session,
            String kind,
            String path,
            LeadershipListener listener) {
        this.lease = lease;
        this.pool = pool;
        this.session = session;
        this.path = path;
        this.epochPath = path + RealLease.EPOCH_SUFFIX;
        this.curator = session.guardedClient();
        this.listener = listener;
        // On its ensemble's callback threads: listeners blocked on another ensemble do not delay this one's loss.
        this.listenerQueue = lease.listenerQueue(kind + " " + path + " listener " + listener);
        this.control = new SerialQueue(
                pool.name() + ": " + kind + " " + path, pool.completions(), Integer.MAX_VALUE, null, new LongAdder());
        this.participant = (pool.name() + " " + kind + " " + Long.toHexString(System.identityHashCode(this)))
                .getBytes(StandardCharsets.UTF_8);
        session.addStateGate(gate);
        session.coordinationOpened();
    }

    /** Whether the recipe says this participant holds now. */
    abstract boolean recipeHolds();

    /** The recipe's own node, whose existence proves this participant still holds; null when it has none. */
    abstract String ownNode();

    /** Ends the recipe (leaves the election, releases the lock); called once, outside any lock of this class. */
    abstract void closeRecipe();

    final FencingToken currentToken() {
        return token;
    }

    final boolean holds() {
        return token != null;
    }

    final boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /** On ZooKeeper's event thread: quick, never blocks. */
    private void onSessionEvent(SessionEvent event) {
        SessionState state = event.state();
        if (state == SessionState.SUSPENDED || state == SessionState.LOST) {
            lose(state);
        } else if (state == SessionState.RECONNECTED && event.sameSession()) {
            // The own node survived with the session: if the recipe still holds, a new bump makes a new turn.
            control.execute(this::tryBump);
        }
    }

    /** Ends the current turn, if any, and tells the listener once. Any thread; never blocks. */
    final void lose(SessionState cause) {
        lose(cause, null);
    }

    /**
     * Ends the current turn, if any (only if it is {@code only}'s when that is not null), and tells the listener once.
     * Any thread; never blocks.
     *
     * @return whether a turn was ended
     */
    private boolean lose(SessionState cause, FencingToken only) {
        FencingToken lost;
        synchronized (lock) {
            if (only != null && token != only) {
                return false;
            }
            generation++;
            lost = token;
            token = null;
        }
        if (lost != null) {
            log.info("{}: {} lost ({})", pool.name(), lost, cause);
            listenerQueue.execute(() -> listener.onLost(lost, cause));
        }
        return lost != null;
    }

    /**
     * Called (on the control queue) after the turn ended because the holder's own node was deleted while the session
     * lived; the recipe does not notice this by itself.
     */
    void holderNodeDeleted() {}

    /**
     * Arms a one-shot exists watch on {@code t}'s holder node: its deletion while {@code t} is the current turn ends
     * the turn ({@link SessionState#CONNECTED}: the session lives, the node does not). Called when a turn starts.
     */
    private void watchHolder(FencingToken t) {
        Watcher watcher = event -> {
            // On ZooKeeper's event thread: quick, never blocks. Session events (type None) are the state gate's.
            if (event.getType() == Watcher.Event.EventType.NodeDeleted) {
                holderGone(t);
            } else if (event.getType() == Watcher.Event.EventType.NodeDataChanged
                    || event.getType() == Watcher.Event.EventType.NodeCreated) {
                if (token == t) {
                    watchHolder(t);
                }
            }
        };
        try {
            curator.checkExists()
                    .usingWatcher(watcher)
                    .inBackground((c, e) -> {
                        if (e.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                            holderGone(t); // deleted before the watch was armed
                        }
                    })
                    .forPath(t.holderNode());
        } catch (Exception e) {
            // Not armed (closing, or Curator refused): fenced writes still check the node itself.
            log.debug("{}: watch on the holder node {} not armed: {}", pool.name(), t.holderNode(), e.toString());
        }
    }

    private void holderGone(FencingToken t) {
        if (lose(SessionState.CONNECTED, t)) {
            log.warn(
                    "{}: the holder node {} of {} was deleted while the session lived", pool.name(), t.holderNode(), t);
            control.execute(this::holderNodeDeleted);
        }
    }

    /** Starts a turn if the recipe holds and none is current or being proven; tries again after a failure. */
    final void tryBump() {
        proveTurn().whenComplete((t, e) -> {
            Throwable cause = e == null ? null : ZkAsync.unwrap(e);
            if (cause == null
                    || (cause instanceof ZkException && ((ZkException) cause).code() == KeeperException.Code.NONODE)) {
                // Started, not needed, or the own node is gone (expiry, or someone deleted it): the recipe will notice
                // and enter again.
                return;
            }
            if (!isClosed() && !pool.isClosed()) {
                log.debug("{}: epoch bump for {} failed, tried again: {}", pool.name(), path, cause.toString());
                try {
                    pool.scheduler()
                            .schedule(() -> control.execute(this::tryBump), BUMP_RETRY_MILLIS, TimeUnit.MILLISECONDS);
                } catch (RuntimeException closing) {
                    // the pool is closing
                }
            }
        });
    }

    /**
     * Bumps the epoch if the recipe holds and no turn is current or being proven, and starts the turn if no loss came
     * in between. The future completes (on the control queue) with the new turn's token, or null when no turn was
     * started; it fails as the bump failed.
     */
    final CompletableFuture<FencingToken> proveTurn() {
        long gen;
        String own;
        synchronized (lock) {
            if (closed || bumping || token != null || !recipeHolds() || (own = ownNode()) == null) {
                return CompletableFuture.completedFuture(null);
            }
            bumping = true;
            gen = generation;
        }
        CompletableFuture<FencingToken> bump;
        try {
            bump = bump(own);
        } catch (RuntimeException e) {
            bump = CompletableFuture.failedFuture(e);
        }
        CompletableFuture<FencingToken> turn = new CompletableFuture<>();
        bump.whenComplete((t, e) -> control.execute(() -> {
            boolean started = false;
            synchronized (lock) {
                bumping = false;
                if (e == null && gen == generation && !closed) {
                    token = t;
                    started = true;
                }
            }
            if (started) {
                watchHolder(t);
                log.info("{}: {} won {}", pool.name(), path, t);
                listenerQueue.execute(() -> listener.onElected(t));
                turn.complete(t);
            } else if (e != null) {
                turn.completeExceptionally(ZkAsync.unwrap(e));
            } else {
                turn.complete(null);
            }
        }));
        return turn;
    }

    /**
     * {@code multi(check(own, -1), setData(epoch, -1))}: lands only while the own node exists, which, once the recipe
     * found it lowest, proves this participant still holds. Creates the epoch node first when it is missing.
     */
    final CompletableFuture<FencingToken> bump(String own) {
        List<Op> ops = List.of(Op.check(own, -1), Op.setData(epochPath, participant, -1));
        return lease.multiAsync(ops).thenApply(r -> tokenOf(own, r)).exceptionallyCompose(e -> {
            Throwable cause = ZkAsync.unwrap(e);
            if (cause instanceof ZkException
                    && ((ZkException) cause).code() == KeeperException.Code.NONODE
                    && epochPath.equals(((ZkException) cause).path())) {
                return createEpoch()
                        .thenCompose(created -> lease.multiAsync(ops))
                        .thenApply(r -> tokenOf(own, r));
            }
            return CompletableFuture.failedFuture(cause);
        });
    }

    private CompletableFuture<Void> createEpoch() {
        return lease.createAsync(epochPath, new byte[0], CreateMode.PERSISTENT).handle((p, e) -> {
            Throwable cause = e == null ? null : ZkAsync.unwrap(e);
            if (cause == null || cause instanceof ZkNodeExistsException) {
                return null;
            }
            throw cause instanceof RuntimeException ? (RuntimeException) cause : new IllegalStateException(cause);
        });
    }

    private FencingToken tokenOf(String own, List<OpResult> results) {
        Stat stat = ((OpResult.SetDataResult) results.get(1)).getStat();
        pool.recordFencingEpoch(session.config(), epochPath);
        return new FencingToken(epochPath, stat.getVersion(), stat.getMzxid(), own);
    }

    /** Marks closed and ends a turn in progress; true for the first call only. */
    final boolean markClosed() {
        synchronized (lock) {
            if (closed) {
                return false;
            }
            closed = true;
        }
        session.removeStateGate(gate);
        session.coordinationClosed();
        lose(SessionState.CLOSED);
        return true;
    }

    @Override
    public void close() {
        if (markClosed()) {
            try {
                closeRecipe();
            } finally {
                lease.coordinationClosed(this);
                pool.coordinationClosed(this);
            }
        }
    }

    @Override
    public String toString() {
        FencingToken t = token;
        return getClass().getSimpleName() + "{" + path + (t != null ? ", holds " + t : "") + "}";
    }
}
