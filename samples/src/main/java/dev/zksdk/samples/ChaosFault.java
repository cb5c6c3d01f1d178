package dev.zksdk.samples;

import java.util.Arrays;
import java.util.List;

/** The faults the soak picks from, with what each needs and which category it belongs to. */
enum ChaosFault {
    /** Kill the member that leads, restart it a little later. */
    KILL_LEADER("kill-leader", Category.SERVER, SoakServers.Capability.KILL),
    /** Kill a member that follows, restart it a little later. */
    KILL_FOLLOWER("kill-follower", Category.SERVER, SoakServers.Capability.KILL),
    /**
     * Remove the leader from the ensemble's configuration (dynamic reconfiguration) and add it back with its own
     * addresses after a random hold; it keeps running meanwhile and rejoins once added.
     */
    RECONFIG_LEADER("reconfig-remove-leader", Category.SERVER, SoakServers.Capability.RECONFIG),
    /** Remove a follower from the ensemble's configuration and add it back after a random hold. */
    RECONFIG_FOLLOWER("reconfig-remove-follower", Category.SERVER, SoakServers.Capability.RECONFIG),
    /** SIGSTOP the leader, SIGCONT it after less or more than the session timeout. */
    PAUSE_LEADER("sigstop-leader", Category.SERVER, SoakServers.Capability.PAUSE),
    /** SIGSTOP a follower, SIGCONT it after less or more than the session timeout. */
    PAUSE_FOLLOWER("sigstop-follower", Category.SERVER, SoakServers.Capability.PAUSE),
    /**
     * Freeze the proxy in front of one member for less than the client's read timeout (two thirds of the session
     * timeout), between it and the session timeout, or longer than the session timeout: its clients move to another
     * member after the read timeout, keeping their sessions.
     */
    FREEZE_ONE("freeze-one-proxy", Category.NETWORK, null),
    /** Freeze every proxy for less than the session timeout: the sessions should survive. */
    FREEZE_SHORT("freeze-below-timeout", Category.NETWORK, null),
    /** Freeze every proxy for longer than the session timeout: the sessions expire. */
    FREEZE_LONG("freeze-above-timeout", Category.NETWORK, null),
    /** Close every client connection at the proxies. */
    CUT_CONNECTIONS("cut-connections", Category.NETWORK, null),
    /** Expire one session of one pool on the server. */
    EXPIRE_SESSION("expire-session", Category.SESSION, null),
    /** Slow one follower's quorum link: it stays in the quorum, behind the others, and serves stale reads. */
    SLOW_QUORUM_LINK("slow-quorum-link", Category.QUORUM_LINK, SoakServers.Capability.SLOW_QUORUM_LINK);

    /** Faults of different categories may overlap; two of one category never do. */
    enum Category {
        SERVER,
        NETWORK,
        SESSION,
        QUORUM_LINK
    }

    private final String title;
    private final Category category;
    private final SoakServers.Capability needs;

    ChaosFault(String title, Category category, SoakServers.Capability needs) {
        this.title = title;
        this.category = category;
        this.needs = needs;
    }

    String title() {
        return title;
    }

    Category category() {
        return category;
    }

    /** The faults these servers allow. */
    static List<ChaosFault> possibleWith(List<SoakServers.Capability> capabilities) {
        return Arrays.stream(values())
                .filter(f -> f.needs == null || capabilities.contains(f.needs))
                .toList();
    }
}
