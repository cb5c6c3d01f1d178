package dev.zksdk.spring.health;

import dev.zksdk.ZkSessionPool;
import dev.zksdk.spring.ZkSessionPoolAutoConfiguration;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.CompositeHealthContributorConfiguration;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Contributes {@code zksdk} to Actuator's health: one {@link ZkSessionPoolHealthIndicator} per {@link ZkSessionPool}
 * bean (a composite when there are several); with {@code zksdk.connect-on-startup}, a pool that has not connected yet
 * is DOWN rather than UNKNOWN. Active when Spring Boot's health support is on the class path; switched
 * off with {@code management.health.zksdk.enabled=false}. An application's own {@code zksdkHealthIndicator} or
 * {@code zksdkHealthContributor} bean replaces it.
 */
@AutoConfiguration(after = ZkSessionPoolAutoConfiguration.class)
@ConditionalOnClass({HealthIndicator.class, ZkSessionPool.class})
public class ZkSessionPoolHealthAutoConfiguration {

    /**
     * Nested so that its health-module conditions are only looked at once the health module is known to be present.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBean(ZkSessionPool.class)
    @ConditionalOnEnabledHealthIndicator("zksdk")
    static class ZkSessionPoolHealthContributorConfiguration
            extends CompositeHealthContributorConfiguration<ZkSessionPoolHealthIndicator, ZkSessionPool> {

        ZkSessionPoolHealthContributorConfiguration(Environment environment) {
            super(pool -> new ZkSessionPoolHealthIndicator(
                    pool, environment.getProperty("zksdk.connect-on-startup", Boolean.class, false)));
        }

        @Bean
        @ConditionalOnMissingBean(name = {"zksdkHealthIndicator", "zksdkHealthContributor"})
        HealthContributor zksdkHealthContributor(ConfigurableListableBeanFactory beanFactory) {
            return createContributor(beanFactory, ZkSessionPool.class);
        }
    }
}
