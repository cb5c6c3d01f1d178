package dev.zksdk.diagnostics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Turns what the members answered into {@link Finding}s. Pure: no network, no clock, so every rule can be tested on
 * captured answers.
 */
final class EnsembleAnalysis {

    static final String WHITELIST_ALL = "4lw.commands.whitelist=srvr,mntr,conf,cons,ruok,wchs";

    static final String SAFE_RESTART_ORDER = "change the configuration on all members first, then restart the"
            + " followers one at a time, waiting after each until it serves again ('Mode: follower' in srvr), and"
            + " restart the leader last";

    /** Settings that must be equal on every member for elections and synchronisation to work as configured. */
    private static final List<String> QUORUM_SETTINGS = List.of("tickTime", "initLimit", "syncLimit", "electionAlg");
    /** Settings clients depend on: a different value per member makes a client's fate depend on where it lands. */
    private static final List<String> CLIENT_SETTINGS =
            List.of("maxClientCnxns", "minSessionTimeout", "maxSessionTimeout");

    private static final double FILE_DESCRIPTOR_RATIO = 0.8;

    private final List<MemberProbe> members;
    private final ConnectString connectString;
    private final DoctorOptions options;
    private final String clientIp;
    private final List<Finding> findings = new ArrayList<>();

    private EnsembleAnalysis(
            List<MemberProbe> members, ConnectString connectString, DoctorOptions options, String clientIp) {
        this.members = members;
        this.connectString = connectString;
        this.options = options;
        this.clientIp = clientIp;
    }

    /**
     * @param clientIp the IP address ZooKeeper sees this client connect from, or null when unknown
     * @return the findings, most severe first
     */
    static List<Finding> analyse(
            List<MemberProbe> members, ConnectString connectString, DoctorOptions options, String clientIp) {
        EnsembleAnalysis analysis = new EnsembleAnalysis(members, connectString, options, clientIp);
        analysis.run();
        analysis.findings.sort(Comparator.comparing(Finding::severity)
                .reversed()
                .thenComparing(Finding::code)
                .thenComparing(f -> f.server() == null ? "" : f.server()));
        return List.copyOf(analysis.findings);
    }

    private void run() {
        List<QuorumMember> membership = referenceMembership();
        reachability(membership);
        leadership();
        leaderNotAnswering(membership);
        configDrift();
        ensembleShape(membership);
        connectionBudget();
        rejectedConnections();
        sessionTimeoutClamp();
        lag();
        load();
        whitelist();
        disk();
        versions();
    }

    // ---------------------------------------------------------------- reachability and serving

    private boolean quorumServes() {
        return members.stream().anyMatch(p -> p.serving() && isServingMode(p.mode()));
    }

    private static boolean isServingMode(String mode) {
        return "leader".equals(mode) || "follower".equals(mode) || "observer".equals(mode) || "standalone".equals(mode);
    }

    private boolean multiServer() {
        if (connectString.servers().size() > 1) {
            return true;
        }
        return members.stream().anyMatch(p -> p.conf != null && p.conf.members().size() > 1);
    }

    private String quorumContext(List<QuorumMember> membership) {
        if (membership == null || membership.isEmpty()) {
            return "";
        }
        long voting = membership.stream().filter(QuorumMember::isVoting).count();
        long servingVoting = members.stream()
                .filter(p -> p.serving() && ("leader".equals(p.mode()) || "follower".equals(p.mode())))
                .count();
        long quorum = voting / 2 + 1;
        String context = " " + servingVoting + " of " + voting + " voting members serve; a quorum needs " + quorum;
        // Members that were never probed (no client address known) may serve too: only judge with the full picture.
        if (servingVoting == quorum && members.size() >= voting) {
            context += ", so one more failure stops the ensemble";
        } else if (members.size() < voting) {
            context += " (" + (voting - members.size()) + " not probed: no client address known)";
        }
        return context + ".";
    }

