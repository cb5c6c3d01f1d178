package dev.zksdk.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.apache.zookeeper.common.PathUtils;

/**
 * A validated ZooKeeper connect string: {@code host:port[,host:port...][/chroot]}. Unlike ZooKeeper's own parser it
 * never assumes a default port and never accepts an empty host, so a typo fails at configuration time with a message
 * naming the setting and the value instead of as a connection that never comes up.
 */
public final class ConnectString {

    private final String value;
    private final List<String> servers;
    private final String chroot;

    private ConnectString(String value, List<String> servers, String chroot) {
        this.value = value;
        this.servers = servers;
        this.chroot = chroot;
    }

    /** Parses and validates; {@code setting} names the configuration setting in error messages. */
    public static ConnectString parse(String setting, String connectString) {
        if (connectString == null) {
            throw new IllegalArgumentException(setting + " must not be null");
        }
        String trimmed = connectString.trim();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException(setting + " must not be empty (value: '" + connectString + "')");
        }
        String hostsPart = trimmed;
        String chroot = null;
        int slash = indexOfChroot(trimmed);
        if (slash >= 0) {
            hostsPart = trimmed.substring(0, slash);
            chroot = trimmed.substring(slash);
            if (chroot.length() > 1) {
                try {
                    PathUtils.validatePath(chroot);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(
                            setting + " has an invalid chroot '" + chroot + "' (value: '" + connectString + "'): "
                                    + e.getMessage(),
                            e);
                }
            } else {
                chroot = null; // "/" is the root: no chroot, as ZooKeeper treats it
            }
        }
        List<String> servers = new ArrayList<>();
        for (String raw : hostsPart.split(",", -1)) {
            String server = raw.trim();
            if (server.isEmpty()) {
                throw new IllegalArgumentException(
                        setting + " has an empty server entry (value: '" + connectString + "')");
            }
            servers.add(validateServer(setting, connectString, server));
        }
        StringBuilder normalized = new StringBuilder(String.join(",", servers));
        if (chroot != null) {
            normalized.append(chroot);
        }
        return new ConnectString(normalized.toString(), Collections.unmodifiableList(servers), chroot);
    }

    private static int indexOfChroot(String s) {
        // An IPv6 literal is bracketed, so the first '/' outside brackets starts the chroot.
        boolean inBrackets = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '[') {
                inBrackets = true;
            } else if (c == ']') {
                inBrackets = false;
            } else if (c == '/' && !inBrackets) {
                return i;
            }
        }
        return -1;
    }

    private static String validateServer(String setting, String whole, String server) {
        String host;
        String port;
        if (server.startsWith("[")) {
            int close = server.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException(
                        setting + " has an unclosed IPv6 bracket in '" + server + "' (value: '" + whole + "')");
            }
            host = server.substring(1, close);
            String rest = server.substring(close + 1);
            if (!rest.startsWith(":")) {
                throw new IllegalArgumentException(setting + " is missing the port of server '" + server + "' (value: '"
                        + whole + "'); expected [host]:port");
            }
            port = rest.substring(1);
        } else {
            int colon = server.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException(setting + " is missing the port of server '" + server + "' (value: '"
                        + whole + "'); expected host:port");
            }
            host = server.substring(0, colon);
            port = server.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw new IllegalArgumentException(setting + " has an IPv6 address without brackets in '" + server
                        + "' (value: '" + whole + "'); write [address]:port");
            }
        }
        if (host.isBlank()) {
            throw new IllegalArgumentException(
                    setting + " has an empty host in '" + server + "' (value: '" + whole + "')");
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (Character.isWhitespace(c)) {
                throw new IllegalArgumentException(
                        setting + " has whitespace in host '" + host + "' (value: '" + whole + "')");
            }
        }
        int portNumber;
        try {
            portNumber = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    setting + " has a port that is not a number in '" + server + "' (value: '" + whole + "')", e);
        }
        if (portNumber < 1 || portNumber > 65535) {
            throw new IllegalArgumentException(setting + " has port " + portNumber + " out of range 1-65535 in '"
                    + server + "' (value: '" + whole + "')");
        }
        return (server.startsWith("[") ? "[" + host + "]" : host) + ":" + portNumber;
    }

    /** The normalized connect string, as handed to ZooKeeper. */
    public String value() {
        return value;
    }

    /** The servers as {@code host:port}, in the order given. */
    public List<String> servers() {
        return servers;
    }

    /**
     * The servers as host and port, in the order given; an IPv6 literal's host without its brackets.
     */
    public List<Address> addresses() {
        List<Address> out = new ArrayList<>(servers.size());
        for (String server : servers) {
            int colon = server.lastIndexOf(':');
            String host = server.substring(0, colon);
            if (host.startsWith("[")) {
                host = host.substring(1, host.length() - 1);
            }
            out.add(new Address(host, Integer.parseInt(server.substring(colon + 1))));
        }
        return out;
    }

    /** One server of a connect string. */
    public record Address(String host, int port) {}

    /** The chroot, or null. */
    public String chroot() {
        return chroot;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConnectString && ((ConnectString) o).value.equals(value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(value);
    }

    @Override
    public String toString() {
        return value;
    }
}
