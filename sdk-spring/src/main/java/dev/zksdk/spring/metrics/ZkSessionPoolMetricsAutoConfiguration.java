package dev.zksdk.spring.metrics;

import dev.zksdk.metrics.MetricsTrackerFactory;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.spring.ZkSessionPoolAutoConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * Publishes the auto-configured pool's meters ({@link dev.zksdk.metrics.MetricNames}, the breaker, bulkhead and retry
 * meters among them) to the application's {@link MeterRegistry}, by
 * providing a {@link MicrometerMetricsTrackerFactory} that {@link ZkSessionPoolAutoConfiguration} hands to the pool.
 *
 * <p>Active when Micrometer is on the class path and a {@link MeterRegistry} bean exists; switched off with
 * {@code zksdk.metrics.enabled=false}. An application's own {@link MetricsTrackerFactory} bean replaces it. With an
 * {@code ObservationRegistry} bean, {@link dev.zksdk.spring.observation.ZkSessionPoolObservationAutoConfiguration}
 * provides the factory instead (operations as observations; the {@code zksdk.operations} timer then comes from the
 * registry's meter handler). {@code zksdk.metrics.ensemble-alias} (mapped with the other properties, so it applies
 * with metrics off too) names the default ensemble in the tags.
 */
@AutoConfiguration(
        before = ZkSessionPoolAutoConfiguration.class,
        afterName = {
            "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"
        })
@ConditionalOnClass({MeterRegistry.class, MicrometerMetricsTrackerFactory.class})
@ConditionalOnBean(MeterRegistry.class)
@ConditionalOnProperty(prefix = "zksdk.metrics", name = "enabled", havingValue = "true", matchIfMissing = true)
public class ZkSessionPoolMetricsAutoConfiguration {

    /**
     * The pool's metrics binding to the application's registry.
     *
     * @param registry the application's meter registry
     * @return the factory the pool records through
     */
    @Bean
    @ConditionalOnMissingBean(MetricsTrackerFactory.class)
    public MicrometerMetricsTrackerFactory zkSessionPoolMetricsTrackerFactory(MeterRegistry registry) {
        return new MicrometerMetricsTrackerFactory(registry);
    }
}
