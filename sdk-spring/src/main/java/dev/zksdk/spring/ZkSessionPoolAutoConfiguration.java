package dev.zksdk.spring;

import dev.zksdk.ZkSessionPool;
import dev.zksdk.cache.CacheConfig;
import dev.zksdk.metrics.MetricsTrackerFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures one {@link ZkSessionPool} from the {@code zksdk.*} properties ({@link ZkSdkProperties}), unless the
 * application defines its own. Building opens nothing: sessions start on the first lease. The pool is closed with the
 * context; before that, {@link EphemeralDeregistration} deletes its ephemerals when the context stops. With
 * {@code zksdk.connect-on-startup}, {@link ZkSessionPoolStartupConnector} connects every pool of the context while it
 * starts, and start-up fails when one does not connect within {@code zksdk.initialization-timeout}.
 *
 * <p>The {@code zksdk.cache.*} properties make a {@link CacheConfig} bean for the pool's caches.
 *
 * <p>TLS material comes from the Spring Boot SSL bundle named by {@code zksdk.ssl.bundle} ({@link SslBundleStores}).
 *
 * <p>Applied, in order: the properties, a {@link MetricsTrackerFactory} bean if there is one (the metrics
 * auto-configuration provides a Micrometer one), then every {@link ZkSessionPoolCustomizer}. Switched off with
 * {@code zksdk.enabled=false}.
 */
@AutoConfiguration(afterName = "org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration")
@ConditionalOnClass(ZkSessionPool.class)
@ConditionalOnProperty(prefix = "zksdk", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(ZkSdkProperties.class)
public class ZkSessionPoolAutoConfiguration {

    /**
     * The pool, built from the properties, the metrics tracker factory and the customizers; opens nothing. Closed with
     * the context.
     *
     * @param properties the {@code zksdk.*} properties
     * @param sslStores the stores of {@code zksdk.ssl.bundle}, when set
     * @param metrics the metrics tracker factory, when there is one
     * @param cacheDefaults the settings of caches made without their own ({@link #zkCacheConfig} or the application's
     *     {@link CacheConfig} bean)
     * @param customizers applied in order, after the properties
     * @return the pool, with no session started yet
     * @throws org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException when a
     *     property's value is refused, naming it
     * @throws ZkSessionPoolConfigurationException when a customizer's setting or a combination of settings is refused
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public ZkSessionPool zkSessionPool(
            ZkSdkProperties properties,
            ObjectProvider<SslBundleStores> sslStores,
            ObjectProvider<MetricsTrackerFactory> metrics,
            ObjectProvider<CacheConfig> cacheDefaults,
            ObjectProvider<ZkSessionPoolCustomizer> customizers) {
        ZkSessionPool.Builder builder =
                ZkSdkPropertiesMapper.apply(properties, ZkSessionPool.builder(), sslStores.getIfAvailable());
        metrics.ifAvailable(builder::metricsTrackerFactory);
        cacheDefaults.ifUnique(builder::cacheDefaults);
        customizers.orderedStream().forEach(customizer -> {
            try {
                customizer.customize(builder);
            } catch (IllegalArgumentException e) {
                throw new ZkSessionPoolConfigurationException(
                        null, "ZkSessionPoolCustomizer " + customizer.getClass().getName() + ": " + e.getMessage(), e);
            }
        });
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            String message = String.valueOf(e.getMessage());
            if (message.startsWith("readsFromObservers ") && properties.getReadsFromObservers() != 0) {
                throw new InvalidConfigurationPropertyValueException(
                        "zksdk.reads-from-observers", properties.getReadsFromObservers(), message);
            }
            if (message.startsWith("observers ") && !properties.getObservers().isEmpty()) {
                throw new InvalidConfigurationPropertyValueException(
                        "zksdk.observers", properties.getObservers(), message);
            }
            if (message.startsWith("aclProvider") && properties.getDefaultAcl() != ZkSdkProperties.DefaultAcl.OPEN) {
                throw new InvalidConfigurationPropertyValueException(
                        "zksdk.default-acl", properties.getDefaultAcl(), message);
            }
            throw new ZkSessionPoolConfigurationException(null, message, e);
        }
    }

    /**
     * The configuration for the pool's caches from the {@code zksdk.cache.*} properties: the pool's cache defaults
     * ({@code lease.cache(path)} and {@code lease.treeCache(path)} use it), also to pass to
     * {@code lease.cache(path, config)}; an application's own {@link CacheConfig} bean replaces it.
     *
     * @param properties the {@code zksdk.*} properties
     * @return the cache configuration
     * @throws org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException when a
     *     {@code zksdk.cache.*} value is refused, naming it
     */
    @Bean
    @ConditionalOnMissingBean
    public CacheConfig zkCacheConfig(ZkSdkProperties properties) {
        return ZkSdkPropertiesMapper.cacheConfig(properties.getCache());
    }

    /**
     * The key and trust stores of the SSL bundle named by {@code zksdk.ssl.bundle}, as files for ZooKeeper; deleted when
     * the context closes, after the pool that depends on them.
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnProperty(prefix = "zksdk.ssl", name = "bundle")
    SslBundleStores zksdkSslBundleStores(ZkSdkProperties properties, ObjectProvider<SslBundles> sslBundles) {
        ZkSdkProperties.Ssl ssl = properties.getSsl();
        if (!ssl.isOn()) {
            return null;
        }
        SslBundles bundles = sslBundles.getIfAvailable();
        if (bundles == null) {
            throw new InvalidConfigurationPropertyValueException(
                    "zksdk.ssl.bundle",
                    ssl.getBundle(),
                    "Spring Boot's SSL bundles are not available (SslAutoConfiguration is not applied)");
        }
        return SslBundleStores.of(bundles, ssl.getBundle());
    }

    /**
     * Connects every pool while the context starts; only with {@code zksdk.connect-on-startup=true}.
     *
     * @param beanFactory where the context's pools are found
     * @param properties for {@code zksdk.initialization-timeout}
     * @return the connector
     */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnProperty(prefix = "zksdk", name = "connect-on-startup", havingValue = "true")
    public ZkSessionPoolStartupConnector zkSessionPoolStartupConnector(
            ListableBeanFactory beanFactory, ZkSdkProperties properties) {
        return new ZkSessionPoolStartupConnector(beanFactory, properties.getInitializationTimeout());
    }

    /**
     * Deletes every pool's ephemerals when the context stops, before the pools close.
     *
     * @param pools the context's pools
     * @return the lifecycle bean
     */
    @Bean
    @ConditionalOnMissingBean
    public EphemeralDeregistration zkSessionPoolEphemeralDeregistration(ObjectProvider<ZkSessionPool> pools) {
        return new EphemeralDeregistration(pools);
    }
}
