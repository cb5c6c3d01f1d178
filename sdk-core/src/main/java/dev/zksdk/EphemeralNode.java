package dev.zksdk;

import java.util.function.Consumer;

/**
 * An ephemeral node the pool owns until {@link #close()}: re-created, with its latest data, on every new session of
 * its ensemble, and whenever someone else deletes it.
 *
 * <p>Ownership belongs to this handle, not to the session:
 * <ul>
 *   <li>A path has at most one live {@code EphemeralNode} per pool: registering a registered path again fails at once
 *       with {@link ZkNodeExistsException} (no hand-over: close the old handle first, or keep it and
 *       {@link #setData} it). A node this handle did not create is never taken as its own: not another client's, not
 *       one made through {@link ZkLease#create} or {@link ZkLease#curator()} on this pool.</li>
 *   <li>Nothing is deleted that cannot be shown to be this handle's: a node left by this pool's expired session is
 *       waited for (the server removes it when it expires that session), never deleted. A node of another live owner is
 *       never taken over either: {@link SessionListener#onEphemeralConflict} is told, and the pool keeps trying until
 *       that node goes.</li>
 *   <li>While the node cannot be re-created (a conflict, a removed parent, {@code NOAUTH}), the pool retries with
 *       backoff, tells {@link SessionListener#onEphemeralMissing} once per cause, and counts it in
 *       {@link dev.zksdk.metrics.EnsembleStatus#missingEphemerals()} (health DOWN in the Spring starter) until
 *       {@link SessionListener#onEphemeralRestored}.</li>
 * </ul>
 *
 * <p>{@link #isPresent()} is true only while the node is known to exist on the server, created by this handle, under the
 * live, connected session. The handle watches its node, so a delete by someone else turns it false within a round trip
 * (and starts a re-creation). Between a connection loss and the end of recovery the node's existence is unknown: while
 * the session is {@link SessionState#SUSPENDED} the server may already have deleted it.
 */
public interface EphemeralNode extends AutoCloseable {

    /**
     * The node's current path. A sequential node gets a new name after each re-creation.
     *
     * @return the absolute path, the counter included for a sequential node
     */
    String path();

    /**
     * The data the node has, and will be re-created with.
     *
     * @return the latest data set (by creation or {@link #setData})
     */
    byte[] data();

    /**
     * Sets the node's data, for the node on the server and for every later re-creation, and returns once it is written.
     * Concurrent calls: the last one wins, and each returns once data at least as new as its own is on the server.
     *
     * @param data the new data, not null
     * @throws ZkConnectionLossException (outcome unknown) when no connected session could write it within the operation
     *     timeout: the data is kept and written as soon as a session is connected (the same one, or a new one)
     * @throws IllegalArgumentException when {@code data} is null or over the size limit
     * @throws IllegalStateException when the node is closed
     */
    void setData(byte[] data);

    /**
     * Whether the node is known to exist on the server, created by this handle, under the live, connected session.
     *
     * @return true while it is known to exist; false while it is missing or its existence is unknown
     */
    boolean isPresent();

    /**
     * Called with the new path whenever re-creation changes it (sequential nodes), on the pool's callback threads, in
     * order; the listener may call back into the SDK.
     *
     * @param listener called with each new path
     */
    void onPathChange(Consumer<String> listener);

    /**
     * Deletes the node and stops re-creating it. Idempotent. Waits for the delete up to the connection timeout; when the
     * session is disconnected, the node is deleted once it reconnects (or goes with the session if that expires), so a
     * closed registration never stays behind.
     */
    @Override
    void close();
}
