package dev.zksdk.testing;

import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one ZooKeeper server says about its clients, through the four-letter words {@code cons}, {@code mntr} and
 * {@code wchs}. The commands must be in the server's whitelist ({@link ProcessEnsemble} and
 * {@link InProcessEnsembles} enable all of them by default).
 *
 * <p>Every method asks the server afresh and fails with {@link IllegalStateException} when the server answers
 * that it is not serving or that the command is not whitelisted, and with {@link UncheckedIOException} when it
 * does not answer.
 */
public final class ServerConnections {

    private static final Pattern TOTAL_WATCHES = Pattern.compile("Total watches:\\s*(\\d+)");
    private static final Pattern SESSION_ID = Pattern.compile(",sid=0x([0-9a-fA-F]+)");

    private ServerConnections() {}

    /**
     * Counts the server's client connections from {@code clientHost} that carry a session.
     *
     * <p>{@code cons} prints one line per connection, {@code  /127.0.0.1:54321[1](queued=0,...,sid=0x...,...)};
     * a connection shows {@code sid=} once its session is established. Counting only those leaves out the
     * {@code cons} query's own connection (which has no session) and connections still in their handshake.
     *
     * @param serverHostPort the server's client address, {@code host:port}
     * @param clientHost the client's IP address as the server sees it, such as {@code 127.0.0.1}
     * @return the number of established connections from that client
     */
    public static int connectionsFrom(String serverHostPort, String clientHost) {
        if (clientHost == null || clientHost.isBlank() || clientHost.contains(":")) {
            throw new IllegalArgumentException(
                    "clientHost must be an IPv4 address such as 127.0.0.1, was '" + clientHost + "'");
        }
        String prefix = "/" + clientHost + ":";
        return (int) answer(serverHostPort, "cons")
                .lines()
                .map(String::trim)
                .filter(line -> line.startsWith(prefix))
                .filter(line -> line.contains(",sid=0x"))
                .count();
    }

    /**
     * The ids of the sessions connected to the server now, from the {@code sid=0x...} of each {@code cons} line
     * (connections still in their handshake have none).
     *
     * @param serverHostPort the server's client address, {@code host:port}
     * @return the session ids
     */
    public static Set<Long> sessionIds(String serverHostPort) {
        Set<Long> ids = new TreeSet<>();
        Matcher matcher = SESSION_ID.matcher(answer(serverHostPort, "cons"));
        while (matcher.find()) {
            ids.add(Long.parseUnsignedLong(matcher.group(1), 16));
        }
        return ids;
    }

    /**
     * One numeric {@code mntr} value, such as {@code zk_num_alive_connections}, {@code zk_connection_rejected}
     * or {@code zk_watch_count}.
     *
     * @param serverHostPort the server's client address, {@code host:port}
     * @param key the {@code mntr} key
     * @return its value
     * @throws IllegalArgumentException if the server does not report {@code key}, or reports it as text
     */
    public static long mntr(String serverHostPort, String key) {
        Map<String, String> values = mntr(serverHostPort);
        String value = values.get(key);
        if (value == null) {
            throw new IllegalArgumentException("key must be a mntr key of " + serverHostPort + ", was '" + key
                    + "'; it reports " + values.keySet());
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            try {
                return Math.round(Double.parseDouble(value));
            } catch (NumberFormatException notNumeric) {
                throw new IllegalArgumentException(
                        "key must name a numeric mntr value, was '" + key + "' = '" + value + "'", notNumeric);
            }
        }
    }

    /**
     * Every {@code mntr} key and value, as the server prints them (tab-separated).
     *
     * @param serverHostPort the server's client address, {@code host:port}
     * @return the keys and values, in the server's order
     */
    public static Map<String, String> mntr(String serverHostPort) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : answer(serverHostPort, "mntr").split("\n")) {
            int tab = line.indexOf('\t');
            if (tab > 0) {
                values.put(
                        line.substring(0, tab).trim(), line.substring(tab + 1).trim());
            }
        }
        return values;
    }

    /**
     * The server's data watch count, from the {@code Total watches:} line of {@code wchs}. ZooKeeper's
     * {@code wchs} sums data watches only (including persistent ones); {@code mntr zk_watch_count} also counts
     * child watches.
     *
     * @param serverHostPort the server's client address, {@code host:port}
     * @return the number of data watches
     */
    public static int watchCount(String serverHostPort) {
        String wchs = answer(serverHostPort, "wchs");
        Matcher matcher = TOTAL_WATCHES.matcher(wchs);
        if (!matcher.find()) {
            throw new IllegalStateException("wchs of " + serverHostPort + " has no 'Total watches:' line: " + wchs);
        }
        return Integer.parseInt(matcher.group(1));
    }

    private static String answer(String serverHostPort, String command) {
        String answer = FourLetterWords.send(serverHostPort, command);
        if (answer.contains(FourLetterWords.NOT_SERVING)) {
            throw new IllegalStateException(
                    serverHostPort + " is not serving requests; '" + command + "' answered: " + answer.trim());
        }
        if (answer.contains("is not executed because it is not in the whitelist")) {
            throw new IllegalStateException(serverHostPort + " does not allow '" + command + "': " + answer.trim());
        }
        return answer;
    }
}
