package dev.zksdk.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.MultiOperationRecord;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.proto.CreateRequest;
import org.apache.zookeeper.proto.SetDataRequest;

/**
 * The size of a write request as the server reads it, checked before it is sent: a server refuses a packet longer than
 * its {@code jute.maxbuffer} by dropping the connection, which would cut every call on the shared session and leave the
 * write's outcome unknown. The client's {@code jute.maxbuffer} stands for the server's (both 1,048,575 bytes unless
 * set).
 *
 * <p>A cheap upper bound is computed first; only a request that may be too big is serialized (into a counter, nothing
 * is copied) to know its exact size.
 */
public final class RequestSize {

    /** The request header before every request record: xid and type. */
    private static final int HEADER_BYTES = 8;

    private RequestSize() {}

    /** Checks a create of {@code path} with {@code data} and {@code acl}; a sequential one gets its 10-digit counter. */
    public static void create(
            String argument, String path, boolean sequential, byte[] data, List<ACL> acl, int maxBytes) {
        if (sequential) {
            path = path + "0000000000";
        }
        long bound = HEADER_BYTES + stringBound(path) + 4L + data.length + aclBound(acl) + 4;
        if (bound <= maxBytes) {
            return;
        }
        check(argument, "create of " + path, new CreateRequest(path, data, acl, 0), maxBytes);
    }

    /** Checks a setData of {@code path} with {@code data}. */
    public static void setData(String argument, String path, byte[] data, int maxBytes) {
        long bound = HEADER_BYTES + stringBound(path) + 4L + data.length + 4;
        if (bound <= maxBytes) {
            return;
        }
        check(argument, "setData of " + path, new SetDataRequest(path, data, -1), maxBytes);
    }

    /** Checks a multi: its operations together, as one request. */
    public static void multi(String argument, List<Op> ops, int maxBytes) {
        check(argument, "multi of " + ops.size() + " operations", new MultiOperationRecord(ops), maxBytes);
    }

    private static void check(String argument, String what, Record request, int maxBytes) {
        long size = HEADER_BYTES + serializedSize(request);
        if (size > maxBytes) {
            throw new IllegalArgumentException(
                    argument + ": the " + what + " is " + size + " bytes as sent (paths, data and "
                            + "ACLs together), over the jute.maxbuffer limit of " + maxBytes
                            + " bytes; a server drops the connection "
                            + "of a request that size, so it was not sent");
        }
    }

    /** The bytes {@code request} takes as sent, header excluded (serialized into a counter; nothing is copied). */
    public static long serializedSize(Record request) {
        CountingStream counter = new CountingStream();
        try {
            request.serialize(BinaryOutputArchive.getArchive(counter), "request");
        } catch (IOException e) {
            throw new UncheckedIOException("counting the size of a request", e);
        }
        return counter.count;
    }

    /** At most three bytes of UTF-8 per char of Java's UTF-16, and the length prefix. */
    private static long stringBound(String s) {
        return 4L + (s == null ? 0 : 3L * s.length());
    }

    private static long aclBound(List<ACL> acl) {
        long bytes = 4;
        for (ACL a : acl) {
            bytes += 4
                    + (a.getId() == null
                            ? 8
                            : stringBound(a.getId().getScheme())
                                    + stringBound(a.getId().getId()));
        }
        return bytes;
    }

    private static final class CountingStream extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }
}