    private void reachability(List<QuorumMember> membership) {
        boolean healthy = quorumServes();
        Severity severity = healthy ? Severity.WARNING : Severity.CRITICAL;
        String context = quorumContext(membership);
        for (MemberProbe p : members) {
            String where = p.inConnectString ? "" : " (found in the ensemble's server list, not in the connect string)";
            if (p.tlsMismatch) {
                add(
                        FindingCode.TLS_MISMATCH,
                        Severity.CRITICAL,
                        p,
                        p.address + where + ": " + p.problem + "." + context,
                        p.tlsParametersRefused
                                ? "Offer what the server accepts (its ssl.enabledProtocols and ssl.ciphersuites, or"
                                        + " ssl.protocol): set TlsConfig enabledProtocols / cipherSuites to include"
                                        + " one of them, or widen the server's. Clients of the pool with these TLS"
                                        + " settings cannot connect to this member either."
                                : "Probe the port with the protocol it speaks, as its clients must: a secureClientPort needs"
                                        + " TLS settings (trust store, and a key store when the server has ssl.clientAuth=need,"
                                        + " its default); a clientPort needs none. Check that the connect string names the"
                                        + " port you meant.");
            } else if (p.refused) {
                add(
                        FindingCode.CONNECTIONS_REJECTED,
                        Severity.CRITICAL,
                        p,
                        p.address + where + " " + p.problem + "." + context,
                        "The member accepts TCP connections but drops this client's at once; its log says 'Too many"
                                + " connections from /<ip> - max is N'. Find which process holds the connections"
                                + " (cons, or netstat on the client host), make each process share one long-lived"
                                + " session (ZkSessionPool) instead of one per component or request, or raise"
                                + " maxClientCnxns (0 = unlimited) on every member: " + SAFE_RESTART_ORDER + ".");
            } else if (!p.reachable || p.stalled) {
                add(
                        FindingCode.UNREACHABLE,
                        severity,
                        p,
                        p.address + where + ": " + p.problem + "." + context,
                        "Check that the ZooKeeper process on " + p.address.host() + " runs and is not stopped"
                                + " (process state 'T' after SIGSTOP: send SIGCONT) or stuck in GC (GC log, jstack);"
                                + " check its log for the last errors, and the network and firewall between this"
                                + " host and port " + p.address.port() + ". A stopped or hung member keeps its"
                                + " clients' connections open without answering: restart it if it does not recover.");
            } else if (p.notServing) {
                add(
                        FindingCode.NOT_SERVING,
                        severity,
                        p,
                        p.address + where + " answers 'ruok' but its 'srvr' says '" + WordParsers.NOT_SERVING
                                + "': the process runs but is not part of a working quorum (electing a leader, or"
                                + " unable to join one)." + context,
                        "If only this member is affected, read its log: 'Have smaller server identifier, so"
                                + " dropping the connection' means it cannot open election connections to members"
                                + " with a higher id, typically because their server.N lists differ from its own or"
                                + " the election port is blocked; make the server lists identical ("
                                + SAFE_RESTART_ORDER + ") and check the election and quorum ports. If every member"
                                + " is affected, the ensemble has lost its quorum: bring a majority of the voting"
                                + " members back.");
            } else if ("read-only".equals(p.mode())) {
                add(
                        FindingCode.READ_ONLY,
                        Severity.WARNING,
                        p,
                        p.address + " reports Mode: read-only: it is cut off from the quorum and serves only"
                                + " clients that allow read-only mode; writes through it fail." + context,
                        "Restore its network path to the other members (quorum and election ports) or restart it"
                                + " once the quorum is back; read-only data may be stale.");
            }
        }
    }

    private void leadership() {
        List<MemberProbe> leaders = members.stream()
                .filter(p -> p.serving() && "leader".equals(p.mode()))
                .toList();
        if (leaders.size() > 1) {
            add(
                    FindingCode.MULTIPLE_LEADERS,
                    Severity.CRITICAL,
                    null,
                    leaders.size() + " members say they lead: "
                            + leaders.stream()
                                    .map(p -> p.address + " (" + idAndZxid(p) + ")")
                                    .collect(Collectors.joining(", "))
                            + ". One ensemble has one leader; these servers belong to different ensembles.",
                    "The connect string mixes separate ensembles, or the members' server.N lists split them into"
                            + " groups. Compare the 'conf' membership of each leader; give every member the same"
                            + " server list (" + SAFE_RESTART_ORDER + "), and point the connect string at one"
                            + " ensemble only. Data written through different leaders has diverged.");
        }
        boolean multi = multiServer();
        if (multi && !quorumServes()) {
            add(
                    FindingCode.NO_LEADER,
                    Severity.CRITICAL,
                    null,
                    "No member serves as leader, follower or observer: "
                            + members.stream()
                                    .map(p -> p.address + " " + state(p))
                                    .collect(Collectors.joining("; ")) + ".",
                    "A majority of the voting members must run and reach each other on their quorum and election"
                            + " ports. Start stopped members; read their logs for election problems ('Have smaller"
                            + " server identifier, so dropping the connection' means a member cannot reach members"
                            + " with a higher id: compare the server.N lines of every member); see CONFIG_DRIFT and"
                            + " UNREACHABLE findings.");
        }
        List<MemberProbe> standalone = members.stream()
                .filter(p -> p.serving() && "standalone".equals(p.mode()))
                .toList();
        if (connectString.servers().size() > 1) {
            for (MemberProbe p : standalone) {
                add(
                        FindingCode.STANDALONE_MEMBER,
                        Severity.CRITICAL,
                        p,
                        p.address + " runs standalone (Mode: standalone) although the connect string lists "
                                + connectString.servers().size() + " servers: it keeps its own separate data, so"
                                + " clients see different data depending on the server they land on.",
                        "Give this server the same server.N lines as the other members and a myid file in its"
                                + " dataDir, then restart it (" + SAFE_RESTART_ORDER + "); until then remove it"
                                + " from the connect string.");
            }
        } else if (!multi && standalone.size() == 1) {
            add(
                    FindingCode.SINGLE_SERVER,
                    Severity.INFO,
                    standalone.get(0),
                    standalone.get(0).address + " runs standalone: when it stops, every client stops.",
                    "For production, run an ensemble of 3 or 5 members on separate hosts.");
        }
    }

