package dev.zksdk.diagnostics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsers for the text ZooKeeper 3.9 prints for {@code srvr}, {@code mntr}, {@code conf}, {@code cons} and
 * {@code wchs} (see {@code org.apache.zookeeper.server.command.*}, {@code ServerStats.toString()},
 * {@code ZooKeeperServer.dumpConf}, {@code QuorumZooKeeperServer.dumpConf}, {@code ServerCnxn.dumpConnectionInfo}).
 * Unknown lines are ignored so newer servers that print more still parse.
 */
final class WordParsers {

    /** What every command but {@code ruok} prints while the server is not running (AbstractFourLetterCommand). */
    static final String NOT_SERVING = "This ZooKeeper instance is not currently serving requests";
    /** Suffix of the answer to a word that is not whitelisted (NIOServerCnxn / NettyServerCnxn). */
    static final String NOT_WHITELISTED = "is not executed because it is not in the whitelist.";

    private static final Pattern WATCHES = Pattern.compile("(\\d+) connections watching (\\d+) paths");
    private static final Pattern TOTAL_WATCHES = Pattern.compile("Total watches:\\s*(\\d+)");
    private static final Pattern CONNECTION = Pattern.compile("^(.*)\\[([0-9a-fA-F]+)\\]\\((.*)\\)\\s*$");

    private WordParsers() {}

    /** The answer of {@code srvr} (or the fields of the AdminServer's {@code srvr}). */
    record Srvr(
            String version,
            String mode,
            Long zxid,
            Long minLatency,
            Double avgLatency,
            Long maxLatency,
            Long connections,
            Long outstanding,
            Long nodeCount) {}

    /** The answer of {@code conf}: settings before {@code membership:}, and the membership after it. */
    record Conf(
            Map<String, String> settings,
            List<QuorumMember> members,
            List<String> membershipLines,
            String membershipVersion) {}

    /** One line of {@code cons}. */
    record Connection(String address, int port, Long sessionId) {}

    /** The answer of {@code wchs}. */
    record Watches(long connections, long paths, long total) {}

    static boolean isNotWhitelisted(String answer) {
        return answer != null && answer.trim().endsWith(NOT_WHITELISTED);
    }

    static boolean isNotServing(String answer) {
        return answer != null && answer.trim().equals(NOT_SERVING);
    }

