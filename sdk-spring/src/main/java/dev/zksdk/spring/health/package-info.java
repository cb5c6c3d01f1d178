/** Actuator health of the session pools; see {@link dev.zksdk.spring.health.ZkSessionPoolHealthAutoConfiguration}. */
package dev.zksdk.spring.health;
