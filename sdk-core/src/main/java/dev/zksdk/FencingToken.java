package dev.zksdk;

import java.util.Objects;

/**
 * Proof of a turn as leader or lock holder, handed out by {@link ZkLeadership} and {@link ZkLock}: a number that
 * grows with every change of holder, to pass to the systems the holder writes to.
 *
 * <p>How it is made: on winning, the new holder bumps the election's epoch node ({@code <path>-epoch}, a persistent
 * sibling of the recipe's node) in one {@code multi} with a {@code check} of its own election or lock node, so the bump
 * lands only while it still holds. {@link #value()} is the {@code mzxid} of that bump: ZooKeeper's transaction ids grow
 * strictly, so a later holder's token is always greater, also when the epoch node was deleted and created again.
 * {@link #epochVersion()} is the epoch node's version after the bump, and {@link #holderNode()} the holder's own election
 * or lock node: {@link ZkLease#fenced(FencingToken)} checks both inside every write, so a write made with a superseded
 * token fails, and so does one made after the holder lost its turn at the ZooKeeper level (its session expired, it
 * released or closed, its node was deleted), also when someone deleted the epoch node and its versions started again.
 *
 * <p>A system outside ZooKeeper (a database row, a storage service) is fenced only if it stores the greatest value it
 * has seen and refuses writes carrying a smaller one. Immutable; equal when the path, version and value are equal.
 */
public final class FencingToken {

    private final String epochPath;
    private final int epochVersion;
    private final long value;
    private final String holderNode;

    /**
     * A token, as an election or lock hands it out (or as rebuilt from the four values where a holder stored it). A
     * token rebuilt with the current holder's values is that holder's token: fencing protects against holders whose
     * turn has ended, not against code that copies the current holder's token.
     *
     * @param epochPath the epoch node's absolute path
     * @param epochVersion the epoch node's version after the holder's bump, at least 1
     * @param value the zxid of the holder's bump, positive
     * @param holderNode the holder's own election or lock node (absolute path)
     * @throws IllegalArgumentException when a value is out of range, naming it
     */
    public FencingToken(String epochPath, int epochVersion, long value, String holderNode) {
        if (holderNode == null || !holderNode.startsWith("/") || holderNode.endsWith("/")) {
            throw new IllegalArgumentException("holderNode must be an absolute node path, was '" + holderNode + "'");
        }
        if (epochPath == null || !epochPath.startsWith("/") || epochPath.endsWith("/")) {
            throw new IllegalArgumentException("epochPath must be an absolute node path, was '" + epochPath + "'");
        }
        if (epochVersion < 1) {
            throw new IllegalArgumentException("epochVersion must be at least 1, was " + epochVersion);
        }
        if (value <= 0) {
            throw new IllegalArgumentException("value must be positive, was " + value);
        }
        this.epochPath = epochPath;
        this.epochVersion = epochVersion;
        this.value = value;
        this.holderNode = holderNode;
    }

    /**
     * The number to pass to other systems: the zxid of the holder's bump, greater for every later holder.
     *
     * @return the token's value, positive
     */
    public long value() {
        return value;
    }

    /**
     * The epoch node's version right after this holder's bump; a fenced write checks it.
     *
     * @return the version, at least 1
     */
    public int epochVersion() {
        return epochVersion;
    }

    /**
     * The epoch node this token was made on.
     *
     * @return the absolute path of the epoch node ({@code <election path>-epoch})
     */
    public String epochPath() {
        return epochPath;
    }

    /**
     * The holder's own node: the {@code LeaderLatch} or {@code InterProcessMutex} node (a protected-mode name with a
     * random UUID, never reused) whose existence proves the turn is still held at the ZooKeeper level. A fenced write
     * checks that it still exists, besides the epoch version: it is gone once the holder's session expired, the holder
     * released or closed, or someone deleted it. A holder that is only SUSPENDED still owns it, and no one else holds.
     * Not part of {@link #equals} (the value identifies the bump). {@link #value()} stays the number for other systems.
     *
     * @return the absolute path of the holder's node, or null when this token was made without one
     */
    public String holderNode() {
        return holderNode;
    }

    /**
     * Whether this token is newer than {@code other} (made by a later holder of any election).
     *
     * @param other another token, not null
     * @return true when this token's value is greater
     */
    public boolean isNewerThan(FencingToken other) {
        return value > Objects.requireNonNull(other, "other").value;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof FencingToken)) {
            return false;
        }
        FencingToken t = (FencingToken) o;
        return value == t.value && epochVersion == t.epochVersion && epochPath.equals(t.epochPath);
    }

    @Override
    public int hashCode() {
        return Objects.hash(epochPath, epochVersion, value);
    }

    @Override
    public String toString() {
        return "FencingToken{" + value + ", " + epochPath + " version " + epochVersion
                + (holderNode != null ? ", holder " + holderNode : "") + "}";
    }
}
