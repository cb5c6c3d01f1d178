package dev.zksdk;

import java.util.function.Consumer;

/**
 * An ephemeral node the pool owns until {@link #close()}: re-created, with its latest data, on every new session of
 * its ensemble. Ownership rules after expiry: a node left behind by this pool's dead session is removed before the new
 * one is made, so there is never more than one; a node at the same path owned by another live session is never taken
 * over (a conflict is reported to the pool's {@link SessionListener} and the pool keeps trying until that node goes).
 *
 * <p>Between a connection loss and the end of recovery the node's existence on the server is unknown: while the
 * session is {@link SessionState#SUSPENDED} the server may already have deleted it.
 */
public interface EphemeralNode extends AutoCloseable {

  /** The node's current path. A sequential node gets a new name after each re-creation. */
  String path();

  /** The data the node has, and will be re-created with. */
  byte[] data();

  /** Sets the node's data on the server (when it exists) and for every later re-creation. */
  void setData(byte[] data);

  /** True while the node is known to exist on the server under the live session. */
  boolean isPresent();

  /** Called with the new path whenever re-creation changes it (sequential nodes); on the pool's event thread. */
  void onPathChange(Consumer<String> listener);

  /** Deletes the node and stops re-creating it. Idempotent. */
  @Override
  void close();
}
