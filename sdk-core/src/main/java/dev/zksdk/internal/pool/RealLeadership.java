package dev.zksdk.internal.pool;

import dev.zksdk.FencingToken;
import dev.zksdk.LeadershipListener;
import dev.zksdk.SessionState;
import dev.zksdk.ZkLeadership;
import dev.zksdk.internal.session.SharedSession;
import java.io.IOException;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.state.ConnectionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A participant of a {@link LeaderLatch} whose turns are proven by epoch bumps (see {@link FencedTurns}). The latch's
 * callbacks run on the turn's control queue; its own loss (SUSPENDED, LOST as Curator sees them, node gone) ends the
 * turn as the session's events do, whichever comes first.
 */
final class RealLeadership extends FencedTurns implements ZkLeadership {

    private static final Logger log = LoggerFactory.getLogger(RealLeadership.class);

    /** A latch that can be told to check its node again (as it does itself after a reconnect). */
    private static final class Latch extends LeaderLatch {
        Latch(org.apache.curator.framework.CuratorFramework client, String path, String id) {
            super(client, path, id, CloseMode.SILENT);
        }

        /** Reads the children again; when its own node is gone, the latch enters again with a new one. */
        void recheck() {
            handleStateChange(ConnectionState.RECONNECTED);
        }
    }

    private final Latch latch;

    RealLeadership(
            RealLease lease, RealSessionPool pool, SharedSession session, String path, LeadershipListener listener) {
        super(lease, pool, session, "election", path, listener);
        // SILENT: the latch's listeners are not called on close; the close ends the turn itself.
        this.latch = new Latch(curator, path, pool.name());
        latch.addListener(
                new LeaderLatchListener() {
                    @Override
                    public void isLeader() {
                        tryBump();
                    }

                    @Override
                    public void notLeader() {
                        lose(session.state() == SessionState.SUSPENDED ? SessionState.SUSPENDED : SessionState.LOST);
                    }
                },
                control);
    }

    void start() {
        try {
            latch.start();
        } catch (Exception e) {
            throw new IllegalStateException("the leader election on " + path + " could not start", e);
        }
    }

    @Override
    void holderNodeDeleted() {
        // LeaderLatch does not watch its own node: told to check, it finds its node gone and enters again.
        if (!isClosed()) {
            latch.recheck();
        }
    }

    @Override
    boolean recipeHolds() {
        return latch.hasLeadership();
    }

    @Override
    String ownNode() {
        return latch.getOurPath();
    }

    @Override
    void closeRecipe() {
        String node = latch.getOurPath();
        try {
            latch.close();
        } catch (IOException | RuntimeException e) {
            log.warn(
                    "{}: leaving the election on {} failed; its node goes with the session: {}",
                    pool.name(),
                    path,
                    e.toString());
        }
        if (node != null) {
            // Curator deletes the node in the background: deleted here too, so that the pool's next read (on an
            // observer session, say) does not still list it (Review23o).
            lease.deleteRecipeNode(node);
        }
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public boolean isLeader() {
        return holds();
    }

    @Override
    public FencingToken token() {
        return currentToken();
    }
}
