package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/**
 * The ensemble cannot be used now; nothing was sent. Either no session connected within the connection timeout (the
 * call waited that long, and the ensemble then counts as unreachable), or the ensemble is known to be unreachable, its
 * circuit breaker is open or the pool's in-flight limit (bulkhead) is full (thrown within milliseconds).
 * {@link #code()} is {@code CONNECTIONLOSS}.
 */
public class ZkUnavailableException extends ZkException {

  private static final long serialVersionUID = 1L;

  public ZkUnavailableException(String path, String message, Throwable cause) {
    super(KeeperException.Code.CONNECTIONLOSS, path, message, cause);
  }
}
