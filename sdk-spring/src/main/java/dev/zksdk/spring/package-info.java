/**
 * Spring Boot auto-configuration for zk-sdk: {@link dev.zksdk.spring.ZkSessionPoolAutoConfiguration} (the pool, from
 * {@link dev.zksdk.spring.ZkSdkProperties}, {@code zksdk.*}), Micrometer metrics
 * ({@link dev.zksdk.spring.metrics.ZkSessionPoolMetricsAutoConfiguration}) and the Actuator health indicator
 * ({@link dev.zksdk.spring.health.ZkSessionPoolHealthAutoConfiguration}), each in its own auto-configuration behind
 * its class and its {@code enabled} switch.
 */
package dev.zksdk.spring;