    /**
     * Followers (or observers) that serve although no member that answers leads: their leader stopped answering (a
     * stopped or hung process) and they have not noticed yet, as they wait {@code syncLimit} ticks without a reply
     * before they give it up. Until they elect a new leader, writes and new sessions fail. Judged only when every
     * voting member was probed, so the leader cannot simply be a member nobody asked.
     */
    private void leaderNotAnswering(List<QuorumMember> membership) {
        if (membership == null || membership.isEmpty() || !multiServer()) {
            return;
        }
        long voting = membership.stream().filter(QuorumMember::isVoting).count();
        boolean leaderAnswers = members.stream()
                .anyMatch(p -> p.serving() && ("leader".equals(p.mode()) || "standalone".equals(p.mode())));
        List<MemberProbe> learners = members.stream()
                .filter(p -> p.serving() && ("follower".equals(p.mode()) || "observer".equals(p.mode())))
                .toList();
        if (members.size() < voting || leaderAnswers || learners.isEmpty()) {
            return;
        }
        List<MemberProbe> silent = members.stream().filter(p -> !p.serving()).toList();
        add(
                FindingCode.NO_LEADER,
                Severity.CRITICAL,
                null,
                names(learners) + (learners.size() == 1 ? " says it follows" : " say they follow")
                        + " (srvr Mode: follower or observer), but no member that answers leads"
                        + (silent.isEmpty()
                                ? ""
                                : "; not answering: "
                                        + silent.stream()
                                                .map(p -> p.address + " " + state(p))
                                                .collect(Collectors.joining("; ")))
                        + ". Followers keep following a leader that stopped answering until syncLimit ticks pass"
                        + " without a reply; until they elect a new leader, writes and new sessions fail.",
                "Probe again after syncLimit x tickTime and an election: the followers should have elected a new"
                        + " leader. If not, or if this recurs, the leader is hung rather than gone: a process stopped"
                        + " with SIGSTOP (state 'T': send SIGCONT), a long GC pause (GC log), a full disk or a stuck"
                        + " fsync (its log); restart it so that the others elect a new leader.");
    }

    // ---------------------------------------------------------------- configuration

    private void configDrift() {
        membershipDrift();
        for (String key : QUORUM_SETTINGS) {
            settingDrift(
                    key,
                    "members must agree on " + key + " for elections and synchronisation to behave as" + " configured");
        }
        for (String key : CLIENT_SETTINGS) {
            settingDrift(key, "clients get different limits depending on the member they connect to");
        }
    }

    private void membershipDrift() {
        Map<String, List<MemberProbe>> groups = new LinkedHashMap<>();
        for (MemberProbe p : members) {
            if (p.conf != null && !p.conf.members().isEmpty()) {
                groups.computeIfAbsent(membershipKey(p.conf.members()), k -> new ArrayList<>())
                        .add(p);
            }
        }
        List<String> clientConflicts = clientAddressConflicts();
        if (groups.size() <= 1 && clientConflicts.isEmpty()) {
            return;
        }
        StringBuilder evidence = new StringBuilder("Members disagree on the server list (conf, after 'membership:'). ");
        MemberProbe odd = null;
        if (groups.size() > 1) {
            List<List<MemberProbe>> ordered = new ArrayList<>(groups.values());
            ordered.sort(
                    Comparator.comparingInt((List<MemberProbe> g) -> g.size()).reversed());
            List<MemberProbe> majority = ordered.get(0);
            List<QuorumMember> reference = majority.get(0).conf.members();
            evidence.append(names(majority))
                    .append(majority.size() == 1 ? " lists " : " list ")
                    .append(reference.stream().map(QuorumMember::line).collect(Collectors.joining(", ")));
            for (List<MemberProbe> group : ordered.subList(1, ordered.size())) {
                evidence.append("; ")
                        .append(names(group))
                        .append(group.size() == 1 ? " differs: " : " differ: ")
                        .append(difference(reference, group.get(0).conf.members()));
            }
            evidence.append('.');
            if (ordered.size() == 2 && ordered.get(1).size() == 1 && majority.size() > 1) {
                odd = ordered.get(1).get(0);
            }
        }
        if (!clientConflicts.isEmpty()) {
            evidence.append(" Client addresses differ: ")
                    .append(String.join("; ", clientConflicts))
                    .append('.');
        }
        add(
                FindingCode.CONFIG_DRIFT,
                Severity.CRITICAL,
                odd,
                evidence.toString(),
                "Make the server.N lines identical on every member: " + SAFE_RESTART_ORDER + ". Restarting in"
                        + " another order, or restarting several members at once, can stop the whole ensemble"
                        + " until a quorum with one view forms. A member that cannot join logs 'Have smaller server"
                        + " identifier, so dropping the connection' when members with a higher id do not know it"
                        + " (or know it with other ports). With dynamic reconfiguration enabled, change membership"
                        + " with 'reconfig' rather than by editing files.");
    }

    private static String membershipKey(List<QuorumMember> membership) {
        return membership.stream()
                .sorted(Comparator.comparingLong(QuorumMember::id))
                .map(m -> m.id() + "=" + m.serverAddress() + (m.isVoting() ? "" : ":observer"))
                .collect(Collectors.joining(","));
    }

    private List<String> clientAddressConflicts() {
        Map<Long, Map<String, List<MemberProbe>>> byId = new TreeMap<>();
        for (MemberProbe p : members) {
            if (p.conf == null) {
                continue;
            }
            for (QuorumMember m : p.conf.members()) {
                if (m.clientAddress() != null) {
                    byId.computeIfAbsent(m.id(), k -> new LinkedHashMap<>())
                            .computeIfAbsent(m.clientAddress(), k -> new ArrayList<>())
                            .add(p);
                }
            }
        }
        List<String> conflicts = new ArrayList<>();
        byId.forEach((id, views) -> {
            if (views.size() > 1) {
                conflicts.add("server." + id + " has client address "
                        + views.entrySet().stream()
                                .map(e -> e.getKey() + " at " + names(e.getValue()))
                                .collect(Collectors.joining(" but ")));
            }
        });
        return conflicts;
    }

