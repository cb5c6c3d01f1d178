package dev.zksdk;

import java.util.Objects;
import org.apache.zookeeper.KeeperException;

/**
 * The root of every failure zk-sdk reports for an operation: unchecked, and always carrying the ZooKeeper
 * {@link KeeperException.Code} and the path the operation was about (null for operations without one, such as
 * {@code multi} failing before any operation ran).
 *
 * <p>Application results ({@code NONODE}, {@code NODEEXISTS}, {@code BADVERSION}, {@code NOTEMPTY}) arrive as a
 * {@code ZkException} (or one of its application subclasses such as {@link ZkNoNodeException}) with that code and are
 * never retried. Connection-level failures are the subclasses {@link ZkConnectionLossException},
 * {@link ZkSessionExpiredException} and {@link ZkUnavailableException}.
 */
public class ZkException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The ZooKeeper result code of the failure. */
    private final KeeperException.Code code;
    /** The path of the failed operation, or null. */
    private final String path;

    /**
     * A failure with no cause.
     *
     * @param code the ZooKeeper result code, not null
     * @param path the path of the failed operation, or null when it had none
     * @param message what failed, for people
     * @throws NullPointerException when {@code code} is null
     */
    public ZkException(KeeperException.Code code, String path, String message) {
        this(code, path, message, null);
    }

    /**
     * A failure with its cause.
     *
     * @param code the ZooKeeper result code, not null
     * @param path the path of the failed operation, or null when it had none
     * @param message what failed, for people
     * @param cause the underlying exception (such as ZooKeeper's {@link KeeperException}), or null
     * @throws NullPointerException when {@code code} is null
     */
    public ZkException(KeeperException.Code code, String path, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
        this.path = path;
    }

    /**
     * The ZooKeeper result code of the failure.
     *
     * @return the code, never null
     */
    public KeeperException.Code code() {
        return code;
    }

    /**
     * The path of the failed operation.
     *
     * @return the path, or null when the operation had none
     */
    public String path() {
        return path;
    }

    /**
     * Maps a ZooKeeper result code to the most specific zk-sdk exception type. Connection loss and session expiry are
     * not built here: the operation pipeline decides those, because only it knows whether a write was sent.
     *
     * @param code the ZooKeeper result code
     * @param path the path of the failed operation, or null
     * @param message what failed, for people
     * @param cause the underlying exception, or null
     * @return a {@link ZkNoNodeException}, {@link ZkNodeExistsException}, {@link ZkBadVersionException},
     *     {@link ZkNotEmptyException} or {@link ZkAuthException} for those codes, else a plain {@code ZkException}
     */
    public static ZkException of(KeeperException.Code code, String path, String message, Throwable cause) {
        switch (code) {
            case NONODE:
                return new ZkNoNodeException(path, message, cause);
            case NODEEXISTS:
                return new ZkNodeExistsException(path, message, cause);
            case BADVERSION:
                return new ZkBadVersionException(path, message, cause);
            case NOTEMPTY:
                return new ZkNotEmptyException(path, message, cause);
            case NOAUTH:
            case AUTHFAILED:
                return new ZkAuthException(code, path, message, cause);
            default:
                return new ZkException(code, path, message, cause);
        }
    }
}
