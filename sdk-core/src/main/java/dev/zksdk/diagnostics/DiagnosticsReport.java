package dev.zksdk.diagnostics;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The result of one {@link EnsembleDoctor} probe: what every member answered ({@link #servers()}) and the problems
 * named from it ({@link #findings()}, most severe first). Immutable and thread-safe.
 */
public final class DiagnosticsReport {

    private final String connectString;
    private final Instant startedAt;
    private final Duration elapsed;
    private final String clientAddress;
    private final List<ServerReport> servers;
    private final List<Finding> findings;

    DiagnosticsReport(
            String connectString,
            Instant startedAt,
            Duration elapsed,
            String clientAddress,
            List<ServerReport> servers,
            List<Finding> findings) {
        this.connectString = connectString;
        this.startedAt = startedAt;
        this.elapsed = elapsed;
        this.clientAddress = clientAddress;
        this.servers = List.copyOf(servers);
        this.findings = List.copyOf(findings);
    }

    /**
     * The connect string as given.
     *
     * @return the connect string
     */
    public String connectString() {
        return connectString;
    }

    /**
     * When probing started.
     *
     * @return the start time
     */
    public Instant startedAt() {
        return startedAt;
    }

    /**
     * How long probing and analysis took.
     *
     * @return the time taken
     */
    public Duration elapsed() {
        return elapsed;
    }

    /**
     * The client address connections were judged for, or null when it could not be determined.
     *
     * @return the client's address, or null
     */
    public String clientAddress() {
        return clientAddress;
    }

    /**
     * One entry per probed member: the connect string's servers in order, then members found only in server lists.
     *
     * @return an unmodifiable list of the members' reports
     */
    public List<ServerReport> servers() {
        return servers;
    }

    /**
     * The findings, most severe first; empty when nothing is worth reporting.
     *
     * @return an unmodifiable list of the findings
     */
    public List<Finding> findings() {
        return findings;
    }

    /**
     * The findings with the given code.
     *
     * @param code the kind of finding
     * @return those findings, most severe first; empty when there are none
     */
    public List<Finding> findings(FindingCode code) {
        return findings.stream().filter(f -> f.code() == code).toList();
    }

    /**
     * The highest severity among the findings; {@link Severity#INFO} when there are none.
     *
     * @return the worst severity
     */
    public Severity worstSeverity() {
        return findings.stream().map(Finding::severity).max(Enum::compareTo).orElse(Severity.INFO);
    }

    /**
     * For command-line use: 0 when nothing is above INFO, 1 for warnings, 2 when anything is critical.
     *
     * @return the process exit code
     */
    public int exitCode() {
        return switch (worstSeverity()) {
            case INFO -> 0;
            case WARNING -> 1;
            case CRITICAL -> 2;
        };
    }

    /**
     * A readable multi-line report: a summary, one line per member, then every finding with evidence and remedy.
     *
     * @return the report as text
     */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append("ZooKeeper ensemble diagnostics for ").append(connectString).append('\n');
        sb.append("Probed ")
                .append(servers.size())
                .append(servers.size() == 1 ? " member" : " members")
                .append(" in ")
                .append(elapsed.toMillis())
                .append(" ms at ")
                .append(startedAt);
        if (clientAddress != null) {
            sb.append(", client address ").append(clientAddress);
        }
        sb.append('\n');
        sb.append("Result: ")
                .append(worstSeverity())
                .append(" (")
                .append(count(Severity.CRITICAL))
                .append(" critical, ")
                .append(count(Severity.WARNING))
                .append(" warning, ")
                .append(count(Severity.INFO))
                .append(" info)\n\n");
        sb.append("Members:\n");
        for (ServerReport s : servers) {
            sb.append("  ").append(s.server());
            if (!s.inConnectString()) {
                sb.append(" (not in connect string)");
            }
            sb.append(": ");
            if (s.tlsMismatch()) {
                sb.append("TLS MISMATCH - ").append(s.problem());
            } else if (!s.reachable()) {
                sb.append("UNREACHABLE - ").append(s.problem());
            } else if (!s.serving()) {
                sb.append(s.problem() != null ? "NOT ANSWERING - " + s.problem() : "NOT SERVING");
            } else {
                sb.append(s.mode());
                if (s.serverId() != null) {
                    sb.append(", myid ").append(s.serverId());
                }
                if (s.zxid() != null) {
                    sb.append(", zxid 0x").append(Long.toHexString(s.zxid()));
                }
                if (s.version() != null) {
                    sb.append(", version ").append(s.version().split("[-,]")[0].trim());
                }
                if (s.connections() != null) {
                    sb.append(", ").append(s.connections()).append(" connections");
                }
                Map<String, String> m = s.metrics();
                if (m.containsKey("zk_avg_latency")) {
                    sb.append(", latency avg/max ")
                            .append(m.get("zk_avg_latency"))
                            .append('/')
                            .append(m.get("zk_max_latency"))
                            .append(" ms");
                }
                if (m.containsKey("zk_outstanding_requests")) {
                    sb.append(", outstanding ").append(m.get("zk_outstanding_requests"));
                }
                if (s.watches() != null) {
                    sb.append(", ").append(s.watches()).append(" watches");
                }
                if (s.problem() != null) {
                    sb.append(" - ").append(s.problem());
                }
            }
            sb.append(" [").append(s.elapsed().toMillis()).append(" ms]\n");
            if (!s.membership().isEmpty()) {
                sb.append("      servers: ")
                        .append(String.join(", ", s.membership()))
                        .append('\n');
            }
            String answers = s.answers().entrySet().stream()
                    .filter(e -> !e.getValue().equals("4lw"))
                    .map(e -> e.getKey() + " " + e.getValue())
                    .collect(Collectors.joining("; "));
            if (!answers.isEmpty() && s.reachable()) {
                sb.append("      words: ").append(answers).append('\n');
            }
        }
        sb.append('\n');
        if (findings.isEmpty()) {
            sb.append("No findings: every member answered and nothing needs attention.\n");
            return sb.toString();
        }
        sb.append("Findings:\n");
        for (Finding f : findings) {
            sb.append("  [")
                    .append(f.severity())
                    .append("] ")
                    .append(f.code())
                    .append(" - ")
                    .append(f.code().title());
            sb.append(f.server() == null ? " (ensemble)" : " (" + f.server() + ")")
                    .append('\n');
            sb.append("    evidence: ").append(f.evidence()).append('\n');
            sb.append("    remedy:   ").append(f.remedy()).append('\n');
        }
        return sb.toString();
    }

    /**
     * The report as one JSON object (servers, findings, summary); strings are escaped per RFC 8259.
     *
     * @return the report as JSON
     */
    public String toJson() {
        StringBuilder sb = new StringBuilder(1024);
        sb.append('{');
        field(sb, "connectString", Json.quote(connectString)).append(',');
        field(sb, "startedAt", Json.quote(startedAt.toString())).append(',');
        field(sb, "elapsedMillis", String.valueOf(elapsed.toMillis())).append(',');
        field(sb, "clientAddress", Json.quote(clientAddress)).append(',');
        field(sb, "worstSeverity", Json.quote(worstSeverity().name())).append(',');
        field(sb, "exitCode", String.valueOf(exitCode())).append(',');
        sb.append(Json.quote("servers")).append(":[");
        for (int i = 0; i < servers.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            server(sb, servers.get(i));
        }
        sb.append("],").append(Json.quote("findings")).append(":[");
        for (int i = 0; i < findings.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            Finding f = findings.get(i);
            sb.append('{');
            field(sb, "code", Json.quote(f.code().name())).append(',');
            field(sb, "severity", Json.quote(f.severity().name())).append(',');
            field(sb, "server", Json.quote(f.server())).append(',');
            field(sb, "evidence", Json.quote(f.evidence())).append(',');
            field(sb, "remedy", Json.quote(f.remedy()));
            sb.append('}');
        }
        return sb.append("]}").toString();
    }

    private static void server(StringBuilder sb, ServerReport s) {
        sb.append('{');
        field(sb, "server", Json.quote(s.server())).append(',');
        field(sb, "inConnectString", String.valueOf(s.inConnectString())).append(',');
        field(sb, "reachable", String.valueOf(s.reachable())).append(',');
        field(sb, "tlsMismatch", String.valueOf(s.tlsMismatch())).append(',');
        field(sb, "serving", String.valueOf(s.serving())).append(',');
        field(sb, "problem", Json.quote(s.problem())).append(',');
        field(sb, "mode", Json.quote(s.mode())).append(',');
        field(sb, "serverId", s.serverId() == null ? "null" : s.serverId().toString())
                .append(',');
        field(sb, "zxid", Json.quote(s.zxid() == null ? null : "0x" + Long.toHexString(s.zxid())))
                .append(',');
        field(sb, "version", Json.quote(s.version())).append(',');
        field(
                        sb,
                        "connections",
                        s.connections() == null ? "null" : s.connections().toString())
                .append(',');
        field(sb, "watches", s.watches() == null ? "null" : s.watches().toString())
                .append(',');
        field(
                        sb,
                        "autopurgeIntervalHours",
                        s.autopurgeIntervalHours() == null
                                ? "null"
                                : s.autopurgeIntervalHours().toString())
                .append(',');
        field(sb, "elapsedMillis", String.valueOf(s.elapsed().toMillis())).append(',');
        sb.append(Json.quote("membership"))
                .append(":[")
                .append(s.membership().stream().map(Json::quote).collect(Collectors.joining(",")))
                .append("],");
        stringMap(sb, "config", s.config()).append(',');
        stringMap(sb, "metrics", s.metrics()).append(',');
        sb.append(Json.quote("sessionsPerAddress"))
                .append(":{")
                .append(s.sessionsPerAddress().entrySet().stream()
                        .map(e -> Json.quote(e.getKey()) + ":" + e.getValue())
                        .collect(Collectors.joining(",")))
                .append("},");
        stringMap(sb, "answers", s.answers());
        sb.append('}');
    }

    private static StringBuilder stringMap(StringBuilder sb, String name, Map<String, String> map) {
        return sb.append(Json.quote(name))
                .append(":{")
                .append(map.entrySet().stream()
                        .map(e -> Json.quote(e.getKey()) + ":" + Json.quote(e.getValue()))
                        .collect(Collectors.joining(",")))
                .append('}');
    }

    private static StringBuilder field(StringBuilder sb, String name, String jsonValue) {
        return sb.append(Json.quote(name)).append(':').append(jsonValue);
    }

    private long count(Severity severity) {
        return findings.stream().filter(f -> f.severity() == severity).count();
    }

    @Override
    public String toString() {
        return "DiagnosticsReport{" + connectString + ", worst=" + worstSeverity() + ", findings="
                + findings.stream()
                        .map(f -> f.code() + (f.server() == null ? "" : "@" + f.server()))
                        .collect(Collectors.joining(", ", "[", "]"))
                + '}';
    }
}
