package dev.zksdk.benchmarks;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.jute.BinaryInputArchive;
import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs.OpCode;
import org.apache.zookeeper.proto.ConnectRequest;
import org.apache.zookeeper.proto.ConnectResponse;
import org.apache.zookeeper.proto.GetDataRequest;
import org.apache.zookeeper.proto.GetDataResponse;
import org.apache.zookeeper.proto.ReplyHeader;
import org.apache.zookeeper.proto.RequestHeader;

/**
 * The per-request client of the incidents this SDK answers: a web worker (PHP-FPM with a ZooKeeper extension, a CGI
 * script) that connects, creates a session, asks one question and closes the session, all in about a millisecond, with
 * no thread, no pause and no reconnect logic. It speaks ZooKeeper's wire protocol directly (ZooKeeper's own record
 * classes over a blocking socket): connect request, {@code getData}, {@code closeSession}, each answered before the
 * next, then the socket is closed. ZooKeeper's Java client and Curator cannot stand in for it: their {@code close()}
 * waits for threads and sleeps, so they never open connections as fast as such workers do.
 *
 * <p>A server that refuses the connection (its {@code maxClientCnxns} per client address reached: it closes the
 * socket before answering) or a full listen queue makes the request fail with an {@link IOException}; nothing is
 * retried.
 */
final class LeanClient {

    /** What one request did, for the benchmark's counters. */
    interface Counts {
        void connected();

        void sessionCreated();
    }

    private LeanClient() {}

    /**
     * One request: a fresh connection and session to one server of {@code servers} chosen at random, the data of
     * {@code path}, the session closed.
     *
     * @throws IOException when the connection is refused, reset, closed or silent for {@code timeout}
     * @throws KeeperException when the server answers {@code getData} with an error
     */
    static byte[] getData(
            List<InetSocketAddress> servers, String path, Duration sessionTimeout, Duration timeout, Counts counts)
            throws IOException, KeeperException {
        InetSocketAddress server = servers.get(ThreadLocalRandom.current().nextInt(servers.size()));
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout((int) timeout.toMillis());
            counts.connected();
            socket.connect(server, (int) timeout.toMillis());
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));

            send(out, null, new ConnectRequest(0, 0, (int) sessionTimeout.toMillis(), 0, new byte[16], false));
            ConnectResponse session = new ConnectResponse();
            session.deserialize(BinaryInputArchive.getArchive(new ByteArrayInputStream(frame(in))), "connect");
            if (session.getTimeOut() <= 0) {
                throw new IOException("the server refused the session");
            }
            counts.sessionCreated();

            send(out, new RequestHeader(1, OpCode.getData), new GetDataRequest(path, false));
            GetDataResponse data = new GetDataResponse();
            int err = reply(in, 1, data);
            if (err != 0) {
                throw KeeperException.create(KeeperException.Code.get(err), path);
            }

            send(out, new RequestHeader(2, OpCode.closeSession), null);
            reply(in, 2, null);
            return data.getData();
        }
    }

    /** The servers of a connect string without a chroot. */
    static List<InetSocketAddress> servers(String connectString) {
        String hosts =
                connectString.contains("/") ? connectString.substring(0, connectString.indexOf('/')) : connectString;
        return java.util.Arrays.stream(hosts.split(","))
                .map(String::trim)
                .map(hp -> new InetSocketAddress(
                        hp.substring(0, hp.lastIndexOf(':')), Integer.parseInt(hp.substring(hp.lastIndexOf(':') + 1))))
                .toList();
    }

    private static void send(DataOutputStream out, RequestHeader header, Record request) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        BinaryOutputArchive archive = BinaryOutputArchive.getArchive(bytes);
        if (header != null) {
            header.serialize(archive, "header");
        }
        if (request != null) {
            request.serialize(archive, request instanceof ConnectRequest ? "connect" : "request");
        }
        out.writeInt(bytes.size());
        bytes.writeTo(out);
        out.flush();
    }

    /** Reads frames until the reply to {@code xid} (skipping notifications and pings); returns its error code. */
    private static int reply(DataInputStream in, int xid, Record response) throws IOException {
        while (true) {
            BinaryInputArchive archive = BinaryInputArchive.getArchive(new ByteArrayInputStream(frame(in)));
            ReplyHeader header = new ReplyHeader();
            header.deserialize(archive, "header");
            if (header.getXid() != xid) {
                continue;
            }
            if (header.getErr() == 0 && response != null) {
                response.deserialize(archive, "response");
            }
            return header.getErr();
        }
    }

    private static byte[] frame(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > 1 << 20) {
            throw new IOException("a frame of " + length + " bytes from the server");
        }
        byte[] frame = new byte[length];
        in.readFully(frame);
        return frame;
    }
}
