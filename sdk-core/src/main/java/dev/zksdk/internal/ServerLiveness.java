package dev.zksdk.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.common.X509Exception;
import org.apache.zookeeper.common.X509Util;

/**
 * Whether a ZooKeeper server's process answers at all: a four-letter word {@code srvr} on a separate, short connection
 * with a session's client settings (TLS when they say so), bounded as a whole. Asked of a connected server that went
 * silent (the hung-server check) and of a server left as hung while it is quarantined (it stays quarantined while it
 * answers nothing).
 *
 * <p>Thread-safety: stateless; each probe blocks its caller for at most about twice the timeout (connect, then the
 * answer), so callers run it on a thread of their own.
 */
public final class ServerLiveness {

    private ServerLiveness() {}

    /**
     * Asks {@code address} for {@code srvr} with the session's client settings (TLS when they say so), and classifies
     * what happened.
     *
     * @param clientConfig the session's client settings
     * @param address the server to ask
     * @param timeoutMillis for the connect and for the answer
     * @return the verdict
     */
    public static Liveness probe(ZKClientConfig clientConfig, InetSocketAddress address, int timeoutMillis) {
        try {
            if (clientConfig.getBoolean(ZKClientConfig.SECURE_CLIENT)) {
                probeOverTls(clientConfig, address, timeoutMillis);
            } else {
                FourLetterWordMain.send4LetterWord(
                        address.getHostString(), address.getPort(), "srvr", clientConfig, timeoutMillis);
            }
            return Liveness.ALIVE; // any text, even empty (the server closed at once) or a refusal of the word
        } catch (IOException e) {
            return classify(e);
        } catch (X509Exception.SSLContextException | RuntimeException e) {
            return Liveness.NOT_PROBED;
        }
    }

    /**
     * The server's whole answer to {@code srvr}, with the session's client settings (TLS when they say so), each step
     * (connect, TLS handshake, each read) bounded by {@code timeoutMillis}: ZooKeeper's {@code send4LetterWord} sets
     * its read timeout only after the TLS handshake, so over TLS a SIGSTOPped server held the caller's thread until it
     * resumed (Review21g: the rebalancing's probe threads piled up, one every look, and outlived the pool).
     *
     * @param clientConfig the session's client settings
     * @param address the server to ask
     * @param timeoutMillis for the connect, the handshake and each read
     * @return the answer, possibly empty
     * @throws IOException when the server cannot be reached or does not answer in time
     * @throws X509Exception.SSLContextException when the TLS settings cannot make a context
     */
    public static String srvr(ZKClientConfig clientConfig, InetSocketAddress address, int timeoutMillis)
            throws IOException, X509Exception.SSLContextException {
        if (!clientConfig.getBoolean(ZKClientConfig.SECURE_CLIENT)) {
            return FourLetterWordMain.send4LetterWord(
                    address.getHostString(), address.getPort(), "srvr", clientConfig, timeoutMillis);
        }
        try (SSLSocket socket = srvrOverTls(clientConfig, address, timeoutMillis)) {
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * {@code srvr} over TLS with the session's TLS settings, bounded as a whole (see {@link #srvr}); any byte of an
     * answer, or the server closing the connection, is an answer.
     */
    private static void probeOverTls(ZKClientConfig clientConfig, InetSocketAddress address, int timeoutMillis)
            throws IOException, X509Exception.SSLContextException {
        try (SSLSocket socket = srvrOverTls(clientConfig, address, timeoutMillis)) {
            socket.getInputStream().read();
        }
    }

    /** A TLS connection to {@code address} that has sent {@code srvr}, its timeout set before the handshake. */
    private static SSLSocket srvrOverTls(ZKClientConfig clientConfig, InetSocketAddress address, int timeoutMillis)
            throws IOException, X509Exception.SSLContextException {
        SSLContext context;
        try (X509Util x509 = new ClientX509Util()) {
            context = x509.createSSLContext(clientConfig);
        }
        // As named in a connect string, an address may be unresolved: resolved here, as send4LetterWord does.
        InetSocketAddress target =
                address.isUnresolved() ? new InetSocketAddress(address.getHostString(), address.getPort()) : address;
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
        try {
            socket.setSoTimeout(timeoutMillis);
            socket.connect(target, timeoutMillis);
            socket.startHandshake();
            OutputStream out = socket.getOutputStream();
            out.write("srvr".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * What a failed {@code srvr} says of the server's process: a timeout (connect, handshake or read; possibly wrapped
     * in an IOException or SSLException) is no answer; a refused or unroutable connection is a process gone; anything
     * else (a connection reset or closed by the server, a TLS handshake the server cut) came from a live process.
     *
     * @param e what {@code srvr} threw
     * @return the verdict
     */
    static Liveness classify(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SocketTimeoutException) {
                return Liveness.NO_ANSWER;
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException
                    || t instanceof NoRouteToHostException
                    || t instanceof UnknownHostException) {
                return Liveness.GONE;
            }
        }
        return Liveness.ALIVE;
    }

    /** What the out-of-band probe found. */
    public enum Liveness {
        /** The process answered or closed the probe's connection itself: not hung. */
        ALIVE,
        /** No answer within the probe's timeout. */
        NO_ANSWER,
        /** The connection was refused (or the address unreachable): the process is gone. */
        GONE,
        /** No probe could be made. */
        NOT_PROBED;

        /**
         * This verdict in words, for a log line.
         *
         * @param timeoutNanos the probe's timeout
         * @return the words
         */
        public String describe(long timeoutNanos) {
            switch (this) {
                case NO_ANSWER:
                    return "no answer within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms";
                case GONE:
                    return "connection refused";
                case NOT_PROBED:
                    return "not probed";
                default:
                    return "alive";
            }
        }
    }
}
