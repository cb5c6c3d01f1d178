package com.example.fresh;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationView;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.stereotype.Component;

/**
 * Records the observations zk-sdk makes (as a tracing handler would turn them into spans) and serves them at
 * /actuator/zkobservations: name, contextual (span) name, key values, parent observation.
 */
@Component
@Endpoint(id = "zkobservations")
public class RecordedObservations implements ObservationHandler<Observation.Context> {

    private final List<Map<String, Object>> stopped = new CopyOnWriteArrayList<>();

    /** Every context: an observation made from a convention has no name until it starts. */
    @Override
    public boolean supportsContext(Observation.Context context) {
        return true;
    }

    @Override
    public void onStop(Observation.Context context) {
        if (context.getName() == null || !context.getName().startsWith("zksdk.")) {
            return;
        }
        Map<String, Object> o = new TreeMap<>();
        o.put("name", context.getName());
        o.put("contextualName", String.valueOf(context.getContextualName()));
        Map<String, String> low = new TreeMap<>();
        context.getLowCardinalityKeyValues().forEach(kv -> low.put(kv.getKey(), kv.getValue()));
        o.put("lowCardinality", low);
        Map<String, String> high = new TreeMap<>();
        context.getHighCardinalityKeyValues().forEach(kv -> high.put(kv.getKey(), kv.getValue()));
        o.put("highCardinality", high);
        ObservationView parent = context.getParentObservation();
        o.put("parent", parent == null ? "" : parent.getContextView().getName());
        stopped.add(o);
    }

    @ReadOperation
    public List<Map<String, Object>> observations() {
        return stopped;
    }
}
