package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/** Application result {@code BADVERSION}: the node's version differs from the expected one. Never retried. */
public class ZkBadVersionException extends ZkException {

    private static final long serialVersionUID = 1L;

    /**
     * A {@code BADVERSION} result: the node's version was not the one the call required.
     *
     * @param path the path of the failed operation, or null when it had none
     * @param message what failed, for people
     * @param cause the underlying exception, or null
     */
    public ZkBadVersionException(String path, String message, Throwable cause) {
        super(KeeperException.Code.BADVERSION, path, message, cause);
    }
}
