package dev.zksdk.internal.pool;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.ZkAuthException;
import dev.zksdk.internal.pipeline.Connection;
import dev.zksdk.internal.session.SharedSession;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import org.apache.zookeeper.ZooKeeper;

/**
 * A read session (on an observer) as a lease's plain read sees it: the session itself, except that a read finding it
 * not connected fails at once as unreachable instead of waiting for it to connect again, so that the lease runs the
 * read on its own session (observers being down never holds or fails a read). Marks nothing: whether the read session
 * is reachable is its own business. One per read session, made with the ensemble; allocates nothing per read.
 */
final class ReaderConnection implements Connection {

    private final SharedSession session;

    ReaderConnection(SharedSession session) {
        this.session = session;
    }

    SharedSession session() {
        return session;
    }

    @Override
    public EnsembleConfig config() {
        return session.config();
    }

    @Override
    public ZooKeeper connectedHandle() {
        return session.connectedHandle();
    }

    @Override
    public CompletableFuture<ZooKeeper> awaitConnected(Duration timeout) {
        return session.awaitConnected(timeout);
    }

    /** Unreachable for a read whenever not connected now: the read goes back to the lease's session. */
    @Override
    public boolean isKnownUnreachable() {
        return session.connectedHandle() == null || session.isKnownUnreachable();
    }

    @Override
    public void markUnreachable() {
        // The read falls back; the read session keeps reconnecting on its own.
    }

    @Override
    public long unreachableForMillis() {
        return session.unreachableForMillis();
    }

    @Override
    public Throwable lastHandleFailure() {
        return session.lastHandleFailure();
    }

    @Override
    public long seenZxid(ZooKeeper zk) {
        return session.seenZxid(zk);
    }

    @Override
    public CompletableFuture<Void> catchUp(ZooKeeper zk, long zxid, LongSupplier target) {
        return session.catchUp(zk, zxid, target);
    }

    @Override
    public boolean isClosed() {
        return session.isClosed();
    }

    @Override
    public ZkAuthException authFailure() {
        return session.authFailure();
    }

    @Override
    public String identities() {
        return session.identities();
    }

    @Override
    public String toString() {
        return "reads on " + session;
    }
}
