package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/**
 * {@code NOAUTH} (this identity may not do that to the node) or {@code AUTHFAILED} (the server refused the
 * credentials). Never retried: another attempt with the same credentials cannot succeed.
 */
public class ZkAuthException extends ZkException {

    private static final long serialVersionUID = 1L;

    /**
     * A refusal for lack of rights or of a valid identity.
     *
     * @param code {@code NOAUTH} or {@code AUTHFAILED}
     * @param path the path of the failed operation, or null when it had none
     * @param message what failed, for people
     * @param cause the underlying exception, or null
     */
    public ZkAuthException(KeeperException.Code code, String path, String message, Throwable cause) {
        super(code, path, message, cause);
    }
}
