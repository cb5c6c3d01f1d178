package dev.zksdk.metrics.micrometer;

import io.micrometer.observation.Observation;

/**
 * The {@link Observation.Context} of one lease operation: what an {@link OperationObservationConvention} reads to name
 * it and give its key values. Made on the calling thread when the operation starts; {@link #outcome()} is set when it
 * ends, just before the observation stops.
 */
public class OperationObservationContext extends Observation.Context {

    private final String pool;
    private final String ensemble;
    private final String operation;
    private final String path;
    private volatile String outcome;

    /**
     * @param pool the pool's name
     * @param ensemble the ensemble's alias
     * @param operation {@code getData}, {@code create}, ...
     * @param path the node's path (relative to the chroot)
     */
    public OperationObservationContext(String pool, String ensemble, String operation, String path) {
        this.pool = pool;
        this.ensemble = ensemble;
        this.operation = operation;
        this.path = path;
    }

    /**
     * The pool's name ({@code pool} key value).
     *
     * @return the pool's name
     */
    public String pool() {
        return pool;
    }

    /**
     * The ensemble's alias ({@code ensemble} key value).
     *
     * @return the ensemble's alias
     */
    public String ensemble() {
        return ensemble;
    }

    /**
     * The operation: {@code getData}, {@code exists}, {@code create}, ... ({@code operation} key value).
     *
     * @return the operation's name
     */
    public String operation() {
        return operation;
    }

    /**
     * The node's path: high-cardinality, a span attribute only.
     *
     * @return the path, relative to the chroot
     */
    public String path() {
        return path;
    }

    /**
     * {@code success} or what failed the operation ({@link dev.zksdk.metrics.MetricNames#outcome(Throwable)}); null
     * until it ended.
     *
     * @return the outcome, or null while the operation runs
     */
    public String outcome() {
        return outcome;
    }

    void outcome(String outcome) {
        this.outcome = outcome;
    }
}
