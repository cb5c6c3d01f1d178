package dev.zksdk.diagnostics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A parsed ZooKeeper connect string: {@code host:port[,host:port...][/chroot]}. Unlike ZooKeeper's own parser, a
 * missing port is an error: a diagnostics tool must probe exactly the servers the user meant.
 */
record ConnectString(String original, List<HostAndPort> servers, String chroot) {

    static ConnectString parse(String connectString) {
        if (connectString == null) {
            throw new IllegalArgumentException("connectString must not be null");
        }
        String trimmed = connectString.trim();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("connectString must not be empty, was '" + connectString + "'");
        }
        String hosts = trimmed;
        String chroot = null;
        int slash = trimmed.indexOf('/');
        if (slash >= 0) {
            hosts = trimmed.substring(0, slash);
            chroot = trimmed.substring(slash);
        }
        Set<HostAndPort> servers = new LinkedHashSet<>();
        for (String entry : hosts.split(",", -1)) {
            servers.add(parseServer(entry.trim(), connectString));
        }
        return new ConnectString(connectString, Collections.unmodifiableList(new ArrayList<>(servers)), chroot);
    }

    private static HostAndPort parseServer(String entry, String whole) {
        if (entry.isEmpty()) {
            throw new IllegalArgumentException("connectString has an empty server entry in '" + whole + "'");
        }
        String host;
        String port;
        if (entry.startsWith("[")) {
            int close = entry.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException(
                        "connectString server '" + entry + "' has an unclosed '[' in '" + whole + "'");
            }
            host = entry.substring(1, close);
            String rest = entry.substring(close + 1);
            if (!rest.startsWith(":")) {
                throw new IllegalArgumentException(
                        "connectString server '" + entry + "' has no port (expected host:port) in '" + whole + "'");
            }
            port = rest.substring(1);
        } else {
            int colon = entry.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException(
                        "connectString server '" + entry + "' has no port (expected host:port) in '" + whole + "'");
            }
            if (entry.indexOf(':') != colon) {
                throw new IllegalArgumentException("connectString server '" + entry
                        + "' looks like an IPv6 address: write it as [address]:port in '" + whole + "'");
            }
            host = entry.substring(0, colon);
            port = entry.substring(colon + 1);
        }
        if (host.isBlank()) {
            throw new IllegalArgumentException("connectString server '" + entry + "' has an empty host in '" + whole + "'");
        }
        if (host.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException(
                    "connectString server '" + entry + "' has whitespace in its host in '" + whole + "'");
        }
        int portNumber;
        try {
            portNumber = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "connectString server '" + entry + "' has port '" + port + "', which is not a number, in '" + whole + "'");
        }
        if (portNumber < 1 || portNumber > 65535) {
            throw new IllegalArgumentException("connectString server '" + entry + "' has port " + portNumber
                    + ", outside 1-65535, in '" + whole + "'");
        }
        return new HostAndPort(host, portNumber);
    }
}
