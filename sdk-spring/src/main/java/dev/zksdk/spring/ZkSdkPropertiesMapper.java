package dev.zksdk.spring;

import dev.zksdk.OperationPolicy;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.cache.CacheConfig;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.security.SaslConfig;
import dev.zksdk.security.TlsConfig;
import dev.zksdk.security.ZkAcls;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.curator.framework.api.ACLProvider;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.context.properties.source.MutuallyExclusiveConfigurationPropertiesException;

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
            "breakerMinimumCalls", "zksdk.circuit-breaker.minimum-number-of-calls",
            "quarantineMaxBackoff", "zksdk.hosts.quarantine-max-backoff",
            "reconnectJitterCap", "zksdk.hosts.reconnect-jitter-cap",
            "clientZone", "zksdk.hosts.client-zone");

    private ZkSdkPropertiesMapper() {}

    /**
     * Applies every pool setting of {@code properties} to {@code builder}.
     *
     * @param sslStores the files of the SSL bundle named by {@code zksdk.ssl.bundle}, or null when none is named
     * @throws InvalidConfigurationPropertyValueException for the first value the core rejects
     */
    static ZkSessionPool.Builder apply(
            ZkSdkProperties properties, ZkSessionPool.Builder builder, SslBundleStores sslStores) {
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
        set("zksdk.close-timeout", properties.getCloseTimeout(), builder::closeTimeout);
        if (properties.getObservers() != null && !properties.getObservers().isEmpty()) {
            set("zksdk.observers", properties.getObservers(), o -> builder.observers(o.toArray(String[]::new)));
        }
        if (properties.getReadsFromObservers() != 0) {
            set("zksdk.reads-from-observers", properties.getReadsFromObservers(), builder::readsFromObservers);
        }
        builder.canBeReadOnly(properties.isCanBeReadOnly());
        // The alias names the ensemble in meters, observations and logs: applied whether or not metrics are published.
        String alias = properties.getMetrics().getEnsembleAlias();
        if (alias != null) {
            set("zksdk.metrics.ensemble-alias", alias, builder::ensembleAlias);
        }
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
        ZkSdkProperties.Digest digest = properties.getDigest();
        if (digest.getUsername() != null || digest.getPassword() != null) {
            if (digest.getUsername() == null) {
                throw new InvalidConfigurationPropertyValueException(
                        "zksdk.digest.username", null, "must be set with zksdk.digest.password");
            }
            if (digest.getPassword() == null) {
                throw new InvalidConfigurationPropertyValueException(
                        "zksdk.digest.password", null, "must be set with zksdk.digest.username");
            }
            set("zksdk.digest.username", digest.getUsername(), user -> builder.digest(user, digest.getPassword()));
        }
        SaslConfig sasl = saslConfig(properties.getSasl());
        if (sasl != null) {
            builder.sasl(sasl);
        }
        TlsConfig tls = tlsConfig(properties.getSsl(), sslStores);
        if (tls != null) {
            builder.tls(tls);
        }
        builder.aclProvider(aclProvider(properties.getDefaultAcl()));
        builder.followEnsembleChanges(properties.isFollowEnsembleChanges());
        builder.operationPolicy(operationPolicy(properties));
        builder.hosts(hostsConfig(properties.getHosts()));
        return builder;
    }

    private static ACLProvider aclProvider(ZkSdkProperties.DefaultAcl acl) {
        if (acl == null) {
            throw new InvalidConfigurationPropertyValueException("zksdk.default-acl", null, "must be set");
        }
        switch (acl) {
            case CREATOR_ALL:
                return ZkAcls.creatorAll();
            case CREATOR_ALL_WORLD_READ:
                return ZkAcls.creatorAllWorldRead();
            default:
                return ZkAcls.open();
        }
    }

    /** The {@code zksdk.sasl.*} properties as a {@link SaslConfig}, or null when none is set. */
    static SaslConfig saslConfig(ZkSdkProperties.Sasl sasl) {
        if (!sasl.isConfigured()) {
            if (!sasl.getOptions().isEmpty()) {
                throw new InvalidConfigurationPropertyValueException(
                        "zksdk.sasl.options",
                        sasl.getOptions().keySet(),
                        "options need zksdk.sasl.login-module (values not shown)");
            }
            return null;
        }
        MutuallyExclusiveConfigurationPropertiesException.throwIfMultipleNonNullValuesIn(entries -> {
            entries.put("zksdk.sasl.username", sasl.getUsername());
            entries.put("zksdk.sasl.jaas-section", sasl.getJaasSection());
            entries.put("zksdk.sasl.login-module", sasl.getLoginModule());
        });
        SaslConfig.Builder b;
        if (sasl.getUsername() != null || sasl.getPassword() != null) {
            if (sasl.getUsername() == null || sasl.getPassword() == null) {
                String missing = sasl.getUsername() == null ? "zksdk.sasl.username" : "zksdk.sasl.password";
                throw new InvalidConfigurationPropertyValueException(
                        missing, null, "zksdk.sasl.username and zksdk.sasl.password are set together");
            }
            b =
                    get("zksdk.sasl.username", sasl.getUsername(), u -> SaslConfig.digest(u, sasl.getPassword()))
                            .toBuilder();
        } else {
            b = SaslConfig.builder();
            if (sasl.getJaasSection() != null) {
                set("zksdk.sasl.jaas-section", sasl.getJaasSection(), b::jaasSection);
            } else {
                set("zksdk.sasl.login-module", sasl.getLoginModule(), b::loginModule);
            }
        }
        if (sasl.getOptions() != null) {
            for (Map.Entry<String, String> option : sasl.getOptions().entrySet()) {
                // The option's value may be a secret: only its name is reported.
                set(
                        "zksdk.sasl.options." + option.getKey(),
                        "(value not shown)",
                        v -> b.option(option.getKey(), option.getValue()));
            }
        }
        set("zksdk.sasl.service-name", sasl.getServiceName(), b::serviceName);
        if (sasl.getServerPrincipal() != null) {
            set("zksdk.sasl.server-principal", sasl.getServerPrincipal(), b::serverPrincipal);
        }
        b.canonicalizeHostname(sasl.isCanonicalizeHostname());
        if (sasl.getDigestMd5() != null) {
            b.digestMd5(sasl.getDigestMd5());
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            String property = sasl.getJaasSection() != null ? "zksdk.sasl.jaas-section" : "zksdk.sasl.login-module";
            Object value = sasl.getJaasSection() != null ? sasl.getJaasSection() : sasl.getLoginModule();
            throw new InvalidConfigurationPropertyValueException(property, value, e.getMessage());
        }
    }

    /**
     * The {@code zksdk.ssl.*} properties as a {@link TlsConfig}, or null when TLS is off.
     *
     * @param stores the named bundle's stores, or null when no bundle is named
     */
    static TlsConfig tlsConfig(ZkSdkProperties.Ssl ssl, SslBundleStores stores) {
        if (!ssl.isOn()) {
            return null;
        }
        if (ssl.getBundle() != null && stores == null) {
            throw new InvalidConfigurationPropertyValueException(
                    "zksdk.ssl.bundle",
                    ssl.getBundle(),
                    "Spring Boot's SSL bundles are not available (SslAutoConfiguration is not applied)");
        }
        TlsConfig.Builder tls = stores != null ? stores.tlsConfig() : TlsConfig.builder();
        tls.hostnameVerification(ssl.isHostnameVerification());
        String property = stores != null ? "zksdk.ssl.bundle" : "zksdk.ssl.enabled";
        Object value = stores != null ? stores.bundleName() : ssl.getEnabled();
        return get(property, value, v -> tls.build());
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
        set("zksdk.circuit-breaker.sliding-window-size", breaker.getSlidingWindowSize(), b::breakerSlidingWindow);
        set("zksdk.circuit-breaker.minimum-number-of-calls", breaker.getMinimumNumberOfCalls(), b::breakerMinimumCalls);
        set(
                "zksdk.circuit-breaker.wait-duration-in-open-state",
                breaker.getWaitDurationInOpenState(),
                b::breakerOpenDuration);
        set(
                "zksdk.circuit-breaker.permitted-number-of-calls-in-half-open-state",
                breaker.getPermittedNumberOfCallsInHalfOpenState(),
                b::breakerHalfOpenCalls);
        ZkSdkProperties.Bulkhead bulkhead = properties.getBulkhead();
        set("zksdk.bulkhead.max-concurrent-calls", bulkhead.getMaxConcurrentCalls(), b::maxInFlight);
        set("zksdk.bulkhead.max-wait-duration", bulkhead.getMaxWaitDuration(), b::maxInFlightWait);
        Map<String, Object> values = Map.of(
                "zksdk.retry.max-backoff", retry.getMaxBackoff(),
                "zksdk.retry.recovery-max-backoff", retry.getRecoveryMaxBackoff(),
                "zksdk.circuit-breaker.minimum-number-of-calls", breaker.getMinimumNumberOfCalls());
        return build(b::build, values);
    }

    /** The {@code zksdk.cache.*} properties as a {@link CacheConfig}. */
    static CacheConfig cacheConfig(ZkSdkProperties.Cache cache) {
        CacheConfig.Builder b = CacheConfig.builder();
        set("zksdk.cache.maximum-size", cache.getMaximumSize(), b::maximumSize);
        set("zksdk.cache.max-disconnected-staleness", cache.getMaxDisconnectedStaleness(), b::maxDisconnectedStaleness);
        b.recordStats(cache.isRecordStats());
        return b.build();
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
        if (hosts.isRebalance()) {
            set("zksdk.hosts.rebalance-interval", hosts.getRebalanceInterval(), b::rebalance);
        } else {
            b.noRebalance();
        }
        if (hosts.getConnectAttemptTimeout() != null) {
            set("zksdk.hosts.connect-attempt-timeout", hosts.getConnectAttemptTimeout(), b::connectAttemptTimeout);
        }
        if (hosts.getClientZone() != null) {
            set("zksdk.hosts.client-zone", hosts.getClientZone(), b::clientZone);
        }
        if (hosts.getServerZones() != null) {
            for (Map.Entry<String, String> zone : hosts.getServerZones().entrySet()) {
                String property = "zksdk.hosts.server-zones[" + zone.getKey() + "]";
                set(property, zone.getValue(), z -> b.serverZone(zone.getKey(), z));
            }
        }
        set("zksdk.hosts.fallback-session-lifetime", hosts.getFallbackSessionLifetime(), b::fallbackSessionLifetime);
        Map<String, Object> values = new HashMap<>();
        values.put("zksdk.hosts.quarantine-max-backoff", hosts.getQuarantineMaxBackoff());
        values.put("zksdk.hosts.reconnect-jitter-cap", hosts.getReconnectJitterCap());
        if (hosts.getClientZone() != null) {
            values.put("zksdk.hosts.client-zone", hosts.getClientZone());
        }
        return build(b::build, values);
    }

    private static <T, R> R get(String property, T value, Function<T, R> function) {
        try {
            return function.apply(value);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigurationPropertyValueException(property, value, e.getMessage());
        }
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
                throw new ZkSessionPoolConfigurationException(null, message, e);
            }
            throw new InvalidConfigurationPropertyValueException(property, values.get(property), message);
        }
    }
}
