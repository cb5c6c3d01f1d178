package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/**
 * A fenced write was refused: the token it carried is no longer current, because another holder has won the election
 * or lock since (or the epoch node is gone). Nothing of the write was applied (it ran as one {@code multi} whose first
 * operation, the check of the epoch node's version, failed). Never retried: the caller has lost its turn.
 */
public class ZkFencedException extends ZkException {

    private static final long serialVersionUID = 1L;

    /** The token the refused write carried. */
    private final transient FencingToken token;

    /**
     * A refused fenced write.
     *
     * @param code the result of the epoch check ({@code BADVERSION}, or {@code NONODE} when the epoch node is gone)
     * @param path the path the write was for
     * @param token the token it carried
     * @param cause the underlying failure, or null
     */
    public ZkFencedException(KeeperException.Code code, String path, FencingToken token, Throwable cause) {
        super(
                code,
                path,
                "fenced write to " + path + " refused: " + token + " is no longer current (" + token.epochPath()
                        + (code == KeeperException.Code.NONODE ? " is gone" : " has been bumped by a later holder")
                        + ")",
                cause);
        this.token = token;
    }

    /**
     * The token the refused write carried.
     *
     * @return the superseded token
     */
    public FencingToken token() {
        return token;
    }
}
