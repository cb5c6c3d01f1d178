package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/** Application result {@code BADVERSION}: the node's version differs from the expected one. Never retried. */
public class ZkBadVersionException extends ZkException {

    private static final long serialVersionUID = 1L;

    public ZkBadVersionException(String path, String message, Throwable cause) {
        super(KeeperException.Code.BADVERSION, path, message, cause);
    }
}
