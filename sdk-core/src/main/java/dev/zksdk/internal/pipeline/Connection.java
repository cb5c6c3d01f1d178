package dev.zksdk.internal.pipeline;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.ZkAuthException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import org.apache.zookeeper.ZooKeeper;

/**
 * What the pipeline needs of the session it runs a call on: a connected handle (now, or within a wait), whether the
 * ensemble is known unreachable, how far the session's server is known to be, and who the session is (for error
 * messages). Implemented by the pooled session; the pipeline knows nothing else of it.
 */
public interface Connection {

    EnsembleConfig config();

    /** The live handle when connected now, else null. */
    ZooKeeper connectedHandle();

    /**
     * Completes with a connected handle within {@code timeout} (each caller its own deadline), or fails with
     * {@link java.util.concurrent.TimeoutException}, or at once with the session's authentication failure.
     */
    CompletableFuture<ZooKeeper> awaitConnected(Duration timeout);

    /** True while no session has connected since a connection timeout passed without one. */
    boolean isKnownUnreachable();

    /** A caller waited the connection timeout and nothing connected: calls fail fast until a session does. */
    void markUnreachable();

    /** How long the session has been unreachable (the connection timeout included), for messages. */
    long unreachableForMillis();

    /** Why the last handle could not be made or connect (budget, rate limit, TLS), or null. */
    Throwable lastHandleFailure();

    /** The highest zxid the session's server is known to have applied, as far as {@code zk} can tell. */
    long seenZxid(ZooKeeper zk);

    /** Completes once the session's server has applied everything up to {@code zxid} (a shared sync if needed). */
    CompletableFuture<Void> catchUp(ZooKeeper zk, long zxid, LongSupplier target);

    /** True once the pool closed the session: a call cut now was cut by the close. */
    default boolean isClosed() {
        return false;
    }

    /** Why the server refused the session's credentials, or null. */
    ZkAuthException authFailure();

    /** The session's identities, by kind, never a secret: for error messages. */
    String identities();
}
