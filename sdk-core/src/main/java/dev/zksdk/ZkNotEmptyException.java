package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/** Application result {@code NOTEMPTY}: the node has children. Never retried. */
public class ZkNotEmptyException extends ZkException {

    private static final long serialVersionUID = 1L;

    public ZkNotEmptyException(String path, String message, Throwable cause) {
        super(KeeperException.Code.NOTEMPTY, path, message, cause);
    }
}
