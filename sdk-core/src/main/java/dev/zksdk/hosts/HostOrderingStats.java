package dev.zksdk.hosts;

import java.time.Duration;
import java.util.Map;

/**
 * A snapshot of where one pool's sessions are, for {@code PoolStats} and metrics. Keys are canonical
 * {@code host:port} as written in the connect string; maps are unmodifiable and sorted by key.
 *
 * @param sessionsPerServer sessions of the pool holding a connection slot on each server (connected or
 *     connecting), i.e. the pool's share of the {@link ConnectionBudget}
 * @param connectionsPerServer sessions of the pool currently connected to each server
 * @param quarantined servers skipped after failing to connect, with the quarantine time left
 * @param connectAttempts servers handed to ZooKeeper to connect to, since the spread was created
 * @param connectFailures attempts that ended without a connection, plus servers reported as failed, plus names
 *     that did not resolve
 * @param resolveFailures servers whose name did not resolve when a session was about to connect to them (each is
 *     quarantined as a failed server and another tried; counted in {@code connectFailures} too)
 * @param hungDrops connections dropped, their session kept, because the server sent nothing at all while requests
 *     waited for the hung-server bound ({@link WeightedHostProvider#leaveHungServer()}; each server left so is
 *     quarantined and counted in {@code connectFailures} too)
 * @param rebalanceMoves sessions moved, their id kept, by the rebalancing after failover (or back into the client's
 *     zone)
 * @param fallbackSessions sessions of the pool connected now to a server outside the {@link HostsConfig#clientZone()
 *     client's zone} (0 without a client zone)
 */
public record HostOrderingStats(
        Map<String, Integer> sessionsPerServer,
        Map<String, Integer> connectionsPerServer,
        Map<String, Duration> quarantined,
        long connectAttempts,
        long connectFailures,
        long resolveFailures,
        long hungDrops,
        long rebalanceMoves,
        long fallbackSessions) {

    /**
     * A snapshot without rebalancing moves and fallback sessions (the form before they were reported).
     *
     * @param sessionsPerServer see the record's description
     * @param connectionsPerServer see the record's description
     * @param quarantined see the record's description
     * @param connectAttempts see the record's description
     * @param connectFailures see the record's description
     * @param resolveFailures see the record's description
     * @param hungDrops see the record's description
     */
    public HostOrderingStats(
            Map<String, Integer> sessionsPerServer,
            Map<String, Integer> connectionsPerServer,
            Map<String, Duration> quarantined,
            long connectAttempts,
            long connectFailures,
            long resolveFailures,
            long hungDrops) {
        this(
                sessionsPerServer,
                connectionsPerServer,
                quarantined,
                connectAttempts,
                connectFailures,
                resolveFailures,
                hungDrops,
                0,
                0);
    }

    /**
     * A snapshot without hung-server drops (the form before {@code hungDrops} was reported).
     *
     * @param sessionsPerServer see the record's description
     * @param connectionsPerServer see the record's description
     * @param quarantined see the record's description
     * @param connectAttempts see the record's description
     * @param connectFailures see the record's description
     * @param resolveFailures see the record's description
     */
    public HostOrderingStats(
            Map<String, Integer> sessionsPerServer,
            Map<String, Integer> connectionsPerServer,
            Map<String, Duration> quarantined,
            long connectAttempts,
            long connectFailures,
            long resolveFailures) {
        this(
                sessionsPerServer,
                connectionsPerServer,
                quarantined,
                connectAttempts,
                connectFailures,
                resolveFailures,
                0);
    }

    /**
     * A snapshot without name-resolution failures.
     *
     * @param sessionsPerServer see the record's description
     * @param connectionsPerServer see the record's description
     * @param quarantined see the record's description
     * @param connectAttempts see the record's description
     * @param connectFailures see the record's description
     */
    public HostOrderingStats(
            Map<String, Integer> sessionsPerServer,
            Map<String, Integer> connectionsPerServer,
            Map<String, Duration> quarantined,
            long connectAttempts,
            long connectFailures) {
        this(sessionsPerServer, connectionsPerServer, quarantined, connectAttempts, connectFailures, 0, 0);
    }
}