    private static String difference(List<QuorumMember> reference, List<QuorumMember> other) {
        Map<Long, QuorumMember> ref = reference.stream()
                .collect(Collectors.toMap(QuorumMember::id, Function.identity(), (a, b) -> a, TreeMap::new));
        Map<Long, QuorumMember> oth = other.stream()
                .collect(Collectors.toMap(QuorumMember::id, Function.identity(), (a, b) -> a, TreeMap::new));
        List<String> parts = new ArrayList<>();
        for (Map.Entry<Long, QuorumMember> e : ref.entrySet()) {
            QuorumMember o = oth.get(e.getKey());
            if (o == null) {
                parts.add("no server." + e.getKey());
            } else if (!o.sameAs(e.getValue())) {
                parts.add(o.line() + " instead of " + e.getValue().line());
            }
        }
        for (Map.Entry<Long, QuorumMember> e : oth.entrySet()) {
            if (!ref.containsKey(e.getKey())) {
                parts.add("extra " + e.getValue().line());
            }
        }
        return String.join(", ", parts);
    }

    private void settingDrift(String key, String why) {
        Map<String, List<MemberProbe>> byValue = new LinkedHashMap<>();
        for (MemberProbe p : members) {
            if (p.conf != null && p.conf.settings().containsKey(key)) {
                byValue.computeIfAbsent(p.conf.settings().get(key), k -> new ArrayList<>())
                        .add(p);
            }
        }
        if (byValue.size() <= 1) {
            return;
        }
        MemberProbe odd = null;
        List<List<MemberProbe>> groups = new ArrayList<>(byValue.values());
        groups.sort(Comparator.comparingInt((List<MemberProbe> g) -> g.size()).reversed());
        if (groups.size() == 2 && groups.get(1).size() == 1 && groups.get(0).size() > 1) {
            odd = groups.get(1).get(0);
        }
        String values = members.stream()
                .filter(p -> p.conf != null && p.conf.settings().containsKey(key))
                .map(p -> p.address + "=" + p.conf.settings().get(key))
                .collect(Collectors.joining(", "));
        add(
                FindingCode.CONFIG_DRIFT,
                Severity.WARNING,
                odd,
                key + " differs between members (" + values + "): " + why + ".",
                "Set the same " + key + " in every member's zoo.cfg: " + SAFE_RESTART_ORDER + ".");
    }

    // ---------------------------------------------------------------- shape of the ensemble

    /** The leader's server list if a leader answered, else the one most members report, else null. */
    private List<QuorumMember> referenceMembership() {
        for (MemberProbe p : members) {
            if ("leader".equals(p.mode()) && p.conf != null && !p.conf.members().isEmpty()) {
                return p.conf.members();
            }
        }
        Map<String, List<MemberProbe>> groups = new LinkedHashMap<>();
        for (MemberProbe p : members) {
            if (p.conf != null && !p.conf.members().isEmpty()) {
                groups.computeIfAbsent(membershipKey(p.conf.members()), k -> new ArrayList<>())
                        .add(p);
            }
        }
        return groups.values().stream()
                .max(Comparator.comparingInt(List::size))
                .map(g -> g.get(0).conf.members())
                .orElse(null);
    }

    private MemberProbe membershipSource() {
        for (MemberProbe p : members) {
            if ("leader".equals(p.mode()) && p.conf != null && !p.conf.members().isEmpty()) {
                return p;
            }
        }
        return members.stream()
                .filter(p -> p.conf != null && !p.conf.members().isEmpty())
                .findFirst()
                .orElse(null);
    }

    private void ensembleShape(List<QuorumMember> membership) {
        if (membership == null || membership.isEmpty()) {
            return;
        }
        MemberProbe source = membershipSource();
        List<QuorumMember> voting =
                membership.stream().filter(QuorumMember::isVoting).toList();
        int n = voting.size();
        String ids = voting.stream().map(m -> "server." + m.id()).collect(Collectors.joining(", "));
        if (n >= 2 && n % 2 == 0) {
            int quorum = n / 2 + 1;
            add(
                    FindingCode.EVEN_ENSEMBLE,
                    Severity.WARNING,
                    null,
                    "The server list of " + source.address + " has " + n + " voting members (" + ids + "): a quorum"
                            + " needs " + quorum + ", so it survives " + (n - quorum) + " failure"
                            + (n - quorum == 1 ? "" : "s") + ", no more than " + (n - 1) + " members would, while"
                            + " every write waits for one more member.",
                    "Run an odd number of voting members (3 or 5). To add read capacity without changing the"
                            + " quorum, add observers (peerType=observer, ':observer' in the server line).");
        } else if (n == 1) {
            add(
                    FindingCode.SINGLE_SERVER,
                    Severity.INFO,
                    null,
                    "The server list of " + source.address + " has a single voting member (" + ids + "): when it"
                            + " stops, every client stops.",
                    "For production, run 3 or 5 voting members on separate hosts.");
        }
        membersMissingFromConnectString(membership);
    }

    private void membersMissingFromConnectString(List<QuorumMember> membership) {
        Set<Long> knownIds = new HashSet<>();
        for (MemberProbe p : members) {
            if (!p.inConnectString) {
                continue;
            }
            Long id = p.serverId();
            if (id == null) {
                // An unidentified member of the connect string may be any of the listed ids: do not guess.
                return;
            }
            knownIds.add(id);
        }
        Set<String> listed =
                connectString.servers().stream().map(HostAndPort::toString).collect(Collectors.toSet());
        List<QuorumMember> missing = new ArrayList<>();
        for (QuorumMember m : membership) {
            HostAndPort client = m.clientEndpoint();
            if (!knownIds.contains(m.id()) && (client == null || !listed.contains(client.toString()))) {
                missing.add(m);
            }
        }
        if (!missing.isEmpty()) {
            add(
                    FindingCode.MEMBER_NOT_IN_CONNECT_STRING,
                    Severity.INFO,
                    null,
                    "The ensemble's server list has "
                            + missing.stream().map(QuorumMember::line).collect(Collectors.joining(", "))
                            + ", which no connect-string entry reaches"
                            + " (connect string: "
                            + connectString.servers().stream()
                                    .map(HostAndPort::toString)
                                    .collect(Collectors.joining(","))
                            + "): clients never use "
                            + (missing.size() == 1 ? "it" : "them") + ", and lose the servers they do list sooner.",
                    "Add every member's client address to the connect string, so sessions spread over all members"
                            + " and survive the loss of any of them.");
        }
    }

