package dev.zksdk.diagnostics;

import dev.zksdk.internal.TlsSettings;
import dev.zksdk.security.TlsConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.common.SSLContextAndOptions;
import org.apache.zookeeper.common.X509Exception;
import org.apache.zookeeper.common.X509Util;
import org.apache.zookeeper.common.ZKConfig;

/**
 * Probes one member with {@code ruok}, {@code srvr}, {@code conf}, {@code mntr}, {@code cons}, {@code wchs}, one
 * connection at a time (each probe connection counts against the member's {@code maxClientCnxns} for this
 * address), falling back to the AdminServer for words the member does not whitelist.
 *
 * <p>After a request times out on an accepted connection the member is not asked again: a stopped or hung process
 * would only cost one more timeout per word.
 *
 * <p>With {@link DoctorOptions#tls()} the words go over TLS, on sockets from ZooKeeper's {@code ClientX509Util} set up
 * from the very settings a pooled session gets ({@link TlsSettings}: stores, host name verification, protocols and
 * cipher suites). When the first word fails, the probe tells a port of the other protocol from a broken member: probed
 * in plain text, it looks for a certificate the port presents to a TLS handshake; probed over TLS, it sends a
 * plain-text {@code ruok}, and reads a TLS refusal of the protocols or cipher suites offered as a mismatch too.
 */
final class MemberProber {

    static final List<String> WORDS = List.of("ruok", "srvr", "conf", "mntr", "cons", "wchs");

    private final int timeoutMillis;
    private final AdminServerUse adminUse;
    private final AdminServerClient admin;
    /** The context of TLS probes; null in plain text or when it could not be made ({@link #tlsProblem}). */
    private final SSLContextAndOptions tls;
    /** The TLS settings, or null in plain text. */
    private final TlsConfig tlsConfig;

    private final String tlsProblem;

    MemberProber(DoctorOptions options) {
        this.timeoutMillis = (int) options.timeout().toMillis();
        this.adminUse = options.adminServerUse();
        this.admin = new AdminServerClient(options.adminPort(), timeoutMillis);
        SSLContextAndOptions context = null;
        String problem = null;
        if (options.tls() != null) {
            try {
                context = sslContext(options.tls());
            } catch (X509Exception.SSLContextException e) {
                problem = "could not set up TLS: " + rootMessage(e);
            }
        }
        this.tls = context;
        this.tlsConfig = options.tls();
        this.tlsProblem = problem;
    }

    /**
     * The SSL context and socket options ZooKeeper's client would build from these settings ({@link TlsSettings}, as
     * for a pooled session). The config copies no {@code zookeeper.ssl.*} system property (an in-process server's
     * settings must not reach the probe), and leaves FIPS mode off so that ZooKeeper's own trust manager checks the host
     * name: a plain SSL socket gets no endpoint identification otherwise.
     */
    private static SSLContextAndOptions sslContext(TlsConfig settings) throws X509Exception.SSLContextException {
        ZKConfig config = new ZKConfig() {
            @Override
            protected void handleBackwardCompatibility() {
                // nothing from system properties; see above
            }
        };
        settings.applyTo(config);
        config.setProperty(X509Util.FIPS_MODE_PROPERTY, "false");
        try (ClientX509Util x509 = new ClientX509Util()) {
            return x509.createSSLContextAndOptions(config);
        }
    }

    ServerReport probe(HostAndPort address, boolean inConnectString) {
        MemberProbe p = new MemberProbe(address, inConnectString);
        long start = System.nanoTime();
        try {
            if (tlsProblem != null) {
                p.problem = tlsProblem;
                return new ServerReport(p);
            }
            probeWords(p);
            if (p.reachable && !p.stalled && !p.refused) {
                readAutopurge(p);
            }
        } finally {
            p.elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        }
        return new ServerReport(p);
    }

