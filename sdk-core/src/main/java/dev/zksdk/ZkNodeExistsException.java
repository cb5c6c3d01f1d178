package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/** Application result {@code NODEEXISTS}: a node already exists at the path. Never retried. */
public class ZkNodeExistsException extends ZkException {

    private static final long serialVersionUID = 1L;

    public ZkNodeExistsException(String path, String message, Throwable cause) {
        super(KeeperException.Code.NODEEXISTS, path, message, cause);
    }
}
