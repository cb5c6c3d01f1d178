package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/**
 * The session that session-bound work belonged to (an ephemeral create, a lock) expired: the work was lost with it
 * and is never silently redone on the replacement session. The pool's own recovery re-creates the ephemerals it owns
 * through {@link EphemeralNode}; everything else is for the caller to decide.
 */
public class ZkSessionExpiredException extends ZkException {

    private static final long serialVersionUID = 1L;

    /**
     * A {@code SESSIONEXPIRED} failure of session-bound work.
     *
     * @param path the path of the failed operation, or null when it had none
     * @param message what failed, for people
     * @param cause the underlying exception, or null
     */
    public ZkSessionExpiredException(String path, String message, Throwable cause) {
        super(KeeperException.Code.SESSIONEXPIRED, path, message, cause);
    }
}