    private void probeWords(MemberProbe p) {
        for (String word : WORDS) {
            if (p.stalled) {
                p.answers.put(word, "skipped: the member stopped answering");
                continue;
            }
            if (p.notServing) {
                p.answers.put(word, "skipped: not serving");
                continue;
            }
            String text;
            try {
                text = tls != null
                        ? sendOverTls(p.address, word)
                        : FourLetterWordMain.send4LetterWord(
                                p.address.host(), p.address.port(), word, false, timeoutMillis);
            } catch (IOException e) {
                Failure failure = describe(e, word);
                // Not after a timeout: a TLS port closes a plain request at once; a stopped one would cost one more.
                if (!p.reachable && (failure.reset || failure.tls) && otherProtocol(p, word)) {
                    return;
                }
                if (failure.reset) {
                    if (closedWithoutAnswer(p, word, "with a TCP reset, seen here as '" + e.getMessage() + "'")) {
                        return;
                    }
                    continue;
                }
                p.answers.put(word, "failed: " + failure.text);
                if (!p.reachable) {
                    p.problem = failure.text;
                    return;
                }
                p.stalled |= failure.afterConnect;
                if (p.problem == null) {
                    p.problem = "answered 'ruok' but then: " + failure.text;
                }
                continue;
            } catch (X509Exception.SSLContextException e) {
                // Unreachable for plain sockets; kept distinct so it never masquerades as a network fault.
                p.answers.put(word, "failed: " + e.getMessage());
                p.problem = "could not set up the connection: " + e.getMessage();
                return;
            }
            if (text.isEmpty()) {
                if (!p.reachable && otherProtocol(p, word)) {
                    return;
                }
                if (closedWithoutAnswer(p, word, null)) {
                    return;
                }
                continue;
            }
            if (WordParsers.isNotWhitelisted(text)) {
                if (word.equals("ruok")) {
                    // The refusal itself proves the member is up, which is all ruok is for: nothing is lost.
                    p.reachable = true;
                    p.answers.put(word, "not whitelisted (not needed: the refusal shows the member is up)");
                    continue;
                }
                p.notWhitelisted.add(word);
                fromAdmin(p, word);
                continue;
            }
            if (word.equals("ruok")) {
                if (!text.trim().equals("imok")) {
                    p.problem = "answered 'ruok' with '" + abbreviate(text) + "' instead of 'imok':"
                            + " this port does not seem to be a ZooKeeper client port";
                    p.answers.put(word, "unexpected answer");
                    return;
                }
                p.reachable = true;
                p.answers.put(word, "4lw");
                continue;
            }
            if (WordParsers.isNotServing(text)) {
                p.notServing = true;
                p.answers.put(word, "not serving");
                continue;
            }
            apply(p, word, text);
            p.answers.put(word, "4lw");
        }
    }

    /**
     * True (with the problem recorded) when the port that failed {@code word} before answering anything speaks the
     * other protocol: TLS when probed in plain text (it presents a certificate), plain text when probed over TLS (it
     * answers a plain {@code ruok}); or when, probed over TLS, it refuses this client's certificate.
     */
    private boolean otherProtocol(MemberProbe p, String word) {
        if (tls == null) {
            String subject = presentedCertificate(p.address);
            if (subject == null) {
                return false;
            }
            p.problem = "the port speaks TLS and was probed in plain text: it did not answer '" + word
                    + "', and presented the certificate of '" + subject + "' to a TLS handshake (a"
                    + " secureClientPort; probe it with the TLS settings)";
        } else {
            String plain;
            try {
                plain = FourLetterWordMain.send4LetterWord(
                        p.address.host(), p.address.port(), "ruok", false, timeoutMillis);
            } catch (IOException | X509Exception.SSLContextException e) {
                plain = "";
            }
            if (plain.isEmpty()) {
                return refusedAfterHandshake(p, word);
            }
            p.problem = "the port speaks plain text and was probed over TLS: the TLS handshake for '" + word
                    + "' failed, and a plain-text 'ruok' was answered with '" + abbreviate(plain)
                    + "' (a clientPort; probe it without TLS settings, or use the secureClientPort)";
        }
        p.tlsMismatch = true;
        p.answers.put(word, "failed: " + p.problem);
        return true;
    }

