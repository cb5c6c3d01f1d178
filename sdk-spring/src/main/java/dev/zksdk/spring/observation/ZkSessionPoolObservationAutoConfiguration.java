package dev.zksdk.spring.observation;

import dev.zksdk.metrics.MetricsTrackerFactory;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.metrics.micrometer.OperationObservationConvention;
import dev.zksdk.spring.metrics.ZkSessionPoolMetricsAutoConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Makes every lease operation of the auto-configured pool a Micrometer {@code Observation} of the application's
 * {@link ObservationRegistry}: a span with a tracing bridge (its parent is the observation current on the calling
 * thread, for asynchronous calls too) and the {@code zksdk.operations} timer, which Spring Boot's
 * {@code DefaultMeterObservationHandler} then records (with {@code zksdk.operations.active}) instead of the metrics
 * binding, so it is never counted twice.
 *
 * <p>Provides the pool's {@link MicrometerMetricsTrackerFactory}, with the {@link MeterRegistry} and the
 * {@link ObservationRegistry}, in place of the one of {@link ZkSessionPoolMetricsAutoConfiguration}. Active when both
 * registries are beans, metrics are enabled ({@code zksdk.metrics.enabled}) and {@code zksdk.observation.enabled} is
 * true (off by default); an {@link OperationObservationConvention} bean renames or re-tags the observations; an application's own
 * {@link MetricsTrackerFactory} bean replaces it. Spring Boot's {@code management.observations.enable.zksdk=false}
 * switches the observations off in the registry (the timer then goes with them).
 */
@AutoConfiguration(
        before = ZkSessionPoolMetricsAutoConfiguration.class,
        afterName = {
            "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"
        })
@ConditionalOnClass({MeterRegistry.class, ObservationRegistry.class, MicrometerMetricsTrackerFactory.class})
@ConditionalOnBean({MeterRegistry.class, ObservationRegistry.class})
@ConditionalOnBooleanProperty(name = "zksdk.metrics.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "zksdk.observation.enabled")
public class ZkSessionPoolObservationAutoConfiguration {

    /**
     * The pool's metrics binding, observing every lease operation with the application's observation registry.
     *
     * @param meters the application's meter registry
     * @param observations the application's observation registry
     * @param convention the one {@link OperationObservationConvention} bean, if there is exactly one
     * @return the factory the pool records through
     */
    @Bean
    @ConditionalOnMissingBean(MetricsTrackerFactory.class)
    public MicrometerMetricsTrackerFactory zkSessionPoolObservingMetricsTrackerFactory(
            MeterRegistry meters,
            ObservationRegistry observations,
            ObjectProvider<OperationObservationConvention> convention) {
        return new MicrometerMetricsTrackerFactory(meters, observations)
                .withObservationConvention(convention.getIfUnique());
    }
}
