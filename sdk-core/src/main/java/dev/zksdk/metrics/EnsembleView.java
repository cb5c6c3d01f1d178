package dev.zksdk.metrics;

import dev.zksdk.hosts.HostOrderingStats;
import java.time.Duration;
import java.util.List;

/**
 * One ensemble of a pool, as a {@link MetricsTracker} sees it: live values, read when a meter is read. Handed to
 * {@link MetricsTracker#ensembleStarted(EnsembleView)} once, when the ensemble's sessions start (its first lease).
 *
 * <p>Thread-safe; no method blocks on the network. Nothing here exposes credentials.
 */
public interface EnsembleView {

    /**
     * The {@code ensemble} tag: the ensemble's alias ({@link dev.zksdk.EnsembleConfig#alias()}; by default derived from
     * its servers). Ensembles of one pool with the same alias (the same servers, differing only in chroot, timeouts or
     * credentials, when no alias is set) share it; a binding sums their values.
     *
     * @return the ensemble's alias
     */
    String name();

    /**
     * The connect string, chroot included (never credentials).
     *
     * @return the connect string
     */
    String connectString();

    /**
     * The servers, {@code host:port}, in use now: as configured, or as changed at runtime or by a membership change.
     *
     * @return the servers in use, {@code host:port}
     */
    List<String> servers();

    /**
     * The session timeout the pool asks for.
     *
     * @return the requested session timeout
     */
    Duration requestedSessionTimeout();

    /**
     * A snapshot of the ensemble's sessions.
     *
     * @return the status at this moment
     */
    EnsembleStatus status();

    /**
     * A snapshot of the ensemble's operation pipeline: breaker, in-flight limit and retries.
     *
     * @return the pipeline's state at this moment
     */
    PipelineStatus pipeline();

    /**
     * A snapshot of the ensemble's host selection: connect attempts and failures, quarantined servers (process-wide:
     * a server quarantined by any pool), sessions per server; null when this view cannot tell.
     *
     * @return the host selection's statistics, or null
     */
    default HostOrderingStats hosts() {
        return null;
    }
}
