package dev.zksdk.spring;

import dev.zksdk.ZkSessionPool;
import dev.zksdk.metrics.MetricsTrackerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures one {@link ZkSessionPool} from the {@code zksdk.*} properties ({@link ZkSdkProperties}), unless the
 * application defines its own. Building opens nothing: sessions start on the first lease. The pool is closed with the
 * context; before that, {@link EphemeralDeregistration} deletes its ephemerals when the context stops.
 *
 * <p>Applied, in order: the properties, a {@link MetricsTrackerFactory} bean if there is one (the metrics
 * auto-configuration provides a Micrometer one), then every {@link ZkSessionPoolCustomizer}. Switched off with
 * {@code zksdk.enabled=false}.
 */
@AutoConfiguration
@ConditionalOnClass(ZkSessionPool.class)
@ConditionalOnProperty(prefix = "zksdk", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(ZkSdkProperties.class)
public class ZkSessionPoolAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public ZkSessionPool zkSessionPool(
            ZkSdkProperties properties,
            ObjectProvider<MetricsTrackerFactory> metrics,
            ObjectProvider<ZkSessionPoolCustomizer> customizers) {
        ZkSessionPool.Builder builder = ZkSdkPropertiesMapper.apply(properties, ZkSessionPool.builder());
        metrics.ifAvailable(builder::metricsTrackerFactory);
        customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
        return builder.build();
    }

    @Bean
    @ConditionalOnMissingBean
    public EphemeralDeregistration zkSessionPoolEphemeralDeregistration(ObjectProvider<ZkSessionPool> pools) {
        return new EphemeralDeregistration(pools);
    }
}
