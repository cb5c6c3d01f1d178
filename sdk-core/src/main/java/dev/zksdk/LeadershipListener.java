package dev.zksdk;

/**
 * Told when a {@link ZkLeadership} (or {@link ZkLock}) gains or loses its turn. Runs on the pool's callback threads,
 * never on ZooKeeper's or Curator's: one call at a time, in order, and it may call any SDK method, including closing
 * the election, the lease or the pool. Every {@link #onElected} is followed by exactly one {@link #onLost} for the same
 * token (at the latest when the election is closed). Both methods do nothing by default.
 */
public interface LeadershipListener {

    /**
     * This participant holds the turn, proven by {@code token}: the epoch bump landed while its node was still the
     * lowest. {@link ZkLeadership#isLeader()} was already true when this is called.
     *
     * @param token the token of this turn, greater than every earlier holder's
     */
    default void onElected(FencingToken token) {}

    /**
     * The turn of {@code token} ended, or its ownership is no longer known. {@link ZkLeadership#isLeader()} was already
     * false when this is called. {@code cause} is {@link SessionState#SUSPENDED} (the connection was lost: the session
     * may already have expired on the server, and another participant may hold the turn), {@link SessionState#LOST}
     * (the session expired, or the recipe found its node gone), {@link SessionState#CONNECTED} (the session is still
     * connected, but this participant's own node was deleted by someone else, an operator or another client: an
     * election then enters again with a new node, a lock must be released and acquired again), or
     * {@link SessionState#CLOSED} (the election, the lock's release, its lease or the pool was closed). After a SUSPENDED, a reconnect within the same session makes a new turn with a new
     * token ({@link #onElected} again) if this participant still holds.
     *
     * @param token the token of the turn that ended
     * @param cause why it ended
     */
    default void onLost(FencingToken token, SessionState cause) {}
}
