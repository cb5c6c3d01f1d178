package dev.zksdk.metrics.micrometer;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * Names a lease operation's {@code Observation} and gives its key values. The default is
 * {@link DefaultOperationObservationConvention}; a custom one is set with
 * {@link MicrometerMetricsTrackerFactory#withObservationConvention(OperationObservationConvention)} (or registered
 * globally on the {@code ObservationRegistry}). Keep paths and other unbounded values out of the low-cardinality key
 * values: they become meter tags.
 */
public interface OperationObservationConvention extends ObservationConvention<OperationObservationContext> {

    @Override
    default boolean supportsContext(Observation.Context context) {
        return context instanceof OperationObservationContext;
    }
}