    // ---------------------------------------------------------------- connections and sessions

    private void connectionBudget() {
        for (MemberProbe p : members) {
            if (p.cons == null || p.conf == null) {
                continue;
            }
            Long max = WordParsers.parseLong(p.conf.settings().get("maxClientCnxns"));
            if (max == null || max <= 0) {
                continue;
            }
            long budget = (long) Math.ceil(options.connectionBudgetRatio() * max);
            Map<String, Integer> sessions = new TreeMap<>();
            for (WordParsers.Connection c : p.cons) {
                if (c.sessionId() != null) {
                    sessions.merge(c.address(), 1, Integer::sum);
                }
            }
            for (Map.Entry<String, Integer> e : sessions.entrySet()) {
                int count = e.getValue();
                if (count < budget) {
                    continue;
                }
                boolean self = e.getKey().equals(clientIp);
                String who = e.getKey() + (self ? " (this client's address)" : "");
                String headroom = count >= max
                        ? "none are left: further connections from it are refused"
                        : (max - count) + " more can connect";
                add(
                        FindingCode.CONNECTION_BUDGET,
                        count >= max ? Severity.CRITICAL : Severity.WARNING,
                        p,
                        p.address + " holds " + count + " sessions from " + who + "; maxClientCnxns=" + max
                                + " per client address, so " + headroom + " (budget " + budget + " = "
                                + Math.round(options.connectionBudgetRatio() * 100) + "% of " + max + ").",
                        "Every process on that host shares the limit. Share one long-lived session per process"
                                + " (ZkSessionPool) instead of opening one per component or per request, and close"
                                + " clients you no longer use; or raise maxClientCnxns (0 = unlimited) on every"
                                + " member: " + SAFE_RESTART_ORDER + ".");
            }
        }
    }

    private void rejectedConnections() {
        for (MemberProbe p : members) {
            if (p.refused) {
                continue;
            }
            Long rejected = p.mntr == null ? null : WordParsers.parseLong(p.mntr.get("zk_connection_rejected"));
            List<String> evidence = new ArrayList<>();
            if (rejected != null && rejected > 0) {
                String max = p.conf == null ? null : p.conf.settings().get("maxClientCnxns");
                evidence.add("zk_connection_rejected=" + rejected + " since the server started: it refused new"
                        + " connections (per-address limit maxClientCnxns" + (max == null ? "" : "=" + max)
                        + " reached, or its global connection limit)");
            }
            if (!p.closedWithoutAnswer.isEmpty()) {
                evidence.add("it closed the probe's connection for " + String.join(", ", p.closedWithoutAnswer)
                        + " without an answer");
            }
            if (!evidence.isEmpty()) {
                add(
                        FindingCode.CONNECTIONS_REJECTED,
                        Severity.WARNING,
                        p,
                        p.address + ": " + String.join("; ", evidence) + ".",
                        "Its log names the address: 'Too many connections from /<ip> - max is N'. Share one"
                                + " long-lived session per process (ZkSessionPool) instead of a connection per"
                                + " component or request, or raise maxClientCnxns on every member ("
                                + SAFE_RESTART_ORDER + ").");
            }
        }
    }

    private void sessionTimeoutClamp() {
        if (options.requestedSessionTimeout() == null) {
            return;
        }
        long requested = options.requestedSessionTimeout().toMillis();
        record Clamp(MemberProbe probe, long min, long max, long negotiated, String tickTime) {}
        List<Clamp> clamps = new ArrayList<>();
        int judged = 0;
        for (MemberProbe p : members) {
            if (p.conf == null) {
                continue;
            }
            Long min = WordParsers.parseLong(p.conf.settings().get("minSessionTimeout"));
            Long max = WordParsers.parseLong(p.conf.settings().get("maxSessionTimeout"));
            if (min == null || max == null) {
                continue;
            }
            judged++;
            if (requested < min || requested > max) {
                clamps.add(new Clamp(
                        p,
                        min,
                        max,
                        requested < min ? min : max,
                        p.conf.settings().get("tickTime")));
            }
        }
        if (clamps.isEmpty()) {
            return;
        }
        String remedy = "Request a session timeout inside the allowed range, or widen it on every member:"
                + " minSessionTimeout and maxSessionTimeout in zoo.cfg (defaults: 2 and 20 times tickTime); "
                + SAFE_RESTART_ORDER + ". The server clamps silently: the client only sees the negotiated timeout"
                + " (ZooKeeper.getSessionTimeout()).";
        Set<String> ranges = clamps.stream().map(c -> c.min + "-" + c.max).collect(Collectors.toSet());
        if (clamps.size() > 1 && clamps.size() == judged && ranges.size() == 1) {
            Clamp c = clamps.get(0);
            add(
                    FindingCode.SESSION_TIMEOUT_CLAMPED,
                    Severity.WARNING,
                    null,
                    "Requested session timeout " + requested + " ms; every member ("
                            + clamps.stream()
                                    .map(x -> x.probe.address.toString())
                                    .collect(Collectors.joining(", "))
                            + ") allows " + c.min + "-" + c.max + " ms (minSessionTimeout=" + c.min
                            + ", maxSessionTimeout=" + c.max + (c.tickTime == null ? "" : ", tickTime=" + c.tickTime)
                            + "), so sessions get " + c.negotiated + " ms" + consequence(requested, c.negotiated) + ".",
                    remedy);
            return;
        }
        for (Clamp c : clamps) {
            add(
                    FindingCode.SESSION_TIMEOUT_CLAMPED,
                    Severity.WARNING,
                    c.probe,
                    "Requested session timeout " + requested + " ms; " + c.probe.address + " allows " + c.min + "-"
                            + c.max + " ms (minSessionTimeout=" + c.min + ", maxSessionTimeout=" + c.max
                            + (c.tickTime == null ? "" : ", tickTime=" + c.tickTime) + "), so a session there gets "
                            + c.negotiated + " ms" + consequence(requested, c.negotiated) + ".",
                    remedy);
        }
    }

