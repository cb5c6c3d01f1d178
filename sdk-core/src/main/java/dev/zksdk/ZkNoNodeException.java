package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/** Application result {@code NONODE}: the node does not exist. Never retried. */
public class ZkNoNodeException extends ZkException {

    private static final long serialVersionUID = 1L;

    public ZkNoNodeException(String path, String message, Throwable cause) {
        super(KeeperException.Code.NONODE, path, message, cause);
    }
}
