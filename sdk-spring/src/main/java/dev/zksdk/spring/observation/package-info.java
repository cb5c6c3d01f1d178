/**
 * Lease operations as Micrometer observations (spans and the operations timer) in a Spring Boot application:
 * {@link dev.zksdk.spring.observation.ZkSessionPoolObservationAutoConfiguration}.
 */
package dev.zksdk.spring.observation;
