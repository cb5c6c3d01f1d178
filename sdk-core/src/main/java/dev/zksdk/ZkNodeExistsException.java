package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/** Application result {@code NODEEXISTS}: a node already exists at the path. Never retried. */
public class ZkNodeExistsException extends ZkException {

    private static final long serialVersionUID = 1L;

    /**
     * A {@code NODEEXISTS} result: a node is already at the path.
     *
     * @param path the path of the failed operation, or null when it had none
     * @param message what failed, for people
     * @param cause the underlying exception, or null
     */
    public ZkNodeExistsException(String path, String message, Throwable cause) {
        super(KeeperException.Code.NODEEXISTS, path, message, cause);
    }
}
