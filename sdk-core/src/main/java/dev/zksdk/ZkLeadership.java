package dev.zksdk;

/**
 * One participant in a leader election on a path, made by {@link ZkLease#leaderElection(String, LeadershipListener)}
 * on Curator's {@code LeaderLatch} over the lease's session: the participant with the lowest election node leads.
 *
 * <p>A turn as leader starts only once proven: the winner bumps the epoch node ({@code <path>-epoch}) in one
 * {@code multi} with a check of its own election node, and the resulting {@link FencingToken} is this turn's. So
 * {@link #isLeader()} is true only after that bump landed, and a later leader's token is always greater.
 *
 * <p>Loss is reported in one place, at once: on {@link SessionState#SUSPENDED} (the connection is lost; ownership is
 * unknown, so {@link #isLeader()} turns false before any listener runs), on {@link SessionState#LOST} (expiry), when
 * the recipe finds its node gone, when its node is deleted by someone else while the session lives (cause
 * {@link SessionState#CONNECTED}; the election is then entered again with a new node), and on close. A reconnect within the same session finds the election node still
 * there: if it is still the lowest, a new bump makes a new turn with a new token. After expiry the node is gone; the
 * recipe enters the election again with a new node on the new session.
 *
 * <p>Between the old leader's loss of connection and the new leader's turn there is no overlap when the old leader's
 * process runs: the client declares SUSPENDED after two thirds of the session timeout without an answer, the server
 * expires the session only after the full timeout. A paused process (GC, SIGSTOP) still believes it leads when it
 * resumes, until it reads its events: its writes are refused only when made through {@link ZkLease#fenced}.
 *
 * <p>Thread-safe. Closing leaves the election (deletes the node) and tells the listener of a turn in progress once;
 * closing the lease or the pool closes it too. Two elections on one path in one pool are two participants.
 */
public interface ZkLeadership extends AutoCloseable {

    /**
     * The election's path (the recipe's node; the epoch node is {@code path + "-epoch"}).
     *
     * @return the absolute path given
     */
    String path();

    /**
     * Whether this participant leads now: its epoch bump landed and no loss (SUSPENDED, LOST, node gone, close) has been
     * seen since.
     *
     * @return true while this participant holds a proven turn
     */
    boolean isLeader();

    /**
     * The token of the current turn.
     *
     * @return the token, or null when not leader
     */
    FencingToken token();

    /** Leaves the election: a turn in progress ends ({@code onLost} with {@link SessionState#CLOSED}). Idempotent. */
    @Override
    void close();
}
