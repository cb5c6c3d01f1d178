package dev.zksdk.diagnostics;

/**
 * One {@code server.N} line of a member's view of the ensemble, as printed by {@code conf} after
 * {@code membership:} (format of ZooKeeper's {@code QuorumServer.toString()}:
 * {@code addr:quorumPort:electionPort[|...][:role][;clientAddr:clientPort]}).
 *
 * @param id            the {@code N} of {@code server.N}
 * @param serverAddress quorum and election address(es), e.g. {@code 10.0.0.1:2888:3888}
 * @param role          {@code participant}, {@code observer}, or {@code null} when not printed (participant)
 * @param clientAddress {@code host:port} clients use, or {@code null} when the member took it from {@code clientPort}
 * @param line          the line as printed
 */
record QuorumMember(long id, String serverAddress, String role, String clientAddress, String line) {

    boolean isVoting() {
        return !"observer".equals(role);
    }

    /**
     * Same member as seen by two servers. A client address counts only when both printed one: a member that took
     * its client port from {@code clientPort} does not print it, which is not a disagreement.
     */
    boolean sameAs(QuorumMember other) {
        if (id != other.id || !serverAddress.equals(other.serverAddress) || isVoting() != other.isVoting()) {
            return false;
        }
        return clientAddress == null || other.clientAddress == null || clientAddress.equals(other.clientAddress);
    }

    /** The client address to probe, with a wildcard bind address replaced by the quorum host; null when unknown. */
    HostAndPort clientEndpoint() {
        if (clientAddress == null) {
            return null;
        }
        HostAndPort client = WordParsers.splitHostPort(clientAddress);
        if (client == null) {
            return null;
        }
        String host = client.host();
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0")) {
            HostAndPort quorum = WordParsers.splitHostPort(firstQuorumHostPort());
            if (quorum == null) {
                return null;
            }
            host = quorum.host();
        }
        return new HostAndPort(host, client.port());
    }

    private String firstQuorumHostPort() {
        String first = serverAddress.split("\\|")[0];
        // first is host:quorumPort:electionPort; drop the election port.
        int last = first.lastIndexOf(':');
        return last < 0 ? first : first.substring(0, last);
    }
}
