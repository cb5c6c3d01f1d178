package dev.zksdk.metrics;

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
     * The {@code ensemble} tag: the servers of the connect string, without chroot (see
     * {@link MetricNames#ensembleTag(String)}). Ensembles of one pool that differ only in chroot, timeouts or
     * credentials share it; a binding sums their values.
     */
    String name();

    /** The connect string, chroot included (never credentials). */
    String connectString();

    /** The servers, {@code host:port}, in use now: as configured, or as changed at runtime or by a membership change. */
    List<String> servers();

    /** The session timeout the pool asks for. */
    Duration requestedSessionTimeout();

    /** A snapshot of the ensemble's sessions. */
    EnsembleStatus status();

    /** A snapshot of the ensemble's operation pipeline: breaker, in-flight limit and retries. */
    PipelineStatus pipeline();
}
