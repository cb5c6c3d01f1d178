package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/**
 * The connection to the ensemble was lost (or an operation timed out) and retries within the operation's deadline did
 * not get through. The session itself may still be alive.
 *
 * <p>For a write, {@link #outcomeUnknown()} is true when the request may have reached the server: the write may or
 * may not have been applied, and the caller has to look before acting again. For reads it is always false.
 */
public class ZkConnectionLossException extends ZkException {

    private static final long serialVersionUID = 1L;

    private final boolean outcomeUnknown;

    public ZkConnectionLossException(
            KeeperException.Code code, String path, String message, boolean outcomeUnknown, Throwable cause) {
        super(code, path, message, cause);
        this.outcomeUnknown = outcomeUnknown;
    }

    /** True when a write may or may not have been applied by the server. */
    public boolean outcomeUnknown() {
        return outcomeUnknown;
    }
}
