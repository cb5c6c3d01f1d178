package dev.zksdk.samples;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The ensemble a soak runs against, and what the soak may do to its servers. The soak's own network faults (proxy
 * freezes, cut connections) and forced expiries need nothing from it but the connect string; the server faults need a
 * handle on the servers: the soak's own separate-process ensemble ({@link ProcessSoakServers}, zk-sdk-test's
 * {@code ProcessEnsemble}) can {@code kill -9}, SIGSTOP and SIGCONT real processes and slow one member's quorum link,
 * and an ensemble given with {@code --connect} allows none.
 *
 * <p>Members are numbered from 0 in connect-string order. Implementations are called from one fault at a time per
 * member and must be thread-safe across members.
 */
interface SoakServers extends AutoCloseable {

    /** What the servers allow. */
    enum Capability {
        /** Kill a member and start it again on the same ports and data. */
        KILL,
        /** Stop a member's process without killing it (SIGSTOP) and let it go on (SIGCONT). */
        PAUSE,
        /** Slow one follower's link to the leader, so that it serves reads behind the others. */
        SLOW_QUORUM_LINK,
        /**
         * Remove a member from the ensemble's configuration and add it back (dynamic reconfiguration); the soak's
         * pools then keep their connect string instead of following the configuration.
         */
        RECONFIG
    }

    /** What the report calls this ensemble: {@code processes} or {@code external}. */
    String kind();

    /** How a kill is done, for the timeline: {@code kill -9}. */
    default String killStyle() {
        return "kill";
    }

    /** Every member's client address, comma-separated, in member order. */
    String connectString();

    /** Every member's client address ({@code host:port}), in member order. */
    List<String> members();

    List<Capability> capabilities();

    /** The member that leads now, if one does and the servers can tell. */
    Optional<Integer> leader();

    /** Kills member {@code index}; only with {@link Capability#KILL}. */
    default void kill(int index) throws Exception {
        throw new UnsupportedOperationException(kind() + " servers cannot be killed");
    }

    /** Starts a killed member again and waits up to {@code timeout} for it to serve. */
    default void restart(int index, Duration timeout) throws Exception {
        throw new UnsupportedOperationException(kind() + " servers cannot be restarted");
    }

    /** Stops member {@code index} with SIGSTOP; only with {@link Capability#PAUSE}. */
    default void pause(int index) throws Exception {
        throw new UnsupportedOperationException(kind() + " servers cannot be paused");
    }

    /** Lets a paused member go on (SIGCONT). */
    default void resume(int index) throws Exception {
        throw new UnsupportedOperationException(kind() + " servers cannot be resumed");
    }

    /** The member whose quorum link {@link #slowQuorumLink} slows; only with {@link Capability#SLOW_QUORUM_LINK}. */
    default Optional<Integer> laggingMember() {
        return Optional.empty();
    }

    /** Holds back the lagging member's quorum traffic for about {@code oneWay} each way; zero lifts it. */
    default void slowQuorumLink(Duration oneWay) throws Exception {
        throw new UnsupportedOperationException(kind() + " servers have no quorum link to slow");
    }

    /**
     * Removes member {@code index} from the ensemble's configuration, through the other members, and returns once the
     * removal committed; the member keeps running. Only with {@link Capability#RECONFIG}.
     *
     * @return the configuration's version after the removal, for the timeline
     */
    default String removeMember(int index, Duration timeout) throws Exception {
        throw new UnsupportedOperationException(kind() + " servers cannot be reconfigured");
    }

    /**
     * Adds member {@code index} back with its original addresses and returns once the addition committed and the
     * member serves again as part of the ensemble.
     *
     * @return the configuration's version after the addition, for the timeline
     */
    default String addMember(int index, Duration timeout) throws Exception {
        throw new UnsupportedOperationException(kind() + " servers cannot be reconfigured");
    }

    /** Each member with its mode, for messages. */
    String describe();

    @Override
    void close() throws Exception;

    /** An ensemble the soak does not run ({@code --connect}): network faults and expiries only. */
    static SoakServers external(String connectString, List<String> members) {
        return new SoakServers() {
            @Override
            public String kind() {
                return "external";
            }

            @Override
            public String connectString() {
                return connectString;
            }

            @Override
            public List<String> members() {
                return members;
            }

            @Override
            public List<Capability> capabilities() {
                return List.of();
            }

            @Override
            public Optional<Integer> leader() {
                return Optional.empty();
            }

            @Override
            public String describe() {
                return connectString;
            }

            @Override
            public void close() {}
        };
    }
}
