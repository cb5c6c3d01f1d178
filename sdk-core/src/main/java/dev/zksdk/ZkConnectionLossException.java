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

    /** Whether a write may or may not have been applied. */
    private final boolean outcomeUnknown;

    /**
     * A connection-level failure after the retries ran out.
     *
     * @param code {@code CONNECTIONLOSS} or {@code OPERATIONTIMEOUT}, as the last attempt met
     * @param path the path of the failed operation, or null
     * @param message what failed, for people
     * @param outcomeUnknown true when a write may have reached the server
     * @param cause the last attempt's failure, or null
     */
    public ZkConnectionLossException(
            KeeperException.Code code, String path, String message, boolean outcomeUnknown, Throwable cause) {
        super(code, path, message, cause);
        this.outcomeUnknown = outcomeUnknown;
    }

    /**
     * Whether the server may have applied the write: the caller has to look before acting again.
     *
     * @return true when a write may or may not have been applied; always false for reads
     */
    public boolean outcomeUnknown() {
        return outcomeUnknown;
    }
}
