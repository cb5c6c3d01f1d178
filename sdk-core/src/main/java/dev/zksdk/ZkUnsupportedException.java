package dev.zksdk;

import org.apache.zookeeper.KeeperException;

/**
 * The ensemble's servers are too old for what was asked (code {@code UNIMPLEMENTED}): for example a tree watch
 * (persistent recursive watches, ZooKeeper 3.6) or a container node (3.5) on a ZooKeeper 3.4 server. Thrown at once,
 * before anything is sent once the pool knows the servers lack the feature; never retried, and the connection is not
 * dropped for it.
 */
public class ZkUnsupportedException extends ZkException {

    private static final long serialVersionUID = 1L;

    private final String feature;
    private final String server;

    public ZkUnsupportedException(String path, String feature, String server, String message) {
        super(KeeperException.Code.UNIMPLEMENTED, path, message, null);
        this.feature = feature;
        this.server = server;
    }

    /** The feature the servers lack, e.g. {@code "persistent recursive watches (watchTree)"}. */
    public String feature() {
        return feature;
    }

    /** What the pool knows of the servers' version and how it knows it. */
    public String server() {
        return server;
    }
}
