package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/**
 * {@code NOAUTH} (this identity may not do that to the node) or {@code AUTHFAILED} (the server refused the
 * credentials). Never retried: another attempt with the same credentials cannot succeed.
 */
public class ZkAuthException extends ZkException {

    private static final long serialVersionUID = 1L;

    public ZkAuthException(KeeperException.Code code, String path, String message, Throwable cause) {
        super(code, path, message, cause);
    }
}
