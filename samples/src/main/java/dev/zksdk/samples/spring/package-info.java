/** The Spring Boot sample: registers itself, watches a config node, serves Actuator health and metrics. */
package dev.zksdk.samples.spring;
