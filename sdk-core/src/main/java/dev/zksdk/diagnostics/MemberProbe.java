package dev.zksdk.diagnostics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What was learnt about one member while probing it; confined to the probing thread, then frozen into a ServerReport. */
final class MemberProbe {
    final HostAndPort address;
    final boolean inConnectString;
    final Map<String, String> answers = new LinkedHashMap<>();
    final Set<String> notWhitelisted = new LinkedHashSet<>();
    final Set<String> answeredByAdmin = new LinkedHashSet<>();
    final List<String> closedWithoutAnswer = new ArrayList<>();

    boolean reachable;
    /** Why the member could not be probed (fully); null when it answered everything it was asked. */
    String problem;
    /** The member accepted TCP connections but closed them without a word: it refuses this client address. */
    boolean refused;
    /** The port speaks TLS and was probed in plain text, or the other way round; {@link #problem} says which. */
    boolean tlsMismatch;
    /** The mismatch is TLS on both sides, but no protocol or cipher suite the probe offered is one the port accepts. */
    boolean tlsParametersRefused;
    /** A request timed out after the connection was accepted. */
    boolean stalled;

    boolean notServing;
    WordParsers.Srvr srvr;
    Map<String, String> mntr;
    WordParsers.Conf conf;
    List<WordParsers.Connection> cons;
    WordParsers.Watches watches;
    /** Why the AdminServer could not help; null when it was not needed or answered. */
    String adminProblem;

    Integer autopurgeIntervalHours;
    Integer autopurgeSnapRetainCount;
    /** Where autopurge settings were read from; null when the member does not expose them. */
    String autopurgeSource;

    long elapsedMillis;

    MemberProbe(HostAndPort address, boolean inConnectString) {
        this.address = address;
        this.inConnectString = inConnectString;
    }

    String mode() {
        return srvr == null ? null : srvr.mode();
    }

    boolean serving() {
        return reachable && !notServing && mode() != null;
    }

    Long serverId() {
        if (conf == null) {
            return null;
        }
        return WordParsers.parseLong(conf.settings().get("serverId"));
    }
}
