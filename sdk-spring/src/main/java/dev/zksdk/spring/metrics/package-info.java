/**
 * Micrometer metrics of the auto-configured pool; see
 * {@link dev.zksdk.spring.metrics.ZkSessionPoolMetricsAutoConfiguration}.
 */
package dev.zksdk.spring.metrics;
