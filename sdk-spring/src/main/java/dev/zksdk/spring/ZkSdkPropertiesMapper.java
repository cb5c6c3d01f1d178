package dev.zksdk.spring;

import dev.zksdk.OperationPolicy;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.hosts.HostsConfig;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

/**
 * Maps {@link ZkSdkProperties} onto the core builders. It validates nothing itself: the core builders do, and a value
 * they reject becomes an {@link InvalidConfigurationPropertyValueException} naming the property (not the builder
 * setting) and the value, with the core's reason. A credential's value is never part of such a message.
 */
final class ZkSdkPropertiesMapper {

    /** Core settings named in combination errors of {@code build()}, and the property each comes from. */
    private static final Map<String, String> COMBINATION_SETTINGS = Map.of(
            "retryMaxBackoff", "zksdk.retry.max-backoff",
            "recoveryRetryMaxBackoff", "zksdk.retry.recovery-max-backoff",
            "breakerMinimumCalls", "zksdk.circuit-breaker.minimum-calls",
            "quarantineMaxBackoff", "zksdk.hosts.quarantine-max-backoff",
            "reconnectJitterCap", "zksdk.hosts.reconnect-jitter-cap");

    private ZkSdkPropertiesMapper() {}

    /**
     * Applies every pool setting of {@code properties} to {@code builder}.
     *
     * @throws InvalidConfigurationPropertyValueException for the first value the core rejects
     */
    static ZkSessionPool.Builder apply(ZkSdkProperties properties, ZkSessionPool.Builder builder) {
        set("zksdk.name", properties.getName(), builder::name);
        set("zksdk.connect-string", properties.getConnectString(), builder::connectString);
        String chroot = properties.getChroot();
        if (chroot != null && !chroot.isEmpty()) {
            if (properties.getConnectString().indexOf('/') >= 0) {
                throw new InvalidConfigurationPropertyValueException(
                        "zksdk.chroot",
                        chroot,
                        "zksdk.connect-string '" + properties.getConnectString()
                                + "' already has a chroot; set it in one place only");
            }
            set("zksdk.chroot", chroot, c -> builder.connectString(properties.getConnectString() + c));
        }
        set("zksdk.session-timeout", properties.getSessionTimeout(), builder::sessionTimeout);
        set("zksdk.connection-timeout", properties.getConnectionTimeout(), builder::connectionTimeout);
        set("zksdk.sessions-per-ensemble", properties.getSessionsPerEnsemble(), builder::sessionsPerEnsemble);
        List<ZkSdkProperties.Auth> auth = properties.getAuth();
        for (int i = 0; i < auth.size(); i++) {
            ZkSdkProperties.Auth a = auth.get(i);
            String property = "zksdk.auth[" + i + "]";
            if (a.getCredentials() == null) {
                throw new InvalidConfigurationPropertyValueException(
                        property + ".credentials", null, "credentials must be set for scheme " + a.getScheme());
            }
            try {
                builder.authorization(a.getScheme(), a.getCredentials().getBytes(StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigurationPropertyValueException(
                        property + ".scheme", a.getScheme(), e.getMessage());
            }
        }
        builder.operationPolicy(operationPolicy(properties));
        builder.hosts(hostsConfig(properties.getHosts()));
        return builder;
    }

    /** The retry, circuit-breaker, bulkhead and operation-timeout properties as an {@link OperationPolicy}. */
    static OperationPolicy operationPolicy(ZkSdkProperties properties) {
        OperationPolicy.Builder b = OperationPolicy.builder();
        set("zksdk.operation-timeout", properties.getOperationTimeout(), b::operationTimeout);
        ZkSdkProperties.Retry retry = properties.getRetry();
        set("zksdk.retry.initial-backoff", retry.getInitialBackoff(), b::retryInitialBackoff);
        set("zksdk.retry.max-backoff", retry.getMaxBackoff(), b::retryMaxBackoff);
        set("zksdk.retry.recovery-initial-backoff", retry.getRecoveryInitialBackoff(), b::recoveryRetryInitialBackoff);
        set("zksdk.retry.recovery-max-backoff", retry.getRecoveryMaxBackoff(), b::recoveryRetryMaxBackoff);
        ZkSdkProperties.CircuitBreaker breaker = properties.getCircuitBreaker();
        set(
                "zksdk.circuit-breaker.failure-rate-threshold",
                breaker.getFailureRateThreshold(),
                b::breakerFailureRateThreshold);
        set("zksdk.circuit-breaker.sliding-window", breaker.getSlidingWindow(), b::breakerSlidingWindow);
        set("zksdk.circuit-breaker.minimum-calls", breaker.getMinimumCalls(), b::breakerMinimumCalls);
        set("zksdk.circuit-breaker.open-duration", breaker.getOpenDuration(), b::breakerOpenDuration);
        set("zksdk.circuit-breaker.half-open-calls", breaker.getHalfOpenCalls(), b::breakerHalfOpenCalls);
        ZkSdkProperties.Bulkhead bulkhead = properties.getBulkhead();
        set("zksdk.bulkhead.max-in-flight", bulkhead.getMaxInFlight(), b::maxInFlight);
        set("zksdk.bulkhead.max-wait", bulkhead.getMaxWait(), b::maxInFlightWait);
        Map<String, Object> values = Map.of(
                "zksdk.retry.max-backoff", retry.getMaxBackoff(),
                "zksdk.retry.recovery-max-backoff", retry.getRecoveryMaxBackoff(),
                "zksdk.circuit-breaker.minimum-calls", breaker.getMinimumCalls());
        return build(b::build, values);
    }

    /** The {@code zksdk.hosts.*} properties as a {@link HostsConfig}. */
    static HostsConfig hostsConfig(ZkSdkProperties.Hosts hosts) {
        HostsConfig.Builder b = HostsConfig.builder();
        if (hosts.getWeights() != null) {
            for (Map.Entry<String, Integer> weight : hosts.getWeights().entrySet()) {
                String property = "zksdk.hosts.weights[" + weight.getKey() + "]";
                if (weight.getValue() == null) {
                    throw new InvalidConfigurationPropertyValueException(property, null, "a weight must be set");
                }
                set(property, weight.getValue(), w -> b.weight(weight.getKey(), w));
            }
        }
        set(
                "zksdk.hosts.per-server-connection-budget",
                hosts.getPerServerConnectionBudget(),
                b::perServerConnectionBudget);
        set("zksdk.hosts.quarantine-initial-backoff", hosts.getQuarantineInitialBackoff(), b::quarantineInitialBackoff);
        set("zksdk.hosts.quarantine-max-backoff", hosts.getQuarantineMaxBackoff(), b::quarantineMaxBackoff);
        set("zksdk.hosts.reconnect-jitter-base", hosts.getReconnectJitterBase(), b::reconnectJitterBase);
        set("zksdk.hosts.reconnect-jitter-cap", hosts.getReconnectJitterCap(), b::reconnectJitterCap);
        set("zksdk.hosts.session-creation-rate", hosts.getSessionCreationRate(), b::sessionCreationRate);
        set("zksdk.hosts.session-creation-max-wait", hosts.getSessionCreationMaxWait(), b::sessionCreationMaxWait);
        set(
                "zksdk.hosts.min-connect-attempt-timeout",
                hosts.getMinConnectAttemptTimeout(),
                b::minConnectAttemptTimeout);
        if (hosts.getConnectAttemptTimeout() != null) {
            set("zksdk.hosts.connect-attempt-timeout", hosts.getConnectAttemptTimeout(), b::connectAttemptTimeout);
        }
        Map<String, Object> values = Map.of(
                "zksdk.hosts.quarantine-max-backoff", hosts.getQuarantineMaxBackoff(),
                "zksdk.hosts.reconnect-jitter-cap", hosts.getReconnectJitterCap());
        return build(b::build, values);
    }

    private static <T> void set(String property, T value, Consumer<T> setter) {
        try {
            setter.accept(value);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigurationPropertyValueException(property, value, e.getMessage());
        }
    }

    /**
     * Runs a core {@code build()}, whose errors concern combinations ("max below min"); the core message starts with
     * the setting it blames, which names the property to report.
     */
    private static <T> T build(Supplier<T> build, Map<String, Object> values) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            String message = String.valueOf(e.getMessage());
            int end = 0;
            while (end < message.length() && Character.isJavaIdentifierPart(message.charAt(end))) {
                end++;
            }
            String property = COMBINATION_SETTINGS.get(message.substring(0, end));
            if (property == null || !values.containsKey(property)) {
                throw new IllegalStateException("invalid zksdk.* properties: " + message, e);
            }
            throw new InvalidConfigurationPropertyValueException(property, values.get(property), message);
        }
    }
}
