package dev.zksdk;

import java.util.Arrays;
import java.util.Objects;
import org.apache.zookeeper.data.Stat;

/**
 * A node's data and its {@link Stat}, read together in one request ({@link ZkLease#getNode}), so the version belongs
 * to this data: {@code setData(path, newData, node.version())} fails with {@link ZkBadVersionException} when someone
 * wrote the node in between, instead of overwriting their write.
 *
 * @param data the node's data, never null (empty for a node without data); the caller's own array
 * @param stat the node's stat as of this data
 */
public record NodeData(byte[] data, Stat stat) {

    /**
     * Checks that both parts are there.
     *
     * @param data the node's data, never null
     * @param stat the node's stat as of this data
     * @throws NullPointerException when {@code data} or {@code stat} is null
     */
    public NodeData {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(stat, "stat");
    }

    /**
     * The data's version, for a conditional {@link ZkLease#setData} or {@link ZkLease#delete}.
     *
     * @return {@code stat().getVersion()}
     */
    public int version() {
        return stat.getVersion();
    }

    /** Equal when both hold the same bytes and the same stat. */
    @Override
    public boolean equals(Object o) {
        return o instanceof NodeData that && Arrays.equals(data, that.data) && stat.equals(that.stat);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(data) + stat.hashCode();
    }

    /** The size and version, never the data itself (it may be a secret). */
    @Override
    public String toString() {
        return "NodeData{" + data.length + " bytes, version " + stat.getVersion() + ", mzxid 0x"
                + Long.toHexString(stat.getMzxid()) + "}";
    }
}
