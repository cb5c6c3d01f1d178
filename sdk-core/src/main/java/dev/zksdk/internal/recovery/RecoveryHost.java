package dev.zksdk.internal.recovery;

import dev.zksdk.OperationPolicy;
import dev.zksdk.RecoveryEvent;
import dev.zksdk.ZkException;
import dev.zksdk.internal.SerialQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;
import org.apache.zookeeper.ZooKeeper;

/**
 * What the recovery of a pooled session is told and given by the pool that owns it: where user callbacks run, whom
 * to tell of recoveries and of ephemerals missing or back, and the pool's settings. The recovery tells; it does not
 * call up into the pool.
 */
public interface RecoveryHost {

    /** An ordered, bounded queue on the pool's callback threads, for one user listener. */
    SerialQueue listenerQueue(String who, Supplier<Runnable> onOverflow);

    /** Retries of passes that left work undone run here. */
    ScheduledExecutorService scheduler();

    /** The pool's policy: how long a setData on an owned ephemeral waits, how passes back off. */
    OperationPolicy policy();

    /** The data-size limit ({@code jute.maxbuffer}). */
    int maxDataBytes();

    /** A write of the recovery's (an ephemeral created or written) completed on {@code zk}: later leases see it. */
    void writeCompleted(ZooKeeper zk);

    void recovered(RecoveryEvent event);

    void ephemeralConflict(String path, long ownerSessionId);

    void ephemeralMissing(String path, ZkException cause);

    void ephemeralRestored(String path);
}