    private static String consequence(long requested, long negotiated) {
        return negotiated < requested
                ? ": it expires sooner than the client expects on a slow or flaky network"
                : ": a dead client's ephemerals and locks stay longer than expected";
    }

    // ---------------------------------------------------------------- load and lag

    private void lag() {
        List<MemberProbe> leaders = members.stream()
                .filter(p -> p.serving() && "leader".equals(p.mode()) && p.srvr.zxid() != null)
                .toList();
        if (leaders.size() != 1) {
            return;
        }
        MemberProbe leader = leaders.get(0);
        long leaderZxid = leader.srvr.zxid();
        for (MemberProbe p : members) {
            if (!p.serving()
                    || p.srvr.zxid() == null
                    || !("follower".equals(p.mode()) || "observer".equals(p.mode()))) {
                continue;
            }
            long zxid = p.srvr.zxid();
            long leaderEpoch = leaderZxid >>> 32;
            long epoch = zxid >>> 32;
            String remedy = "A member that stays behind applies transactions slower than the leader sends them:"
                    + " check its transaction-log disk (mntr zk_avg_fsynctime/zk_max_fsynctime, 'fsync-ing the"
                    + " write ahead log ... took' warnings), GC pauses (zk_max_jvm_pause_time_ms) and the network"
                    + " to the leader. Clients on it read stale data until it catches up (use sync() where"
                    + " read-after-write across clients matters).";
            if (epoch < leaderEpoch) {
                // A follower applies nothing of a new epoch until the leader commits in it, so an older epoch is
                // normal on an idle ensemble: it has missed at least the leader's transactions of this epoch.
                long missed = leaderZxid & 0xffffffffL;
                if (missed > options.maxZxidLag()) {
                    add(
                            FindingCode.LAGGING_MEMBER,
                            Severity.WARNING,
                            p,
                            p.address + " (" + p.mode() + ") is at zxid 0x" + Long.toHexString(zxid) + " in epoch "
                                    + epoch + ", the leader " + leader.address + " at 0x" + Long.toHexString(leaderZxid)
                                    + " in epoch " + leaderEpoch + ": it has applied none of the " + missed
                                    + " transactions of the current epoch (threshold " + options.maxZxidLag() + ").",
                            remedy);
                }
            } else if (epoch == leaderEpoch && leaderZxid - zxid > options.maxZxidLag()) {
                add(
                        FindingCode.LAGGING_MEMBER,
                        Severity.WARNING,
                        p,
                        p.address + " (" + p.mode() + ") is at zxid 0x" + Long.toHexString(zxid) + ", "
                                + (leaderZxid - zxid) + " transactions behind the leader " + leader.address + " (0x"
                                + Long.toHexString(leaderZxid) + "; threshold " + options.maxZxidLag() + ").",
                        remedy);
            }
        }
    }

    private void load() {
        double avgThreshold = options.avgLatencyThreshold().toNanos() / 1e6;
        long maxThreshold = options.maxLatencyThreshold().toMillis();
        for (MemberProbe p : members) {
            if (!p.serving()) {
                continue;
            }
            Double avg = p.mntr != null ? WordParsers.parseDouble(p.mntr.get("zk_avg_latency")) : null;
            Long max = p.mntr != null ? WordParsers.parseLong(p.mntr.get("zk_max_latency")) : null;
            if (avg == null && p.srvr != null) {
                avg = p.srvr.avgLatency();
            }
            if (max == null && p.srvr != null) {
                max = p.srvr.maxLatency();
            }
            List<String> high = new ArrayList<>();
            if (avg != null && avg > avgThreshold) {
                high.add("average latency " + avg + " ms (threshold " + fmt(avgThreshold) + " ms)");
            }
            if (max != null && max > maxThreshold) {
                high.add("maximum latency " + max + " ms since start or the last 'srst' (threshold " + maxThreshold
                        + " ms)");
            }
            if (!high.isEmpty()) {
                add(
                        FindingCode.HIGH_LATENCY,
                        Severity.WARNING,
                        p,
                        p.address + " has " + String.join(" and ", high) + metricHints(p) + ".",
                        "Latency is the server's time from receiving a request to answering it. Usual causes: a"
                                + " slow or shared disk for the transaction log (give dataLogDir its own fast disk;"
                                + " look for 'fsync-ing the write ahead log' warnings), long GC pauses (heap size, GC"
                                + " log), large znodes or huge getChildren results, and CPU starvation. Reset the"
                                + " counters with 'srst' to see whether it persists.");
            }
            Long outstanding = p.mntr != null ? WordParsers.parseLong(p.mntr.get("zk_outstanding_requests")) : null;
            if (outstanding == null && p.srvr != null) {
                outstanding = p.srvr.outstanding();
            }
            if (outstanding != null && outstanding > options.outstandingRequestsThreshold()) {
                add(
                        FindingCode.OUTSTANDING_REQUESTS,
                        Severity.WARNING,
                        p,
                        p.address + " has " + outstanding + " outstanding requests (threshold "
                                + options.outstandingRequestsThreshold() + ")" + metricHints(p) + ".",
                        "Requests arrive faster than the member processes them: it is overloaded or waits on its"
                                + " disk. Spread clients over all members (full connect string), cut write rates and"
                                + " request bursts (batch with multi), and check fsync times and GC pauses. Beyond"
                                + " globalOutstandingLimit (default 1000) the server throttles clients.");
            }
            Long open = p.mntr != null ? WordParsers.parseLong(p.mntr.get("zk_open_file_descriptor_count")) : null;
            Long limit = p.mntr != null ? WordParsers.parseLong(p.mntr.get("zk_max_file_descriptor_count")) : null;
            if (open != null && limit != null && limit > 0 && open >= FILE_DESCRIPTOR_RATIO * limit) {
                add(
                        FindingCode.FILE_DESCRIPTORS,
                        Severity.WARNING,
                        p,
                        p.address + " has " + open + " of " + limit + " file descriptors open"
                                + " (zk_open_file_descriptor_count / zk_max_file_descriptor_count).",
                        "Each client connection and log file takes a descriptor; at the limit the member stops"
                                + " accepting connections. Raise the process limit (ulimit -n / LimitNOFILE) and look"
                                + " for clients that leak connections (cons).");
            }
        }
    }

