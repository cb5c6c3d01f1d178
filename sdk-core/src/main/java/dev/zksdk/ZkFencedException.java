package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/**
 * A fenced write was refused: the token it carried is no longer current, because another holder has won the election
 * or lock since (or the epoch node is gone), or because the holder's own node ({@link FencingToken#holderNode()}) is
 * gone: its session expired, it released or closed, or someone deleted it. Nothing of the write was applied (it ran as
 * one {@code multi} whose first operations, the checks of the epoch node's version and of the holder's node, failed). Never retried: the caller has lost its turn.
 */
public class ZkFencedException extends ZkException {

    private static final long serialVersionUID = 1L;

    /** The token the refused write carried. */
    private final transient FencingToken token;

    /**
     * A refused fenced write.
     *
     * @param code the result of the failed check ({@code BADVERSION}, or {@code NONODE} when the epoch node or the
     *     holder's node is gone)
     * @param path the path the write was for
     * @param token the token it carried
     * @param cause the underlying failure, or null
     */
    public ZkFencedException(KeeperException.Code code, String path, FencingToken token, Throwable cause) {
        super(
                code,
                path,
                "fenced write to " + path + " refused: " + token + " is no longer current (" + why(code, token, cause)
                        + ")",
                cause);
        this.token = token;
    }

    private static String why(KeeperException.Code code, FencingToken token, Throwable cause) {
        if (cause instanceof ZkException
                && token.holderNode() != null
                && token.holderNode().equals(((ZkException) cause).path())) {
            return "the holder's node " + token.holderNode() + " is gone";
        }
        return token.epochPath()
                + (code == KeeperException.Code.NONODE ? " is gone" : " has been bumped by a later holder");
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