    /**
     * True (with the problem recorded) when the TLS port refuses this client's certificate. With TLS 1.3 the server
     * judges the client's certificate after the client's side of the handshake is done, so the refusal (an alert such
     * as {@code certificate_required}) may come only as the request is written, seen there as a broken pipe or a
     * closed connection; a handshake alone, then a read, receives the alert itself.
     */
    private boolean refusedAfterHandshake(MemberProbe p, String word) {
        String alert = null;
        try (SSLSocket socket = tls.createSSLSocket()) {
            socket.connect(new InetSocketAddress(p.address.host(), p.address.port()), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            socket.startHandshake();
            socket.getInputStream().read();
        } catch (SSLException e) {
            // Only an alert the server sent: a handshake it just closed says nothing about the certificate.
            alert = rootMessage(e).toLowerCase().contains("alert") ? rootMessage(e) : null;
        } catch (IOException e) {
            // Closed or reset without an alert, or no answer: not a TLS refusal.
        }
        if (alert == null) {
            return false;
        }
        if (TlsSettings.refusesWhatIsOffered(alert)) {
            p.problem = "the port speaks TLS but accepts none of the protocols and cipher suites offered (" + offered()
                    + "): the TLS handshake for '" + word + "' failed with '" + alert + "'";
            p.tlsMismatch = true;
            p.tlsParametersRefused = true;
        } else {
            p.problem = "TLS handshake failed: " + alert + tlsHint(alert);
        }
        p.answers.put(word, "failed: " + p.problem);
        return true;
    }

    /** What the probe offers, as a pooled session with the same settings does. */
    private String offered() {
        return TlsSettings.offered(tlsConfig.enabledProtocols(), tlsConfig.cipherSuites());
    }

    /**
     * Sends a four-letter word over TLS as ZooKeeper's {@code FourLetterWordMain} does, but with the read timeout set
     * before the handshake: ZooKeeper's sets it after, so a member that accepts the connection and never answers (a
     * stopped process) held the probe until the doctor's own limit, reported as too slow instead of stopped. A
     * timeout is wrapped as ZooKeeper wraps it, so {@link #describe} reads both alike.
     */
    private String sendOverTls(HostAndPort address, String word) throws IOException {
        try (SSLSocket socket = tls.createSSLSocket()) {
            socket.connect(new InetSocketAddress(address.host(), address.port()), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            socket.setTcpNoDelay(true);
            socket.startHandshake();
            OutputStream out = socket.getOutputStream();
            out.write(word.getBytes(StandardCharsets.UTF_8));
            out.flush();
            // No half-close: TLS has none; the member closes the connection after its answer.
            BufferedReader reader =
                    new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder answer = new StringBuilder();
            String line;
            while ((line = reader.readLine()) != null) {
                answer.append(line).append('\n');
            }
            return answer.toString();
        } catch (SocketTimeoutException e) {
            throw new IOException("Exception while executing four letter word: " + word, e);
        }
    }

    /**
     * The subject of the certificate the port presents to a TLS handshake, or null when it presents none. The
     * handshake is never completed: the trust manager notes the certificate and refuses it, so nothing is trusted and
     * nothing but the handshake's first message is sent.
     */
    private String presentedCertificate(HostAndPort address) {
        AtomicReference<X509Certificate> seen = new AtomicReference<>();
        X509TrustManager noter = new X509TrustManager() {
            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                if (chain != null && chain.length > 0) {
                    seen.set(chain[0]);
                }
                throw new CertificateException("only looking for a certificate; the handshake is not completed");
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                throw new CertificateException("a client trusts no client");
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {noter}, null);
            try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
                socket.connect(new InetSocketAddress(address.host(), address.port()), timeoutMillis);
                socket.setSoTimeout(timeoutMillis);
                socket.startHandshake();
            }
        } catch (IOException | GeneralSecurityException e) {
            // Expected: the trust manager refuses every certificate, and a plain-text port fails the handshake.
        }
        X509Certificate certificate = seen.get();
        return certificate == null
                ? null
                : certificate.getSubjectX500Principal().getName();
    }

