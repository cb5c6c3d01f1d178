package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/** Application result {@code NOTEMPTY}: the node has children. Never retried. */
public class ZkNotEmptyException extends ZkException {

    private static final long serialVersionUID = 1L;

    /**
     * A {@code NOTEMPTY} result: the node to delete has children.
     *
     * @param path the path of the failed operation, or null when it had none
     * @param message what failed, for people
     * @param cause the underlying exception, or null
     */
    public ZkNotEmptyException(String path, String message, Throwable cause) {
        super(KeeperException.Code.NOTEMPTY, path, message, cause);
    }
}
