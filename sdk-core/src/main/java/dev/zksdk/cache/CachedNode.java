package dev.zksdk.cache;

import dev.zksdk.internal.Validation;
import java.util.Arrays;
import org.apache.zookeeper.data.Stat;

/**
 * One node as a single read returned it: its path, data and {@link Stat}, read together (data and stat always belong
 * to the same version of the node). Immutable: {@link #data()} and {@link #stat()} hand out copies, so a cached value
 * can be shared by every reader.
 */
public final class CachedNode {

    private final String path;
    private final byte[] data;
    private final Stat stat;

    /**
     * A node as one read returned it; the cache makes these, a test may make one.
     *
     * @param path the node's path
     * @param data the node's data (null is taken as empty, as ZooKeeper stores it); copied
     * @param stat the node's stat from the same read; copied
     * @throws IllegalArgumentException when {@code path} or {@code stat} is null
     */
    public CachedNode(String path, byte[] data, Stat stat) {
        this.path = Validation.notNull("path", path);
        this.data = data == null ? new byte[0] : data.clone();
        this.stat = copy(Validation.notNull("stat", stat));
    }

    /**
     * The node's path.
     *
     * @return the absolute path
     */
    public String path() {
        return path;
    }

    /**
     * The node's data.
     *
     * @return a copy of the data, empty (not null) for a node without data
     */
    public byte[] data() {
        return data.clone();
    }

    /**
     * The length of the node's data, without copying it.
     *
     * @return the length in bytes
     */
    public int dataLength() {
        return data.length;
    }

    /**
     * The node's stat, from the same read as the data.
     *
     * @return a copy of the stat
     */
    public Stat stat() {
        return copy(stat);
    }

    /**
     * The node's data version, for a conditional write ({@code setData(path, data, version)}).
     *
     * @return the data version
     */
    public int version() {
        return stat.getVersion();
    }

    /**
     * The zxid of the last change to the node's data: a later read of a changed node has a larger one.
     *
     * @return the node's {@code mzxid}
     */
    public long modifiedZxid() {
        return stat.getMzxid();
    }

    private static Stat copy(Stat s) {
        return new Stat(
                s.getCzxid(),
                s.getMzxid(),
                s.getCtime(),
                s.getMtime(),
                s.getVersion(),
                s.getCversion(),
                s.getAversion(),
                s.getEphemeralOwner(),
                s.getDataLength(),
                s.getNumChildren(),
                s.getPzxid());
    }

    /** Equal when path, data and stat are equal: the same version of the same node. */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CachedNode)) {
            return false;
        }
        CachedNode other = (CachedNode) o;
        return path.equals(other.path) && Arrays.equals(data, other.data) && stat.equals(other.stat);
    }

    @Override
    public int hashCode() {
        return 31 * path.hashCode() + Long.hashCode(stat.getMzxid());
    }

    /** Path, version and data length; never the data, which may be a secret. */
    @Override
    public String toString() {
        return "CachedNode{" + path + ", version " + stat.getVersion() + ", mzxid 0x"
                + Long.toHexString(stat.getMzxid()) + ", " + data.length + " bytes}";
    }
}
