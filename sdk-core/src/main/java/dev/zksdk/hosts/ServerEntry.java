package dev.zksdk.hosts;

import java.net.InetSocketAddress;
import java.util.Locale;

/**
 * One distinct server of a connect string: its canonical {@code host:port} key, the address as written
 * (unresolved) and its effective weight (configured weight times the number of times it was listed).
 */
record ServerEntry(String key, InetSocketAddress address, int weight) {

    /**
     * The canonical key of a server: lower-case host, IPv6 literals in brackets, then {@code :port}. The same
     * key is used for weights, quarantine, the spread and the connection budget, so a server named the same
     * way everywhere is counted once.
     */
    static String keyOf(String host, int port) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + port;
    }

    static String keyOf(InetSocketAddress address) {
        return keyOf(address.getHostString(), address.getPort());
    }

    /**
     * Parses a {@code host:port} (or {@code [ipv6]:port}) setting into its canonical key.
     *
     * @throws IllegalArgumentException naming {@code setting} and the value when it is not {@code host:port}
     */
    static String parseKey(String setting, String hostPort) {
        if (hostPort == null || hostPort.isBlank()) {
            throw new IllegalArgumentException(setting + " must be host:port, was " + quoted(hostPort));
        }
        String s = hostPort.trim();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 2 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException(setting + " must be host:port, was " + quoted(hostPort));
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || colon != s.indexOf(':')) {
                throw new IllegalArgumentException(setting + " must be host:port, was " + quoted(hostPort));
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    setting + " must be host:port with a numeric port, was " + quoted(hostPort));
        }
        if (p < 1 || p > 65535) {
            throw new IllegalArgumentException(setting + " port must be within 1..65535, was " + quoted(hostPort));
        }
        return keyOf(host, p);
    }

    private static String quoted(String value) {
        return value == null ? "null" : "'" + value + "'";
    }
}
