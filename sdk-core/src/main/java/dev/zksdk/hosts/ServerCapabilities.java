package dev.zksdk.hosts;

/**
 * What a handle needs to know of its ensemble's servers to talk to servers before ZooKeeper 3.5, which close the
 * connection on every request they do not know ({@code create2}, container and TTL creates). The pool sets one per
 * ensemble on each {@link BudgetedZooKeeper} it makes.
 */
public interface ServerCapabilities {

    /**
     * Whether the ensemble is known to lack {@code create2}, container and TTL nodes (before ZooKeeper 3.5).
     *
     * @return true once that is known
     */
    boolean before35();

    /**
     * Whether the ensemble is known to lack the requests of ZooKeeper 3.6: persistent watches ({@code addWatch}),
     * {@code getEphemerals}, {@code getAllChildrenNumber} (and {@code whoAmI}, 3.7).
     *
     * @return true once that is known
     */
    boolean before36();

    /**
     * Whether the ensemble is known to lack {@code whoAmI} (ZooKeeper 3.7): servers before 3.6, or a server that
     * answered it with {@code UNIMPLEMENTED}.
     *
     * @return true once that is known
     */
    default boolean before37() {
        return before36();
    }

    /**
     * A server answered {@code whoAmI} (ZooKeeper 3.7) with {@code UNIMPLEMENTED} and closed the connection: remember
     * it, so that no later {@code whoAmI} is sent.
     */
    default void noWhoAmI() {}

    /**
     * Whether a server of the ensemble answered {@code whoAmI} (ZooKeeper 3.7 or later).
     *
     * @return true once one did
     */
    default boolean whoAmIAnswered() {
        return false;
    }

    /** A server of the ensemble answered {@code whoAmI}. */
    default void whoAmIWorks() {}

    /**
     * Held while a {@code whoAmI} whose fate is not known yet is in flight, so that sessions asking at once send one
     * between them; shared by the ensemble's handles.
     *
     * @return the lock object to synchronize on
     */
    default Object whoAmIGate() {
        return this;
    }

    /**
     * The connection to {@code server} was lost right after a reconnect that re-registered persistent watches
     * ({@code SetWatches2}, ZooKeeper 3.6): a server before 3.6 closes it on that request, and would again at every
     * reconnect. Called on the handle's send thread before its next attempt, which may wait for the answer; when the
     * ensemble is then known to lack persistent watches ({@link #before36()}), every handle given to
     * {@link #whenNoPersistentWatches} drops its own at once.
     *
     * @param server the server, {@code host:port} as in the connect string
     */
    default void closedAfterSetWatches2(String server) {}

    /**
     * A connection to {@code server} that re-registered persistent watches lasted: whatever closed an earlier one
     * right away was not that request.
     *
     * @param server the server, {@code host:port} as in the connect string
     */
    default void setWatches2Survived(String server) {}

    /**
     * Runs {@code action} once the ensemble becomes known to lack persistent watches ({@link #before36()}), on the
     * thread that learnt it, so that every handle of the ensemble drops its persistent watches at once rather than at
     * its next connection attempt (which may come after its next reconnect already carried them). Not run when that
     * is already known.
     *
     * @param action what to run; {@link #forget(Runnable)} takes it back
     */
    default void whenNoPersistentWatches(Runnable action) {}

    /**
     * Takes back an action given to {@link #whenNoPersistentWatches(Runnable)} (a handle being closed).
     *
     * @param action the action given
     */
    default void forget(Runnable action) {}

    /**
     * Waits a moment while a connection closed right after {@code SetWatches2} is being checked (see
     * {@link #closedAfterSetWatches2}), so that a persistent watch is not armed on a server about to be found to lack
     * it. Never waits on ZooKeeper's event thread.
     */
    default void awaitPersistentWatchesDecision() {}

    /**
     * Waits a moment for the version read of a new connection when it is still in flight (never on ZooKeeper's event
     * thread, which delivers its answer), so that a request made right after the first connect is sent in the right
     * form.
     */
    void awaitKnown();

    /**
     * Whether it is still unknown if the servers know the requests of ZooKeeper 3.5 (answers still teach it).
     *
     * @return true while not known
     */
    boolean learning35();

    /**
     * A server answered {@code request} (a ZooKeeper 3.5 request) with {@code UNIMPLEMENTED}.
     *
     * @param request the request's name, such as {@code create2}
     */
    void unimplemented(String request);

    /**
     * What is known of the servers' version, and how, for messages.
     *
     * @return a description for people
     */
    String describe();
}
