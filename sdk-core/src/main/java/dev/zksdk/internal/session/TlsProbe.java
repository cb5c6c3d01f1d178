package dev.zksdk.internal.session;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.internal.DaemonThreads;
import dev.zksdk.internal.TlsSettings;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import org.apache.zookeeper.common.ClientX509Util;

/**
 * Finds out why a TLS session does not connect. ZooKeeper's client only logs a failed handshake and tries again, so
 * "no session within the connection timeout" would hide the reason; the pool then runs one handshake of its own per
 * server, with the very {@code SslContext} ZooKeeper builds from the session's client config (same key and trust
 * managers, protocols and hostname verification), and reports the first failure in plain words.
 *
 * <p>Only called after a connection attempt timed out, so it costs nothing on the normal path.
 */
final class TlsProbe {

    /** How long a finished handshake is watched for a late refusal of the client's certificate. */
    private static final long AFTER_HANDSHAKE_WAIT_MS = 1_000;

    private TlsProbe() {}

    /**
     * Handshakes with each server of {@code ensemble} in turn, all within {@code timeout}; returns an
     * {@link SSLException} describing the first failure, or null when a handshake succeeded (TLS is not why the session
     * did not connect) or none could be tried.
     */
    static SSLException diagnose(EnsembleConfig ensemble, Duration timeout) {
        SslContext context;
        try (ClientX509Util x509 = new ClientX509Util()) {
            context = x509.createNettySslContextForClient(SessionClientConfig.forEnsemble(ensemble, null));
        } catch (Exception e) {
            return new SSLException("the TLS settings could not be turned into a TLS context: " + rootMessage(e), e);
        }
        EventLoopGroup group = new NioEventLoopGroup(1, DaemonThreads.single("zksdk-tls-probe"));
        try {
            SSLException first = null;
            long deadline = System.nanoTime() + timeout.toNanos();
            for (String server : ensemble.servers()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                Result result = handshake(group, context, server, ensemble, Duration.ofNanos(left));
                if (result.succeeded) {
                    return null;
                }
                if (first == null) {
                    first = result.failure;
                }
            }
            return first;
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        }
    }

    /** A handshake that succeeded, failed (with why), or could not be tried (failure null). */
    private record Result(boolean succeeded, SSLException failure) {
        static final Result OK = new Result(true, null);
        static final Result NOT_TRIED = new Result(false, null);
    }

