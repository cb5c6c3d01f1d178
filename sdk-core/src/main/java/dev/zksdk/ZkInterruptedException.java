package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/**
 * The calling thread was interrupted while it waited for an operation. The thread's interrupt flag is set again.
 * A write may or may not have been applied, as with {@link ZkConnectionLossException#outcomeUnknown()}.
 */
public class ZkInterruptedException extends ZkException {

    private static final long serialVersionUID = 1L;

    public ZkInterruptedException(String path, String message, Throwable cause) {
        super(KeeperException.Code.OPERATIONTIMEOUT, path, message, cause);
    }
}
