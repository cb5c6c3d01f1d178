package dev.zksdk.metrics.micrometer;

import dev.zksdk.metrics.EnsembleView;
import io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetricsPublisher;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetricsPublisher;
import io.github.resilience4j.micrometer.tagged.TaggedRetryMetricsPublisher;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Publishes resilience4j's own meters of an ensemble's breaker, bulkhead and retry (their instance tags, pool and
 * ensemble, are added by resilience4j). Only loaded when resilience4j-micrometer is on the class path.
 */
final class Resilience4jMeters {

  private static final boolean PRESENT = isPresent();

  private final TaggedCircuitBreakerMetricsPublisher breakers;
  private final TaggedBulkheadMetricsPublisher bulkheads;
  private final TaggedRetryMetricsPublisher retries;

  private Resilience4jMeters(MeterRegistry registry) {
    this.breakers = new TaggedCircuitBreakerMetricsPublisher(registry);
    this.bulkheads = new TaggedBulkheadMetricsPublisher(registry);
    this.retries = new TaggedRetryMetricsPublisher(registry);
  }

  /** The publisher for {@code registry}, or null when resilience4j-micrometer is missing. */
  static Resilience4jMeters ifPresent(MeterRegistry registry) {
    return PRESENT ? new Resilience4jMeters(registry) : null;
  }

  private static boolean isPresent() {
    try {
      Class.forName("io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetricsPublisher", false,
          Resilience4jMeters.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  void publish(EnsembleView ensemble) {
    breakers.publishMetrics(ensemble.circuitBreaker());
    bulkheads.publishMetrics(ensemble.bulkhead());
    retries.publishMetrics(ensemble.retry());
  }

  void remove(EnsembleView ensemble) {
    breakers.removeMetrics(ensemble.circuitBreaker());
    bulkheads.removeMetrics(ensemble.bulkhead());
    retries.removeMetrics(ensemble.retry());
  }
}
