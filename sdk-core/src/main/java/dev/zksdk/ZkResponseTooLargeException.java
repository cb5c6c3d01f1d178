package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/**
 * A read's answer is larger than the client accepts ({@code jute.maxbuffer}, 1,048,575 bytes unless set): for example
 * the children of a node with tens of thousands of children. Thrown at once for that call alone and never retried (it
 * would be as large again); other calls go on. {@link #code()} is {@code MARSHALLINGERROR}.
 *
 * <p>Raise the JVM's {@code jute.maxbuffer} system property (on clients, and on servers for data), or read less per
 * call (split the children over more parents).
 */
public class ZkResponseTooLargeException extends ZkException {

    private static final long serialVersionUID = 1L;

    /** The answer's size in bytes, a lower bound of it, or -1. */
    private final long responseBytes;
    /** The client's {@code jute.maxbuffer} in bytes. */
    private final int limitBytes;

    /**
     * A read whose answer is over the client's limit.
     *
     * @param path the path of the read
     * @param message what failed, for people
     * @param responseBytes the answer's size in bytes, or a lower bound of it; -1 when not known
     * @param limitBytes the client's {@code jute.maxbuffer} in bytes
     */
    public ZkResponseTooLargeException(String path, String message, long responseBytes, int limitBytes) {
        super(KeeperException.Code.MARSHALLINGERROR, path, message);
        this.responseBytes = responseBytes;
        this.limitBytes = limitBytes;
    }

    /**
     * The size of the answer.
     *
     * @return the size in bytes, or a lower bound of it (see the message); -1 when not known
     */
    public long responseBytes() {
        return responseBytes;
    }

    /**
     * The client's limit, {@code jute.maxbuffer}.
     *
     * @return the limit in bytes
     */
    public int limitBytes() {
        return limitBytes;
    }
}
