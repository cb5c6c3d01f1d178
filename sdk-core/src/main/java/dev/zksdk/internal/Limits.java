package dev.zksdk.internal;

import org.apache.zookeeper.client.ZKClientConfig;

/** The client's size limits, as ZooKeeper reads them (the JVM's {@code jute.maxbuffer}, 1,048,575 bytes unless set). */
public final class Limits {

    /** How many times {@code jute.maxbuffer} a pooled session's socket reads, up to {@link #RECEIVE_CAP}. */
    public static final int RECEIVE_FACTOR = 16;

    public static final int RECEIVE_CAP = 256 * 1024 * 1024;

    private Limits() {}

    /** The client's limit on data and answers: {@code jute.maxbuffer}. */
    public static int maxBuffer() {
        return new ZKClientConfig()
                .getInt(ZKClientConfig.JUTE_MAXBUFFER, ZKClientConfig.CLIENT_MAX_PACKET_LENGTH_DEFAULT);
    }

    /**
     * The largest packet a pooled session's socket reads: an answer over {@link #maxBuffer()} still arrives and fails its
     * own call, instead of making ZooKeeper drop the connection for every lease on it.
     */
    public static int receiveLimit() {
        int limit = maxBuffer();
        return (int) Math.max(limit, Math.min((long) limit * RECEIVE_FACTOR, RECEIVE_CAP));
    }
}
