package dev.zksdk.metrics.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import brave.Tracing;
import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.ThreadLocalCurrentTraceContext;
import brave.propagation.TraceContext;
import brave.sampler.Sampler;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.InProcessEnsembles;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.brave.bridge.BraveBaggageManager;
import io.micrometer.tracing.brave.bridge.BraveCurrentTraceContext;
import io.micrometer.tracing.brave.bridge.BraveTracer;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Lease operations as spans of a real tracer (Brave, through Micrometer Tracing's bridge, spans kept in memory): the
 * span of a synchronous and of an asynchronous call is a child of the test's own span, current on the calling thread,
 * and carries the low-cardinality tags and the path.
 */
class OperationTracingIT {

    private TestingServer server;
    private Tracing tracing;
    private final List<MutableSpan> spans = new CopyOnWriteArrayList<>();
    private ObservationRegistry observations;
    private ZkSessionPool pool;

    @BeforeEach
    void start() {
        server = InProcessEnsembles.startServer();
        tracing = Tracing.newBuilder()
                .currentTraceContext(ThreadLocalCurrentTraceContext.create())
                .sampler(Sampler.ALWAYS_SAMPLE)
                .addSpanHandler(new SpanHandler() {
                    @Override
                    public boolean end(TraceContext context, MutableSpan span, Cause cause) {
                        spans.add(span);
                        return true;
                    }
                })
                .build();
        Tracer tracer = new BraveTracer(
                tracing.tracer(),
                new BraveCurrentTraceContext(tracing.currentTraceContext()),
                new BraveBaggageManager());
        observations = ObservationRegistry.create();
        observations.observationConfig().observationHandler(new DefaultTracingObservationHandler(tracer));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        observations.observationConfig().observationHandler(new DefaultMeterObservationHandler(meters));
        pool = ZkSessionPool.builder()
                .name("traced")
                .connectString(server.getConnectString())
                .metricsTrackerFactory(
                        new MicrometerMetricsTrackerFactory(meters).withObservationRegistry(observations))
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        pool.close();
        tracing.close();
        server.close();
    }

    @Test
    void synchronousAndAsynchronousOperationsAreChildSpansOfTheCallersSpan() throws Exception {
        try (ZkLease lease = pool.lease()) {
            lease.create("/traced", new byte[] {1}, CreateMode.PERSISTENT);
            spans.clear();

            Observation request = Observation.start("test-request", observations);
            CompletableFuture<byte[]> async;
            try (Observation.Scope scope = request.openScope()) {
                lease.exists("/traced");
                async = lease.getDataAsync("/traced");
            }
            // The span ends before the future completes: it is reported once the future is done, without waiting.
            assertThat(async.get(10, TimeUnit.SECONDS)).containsExactly(1);
            MutableSpan getData = span("zk getData");
            request.stop();

            MutableSpan parent = span("test-request");
            MutableSpan exists = span("zk exists");
            for (MutableSpan child : List.of(exists, getData)) {
                assertThat(child.traceId()).isEqualTo(parent.traceId());
                assertThat(child.parentId()).as(child.name()).isEqualTo(parent.id());
                assertThat(child.tags())
                        .containsEntry("pool", "traced")
                        .containsEntry("ensemble", server.getConnectString())
                        .containsEntry("outcome", "success")
                        .containsEntry("path", "/traced");
            }
            assertThat(exists.tags()).containsEntry("operation", "exists");
            assertThat(getData.tags()).containsEntry("operation", "getData");
            assertThat(getData.finishTimestamp()).isLessThanOrEqualTo(parent.finishTimestamp());
        }
    }

    /** An operation outside any span is a root span of its own trace. */
    @Test
    void anOperationWithoutACallerSpanIsARootSpan() {
        try (ZkLease lease = pool.lease()) {
            spans.clear();
            lease.exists("/");
        }
        MutableSpan exists = span("zk exists");
        assertThat(exists.parentId()).isNull();
    }

    private MutableSpan span(String name) {
        return spans.stream()
                .filter(s -> name.equals(s.name()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no span " + name + " among " + spans));
    }
}
