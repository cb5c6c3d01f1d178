package dev.zksdk.diagnostics;

/**
 * The kinds of problems the {@link EnsembleDoctor} names. Each constant documents what the doctor observed to
 * raise it; the {@link Finding} carries the values.
 */
public enum FindingCode {
    /**
     * A member did not answer: nothing listens on its port, the connection timed out, or it accepted the
     * connection but sent no answer in time (a process stopped with SIGSTOP, hung, or in a long GC pause).
     */
    UNREACHABLE("member does not answer"),
    /**
     * A member refuses connections: it closed the probe's connection without answering (its per-address limit
     * {@code maxClientCnxns} is used up) or its {@code zk_connection_rejected} counter is above zero.
     */
    CONNECTIONS_REJECTED("member refuses client connections"),
    /**
     * The member's port and the probe disagree on TLS: probed in plain text, it closed the connection and then
     * presented a TLS certificate (a {@code secureClientPort}); or probed over TLS ({@link DoctorOptions#tls()}), it
     * failed the handshake and then answered a plain-text {@code ruok}; or probed over TLS, it refused every protocol
     * or cipher suite offered ({@link dev.zksdk.security.TlsConfig#enabledProtocols()},
     * {@link dev.zksdk.security.TlsConfig#cipherSuites()}) with a {@code protocol_version} or
     * {@code handshake_failure} alert. Clients configured like the probe cannot connect to it either.
     */
    TLS_MISMATCH("member's port and the probe disagree on TLS"),
    /** A member answers, but says "This ZooKeeper instance is not currently serving requests". */
    NOT_SERVING("member is up but not serving"),
    /** A member runs in read-only mode: it is cut off from the quorum and serves only read-only clients. */
    READ_ONLY("member is in read-only mode"),
    /**
     * No member reached is serving as leader, follower, observer or standalone server: there is no quorum. Also
     * raised when followers still serve but no member that answers leads (every voting member probed): their leader
     * stopped answering and they have not noticed yet.
     */
    NO_LEADER("ensemble has no leader"),
    /** More than one member says it is the leader: the servers do not form one ensemble. */
    MULTIPLE_LEADERS("more than one leader"),
    /** A server of a multi-server connect string runs standalone, with its own separate data. */
    STANDALONE_MEMBER("server runs standalone inside an ensemble"),
    /**
     * Members disagree on the server list ({@code server.N} lines of {@code conf}) or on settings that must
     * match ({@code tickTime}, {@code initLimit}, {@code syncLimit}, {@code electionAlg}) or that clients rely
     * on ({@code maxClientCnxns}, {@code minSessionTimeout}, {@code maxSessionTimeout}).
     */
    CONFIG_DRIFT("members disagree on configuration"),
    /** The ensemble has an even number of voting members: one more server, no more fault tolerance. */
    EVEN_ENSEMBLE("even number of voting members"),
    /** The ensemble has a single server: no fault tolerance at all. */
    SINGLE_SERVER("single server, no fault tolerance"),
    /** A voting member of the ensemble is missing from the connect string, so clients never use it. */
    MEMBER_NOT_IN_CONNECT_STRING("member missing from the connect string"),
    /** Sessions from one client address are close to (or at) the member's {@code maxClientCnxns}. */
    CONNECTION_BUDGET("connections from one address near maxClientCnxns"),
    /** The requested session timeout lies outside [{@code minSessionTimeout}, {@code maxSessionTimeout}]. */
    SESSION_TIMEOUT_CLAMPED("requested session timeout will be clamped"),
    /**
     * A follower or observer is more transactions behind the leader than {@link DoctorOptions#maxZxidLag()} (a
     * member still on an older epoch has missed at least the leader's transactions of the current epoch).
     */
    LAGGING_MEMBER("member lags behind the leader"),
    /** Average or maximum request latency of a member is above its threshold. */
    HIGH_LATENCY("high request latency"),
    /** Requests queue up on a member: {@code zk_outstanding_requests} is above the threshold. */
    OUTSTANDING_REQUESTS("requests queue up"),
    /** A member has used most of its file descriptors. */
    FILE_DESCRIPTORS("file descriptors nearly used up"),
    /** Four-letter words the doctor needs are not in the member's {@code 4lw.commands.whitelist}. */
    FOUR_LETTER_WORDS_DISABLED("four-letter words not whitelisted"),
    /** The member's configuration turns automatic purging of old snapshots and logs off. */
    AUTOPURGE_DISABLED("autopurge is off"),
    /** A member's data and transaction log directories hold more than the threshold. */
    DATA_DIR_LARGE("data directories are large"),
    /** Members run different ZooKeeper versions. */
    VERSION_MISMATCH("members run different versions");

    private final String title;

    FindingCode(String title) {
        this.title = title;
    }

    /**
     * A short headline for reports.
     *
     * @return the headline
     */
    public String title() {
        return title;
    }
}
