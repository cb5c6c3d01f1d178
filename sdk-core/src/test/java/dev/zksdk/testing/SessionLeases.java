package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.metrics.SessionStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * One held lease on each session of a pool, for tests that need every session at work. A lease goes to a connected
 * session (the one with the fewest leases), never to one still connecting, so leases taken the moment a pool starts
 * may share the sessions that connected first: the first lease starts the sessions, then every session is awaited
 * connected before the others are taken.
 */
public final class SessionLeases {

    private static final Duration ALL_CONNECTED = Duration.ofSeconds(30);

    private SessionLeases() {}

    /**
     * {@code sessions} held leases on distinct sessions of {@code pool}'s (first) ensemble.
     *
     * @param pool a pool with {@code sessionsPerEnsemble(sessions)}
     * @param sessions how many sessions it has
     * @return the leases, one per session, to be closed by the caller
     */
    public static List<ZkLease> oneOnEachSession(ZkSessionPool pool, int sessions) {
        return oneOnEachSession(pool::lease, () -> connected(pool) >= sessions, sessions);
    }

    /**
     * {@code sessions} held leases on distinct sessions, taken from {@code lease} once {@code allConnected} holds.
     *
     * @param lease takes a lease of the ensemble
     * @param allConnected true once every session of the ensemble is connected
     * @param sessions how many sessions the ensemble has
     * @return the leases, one per session, to be closed by the caller
     */
    public static List<ZkLease> oneOnEachSession(Supplier<ZkLease> lease, BooleanSupplier allConnected, int sessions) {
        List<ZkLease> leases = new ArrayList<>();
        leases.add(lease.get());
        await().atMost(ALL_CONNECTED).until(allConnected::getAsBoolean);
        for (int i = 1; i < sessions; i++) {
            leases.add(lease.get());
        }
        assertThat(leases.stream().map(ZkLease::sessionId).distinct().count())
                .as("held leases on distinct sessions (each new lease goes to the connected session with the fewest)")
                .isEqualTo(sessions);
        return leases;
    }

    /** The most sessions connected now in any one ensemble of {@code pool}. */
    public static long connected(ZkSessionPool pool) {
        return pool.ensembles().stream()
                .mapToLong(e ->
                        e.sessions().stream().filter(SessionStatus::connected).count())
                .max()
                .orElse(0);
    }
}
