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

    /** The feature the servers lack. */
    private final String feature;
    /** What the pool knows of the servers' version. */
    private final String server;

    /**
     * A refusal for lack of a server feature.
     *
     * @param path the path of the refused operation, or null
     * @param feature the feature the servers lack, named for people
     * @param server what the pool knows of the servers' version and how it knows it
     * @param message what failed, for people
     */
    public ZkUnsupportedException(String path, String feature, String server, String message) {
        super(KeeperException.Code.UNIMPLEMENTED, path, message, null);
        this.feature = feature;
        this.server = server;
    }

    /**
     * The feature the servers lack.
     *
     * @return its name for people, such as {@code "persistent recursive watches (watchTree)"}
     */
    public String feature() {
        return feature;
    }

    /**
     * What the pool knows of the servers' version and how it knows it.
     *
     * @return a description for people
     */
    public String server() {
        return server;
    }
}