    /**
     * Records that the member accepted the connection for {@code word} and closed it unanswered; true when that
     * happened before the member ever answered, i.e. it refuses this address and probing it further is pointless.
     *
     * <p>A member over {@code maxClientCnxns} closes the accepted connection with a TCP reset (NIOServerCnxnFactory
     * sets SO_LINGER 0; Netty closes it plainly). Whether the probe then sees end of stream, a reset while reading or
     * a broken pipe while writing depends only on whether the close overtakes the request, so all of them are the
     * same refusal.
     */
    private static boolean closedWithoutAnswer(MemberProbe p, String word, String how) {
        String detail = how == null ? "" : " (" + how + ")";
        p.closedWithoutAnswer.add(word);
        p.answers.put(word, "failed: connection closed without an answer" + detail);
        if (p.reachable) {
            return false;
        }
        p.refused = true;
        p.problem = "accepted the TCP connection and closed it without answering '" + word + "'" + detail
                + ": the member refuses connections from this address (maxClientCnxns used up,"
                + " or the server is shutting down)";
        return true;
    }

    private static void apply(MemberProbe p, String word, String text) {
        switch (word) {
            case "srvr" -> p.srvr = WordParsers.parseSrvr(text);
            case "conf" -> p.conf = WordParsers.parseConf(text);
            case "mntr" -> p.mntr = WordParsers.parseMntr(text);
            case "cons" -> p.cons = WordParsers.parseCons(text);
            case "wchs" -> p.watches = WordParsers.parseWchs(text);
            default -> throw new IllegalStateException("no parser for " + word);
        }
    }

    private void fromAdmin(MemberProbe p, String word) {
        Map<String, Object> answer = adminCommand(p, word);
        if (answer == null) {
            p.answers.put(word, "not whitelisted");
            return;
        }
        String error = AdminServerClient.error(answer);
        if (error != null) {
            if (WordParsers.isNotServing(error)) {
                p.notServing = true;
                p.answers.put(word, "not serving (admin)");
            } else {
                p.answers.put(word, "not whitelisted; admin failed: " + error);
            }
            return;
        }
        switch (word) {
            case "srvr" -> p.srvr = AdminServerClient.toSrvr(answer);
            case "conf" -> {
                Map<String, Object> votingView = adminCommand(p, "voting_view");
                Map<String, Object> members =
                        votingView == null || AdminServerClient.error(votingView) != null ? null : votingView;
                p.conf = AdminServerClient.toConf(answer, members);
            }
            case "mntr" -> p.mntr = AdminServerClient.toMntr(answer);
            case "cons" -> p.cons = AdminServerClient.toCons(answer);
            case "wchs" -> p.watches = AdminServerClient.toWchs(answer);
            default -> throw new IllegalStateException("no admin mapping for " + word);
        }
        p.answeredByAdmin.add(word);
        p.answers.put(word, "admin");
    }

    /** The AdminServer's answer, or null (with {@code adminProblem} set) when it cannot be used. */
    private Map<String, Object> adminCommand(MemberProbe p, String command) {
        if (adminUse == AdminServerUse.NEVER) {
            p.adminProblem = "AdminServer use is switched off (DoctorOptions.adminServerUse=NEVER)";
            return null;
        }
        if (p.adminProblem != null) {
            return null;
        }
        try {
            return admin.command(p.address.host(), command);
        } catch (IOException e) {
            Failure failure = describe(e, "/commands/" + command);
            p.adminProblem = "AdminServer at " + adminEndpoint(p) + " not usable: " + failure.text;
            return null;
        }
    }

    private void readAutopurge(MemberProbe p) {
        boolean adminAnswered = !p.answeredByAdmin.isEmpty();
        if (adminUse == AdminServerUse.NEVER || (adminUse == AdminServerUse.FALLBACK && !adminAnswered)) {
            return;
        }
        Map<String, Object> answer = adminCommand(p, "initial_configuration");
        if (answer == null || AdminServerClient.error(answer) != null) {
            return;
        }
        try {
            Properties config = AdminServerClient.initialConfiguration(answer);
            if (config == null) {
                return;
            }
            // ZooKeeper's defaults (QuorumPeerConfig): purgeInterval 0 = off, snapRetainCount 3.
            p.autopurgeIntervalHours = intOr(config.getProperty("autopurge.purgeInterval"), 0);
            p.autopurgeSnapRetainCount = intOr(config.getProperty("autopurge.snapRetainCount"), 3);
            p.autopurgeSource = "AdminServer initial_configuration of " + adminEndpoint(p)
                    + (config.getProperty("autopurge.purgeInterval") == null
                            ? " (autopurge.purgeInterval not set; default 0)"
                            : " (autopurge.purgeInterval="
                                    + config.getProperty("autopurge.purgeInterval")
                                            .trim() + ")");
        } catch (IOException | NumberFormatException e) {
            p.adminProblem = "AdminServer initial_configuration unreadable: " + e.getMessage();
        }
    }

