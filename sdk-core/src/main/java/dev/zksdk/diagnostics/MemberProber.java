package dev.zksdk.diagnostics;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.common.X509Exception;

/**
 * Probes one member with {@code ruok}, {@code srvr}, {@code conf}, {@code mntr}, {@code cons}, {@code wchs}, one
 * connection at a time (each probe connection counts against the member's {@code maxClientCnxns} for this
 * address), falling back to the AdminServer for words the member does not whitelist.
 *
 * <p>After a request times out on an accepted connection the member is not asked again: a stopped or hung process
 * would only cost one more timeout per word.
 */
final class MemberProber {

    static final List<String> WORDS = List.of("ruok", "srvr", "conf", "mntr", "cons", "wchs");

    private final int timeoutMillis;
    private final AdminServerUse adminUse;
    private final AdminServerClient admin;

    MemberProber(DoctorOptions options) {
        this.timeoutMillis = (int) options.timeout().toMillis();
        this.adminUse = options.adminServerUse();
        this.admin = new AdminServerClient(options.adminPort(), timeoutMillis);
    }

    ServerReport probe(HostAndPort address, boolean inConnectString) {
        MemberProbe p = new MemberProbe(address, inConnectString);
        long start = System.nanoTime();
        try {
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
                text = FourLetterWordMain.send4LetterWord(
                        p.address.host(), p.address.port(), word, false, timeoutMillis);
            } catch (IOException e) {
                Failure failure = describe(e, word);
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
     */
    private record Failure(String text, boolean afterConnect, boolean reset) {
        Failure(String text, boolean afterConnect) {
            this(text, afterConnect, false);
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
                    "the connection was reset without an answer to '" + what + "' (" + message + ")", false, true);
        }
        return new Failure(cause.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message), false);
    }

    private static String abbreviate(String text) {
        String oneLine = text.trim().replaceAll("\\s+", " ");
        return oneLine.length() <= 80 ? oneLine : oneLine.substring(0, 77) + "...";
    }
}
