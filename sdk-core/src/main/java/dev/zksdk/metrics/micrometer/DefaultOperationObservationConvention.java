package dev.zksdk.metrics.micrometer;

import dev.zksdk.metrics.MetricNames;
import io.micrometer.common.KeyValues;

/**
 * The default convention of a lease operation's observation: named {@value MetricNames#OPERATIONS} (so the timer of
 * {@code DefaultMeterObservationHandler} is the {@code zksdk.operations} timer), contextual name (the span's name)
 * {@code "zk <operation>"}; low-cardinality key values {@code pool}, {@code ensemble} (the alias), {@code operation}
 * and, once it ended, {@code outcome}; the high-cardinality key value {@code path}.
 */
public class DefaultOperationObservationConvention implements OperationObservationConvention {

    /** The instance the binding uses when no other convention is set. */
    public static final DefaultOperationObservationConvention INSTANCE = new DefaultOperationObservationConvention();

    @Override
    public String getName() {
        return MetricNames.OPERATIONS;
    }

    @Override
    public String getContextualName(OperationObservationContext context) {
        return "zk " + context.operation();
    }

    @Override
    public KeyValues getLowCardinalityKeyValues(OperationObservationContext context) {
        KeyValues values = KeyValues.of(
                MetricNames.TAG_POOL, context.pool(),
                MetricNames.TAG_ENSEMBLE, context.ensemble(),
                MetricNames.TAG_OPERATION, context.operation());
        // Known only at the end: the long task timer of the operations in flight is tagged without it.
        return context.outcome() == null ? values : values.and(MetricNames.TAG_OUTCOME, context.outcome());
    }

    @Override
    public KeyValues getHighCardinalityKeyValues(OperationObservationContext context) {
        return context.path() == null ? KeyValues.empty() : KeyValues.of(MetricNames.KEY_PATH, context.path());
    }
}
