/** JMH benchmarks of the pool against real ZooKeeper servers, the profiles that run them, and their counters. */
package dev.zksdk.benchmarks;
