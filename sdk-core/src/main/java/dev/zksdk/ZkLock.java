package dev.zksdk;

import java.time.Duration;

/**
 * A distributed lock on a path, made by {@link ZkLease#lock(String)} on Curator's {@code InterProcessMutex} over the
 * lease's session, whose holder gets a {@link FencingToken}: on acquiring, the holder bumps the epoch node
 * ({@code <path>-epoch}) in one {@code multi} with a check of its own lock node, so each holder's token is greater than
 * every earlier holder's.
 *
 * <p>{@link #isHeld()} turns false at once on {@link SessionState#SUSPENDED} (ownership unknown) and
 * {@link SessionState#LOST}, and when its own lock node is deleted by someone else while the session lives (the
 * listener's cause is then {@link SessionState#CONNECTED}; {@link #release()} then only cleans up). A reconnect within the same session that finds the lock node still there bumps again:
 * the lock is held again under a new token ({@link #token()}); after expiry the lock is gone for good and
 * {@link #release()} only cleans up. Fence writes with {@link ZkLease#fenced(FencingToken)} so that a holder that was
 * paused cannot write after losing the lock.
 *
 * <p>Not reentrant, and one holder at a time per instance: {@link #acquire} while held throws
 * {@link IllegalStateException}. As with Curator's mutex, {@link #release()} must be called by the thread that acquired.
 * Closing the lease or the pool releases it.
 */
public interface ZkLock extends AutoCloseable {

    /**
     * The lock's path (the recipe's node; the epoch node is {@code path + "-epoch"}).
     *
     * @return the absolute path given
     */
    String path();

    /**
     * Waits up to {@code timeout} for the lock, then proves the turn with an epoch bump.
     *
     * @param timeout how long to wait, positive
     * @return the token of this turn, or null when the lock was not acquired within {@code timeout}
     * @throws IllegalArgumentException when {@code timeout} is null or not positive
     * @throws IllegalStateException when this lock is already held, or closed
     * @throws ZkException when ZooKeeper failed (the lock is then not held)
     */
    FencingToken acquire(Duration timeout);

    /**
     * Whether the lock is held now under a proven token, with no loss (SUSPENDED, LOST) seen since.
     *
     * @return true while held
     */
    boolean isHeld();

    /**
     * The token of the current turn.
     *
     * @return the token, or null when not held
     */
    FencingToken token();

    /**
     * Releases the lock (deletes its node). Does nothing when not acquired.
     *
     * @throws ZkException when the delete failed (the node then goes with the session)
     */
    void release();

    /** Releases the lock if held; later calls to {@link #acquire} throw. Idempotent. */
    @Override
    void close();
}
