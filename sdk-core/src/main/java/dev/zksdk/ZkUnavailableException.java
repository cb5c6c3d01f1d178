package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/**
 * The ensemble cannot be used now: no session could be connected within the connection timeout, the circuit
 * breaker of the ensemble is open, or the pool's in-flight limit (bulkhead) is full. Thrown at once, without waiting
 * out a retry deadline; nothing was sent. {@link #code()} is {@code CONNECTIONLOSS}.
 */
public class ZkUnavailableException extends ZkException {

  private static final long serialVersionUID = 1L;

  public ZkUnavailableException(String path, String message, Throwable cause) {
    super(KeeperException.Code.CONNECTIONLOSS, path, message, cause);
  }
}
