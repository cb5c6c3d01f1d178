package dev.zksdk.samples;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The faults the demo injects, in the order it injects them. */
enum Fault {
    /** Kill the server that leads: its clients lose their connection, the others elect a new leader. */
    KILL_LEADER("kill-leader", "kill the leader", true),
    /** Close every client connection between the pool and the servers; the servers keep the sessions. */
    DROP_CONNECTION("drop-connection", "drop the connection", false),
    /** Expire the session that holds the registration and the watch, on the server side. */
    EXPIRE_SESSION("expire-session", "force a session expiry", false);

    private final String option;
    private final String title;
    private final boolean needsOwnServers;

    Fault(String option, String title, boolean needsOwnServers) {
        this.option = option;
        this.title = title;
        this.needsOwnServers = needsOwnServers;
    }

    /** The name used on the command line. */
    String option() {
        return option;
    }

    String title() {
        return title;
    }

    /** True when only the embedded ensemble allows it: the demo must own the server processes. */
    boolean needsOwnServers() {
        return needsOwnServers;
    }

    /**
     * The fault named {@code name} on the command line.
     *
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    static Fault of(String name) {
        for (Fault f : values()) {
            if (f.option.equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("--faults has an unknown fault '" + name + "'; known: "
                + Arrays.stream(values()).map(Fault::option).collect(Collectors.joining(", ")) + ", or none");
    }
}