    private static String metricHints(MemberProbe p) {
        if (p.mntr == null) {
            return "";
        }
        List<String> hints = new ArrayList<>();
        for (String key : List.of(
                "zk_avg_fsynctime", "zk_max_fsynctime", "zk_max_jvm_pause_time_ms", "zk_num_alive_connections")) {
            String v = p.mntr.get(key);
            if (v != null) {
                hints.add(key + "=" + v);
            }
        }
        return hints.isEmpty() ? "" : "; " + String.join(", ", hints);
    }

    // ---------------------------------------------------------------- what the probe could not see

    private void whitelist() {
        record Gap(MemberProbe probe, Set<String> missing, Set<String> byAdmin) {}
        List<Gap> gaps = new ArrayList<>();
        for (MemberProbe p : members) {
            if (p.notWhitelisted.isEmpty()) {
                continue;
            }
            Set<String> missing = new LinkedHashSet<>(p.notWhitelisted);
            missing.removeAll(p.answeredByAdmin);
            gaps.add(new Gap(p, missing, new LinkedHashSet<>(p.answeredByAdmin)));
        }
        if (gaps.isEmpty()) {
            return;
        }
        String remedy = "Whitelist the words on every member: " + WHITELIST_ALL + " in zoo.cfg (or"
                + " -Dzookeeper.4lw.commands.whitelist=srvr,mntr,conf,cons,ruok,wchs), then restart the members one"
                + " at a time, followers first, leader last. Alternatively enable the AdminServer"
                + " (admin.enableServer=true, admin.serverPort, default 8080) and give its port to the doctor"
                + " (DoctorOptions.adminPort).";
        Set<String> distinct =
                gaps.stream().map(g -> g.missing + "|" + g.byAdmin).collect(Collectors.toSet());
        if (gaps.size() > 1
                && gaps.size() == members.stream().filter(p -> p.reachable).count()
                && distinct.size() == 1) {
            Gap g = gaps.get(0);
            String problems = gaps.stream()
                    .map(x -> x.probe.adminProblem)
                    .filter(Objects::nonNull)
                    .distinct()
                    .collect(Collectors.joining("; "));
            add(
                    FindingCode.FOUR_LETTER_WORDS_DISABLED,
                    g.missing.isEmpty() ? Severity.INFO : Severity.WARNING,
                    null,
                    "Every member ("
                            + gaps.stream().map(x -> x.probe.address.toString()).collect(Collectors.joining(", "))
                            + ") " + gapText(g.missing, g.byAdmin, problems),
                    remedy);
            return;
        }
        for (Gap g : gaps) {
            add(
                    FindingCode.FOUR_LETTER_WORDS_DISABLED,
                    g.missing.isEmpty() ? Severity.INFO : Severity.WARNING,
                    g.probe,
                    g.probe.address + " " + gapText(g.missing, g.byAdmin, g.probe.adminProblem),
                    remedy);
        }
    }

    private static String gapText(Set<String> missing, Set<String> byAdmin, String adminProblem) {
        Set<String> refused = new LinkedHashSet<>(missing);
        refused.addAll(byAdmin);
        StringBuilder sb = new StringBuilder(
                "answers '" + String.join("', '", refused) + "' with '<word> " + WordParsers.NOT_WHITELISTED + "'");
        if (!byAdmin.isEmpty()) {
            sb.append("; the AdminServer answered ")
                    .append(String.join(", ", byAdmin))
                    .append(" instead");
        }
        if (!missing.isEmpty()) {
            if (adminProblem != null && !adminProblem.isEmpty()) {
                sb.append("; ").append(adminProblem);
            }
            sb.append(". Not checked therefore: ")
                    .append(missing.stream()
                            .map(EnsembleAnalysis::blindSpot)
                            .filter(s -> !s.isEmpty())
                            .collect(Collectors.joining("; ")));
        }
        return sb.append('.').toString();
    }