    private static Result handshake(
            EventLoopGroup group, SslContext context, String server, EnsembleConfig ensemble, Duration timeout) {
        int colon = server.lastIndexOf(':');
        String host = server.substring(0, colon);
        int port = Integer.parseInt(server.substring(colon + 1));
        SslHandler[] handler = new SslHandler[1];
        AtomicLong bytesFromServer = new AtomicLong();
        AtomicReference<Throwable> afterHandshake = new AtomicReference<>();
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        handler[0] = context.newHandler(ch.alloc(), host, port);
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof ByteBuf) {
                                    bytesFromServer.addAndGet(((ByteBuf) msg).readableBytes());
                                }
                                ctx.fireChannelRead(msg);
                            }
                        });
                        ch.pipeline().addLast(handler[0]);
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                afterHandshake.compareAndSet(null, cause);
                                ctx.close();
                            }
                        });
                    }
                });
        Channel channel = null;
        try {
            ChannelFuture connect = bootstrap.connect(host, port);
            if (!connect.await(timeout.toMillis()) || !connect.isSuccess()) {
                return Result.NOT_TRIED; // unreachable: not a TLS problem, and ZooKeeper's own attempts say so
            }
            channel = connect.channel();
            Future<Channel> done = handler[0].handshakeFuture();
            if (!done.await(timeout.toMillis())) {
                return new Result(
                        false,
                        new SSLException("TLS handshake with " + server + " did not finish within " + timeout.toMillis()
                                + " ms: the server may not speak TLS on this port (is it the secureClientPort?)"));
            }
            if (!done.isSuccess()) {
                if (bytesFromServer.get() == 0 && clientCannotStart(done.cause())) {
                    // The client's own engine refused to send a hello: nothing reached the server.
                    return new Result(
                            false,
                            new SSLException(
                                    "TLS handshake with " + server + " not started: this client's TLS settings allow"
                                            + " no handshake, none of the cipher suites offered works with the"
                                            + " protocols offered ("
                                            + TlsSettings.offered(
                                                    ensemble.tls().enabledProtocols(),
                                                    ensemble.tls().cipherSuites())
                                            + "): set cipherSuites that belong to enabledProtocols ("
                                            + rootMessage(done.cause()) + ")",
                                    done.cause()));
                }
                if (bytesFromServer.get() == 0) {
                    return new Result(
                            false,
                            new SSLException(
                                    "TLS handshake with " + server + " failed: the server closed the "
                                            + "connection without answering the TLS hello: it does not speak TLS there (is "
                                            + server + " the "
                                            + "server's secureClientPort?)",
                                    done.cause()));
                }
                return new Result(false, describe(server, ensemble, done.cause()));
            }
            // With TLS 1.3 the client's side of the handshake ends before the server has checked the client's
            // certificate; a refusal arrives as an alert right after.
            if (channel.closeFuture().await(Math.min(timeout.toMillis(), AFTER_HANDSHAKE_WAIT_MS))) {
                Throwable why = afterHandshake.get();
                return new Result(
                        false,
                        why != null
                                ? describe(server, ensemble, why)
                                : new SSLException("TLS handshake with " + server
                                        + " failed: the server closed the connection right " + "after the handshake: "
                                        + clientCertificateRefused(ensemble)));
            }
            return Result.OK;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Result.NOT_TRIED;
        } finally {
            if (channel != null) {
                channel.close();
            }
        }
    }

    /**
     * Whether {@code cause} is the client's own engine refusing to start a handshake (no cipher suite offered fits a
     * protocol offered): JSSE's "No appropriate protocol (protocol is disabled or cipher suites are inappropriate)".
     */
    static boolean clientCannotStart(Throwable cause) {
        return mentions(cause, "no appropriate protocol") || mentions(cause, "cipher suites are inappropriate");
    }

    /** Turns a handshake failure into what an operator has to fix. */
    static SSLException describe(String server, EnsembleConfig ensemble, Throwable cause) {
        String reason;
        if (has(cause, CertPathBuilderException.class)
                || has(cause, CertPathValidatorException.class)
                || mentions(cause, "unable to find valid certification path")) {
            reason = "the server's certificate is not trusted: "
                    + (ensemble.tls().trustStore() == null
                            ? "no trust store is configured, so only the JVM's default CAs are trusted"
                            : "no CA in the trust store " + ensemble.tls().trustStore() + " signed it");
        } else if (mentions(cause, "subject alternative name")
                || mentions(cause, "no name matching")
                || mentions(cause, "hostname")
                || mentions(cause, "failed to verify host")) {
            reason = "hostname verification failed: the server's certificate does not name "
                    + server.substring(0, server.lastIndexOf(':'))
                    + " (as a subject alternative name); fix the certificate, or turn "
                    + "hostnameVerification off knowingly";
        } else if (has(cause, NotSslRecordException.class)
                || mentions(cause, "unrecognized ssl message")
                || mentions(cause, "plaintext connection")) {
            reason = "the server did not answer in TLS: is " + server + " the server's secureClientPort?";
        } else if (mentions(cause, "bad_certificate")
                || mentions(cause, "certificate_required")
                || mentions(cause, "certificate_unknown") && ensemble.tls().keyStore() == null) {
            reason = clientCertificateRefused(ensemble);
        } else if (has(cause, ClosedChannelException.class)
                || mentions(cause, "connection reset")
                || mentions(cause, "closed")) {
            reason = "the server closed the connection during the handshake (it may require a client certificate, or "
                    + "not speak TLS on this port)";
        } else if (mentions(cause, "protocol_version")
                || mentions(cause, "no appropriate protocol")
                || mentions(cause, "protocol is disabled")) {
            reason = "the server speaks none of the TLS protocols offered ("
                    + (ensemble.tls().enabledProtocols().isEmpty()
                            ? "the defaults, " + TlsSettings.DEFAULT_PROTOCOLS
                            : "enabledProtocols " + ensemble.tls().enabledProtocols())
                    + "; servers before ZooKeeper 3.9 speak only TLSv1.2 unless configured otherwise): it accepts none"
                    + " of the protocols and cipher suites offered ("
                    + TlsSettings.offered(
                            ensemble.tls().enabledProtocols(), ensemble.tls().cipherSuites()) + ")";
        } else if (TlsSettings.refusesWhatIsOffered(rootMessage(cause))
                || mentions(cause, "no negotiable cipher suite")) {
            // What the doctor's probe says of the same refusal: names of protocols and suites, never a store.
            reason = "the server accepts none of the protocols and cipher suites offered ("
                    + TlsSettings.offered(
                            ensemble.tls().enabledProtocols(), ensemble.tls().cipherSuites())
                    + "): set cipherSuites and enabledProtocols to ones the server accepts";
        } else if (has(cause, CertificateException.class)) {
            reason = "the server's certificate was refused";
        } else {
            reason = "the handshake failed";
        }
        return new SSLException(
                "TLS handshake with " + server + " failed: " + reason + " (" + rootMessage(cause) + ")", cause);
    }

    /** The server's refusal of the client certificate, whether TLS 1.2 (in the handshake) or 1.3 (right after). */
    private static String clientCertificateRefused(EnsembleConfig ensemble) {
        return ensemble.tls().keyStore() == null
                ? "the server requires a client certificate, and none was sent (configure a key store the server trusts)"
                : "the server did not accept this client's certificate (is its CA in the server's trust store?)";
    }

    private static boolean has(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private static boolean mentions(Throwable t, String text) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c.getMessage() != null
                    && c.getMessage().toLowerCase(Locale.ROOT).contains(text)) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }
}