    static Srvr parseSrvr(String text) {
        String version = null;
        String mode = null;
        Long zxid = null;
        Long minLatency = null;
        Double avgLatency = null;
        Long maxLatency = null;
        Long connections = null;
        Long outstanding = null;
        Long nodeCount = null;
        boolean readOnly = false;
        for (String raw : text.split("\n")) {
            String line = raw.trim();
            if (line.startsWith("READ-ONLY mode")) {
                readOnly = true;
                continue;
            }
            int colon = line.indexOf(": ");
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon);
            String value = line.substring(colon + 2).trim();
            switch (key) {
                case "Zookeeper version" -> version = value;
                case "Mode" -> mode = value;
                case "Zxid" -> zxid = parseZxid(value);
                case "Connections" -> connections = parseLong(value);
                case "Outstanding" -> outstanding = parseLong(value);
                case "Node count" -> nodeCount = parseLong(value);
                case "Latency min/avg/max" -> {
                    String[] parts = value.split("/");
                    if (parts.length == 3) {
                        minLatency = parseLong(parts[0]);
                        avgLatency = parseDouble(parts[1]);
                        maxLatency = parseLong(parts[2]);
                    }
                }
                default -> {
                    // other lines (Received, Sent, Proposal sizes) are not used by any rule
                }
            }
        }
        if (mode == null && readOnly) {
            mode = "read-only";
        }
        return new Srvr(version, mode, zxid, minLatency, avgLatency, maxLatency, connections, outstanding, nodeCount);
    }

    /** {@code mntr}: one {@code zk_key<TAB>value} per line. */
    static Map<String, String> parseMntr(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int tab = line.indexOf('\t');
            if (tab > 0) {
                values.put(
                        line.substring(0, tab).trim(), line.substring(tab + 1).trim());
            }
        }
        return values;
    }

    static Conf parseConf(String text) {
        Map<String, String> settings = new LinkedHashMap<>();
        List<QuorumMember> members = new ArrayList<>();
        List<String> membershipLines = new ArrayList<>();
        String version = null;
        boolean inMembership = false;
        for (String raw : text.split("\n")) {
            String line = raw.trim();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("membership:")) {
                inMembership = true;
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String key = line.substring(0, eq).trim();
            String value = line.substring(eq + 1).trim();
            if (!inMembership) {
                settings.put(key, value);
            } else if (key.equals("version")) {
                version = value;
            } else {
                membershipLines.add(line);
                if (key.startsWith("server.")) {
                    QuorumMember member = parseMember(key, value, line);
                    if (member != null) {
                        members.add(member);
                    }
                }
            }
        }
        return new Conf(
                Collections.unmodifiableMap(settings), List.copyOf(members), List.copyOf(membershipLines), version);
    }

    static QuorumMember parseMember(String key, String value, String line) {
        long id;
        try {
            id = Long.parseLong(key.substring("server.".length()));
        } catch (NumberFormatException e) {
            return null;
        }
        String client = null;
        String addresses = value;
        int semicolon = value.indexOf(';');
        if (semicolon >= 0) {
            client = value.substring(semicolon + 1).trim();
            addresses = value.substring(0, semicolon).trim();
        }
        String role = null;
        for (String candidate : new String[] {"participant", "observer"}) {
            if (addresses.endsWith(":" + candidate)) {
                role = candidate;
                addresses = addresses.substring(0, addresses.length() - candidate.length() - 1);
            }
        }
        return new QuorumMember(id, addresses, role, client == null || client.isEmpty() ? null : client, line);
    }

    /**
     * {@code cons}: one connection per line, {@code  /ip:port[ops](queued=..,recved=..,sent=..[,sid=0x..,...])}.
     * The line of the probe's own connection has no {@code sid}.
     */
    static List<Connection> parseCons(String text) {
        List<Connection> connections = new ArrayList<>();
        for (String raw : text.split("\n")) {
            String line = raw.trim();
            if (line.isEmpty()) {
                continue;
            }
            Matcher m = CONNECTION.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String socket = m.group(1).trim();
            int slash = socket.indexOf('/');
            HostAndPort address = splitHostPort(slash >= 0 ? socket.substring(slash + 1) : socket);
            if (address == null) {
                continue;
            }
            Long sessionId = null;
            for (String field : m.group(3).split(",")) {
                if (field.startsWith("sid=0x")) {
                    sessionId = Long.parseUnsignedLong(field.substring("sid=0x".length()), 16);
                }
            }
            connections.add(new Connection(address.host(), address.port(), sessionId));
        }
        return connections;
    }

    static Watches parseWchs(String text) {
        Matcher head = WATCHES.matcher(text);
        Matcher total = TOTAL_WATCHES.matcher(text);
        if (!head.find() || !total.find()) {
            return null;
        }
        return new Watches(
                Long.parseLong(head.group(1)), Long.parseLong(head.group(2)), Long.parseLong(total.group(1)));
    }

    /** {@code host:port} or {@code [v6]:port} to its parts; null when there is no numeric port. */
    static HostAndPort splitHostPort(String text) {
        if (text == null) {
            return null;
        }
        String s = text.trim();
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            return null;
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        Long port = parseLong(s.substring(colon + 1));
        if (port == null || port < 0 || port > 65535) {
            return null;
        }
        return new HostAndPort(host, port.intValue());
    }

    static Long parseZxid(String value) {
        String v = value.trim();
        try {
            if (v.startsWith("0x") || v.startsWith("0X")) {
                return Long.parseUnsignedLong(v.substring(2), 16);
            }
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static Long parseLong(String value) {
        if (value == null) {
            return null;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static Double parseDouble(String value) {
        if (value == null) {
            return null;
        }
        try {
            return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
