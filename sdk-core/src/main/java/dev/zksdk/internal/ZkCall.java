package dev.zksdk.internal;

import java.util.concurrent.CompletableFuture;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;

/**
 * One operation as the pipeline sees it: how to send it on a handle, what kind of work it is, and how to read an
 * application result that follows a connection loss (when an earlier attempt may have been applied).
 */
public abstract class ZkCall<T> {

  /** What kind of work an operation is, for retry and outcome decisions. */
  enum Kind {
    READ,
    /** A write that may be retried after connection loss (with the checks of {@link #resendAfterLoss}). */
    WRITE,
    /** A write that is never retried once it may have been sent. */
    WRITE_ONCE
  }

  final String name;
  final String path;
  final Kind kind;
  final boolean sessionBound;

  ZkCall(String name, String path, Kind kind, boolean sessionBound) {
    this.name = name;
    this.path = path;
    this.kind = kind;
    this.sessionBound = sessionBound;
  }

  boolean isWrite() {
    return kind != Kind.READ;
  }

  /** Sends the operation; the future fails with a {@link KeeperException} for a non-OK result. */
  abstract CompletableFuture<T> send(ZooKeeper zk);

  /**
   * Sends the operation and waits for its result on the calling thread. The default goes through {@link #send};
   * operations with a synchronous ZooKeeper call override it, which saves the hand-off through ZooKeeper's event
   * thread.
   */
  T sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
    try {
      return send(zk).get();
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof KeeperException) {
        throw (KeeperException) cause;
      }
      throw cause instanceof RuntimeException ? (RuntimeException) cause : new IllegalStateException(cause);
    }
  }

  /** Sends again after an attempt was lost in flight. Protected creates look for their node first. */
  CompletableFuture<T> resendAfterLoss(ZooKeeper zk) {
    return send(zk);
  }

  /**
   * Reads an application result that came after an earlier attempt was lost in flight: the earlier attempt may have
   * been applied (a create that made its node, a delete that removed it). Returns a future with the real outcome, or
   * null to report the result as it is.
   */
  CompletableFuture<T> resolveAfterLoss(ZooKeeper zk, KeeperException.Code code) {
    return null;
  }

  static KeeperException error(int rc, String path) {
    return KeeperException.create(KeeperException.Code.get(rc), path);
  }
}
