package dev.zksdk.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.common.X509Exception.SSLContextException;

/**
 * Sends ZooKeeper four-letter words ({@code ruok}, {@code srvr}, {@code mntr}, {@code cons}, ...) to one server,
 * through ZooKeeper's own {@link FourLetterWordMain}, always in plain text.
 *
 * <p>Thread-safe; every call opens and closes its own socket. A server that is unreachable, not listening, or
 * too slow to answer within the timeout (for example a process stopped with SIGSTOP, whose kernel still accepts
 * the connection) makes the call fail with {@link UncheckedIOException}. A command the server's
 * {@code 4lw.commands.whitelist} does not allow is answered with a text saying so, not an exception.
 */
public final class FourLetterWords {

    /** Long enough for a healthy server on a busy 2-core machine, short enough to notice a stopped one. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(1500);

    /** What a server that has no quorum (or has not finished starting) answers to most commands. */
    public static final String NOT_SERVING = "This ZooKeeper instance is not currently serving requests";

    private FourLetterWords() {}

    /**
     * Sends {@code command} with {@link #DEFAULT_TIMEOUT}.
     *
     * @param hostPort the server's client address, {@code host:port}
     * @param command a four-letter word such as {@code srvr}
     * @return the server's full answer
     * @throws IllegalArgumentException if {@code hostPort} is not {@code host:port} or the command is not four letters
     * @throws UncheckedIOException if the server cannot be reached or does not answer in time
     */
    public static String send(String hostPort, String command) {
        return send(hostPort, command, DEFAULT_TIMEOUT);
    }

    /**
     * Sends {@code command}, waiting at most {@code timeout} to connect and again at most {@code timeout} between
     * reads of the answer.
     *
     * @param hostPort the server's client address, {@code host:port}
     * @param command the four-letter word, such as {@code srvr}
     * @param timeout the bound of the connect and of each read, positive
     * @return the whole answer
     * @throws IllegalArgumentException if an argument is malformed
     * @throws UncheckedIOException if the server cannot be reached or does not answer in time
     */
    public static String send(String hostPort, String command, Duration timeout) {
        HostPort address = HostPort.parse("hostPort", hostPort);
        if (command == null || command.length() != 4) {
            throw new IllegalArgumentException("command must be a four-letter word, was " + command);
        }
        Polling.requirePositive("timeout", timeout);
        try {
            return FourLetterWordMain.send4LetterWord(
                    address.host(), address.port(), command, false, Math.toIntExact(timeout.toMillis()));
        } catch (IOException e) {
            throw new UncheckedIOException("'" + command + "' to " + hostPort + " failed: " + e.getMessage(), e);
        } catch (SSLContextException e) {
            throw new IllegalStateException("plain-text four-letter word needed no SSL context", e);
        }
    }

    /** A {@code host:port} pair, parsed strictly. */
    record HostPort(String host, int port) {

        static HostPort parse(String setting, String hostPort) {
            if (hostPort == null) {
                throw new IllegalArgumentException(setting + " must be host:port, was null");
            }
            int colon = hostPort.lastIndexOf(':');
            if (colon <= 0 || colon == hostPort.length() - 1) {
                throw new IllegalArgumentException(setting + " must be host:port, was '" + hostPort + "'");
            }
            int port;
            try {
                port = Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(setting + " must be host:port, was '" + hostPort + "'", e);
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException(setting + " has port out of range 1-65535: '" + hostPort + "'");
            }
            return new HostPort(hostPort.substring(0, colon), port);
        }

        @Override
        public String toString() {
            return host + ":" + port;
        }
    }
}
