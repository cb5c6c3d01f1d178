package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/** Application result {@code NONODE}: the node does not exist. Never retried. */
public class ZkNoNodeException extends ZkException {

    private static final long serialVersionUID = 1L;

    /**
     * A {@code NONODE} result: there is no node at the path (or, for a create, at its parent).
     *
     * @param path the path of the failed operation, or null when it had none
     * @param message what failed, for people
     * @param cause the underlying exception, or null
     */
    public ZkNoNodeException(String path, String message, Throwable cause) {
        super(KeeperException.Code.NONODE, path, message, cause);
    }
}
