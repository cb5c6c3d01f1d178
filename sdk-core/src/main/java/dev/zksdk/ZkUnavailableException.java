package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/**
 * The ensemble cannot be used now; nothing was sent. Either no session connected while the call waited (the
 * connection timeout, after which the ensemble counts as unreachable; or what was left of the operation timeout, when
 * that was shorter), or the ensemble is known to be unreachable, its circuit breaker is open or the pool's in-flight
 * limit (bulkhead) is full (thrown within milliseconds).
 * {@link #code()} is {@code CONNECTIONLOSS}.
 */
public class ZkUnavailableException extends ZkException {

    private static final long serialVersionUID = 1L;

    /**
     * The ensemble could not be used and nothing was sent; its code is {@code CONNECTIONLOSS}.
     *
     * @param path the path of the failed operation, or null when it had none
     * @param message what failed, for people
     * @param cause the underlying exception, or null
     */
    public ZkUnavailableException(String path, String message, Throwable cause) {
        super(KeeperException.Code.CONNECTIONLOSS, path, message, cause);
    }
}
