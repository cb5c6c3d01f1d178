package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/**
 * The calling thread was interrupted while it waited for an operation. The thread's interrupt flag is set again.
 * A write may or may not have been applied, as with {@link ZkConnectionLossException#outcomeUnknown()}.
 */
public class ZkInterruptedException extends ZkException {

    private static final long serialVersionUID = 1L;

    /**
     * An interrupted call; its code is {@code OPERATIONTIMEOUT}.
     *
     * @param path the path of the failed operation, or null when it had none
     * @param message what failed, for people
     * @param cause the underlying exception, or null
     */
    public ZkInterruptedException(String path, String message, Throwable cause) {
        super(KeeperException.Code.OPERATIONTIMEOUT, path, message, cause);
    }
}