    private String adminEndpoint(MemberProbe p) {
        return new HostAndPort(p.address.host(), admin.port()).toString();
    }

    private static int intOr(String value, int fallback) {
        return value == null || value.isBlank() ? fallback : Integer.parseInt(value.trim());
    }

    /**
     * @param afterConnect the connection was accepted but the answer never came (a stopped or hung member)
     * @param reset the member reset the accepted connection instead of answering
     * @param tls the TLS handshake failed
     */
    private record Failure(String text, boolean afterConnect, boolean reset, boolean tls) {
        Failure(String text, boolean afterConnect) {
            this(text, afterConnect, false, false);
        }
    }

    /** Names the cause of a failed request in terms an operator can act on. */
    private Failure describe(IOException e, String what) {
        Throwable cause = e;
        // FourLetterWordMain wraps only SocketTimeoutException, as "Exception while executing four letter word".
        if (e.getCause() instanceof SocketTimeoutException) {
            cause = e.getCause();
        }
        String message = cause.getMessage() == null ? "" : cause.getMessage();
        if (cause instanceof SSLException) {
            String root = rootMessage(cause);
            if (root.contains("terminated the handshake") || root.contains("Broken pipe") || root.contains("reset")) {
                // Closed, not refused with an alert: the same as a reset connection (maxClientCnxns, or a plain port).
                return new Failure(
                        "the connection was closed during the TLS handshake, without an answer to '" + what + "' ("
                                + root + ")",
                        false,
                        true,
                        true);
            }
            return new Failure("TLS handshake failed: " + root + tlsHint(root), false, false, true);
        }
        if (cause instanceof SocketTimeoutException) {
            if (message.toLowerCase().contains("connect")) {
                return new Failure(
                        "no TCP connection within " + timeoutMillis + " ms"
                                + " (host down, unroutable, or a firewall drops the packets)",
                        false);
            }
            return new Failure(
                    "the TCP connection was accepted but '" + what + "' got no answer within " + timeoutMillis
                            + " ms (the process is stopped, e.g. SIGSTOP, hung, or in a long GC pause)",
                    true);
        }
        if (cause instanceof ConnectException) {
            return new Failure(
                    "connection refused (nothing listens on that port: the process is down or the port" + " is wrong)",
                    false);
        }
        if (cause instanceof UnknownHostException) {
            return new Failure("unknown host '" + message + "' (DNS cannot resolve it)", false);
        }
        if (cause instanceof NoRouteToHostException) {
            return new Failure("no route to host (" + message + ")", false);
        }
        // Either needs an established connection: a reset answering the connect attempt is a ConnectException, above.
        if (cause instanceof SocketException
                && (message.toLowerCase().contains("reset")
                        || message.toLowerCase().contains("broken pipe"))) {
            return new Failure(
                    "the connection was reset without an answer to '" + what + "' (" + message + ")",
                    false,
                    true,
                    false);
        }
        return new Failure(cause.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message), false);
    }

    private static String tlsHint(String message) {
        String m = message.toLowerCase();
        if (m.contains("bad_certificate") || m.contains("certificate_required")) {
            return " (the server wants a client certificate it trusts: set a key store)";
        }
        if (m.contains("pkix") || m.contains("unable to find valid certification path")) {
            return " (the trust store does not hold the CA that signed the server's certificate)";
        }
        if (m.contains("subject alternative") || m.contains("hostname") || m.contains("no name matching")) {
            return " (the server's certificate does not name the host connected to)";
        }
        return "";
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

    private static String abbreviate(String text) {
        String oneLine = text.trim().replaceAll("\\s+", " ");
        return oneLine.length() <= 80 ? oneLine : oneLine.substring(0, 77) + "...";
    }
}