    private static String blindSpot(String word) {
        return switch (word) {
            case "srvr" -> "mode, zxid, leader and lag (srvr)";
            case "mntr" -> "latency, outstanding requests, rejected connections, file descriptors (mntr)";
            case "conf" ->
                "server lists and config drift, even ensemble, session timeout bounds, maxClientCnxns (conf)";
            case "cons" -> "connections per client address (cons)";
            case "wchs" -> "watch counts (wchs)";
            default -> "";
        };
    }

    // ---------------------------------------------------------------- disk

    private void disk() {
        for (MemberProbe p : members) {
            String sizes = p.conf == null ? "" : dataSizes(p);
            if (p.autopurgeIntervalHours != null && p.autopurgeIntervalHours <= 0) {
                add(
                        FindingCode.AUTOPURGE_DISABLED,
                        Severity.WARNING,
                        p,
                        p.address + ": autopurge is off according to the " + p.autopurgeSource
                                + ": old snapshots and transaction logs are never deleted" + sizes + ".",
                        "Set autopurge.purgeInterval=24 (hours) and autopurge.snapRetainCount=3 (at least 3) on every"
                                + " member, then restart the followers one at a time and the leader last; or run"
                                + " zkCleanup.sh (PurgeTxnLog) from cron.");
            }
            if (p.conf == null) {
                continue;
            }
            Long total = dataBytes(p);
            if (total != null && total > options.dataSizeThresholdBytes()) {
                add(
                        FindingCode.DATA_DIR_LARGE,
                        Severity.WARNING,
                        p,
                        p.address + " keeps " + total + " bytes of snapshots and transaction logs" + sizes
                                + ", above the threshold of " + options.dataSizeThresholdBytes() + " bytes.",
                        "Check that autopurge runs (autopurge.purgeInterval > 0 in zoo.cfg; its log says"
                                + " 'Purge task started') or purge with zkCleanup.sh; put dataLogDir on its own disk"
                                + " and watch its free space: a full log disk stops the member.");
            }
        }
    }

    private static String dataSizes(MemberProbe p) {
        Map<String, String> s = p.conf.settings();
        if (s.get("dataDirSize") == null) {
            return "";
        }
        String text = " (dataDir " + s.get("dataDir") + " holds " + s.get("dataDirSize") + " bytes";
        if (s.get("dataLogDir") != null && !s.get("dataLogDir").equals(s.get("dataDir"))) {
            text += ", dataLogDir " + s.get("dataLogDir") + " holds " + s.get("dataLogSize") + " bytes";
        }
        return text + ")";
    }

    private static Long dataBytes(MemberProbe p) {
        Map<String, String> s = p.conf.settings();
        Long data = WordParsers.parseLong(s.get("dataDirSize"));
        Long log = WordParsers.parseLong(s.get("dataLogSize"));
        if (data == null) {
            return null;
        }
        // dataLogDir defaults to dataDir; then both sizes measure the same directory.
        boolean sameDir = s.get("dataLogDir") == null || s.get("dataLogDir").equals(s.get("dataDir"));
        return sameDir || log == null ? data : data + log;
    }

    private void versions() {
        Map<String, List<MemberProbe>> byVersion = new TreeMap<>();
        for (MemberProbe p : members) {
            if (p.srvr != null && p.srvr.version() != null) {
                byVersion
                        .computeIfAbsent(shortVersion(p.srvr.version()), k -> new ArrayList<>())
                        .add(p);
            }
        }
        if (byVersion.size() > 1) {
            add(
                    FindingCode.VERSION_MISMATCH,
                    Severity.INFO,
                    null,
                    "Members run different ZooKeeper versions: "
                            + byVersion.entrySet().stream()
                                    .map(e -> e.getKey() + " on " + names(e.getValue()))
                                    .collect(Collectors.joining("; "))
                            + ".",
                    "Fine during a rolling upgrade; otherwise finish it, one member at a time, leader last.");
        }
    }

    private static String shortVersion(String version) {
        int cut = version.length();
        for (char c : new char[] {'-', ','}) {
            int i = version.indexOf(c);
            if (i > 0) {
                cut = Math.min(cut, i);
            }
        }
        return version.substring(0, cut).trim();
    }

    // ---------------------------------------------------------------- helpers

    private static String state(MemberProbe p) {
        if (p.tlsMismatch) {
            return "not probed (" + p.problem + ")";
        }
        if (p.refused) {
            return "refuses connections from this address";
        }
        if (!p.reachable || p.stalled) {
            return "unreachable (" + p.problem + ")";
        }
        if (p.notServing) {
            return "not serving";
        }
        return p.mode() == null ? "state unknown" : p.mode();
    }

    private static String idAndZxid(MemberProbe p) {
        List<String> parts = new ArrayList<>();
        if (p.serverId() != null) {
            parts.add("myid " + p.serverId());
        }
        if (p.srvr.zxid() != null) {
            parts.add("zxid 0x" + Long.toHexString(p.srvr.zxid()));
        }
        if (p.conf != null && !p.conf.members().isEmpty()) {
            parts.add(p.conf.members().size() + " servers in its list");
        }
        return String.join(", ", parts);
    }

    private static String names(List<MemberProbe> probes) {
        return probes.stream().map(p -> p.address.toString()).collect(Collectors.joining(", "));
    }

    private static String fmt(double millis) {
        return millis == Math.rint(millis) ? String.valueOf((long) millis) : String.valueOf(millis);
    }

    private void add(FindingCode code, Severity severity, MemberProbe probe, String evidence, String remedy) {
        findings.add(new Finding(code, severity, probe == null ? null : probe.address.toString(), evidence, remedy));
    }
}
