package dev.zksdk.hosts;

/**
 * What a handle needs to know of its ensemble's servers to talk to servers before ZooKeeper 3.5, which close the
 * connection on every request they do not know ({@code create2}, container and TTL creates). The pool sets one per
 * ensemble on each {@link BudgetedZooKeeper} it makes.
 */
public interface ServerCapabilities {

    /** True once the ensemble is known to lack {@code create2}, container and TTL nodes (before ZooKeeper 3.5). */
    boolean before35();

    /**
     * True once the ensemble is known to lack the requests of ZooKeeper 3.6: persistent watches ({@code addWatch}),
     * {@code getEphemerals}, {@code getAllChildrenNumber} (and {@code whoAmI}, 3.7).
     */
    boolean before36();

    /**
     * True once the ensemble is known to lack {@code whoAmI} (ZooKeeper 3.7): servers before 3.6, or a server that
     * answered it with {@code UNIMPLEMENTED}.
     */
    default boolean before37() {
        return before36();
    }

    /**
     * A server answered {@code whoAmI} (ZooKeeper 3.7) with {@code UNIMPLEMENTED} and closed the connection: remember
     * it, so that no later {@code whoAmI} is sent.
     */
    default void noWhoAmI() {}

    /** True once a server of the ensemble answered {@code whoAmI} (ZooKeeper 3.7 or later). */
    default boolean whoAmIAnswered() {
        return false;
    }

    /** A server of the ensemble answered {@code whoAmI}. */
    default void whoAmIWorks() {}

    /**
     * Held while a {@code whoAmI} whose fate is not known yet is in flight, so that sessions asking at once send one
     * between them; shared by the ensemble's handles.
     */
    default Object whoAmIGate() {
        return this;
    }

    /**
     * Waits a moment for the version read of a new connection when it is still in flight (never on ZooKeeper's event
     * thread, which delivers its answer), so that a request made right after the first connect is sent in the right
     * form.
     */
    void awaitKnown();

    /** True while whether the servers know the requests of ZooKeeper 3.5 is not known yet (answers still teach it). */
    boolean learning35();

    /** A server answered {@code request} (a ZooKeeper 3.5 request) with {@code UNIMPLEMENTED}. */
    void unimplemented(String request);

    /** What is known of the servers' version, and how, for messages. */
    String describe();
}
