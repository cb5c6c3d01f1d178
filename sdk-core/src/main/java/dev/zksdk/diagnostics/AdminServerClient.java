package dev.zksdk.diagnostics;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.math.BigDecimal;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Reads ZooKeeper's AdminServer ({@code GET http://host:port/commands/<name>}, JSON) and maps its answers onto the
 * same shapes the four-letter-word parsers produce. Key names follow ZooKeeper 3.9's {@code Commands},
 * {@code ZooKeeperServerConf.toMap()} and the Jackson {@code SNAKE_CASE} rendering of {@code ServerStats}.
 */
final class AdminServerClient {

    /** Larger answers are refused: a diagnostics probe must not be made to buffer arbitrary amounts. */
    private static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

    private final int port;
    private final int timeoutMillis;

    AdminServerClient(int port, int timeoutMillis) {
        this.port = port;
        this.timeoutMillis = timeoutMillis;
    }

    int port() {
        return port;
    }

    /**
     * The answer of one command as a JSON object.
     *
     * @throws IOException when the AdminServer cannot be reached or does not answer with a JSON object
     */
    Map<String, Object> command(String host, String name) throws IOException {
        String hostPart = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        URL url = new URL("http", hostPart, port, "/commands/" + name);
        HttpURLConnection http = (HttpURLConnection) url.openConnection();
        http.setConnectTimeout(timeoutMillis);
        http.setReadTimeout(timeoutMillis);
        http.setInstanceFollowRedirects(false);
        http.setRequestProperty("Accept", "application/json");
        try {
            int status = http.getResponseCode();
            if (status != HttpURLConnection.HTTP_OK) {
                throw new IOException("AdminServer at " + hostPart + ":" + port + " answered HTTP " + status
                        + " for /commands/" + name);
            }
            String body;
            try (InputStream in = http.getInputStream()) {
                byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
                if (bytes.length > MAX_BODY_BYTES) {
                    throw new IOException(
                            "AdminServer answer for /commands/" + name + " exceeds " + MAX_BODY_BYTES + " bytes");
                }
                body = new String(bytes, StandardCharsets.UTF_8);
            }
            Object parsed;
            try {
                parsed = Json.parse(body);
            } catch (IllegalArgumentException e) {
                throw new IOException(
                        "the service at " + hostPart + ":" + port + " is not a ZooKeeper AdminServer (" + e.getMessage()
                                + ")",
                        e);
            }
            if (!(parsed instanceof Map<?, ?> map) || !map.containsKey("command")) {
                throw new IOException("the service at " + hostPart + ":" + port + " is not a ZooKeeper AdminServer"
                        + " (its answer has no \"command\" field)");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> result = (Map<String, Object>) map;
            return result;
        } finally {
            http.disconnect();
        }
    }

    /** The {@code error} of an answer, or null when the command ran. */
    static String error(Map<String, Object> answer) {
        Object error = answer.get("error");
        return error == null ? null : error.toString();
    }

    static WordParsers.Srvr toSrvr(Map<String, Object> answer) {
        Map<String, Object> stats = object(answer.get("server_stats"));
        String mode = string(stats.get("server_state"));
        if (mode == null && Boolean.TRUE.equals(answer.get("read_only"))) {
            mode = "read-only";
        }
        BigDecimal avg = number(stats.get("avg_latency"));
        return new WordParsers.Srvr(
                string(answer.get("version")),
                mode,
                longValue(stats.get("last_processed_zxid")),
                longValue(stats.get("min_latency")),
                avg == null ? null : avg.doubleValue(),
                longValue(stats.get("max_latency")),
                longValue(stats.get("num_alive_client_connections")),
                longValue(stats.get("outstanding_requests")),
                longValue(answer.get("node_count")));
    }

    /** The AdminServer's {@code mntr} keys carry no {@code zk_} prefix; it is added to match the four-letter word. */
    static Map<String, String> toMntr(Map<String, Object> answer) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : answer.entrySet()) {
            if (e.getKey().equals("command") || e.getKey().equals("error")) {
                continue;
            }
            Object v = e.getValue();
            values.put("zk_" + e.getKey(), v instanceof BigDecimal n ? n.toPlainString() : String.valueOf(v));
        }
        return values;
    }

    /**
     * {@code conf} gives the server settings in snake case; the membership comes from {@code voting_view}
     * (null when that command failed). initLimit and syncLimit are not available through the AdminServer.
     */
    static WordParsers.Conf toConf(Map<String, Object> conf, Map<String, Object> votingView) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : conf.entrySet()) {
            if (e.getKey().equals("command") || e.getKey().equals("error")) {
                continue;
            }
            Object v = e.getValue();
            settings.put(camelCase(e.getKey()), v instanceof BigDecimal n ? n.toPlainString() : String.valueOf(v));
        }
        List<QuorumMember> members = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        if (votingView != null) {
            Map<String, Object> current = object(votingView.get("current_config"));
            for (Map.Entry<String, Object> e : current.entrySet()) {
                Map<String, Object> view = object(e.getValue());
                List<Object> quorum = list(view.get("server_addresses"));
                List<Object> election = list(view.get("election_addresses"));
                List<String> pairs = new ArrayList<>();
                for (int i = 0; i < quorum.size() && i < election.size(); i++) {
                    HostAndPort e1 = WordParsers.splitHostPort(String.valueOf(election.get(i)));
                    pairs.add(quorum.get(i) + ":" + (e1 == null ? "?" : e1.port()));
                }
                String role = string(view.get("learner_type"));
                String client = string(view.get("client_address"));
                String value = String.join("|", pairs)
                        + (role == null ? "" : ":" + role)
                        + (client == null || client.isEmpty() ? "" : ";" + client);
                String line = "server." + e.getKey() + "=" + value;
                QuorumMember member = WordParsers.parseMember("server." + e.getKey(), value, line);
                if (member != null) {
                    members.add(member);
                    lines.add(line);
                }
            }
        }
        return new WordParsers.Conf(settings, List.copyOf(members), List.copyOf(lines), null);
    }

    static List<WordParsers.Connection> toCons(Map<String, Object> answer) {
        List<WordParsers.Connection> connections = new ArrayList<>();
        for (String key : new String[] {"connections", "secure_connections"}) {
            for (Object item : list(answer.get(key))) {
                Map<String, Object> info = object(item);
                String socket = string(info.get("remote_socket_address"));
                if (socket == null) {
                    continue;
                }
                int slash = socket.indexOf('/');
                HostAndPort address = WordParsers.splitHostPort(slash >= 0 ? socket.substring(slash + 1) : socket);
                if (address == null) {
                    continue;
                }
                Long session = longValue(info.get("session_id"));
                connections.add(new WordParsers.Connection(
                        address.host(), address.port(), session == null || session == 0 ? null : session));
            }
        }
        return connections;
    }

    static WordParsers.Watches toWchs(Map<String, Object> answer) {
        Long connections = longValue(answer.get("num_connections"));
        Long paths = longValue(answer.get("num_paths"));
        Long total = longValue(answer.get("num_total_watches"));
        if (connections == null || paths == null || total == null) {
            return null;
        }
        return new WordParsers.Watches(connections, paths, total);
    }

    /** The member's configuration file as it read it at start-up, or null when the server does not keep it. */
    static Properties initialConfiguration(Map<String, Object> answer) throws IOException {
        String text = string(answer.get("initial_configuration"));
        if (text == null) {
            return null;
        }
        Properties properties = new Properties();
        properties.load(new StringReader(text));
        return properties;
    }

    private static String camelCase(String snake) {
        StringBuilder sb = new StringBuilder();
        boolean upper = false;
        for (char c : snake.toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                sb.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return sb.toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object value) {
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value) {
        return value instanceof List<?> l ? (List<Object>) l : List.of();
    }

    private static String string(Object value) {
        return value == null ? null : value.toString();
    }

    private static BigDecimal number(Object value) {
        return value instanceof BigDecimal n ? n : null;
    }

    private static Long longValue(Object value) {
        BigDecimal n = number(value);
        if (n == null) {
            return null;
        }
        try {
            return n.longValueExact();
        } catch (ArithmeticException e) {
            return n.longValue();
        }
    }
}
