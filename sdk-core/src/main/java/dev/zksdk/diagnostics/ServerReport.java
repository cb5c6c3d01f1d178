package dev.zksdk.diagnostics;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one member answered when it was probed. Immutable. Values the member did not give (unreachable, not
 * serving, word not whitelisted) are {@code null} or empty.
 */
public final class ServerReport {

    /** The {@code mntr} values kept in {@link #metrics()}; the rest of the 300-odd metrics stay out of reports. */
    static final List<String> KEY_METRICS = List.of(
            "zk_server_state",
            "zk_peer_state",
            "zk_uptime",
            "zk_quorum_size",
            "zk_avg_latency",
            "zk_min_latency",
            "zk_max_latency",
            "zk_outstanding_requests",
            "zk_num_alive_connections",
            "zk_connection_rejected",
            "zk_connection_drop_count",
            "zk_global_sessions",
            "zk_local_sessions",
            "zk_znode_count",
            "zk_watch_count",
            "zk_ephemerals_count",
            "zk_approximate_data_size",
            "zk_open_file_descriptor_count",
            "zk_max_file_descriptor_count",
            "zk_learners",
            "zk_synced_followers",
            "zk_synced_non_voting_followers",
            "zk_synced_observers",
            "zk_pending_syncs",
            "zk_avg_fsynctime",
            "zk_max_fsynctime",
            "zk_max_jvm_pause_time_ms");

    private final MemberProbe probe;
    private final Map<String, String> metrics;
    private final Map<String, Integer> sessionsPerAddress;

    ServerReport(MemberProbe probe) {
        this.probe = probe;
        Map<String, String> keyMetrics = new LinkedHashMap<>();
        if (probe.mntr != null) {
            for (String key : KEY_METRICS) {
                String value = probe.mntr.get(key);
                if (value != null) {
                    keyMetrics.put(key, value);
                }
            }
        }
        this.metrics = Collections.unmodifiableMap(keyMetrics);
        Map<String, Integer> sessions = new TreeMap<>();
        if (probe.cons != null) {
            for (WordParsers.Connection c : probe.cons) {
                if (c.sessionId() != null) {
                    sessions.merge(c.address(), 1, Integer::sum);
                }
            }
        }
        this.sessionsPerAddress = Collections.unmodifiableMap(sessions);
    }

    MemberProbe probe() {
        return probe;
    }

    /**
     * The member as probed, {@code host:port}.
     *
     * @return {@code host:port}
     */
    public String server() {
        return probe.address.toString();
    }

    /**
     * False when the member was found only in another member's server list.
     *
     * @return true when the connect string names the member
     */
    public boolean inConnectString() {
        return probe.inConnectString;
    }

    /**
     * True when the member answered at least {@code ruok}.
     *
     * @return true when the member answered
     */
    public boolean reachable() {
        return probe.reachable;
    }

    /**
     * True when the member's port and the probe disagree on TLS (a TLS port probed in plain text, or the other way
     * round), so the member was not probed; {@link #problem()} says which.
     *
     * @return true when the port spoke the other protocol
     */
    public boolean tlsMismatch() {
        return probe.tlsMismatch;
    }

    /**
     * Why the member could not be probed fully, in plain words; null when it answered.
     *
     * @return the problem, or null
     */
    public String problem() {
        return probe.problem;
    }

    /**
     * True when the member serves requests (it reported a mode).
     *
     * @return true when the member serves requests
     */
    public boolean serving() {
        return probe.serving();
    }

    /**
     * {@code leader}, {@code follower}, {@code observer}, {@code standalone} or {@code read-only}; null when unknown.
     *
     * @return the mode, or null
     */
    public String mode() {
        return probe.mode();
    }

    /**
     * The last transaction id the member processed; null when unknown.
     *
     * @return the zxid, or null
     */
    public Long zxid() {
        return probe.srvr == null ? null : probe.srvr.zxid();
    }

    /**
     * The ZooKeeper version string the member reports; null when unknown.
     *
     * @return the version, or null
     */
    public String version() {
        return probe.srvr == null ? null : probe.srvr.version();
    }

    /**
     * The member's {@code myid} ({@code serverId} of {@code conf}; 0 for a standalone server); null when unknown.
     *
     * @return the id, or null
     */
    public Long serverId() {
        return probe.serverId();
    }

    /**
     * The member's view of the ensemble: the {@code server.N=...} lines of {@code conf}; empty when unknown or standalone.
     *
     * @return the {@code server.N} lines, possibly empty
     */
    public List<String> membership() {
        return probe.conf == null ? List.of() : probe.conf.membershipLines();
    }

    /**
     * The settings {@code conf} printed before the membership ({@code tickTime}, {@code maxClientCnxns}, ...).
     *
     * @return the settings by name, possibly empty
     */
    public Map<String, String> config() {
        return probe.conf == null ? Map.of() : probe.conf.settings();
    }

    /**
     * Key {@code mntr} values (latencies, outstanding requests, connections, rejections, file descriptors, ...).
     *
     * @return the values by {@code mntr} key, possibly empty
     */
    public Map<String, String> metrics() {
        return metrics;
    }

    /**
     * Connections that hold a session, per client IP, from {@code cons}; empty when unknown.
     *
     * @return the connections by client IP, possibly empty
     */
    public Map<String, Integer> sessionsPerAddress() {
        return sessionsPerAddress;
    }

    /**
     * All client connections of the member (the probe's own included); null when unknown.
     *
     * @return the number of connections, or null
     */
    public Integer connections() {
        if (probe.cons != null) {
            return probe.cons.size();
        }
        return probe.srvr == null || probe.srvr.connections() == null
                ? null
                : probe.srvr.connections().intValue();
    }

    /**
     * Data watches the member holds ({@code wchs}); null when unknown.
     *
     * @return the number of data watches, or null
     */
    public Long watches() {
        return probe.watches == null ? null : probe.watches.total();
    }

    /**
     * Paths with data watches ({@code wchs}); null when unknown.
     *
     * @return the number of watched paths, or null
     */
    public Long watchedPaths() {
        return probe.watches == null ? null : probe.watches.paths();
    }

    /**
     * How each four-letter word was answered: {@code 4lw}, {@code admin}, {@code not whitelisted}, {@code failed: ...}, ...
     *
     * @return an unmodifiable map from four-letter word to how it was answered
     */
    public Map<String, String> answers() {
        return Collections.unmodifiableMap(probe.answers);
    }

    /**
     * {@code autopurge.purgeInterval} in hours (0 = off); null when the member does not expose it.
     *
     * @return the interval in hours, or null
     */
    public Integer autopurgeIntervalHours() {
        return probe.autopurgeIntervalHours;
    }

    /**
     * How long probing this member took.
     *
     * @return the time taken
     */
    public Duration elapsed() {
        return Duration.ofMillis(probe.elapsedMillis);
    }

    @Override
    public String toString() {
        return "ServerReport{" + server() + ", reachable=" + reachable() + ", mode=" + mode()
                + (problem() == null ? "" : ", problem=" + problem()) + '}';
    }
}
