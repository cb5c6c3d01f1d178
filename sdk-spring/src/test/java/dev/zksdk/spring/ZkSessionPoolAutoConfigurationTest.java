package dev.zksdk.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.OperationPolicy;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.cache.CacheConfig;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.metrics.MetricsTracker;
import dev.zksdk.metrics.MetricsTrackerFactory;
import dev.zksdk.metrics.PoolView;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.security.ZkAcls;
import dev.zksdk.spring.health.ZkSessionPoolHealthAutoConfiguration;
import dev.zksdk.spring.metrics.ZkSessionPoolMetricsAutoConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.MapPropertySource;

/**
 * The auto-configuration without a server (building a pool opens nothing): which beans exist, what switches them off,
 * how properties bind and map onto the core builders, and how bad values fail start-up.
 */
class ZkSessionPoolAutoConfigurationTest {

    /** Only the starter: what an application without Micrometer or Actuator has. */
    private final ApplicationContextRunner starterOnly = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    ZkSessionPoolAutoConfiguration.class,
                    ZkSessionPoolMetricsAutoConfiguration.class,
                    ZkSessionPoolHealthAutoConfiguration.class))
            .withPropertyValues("zksdk.connect-string=127.0.0.1:2181");

    /** The starter with Spring Boot's Micrometer and health auto-configurations. */
    private final ApplicationContextRunner runner = starterOnly.withConfiguration(AutoConfigurations.of(
            MetricsAutoConfiguration.class,
            CompositeMeterRegistryAutoConfiguration.class,
            SimpleMetricsExportAutoConfiguration.class,
            HealthContributorAutoConfiguration.class,
            HealthContributorRegistryAutoConfiguration.class));

    /** Properties whose keys hold a colon, which withPropertyValues would take for the separator. */
    private static ApplicationContextRunner withProperties(ApplicationContextRunner runner, Map<String, Object> map) {
        return runner.withInitializer(context -> context.getEnvironment()
                .getPropertySources()
                .addFirst(new MapPropertySource("test-" + map.keySet(), map)));
    }

    @Test
    void defaultsGiveAPoolItsMetricsHealthAndShutdownStep() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(ZkSessionPool.class);
            assertThat(context).hasSingleBean(ZkSdkProperties.class);
            assertThat(context).hasSingleBean(EphemeralDeregistration.class);
            assertThat(context).hasSingleBean(MicrometerMetricsTrackerFactory.class);
            assertThat(context).hasBean("zksdkHealthContributor");
            ZkSessionPool pool = context.getBean(ZkSessionPool.class);
            EnsembleConfig ensemble = pool.defaultEnsemble();
            assertThat(ensemble.connectString()).isEqualTo("127.0.0.1:2181");
            assertThat(ensemble.sessionTimeout()).isEqualTo(EnsembleConfig.DEFAULT_SESSION_TIMEOUT);
            assertThat(ensemble.connectionTimeout()).isEqualTo(EnsembleConfig.DEFAULT_CONNECTION_TIMEOUT);
            assertThat(ensemble.sessionsPerEnsemble()).isEqualTo(EnsembleConfig.DEFAULT_SESSIONS_PER_ENSEMBLE);
            // The pool publishes to the application's registry from the start.
            assertThat(context.getBean(MeterRegistry.class)
                            .find("zksdk.leases.active")
                            .tag("pool", "zksdk")
                            .gauge())
                    .isNotNull();
            // Nothing was leased yet: health says so rather than guessing.
            Health health =
                    ((HealthIndicator) context.getBean("zksdkHealthContributor", HealthContributor.class)).health();
            assertThat(health.getStatus()).isEqualTo(Status.UNKNOWN);
            assertThat(health.getDetails()).containsKey("reason");
        });
    }

    @Test
    void propertyDefaultsAreTheCoreDefaults() {
        ZkSdkProperties properties = new ZkSdkProperties();
        assertThat(properties.getSessionTimeout()).isEqualTo(EnsembleConfig.DEFAULT_SESSION_TIMEOUT);
        assertThat(properties.getConnectionTimeout()).isEqualTo(EnsembleConfig.DEFAULT_CONNECTION_TIMEOUT);
        assertThat(properties.getSessionsPerEnsemble()).isEqualTo(EnsembleConfig.DEFAULT_SESSIONS_PER_ENSEMBLE);
        OperationPolicy policy = ZkSdkPropertiesMapper.operationPolicy(properties);
        OperationPolicy defaults = OperationPolicy.defaults();
        assertThat(policy.operationTimeout()).isEqualTo(defaults.operationTimeout());
        assertThat(policy.retryInitialBackoff()).isEqualTo(defaults.retryInitialBackoff());
        assertThat(policy.retryMaxBackoff()).isEqualTo(defaults.retryMaxBackoff());
        assertThat(policy.breakerFailureRateThreshold()).isEqualTo(defaults.breakerFailureRateThreshold());
        assertThat(policy.breakerSlidingWindow()).isEqualTo(defaults.breakerSlidingWindow());
        assertThat(policy.breakerMinimumCalls()).isEqualTo(defaults.breakerMinimumCalls());
        assertThat(policy.breakerOpenDuration()).isEqualTo(defaults.breakerOpenDuration());
        assertThat(policy.breakerHalfOpenCalls()).isEqualTo(defaults.breakerHalfOpenCalls());
        assertThat(policy.maxInFlight()).isEqualTo(defaults.maxInFlight());
        assertThat(policy.maxInFlightWait()).isEqualTo(defaults.maxInFlightWait());
        CacheConfig cache = ZkSdkPropertiesMapper.cacheConfig(properties.getCache());
        assertThat(cache.maximumSize()).isEqualTo(CacheConfig.DEFAULT_MAXIMUM_SIZE);
        assertThat(cache.maxDisconnectedStaleness()).isEqualTo(CacheConfig.DEFAULT_MAX_DISCONNECTED_STALENESS);
        assertThat(cache.recordStats()).isEqualTo(CacheConfig.DEFAULT_RECORD_STATS);
        HostsConfig hosts = ZkSdkPropertiesMapper.hostsConfig(properties.getHosts());
        assertThat(hosts.weights()).isEmpty();
        assertThat(hosts.perServerConnectionBudget()).isEqualTo(HostsConfig.DEFAULT_PER_SERVER_CONNECTION_BUDGET);
        assertThat(hosts.quarantineInitialBackoff()).isEqualTo(HostsConfig.DEFAULT_QUARANTINE_INITIAL_BACKOFF);
        assertThat(hosts.quarantineMaxBackoff()).isEqualTo(HostsConfig.DEFAULT_QUARANTINE_MAX_BACKOFF);
        assertThat(hosts.reconnectJitterBase()).isEqualTo(HostsConfig.DEFAULT_RECONNECT_JITTER_BASE);
        assertThat(hosts.reconnectJitterCap()).isEqualTo(HostsConfig.DEFAULT_RECONNECT_JITTER_CAP);
        assertThat(hosts.sessionCreationRate()).isEqualTo(HostsConfig.DEFAULT_SESSION_CREATION_RATE);
        assertThat(hosts.sessionCreationMaxWait()).isEqualTo(HostsConfig.DEFAULT_SESSION_CREATION_MAX_WAIT);
        assertThat(hosts.connectAttemptTimeout()).isNull();
        assertThat(hosts.minConnectAttemptTimeout()).isEqualTo(HostsConfig.DEFAULT_MIN_CONNECT_ATTEMPT_TIMEOUT);
        assertThat(hosts.rebalanceInterval()).isEqualTo(HostsConfig.DEFAULT_REBALANCE_INTERVAL);
        assertThat(hosts.clientZone()).isNull();
        assertThat(hosts.serverZones()).isEmpty();
        assertThat(hosts.fallbackSessionLifetime()).isEqualTo(HostsConfig.DEFAULT_FALLBACK_SESSION_LIFETIME);
    }

    @Test
    void everySettingBindsIncludingDurationsAndWeights() {
        withProperties(
                        runner,
                        Map.of(
                                "zksdk.hosts.weights.[zk1.example:2181]",
                                "5",
                                "zksdk.hosts.weights.[zk2.example:2182]",
                                "0",
                                "zksdk.hosts.server-zones.[zk1.example:2181]",
                                "eu-west-1a",
                                "zksdk.hosts.server-zones.[zk2.example:2182]",
                                "eu-west-1b"))
                .withPropertyValues(
                        "zksdk.name=billing",
                        "zksdk.connect-string=zk1.example:2181,zk2.example:2182",
                        "zksdk.chroot=/apps/billing",
                        "zksdk.session-timeout=4s",
                        "zksdk.connection-timeout=1500ms",
                        "zksdk.sessions-per-ensemble=3",
                        "zksdk.can-be-read-only=true",
                        "zksdk.operation-timeout=PT20S",
                        "zksdk.auth[0].scheme=digest",
                        "zksdk.auth[0].credentials=billing:s3cret",
                        "zksdk.retry.initial-backoff=50ms",
                        "zksdk.retry.max-backoff=2s",
                        "zksdk.circuit-breaker.failure-rate-threshold=75.5",
                        "zksdk.circuit-breaker.sliding-window-size=20",
                        "zksdk.circuit-breaker.minimum-number-of-calls=8",
                        "zksdk.circuit-breaker.wait-duration-in-open-state=10s",
                        "zksdk.circuit-breaker.permitted-number-of-calls-in-half-open-state=3",
                        "zksdk.bulkhead.max-concurrent-calls=128",
                        "zksdk.bulkhead.max-wait-duration=250ms",
                        "zksdk.follow-ensemble-changes=false",
                        "zksdk.default-acl=creator-all",
                        "zksdk.digest.username=dora",
                        "zksdk.digest.password=d1gestpw",
                        "zksdk.hosts.per-server-connection-budget=10",
                        "zksdk.hosts.quarantine-initial-backoff=2s",
                        "zksdk.hosts.quarantine-max-backoff=1m",
                        "zksdk.hosts.reconnect-jitter-base=0",
                        "zksdk.hosts.reconnect-jitter-cap=3s",
                        "zksdk.hosts.session-creation-rate=2.5",
                        "zksdk.hosts.session-creation-max-wait=750ms",
                        "zksdk.hosts.connect-attempt-timeout=2s",
                        "zksdk.hosts.min-connect-attempt-timeout=250ms",
                        "zksdk.hosts.rebalance-interval=7s",
                        "zksdk.hosts.client-zone=eu-west-1a",
                        "zksdk.hosts.fallback-session-lifetime=90s",
                        "zksdk.cache.maximum-size=500",
                        "zksdk.cache.max-disconnected-staleness=0",
                        "zksdk.cache.record-stats=false")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    ZkSdkProperties properties = context.getBean(ZkSdkProperties.class);
                    assertThat(properties.getHosts().getWeights())
                            .containsEntry("zk1.example:2181", 5)
                            .containsEntry("zk2.example:2182", 0);
                    assertThat(properties.toString()).doesNotContain("s3cret");

                    EnsembleConfig ensemble =
                            context.getBean(ZkSessionPool.class).defaultEnsemble();
                    assertThat(ensemble.connectString()).isEqualTo("zk1.example:2181,zk2.example:2182/apps/billing");
                    assertThat(ensemble.chroot()).isEqualTo("/apps/billing");
                    assertThat(ensemble.sessionTimeout()).isEqualTo(Duration.ofSeconds(4));
                    assertThat(ensemble.connectionTimeout()).isEqualTo(Duration.ofMillis(1500));
                    assertThat(ensemble.sessionsPerEnsemble()).isEqualTo(3);
                    assertThat(ensemble.canBeReadOnly()).isTrue();
                    assertThat(ensemble.authorizations()).hasSize(2);
                    assertThat(ensemble.authorizations().get(0).scheme()).isEqualTo("digest");
                    assertThat(new String(ensemble.authorizations().get(0).secret(), StandardCharsets.UTF_8))
                            .isEqualTo("billing:s3cret");
                    assertThat(new String(ensemble.authorizations().get(1).secret(), StandardCharsets.UTF_8))
                            .isEqualTo("dora:d1gestpw");
                    assertThat(ensemble.aclProvider()).isEqualTo(ZkAcls.creatorAll());
                    assertThat(followsEnsembleChanges(context.getBean(ZkSessionPool.class)))
                            .isFalse();
                    assertThat(context.getBean(ZkSessionPool.class).toString())
                            .contains("billing")
                            .doesNotContain("s3cret")
                            .doesNotContain("d1gestpw");
                    assertThat(properties.toString()).doesNotContain("d1gestpw");

                    OperationPolicy policy = ZkSdkPropertiesMapper.operationPolicy(properties);
                    assertThat(policy.operationTimeout()).isEqualTo(Duration.ofSeconds(20));
                    assertThat(policy.retryInitialBackoff()).isEqualTo(Duration.ofMillis(50));
                    assertThat(policy.retryMaxBackoff()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(policy.breakerFailureRateThreshold()).isEqualTo(75.5f);
                    assertThat(policy.breakerSlidingWindow()).isEqualTo(20);
                    assertThat(policy.breakerMinimumCalls()).isEqualTo(8);
                    assertThat(policy.breakerOpenDuration()).isEqualTo(Duration.ofSeconds(10));
                    assertThat(policy.breakerHalfOpenCalls()).isEqualTo(3);
                    assertThat(policy.maxInFlight()).isEqualTo(128);
                    assertThat(policy.maxInFlightWait()).isEqualTo(Duration.ofMillis(250));

                    HostsConfig hosts = ZkSdkPropertiesMapper.hostsConfig(properties.getHosts());
                    assertThat(hosts.weight("zk1.example:2181")).isEqualTo(5);
                    assertThat(hosts.weight("zk2.example:2182")).isZero();
                    assertThat(hosts.perServerConnectionBudget()).isEqualTo(10);
                    assertThat(hosts.quarantineInitialBackoff()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(hosts.quarantineMaxBackoff()).isEqualTo(Duration.ofMinutes(1));
                    assertThat(hosts.reconnectJitterBase()).isEqualTo(Duration.ZERO);
                    assertThat(hosts.reconnectJitterCap()).isEqualTo(Duration.ofSeconds(3));
                    assertThat(hosts.sessionCreationRate()).isEqualTo(2.5);
                    assertThat(hosts.sessionCreationMaxWait()).isEqualTo(Duration.ofMillis(750));
                    assertThat(hosts.connectAttemptTimeout()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(hosts.minConnectAttemptTimeout()).isEqualTo(Duration.ofMillis(250));
                    assertThat(hosts.rebalanceInterval()).isEqualTo(Duration.ofSeconds(7));
                    assertThat(hosts.clientZone()).isEqualTo("eu-west-1a");
                    assertThat(hosts.serverZones()) // a map: its order is not part of the contract
                            .containsOnly(
                                    Map.entry("zk1.example:2181", "eu-west-1a"),
                                    Map.entry("zk2.example:2182", "eu-west-1b"));
                    assertThat(hosts.inClientZone("zk1.example:2181")).isTrue();
                    assertThat(hosts.inClientZone("zk2.example:2182")).isFalse();
                    assertThat(hosts.fallbackSessionLifetime()).isEqualTo(Duration.ofSeconds(90));

                    CacheConfig cache = context.getBean(CacheConfig.class);
                    assertThat(cache.maximumSize()).isEqualTo(500);
                    assertThat(cache.maxDisconnectedStaleness()).isEqualTo(Duration.ZERO);
                    assertThat(cache.recordStats()).isFalse();
                });
    }

    @Test
    void theCacheConfigBeanIsTheDefaultsUnlessSetAndAUsersOwnWins() {
        starterOnly.run(context -> assertThat(context.getBean(CacheConfig.class))
                .usingRecursiveComparison()
                .isEqualTo(CacheConfig.defaults()));
        CacheConfig own = CacheConfig.builder().maximumSize(7).build();
        starterOnly
                .withPropertyValues("zksdk.cache.maximum-size=500")
                .withBean(CacheConfig.class, () -> own)
                .run(context -> {
                    assertThat(context.getBean(CacheConfig.class)).isSameAs(own);
                    assertThat(cacheDefaults(context.getBean(ZkSessionPool.class)))
                            .as("the pool's cache defaults")
                            .isSameAs(own);
                });
        starterOnly
                .withPropertyValues("zksdk.cache.maximum-size=500")
                .run(context -> assertThat(cacheDefaults(context.getBean(ZkSessionPool.class)))
                        .as("the pool's cache defaults")
                        .isSameAs(context.getBean(CacheConfig.class))
                        .extracting(CacheConfig::maximumSize)
                        .isEqualTo(500L));
    }

    private static CacheConfig cacheDefaults(ZkSessionPool pool) throws ReflectiveOperationException {
        java.lang.reflect.Field real = ZkSessionPool.class.getDeclaredField("pool");
        real.setAccessible(true);
        Object impl = real.get(pool);
        java.lang.reflect.Method defaults = impl.getClass().getDeclaredMethod("cacheDefaults");
        defaults.setAccessible(true);
        return (CacheConfig) defaults.invoke(impl);
    }

    @Test
    void aUsersOwnPoolWinsAndKeepsTheShutdownStep() {
        runner.withUserConfiguration(OwnPool.class)
                // Would fail start-up if the auto-configured pool were built.
                .withPropertyValues("zksdk.sessions-per-ensemble=0")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).hasSingleBean(ZkSessionPool.class);
                    assertThat(context.getBean(ZkSessionPool.class)).isSameAs(context.getBean("ownPool"));
                    assertThat(context.getBean(ZkSessionPool.class)
                                    .defaultEnsemble()
                                    .connectString())
                            .isEqualTo("127.0.0.1:2999");
                    assertThat(context).hasSingleBean(EphemeralDeregistration.class);
                    assertThat(context).hasBean("zksdkHealthContributor");
                });
    }

    @Test
    void customizersRunAfterThePropertiesInOrder() {
        runner.withUserConfiguration(Customizers.class).run(context -> {
            assertThat(context).hasNotFailed();
            ZkSessionPool pool = context.getBean(ZkSessionPool.class);
            assertThat(pool.toString()).contains("name=second");
            assertThat(pool.defaultEnsemble().sessionsPerEnsemble()).isEqualTo(2);
        });
    }

    @Test
    void aCustomizerAddsRoutesAndTheAutoConfiguredPoolRoutesByThem() {
        runner.withUserConfiguration(RouteCustomizer.class).run(context -> {
            assertThat(context).hasNotFailed();
            ZkSessionPool pool = context.getBean(ZkSessionPool.class);
            assertThat(pool.routes().ensembleFor("/tenants/a/x").connectString())
                    .isEqualTo("127.0.0.1:2998");
            assertThat(pool.routes().ensembleFor("/tenants/ab").connectString())
                    .as("the default route: zksdk.connect-string")
                    .isEqualTo("127.0.0.1:2181");
        });
    }

    @Test
    void aUsersOwnMetricsTrackerFactoryReplacesMicrometers() {
        runner.withUserConfiguration(OwnTracker.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(MicrometerMetricsTrackerFactory.class);
            assertThat(context.getBean(OwnTracker.class).created).containsExactly("zksdk");
        });
    }

    @Test
    void startsWithoutMicrometer() {
        starterOnly
                .withConfiguration(AutoConfigurations.of(
                        HealthContributorAutoConfiguration.class, HealthContributorRegistryAutoConfiguration.class))
                .withClassLoader(new FilteredClassLoader(MeterRegistry.class))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).hasSingleBean(ZkSessionPool.class);
                    assertThat(context).doesNotHaveBean(MetricsTrackerFactory.class);
                    assertThat(context).hasBean("zksdkHealthContributor");
                });
    }

    @Test
    void startsWithoutActuatorHealth() {
        starterOnly
                .withConfiguration(AutoConfigurations.of(
                        MetricsAutoConfiguration.class,
                        CompositeMeterRegistryAutoConfiguration.class,
                        SimpleMetricsExportAutoConfiguration.class))
                .withClassLoader(new FilteredClassLoader("org.springframework.boot.health"))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).hasSingleBean(ZkSessionPool.class);
                    assertThat(context).doesNotHaveBean("zksdkHealthContributor");
                    assertThat(context).hasSingleBean(MicrometerMetricsTrackerFactory.class);
                });
    }

    @Test
    void startsWithNeitherMicrometerNorActuator() {
        starterOnly
                .withClassLoader(new FilteredClassLoader(MeterRegistry.class, HealthIndicator.class))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).hasSingleBean(ZkSessionPool.class);
                    assertThat(context).doesNotHaveBean(MetricsTrackerFactory.class);
                    assertThat(context).doesNotHaveBean("zksdkHealthContributor");
                });
    }

    @Test
    void theEnsembleAliasNamesTheEnsembleWithMetricsOffAndWithoutMicrometer() {
        // The alias is the ensemble's name (logs, health, tags), not a metrics setting: it is mapped in every setup.
        for (ApplicationContextRunner setup : List.of(
                runner,
                runner.withPropertyValues("zksdk.metrics.enabled=false"),
                starterOnly.withClassLoader(new FilteredClassLoader(MeterRegistry.class)))) {
            setup.withPropertyValues("zksdk.metrics.ensemble-alias=orders-zk").run(context -> {
                assertThat(context).hasNotFailed();
                assertThat(context.getBean(ZkSessionPool.class)
                                .defaultEnsemble()
                                .alias())
                        .isEqualTo("orders-zk");
            });
        }
        starterOnly
                .withClassLoader(new FilteredClassLoader(MeterRegistry.class))
                .run(context -> assertThat(context.getBean(ZkSessionPool.class)
                                .defaultEnsemble()
                                .alias())
                        .as("the default alias: the one server")
                        .isEqualTo("127.0.0.1:2181"));
    }

    @Test
    void metricsEnabledFalseRemovesTheMetrics() {
        runner.withPropertyValues("zksdk.metrics.enabled=false").run(context -> {
            assertThat(context).hasSingleBean(ZkSessionPool.class);
            assertThat(context).doesNotHaveBean(MetricsTrackerFactory.class);
            assertThat(context.getBean(MeterRegistry.class)
                            .find("zksdk.leases.active")
                            .meters())
                    .isEmpty();
        });
    }

    @Test
    void healthEnabledFalseRemovesTheHealthIndicator() {
        runner.withPropertyValues("management.health.zksdk.enabled=false").run(context -> {
            assertThat(context).hasSingleBean(ZkSessionPool.class);
            assertThat(context).doesNotHaveBean("zksdkHealthContributor");
        });
    }

    @Test
    void enabledFalseRemovesThePoolAndEverythingThatNeedsIt() {
        runner.withPropertyValues("zksdk.enabled=false").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(ZkSessionPool.class);
            assertThat(context).doesNotHaveBean(EphemeralDeregistration.class);
            assertThat(context).doesNotHaveBean("zksdkHealthContributor");
        });
    }

    @Test
    void invalidValuesFailStartUpNamingThePropertyAndTheValue() {
        assertInvalid("zksdk.sessions-per-ensemble=0", "zksdk.sessions-per-ensemble", "0");
        assertInvalid("zksdk.session-timeout=-5s", "zksdk.session-timeout", "PT-5S");
        assertInvalid("zksdk.connect-string=zk1.example", "zksdk.connect-string", "zk1.example");
        assertInvalid("zksdk.chroot=apps", "zksdk.chroot", "apps");
        assertInvalid("zksdk.name=two words", "zksdk.name", "two words");
        assertInvalid("zksdk.metrics.ensemble-alias=two words", "zksdk.metrics.ensemble-alias", "two words");
        assertInvalid(
                "zksdk.circuit-breaker.failure-rate-threshold=150",
                "zksdk.circuit-breaker.failure-rate-threshold",
                "150.0");
        assertInvalid("zksdk.bulkhead.max-concurrent-calls=-1", "zksdk.bulkhead.max-concurrent-calls", "-1");
        assertInvalid("zksdk.hosts.session-creation-rate=0", "zksdk.hosts.session-creation-rate", "0.0");
        assertInvalid("zksdk.hosts.connect-attempt-timeout=0s", "zksdk.hosts.connect-attempt-timeout", "PT0S");
        assertInvalid("zksdk.cache.maximum-size=0", "zksdk.cache.maximum-size", "0");
        assertInvalid("zksdk.cache.max-disconnected-staleness=-1s", "zksdk.cache.max-disconnected-staleness", "PT-1S");
        // Combinations: the core's build() blames one setting; the property it comes from is named.
        assertInvalid("zksdk.retry.max-backoff=5ms", "zksdk.retry.max-backoff", "PT0.005S");
        assertInvalid(
                "zksdk.circuit-breaker.minimum-number-of-calls=11",
                "zksdk.circuit-breaker.minimum-number-of-calls",
                "11");
        assertInvalid("zksdk.hosts.reconnect-jitter-cap=10ms", "zksdk.hosts.reconnect-jitter-cap", "PT0.01S");
    }

    @Test
    void invalidZoneSettingsFailStartUpNamingThePropertyAndTheValue() {
        assertInvalid("zksdk.hosts.fallback-session-lifetime=0s", "zksdk.hosts.fallback-session-lifetime", "PT0S");
        assertInvalid("zksdk.hosts.fallback-session-lifetime=-1m", "zksdk.hosts.fallback-session-lifetime", "PT-1M");
        // A client zone without rebalancing would leave fallback sessions outside the zone for good.
        runner.withPropertyValues("zksdk.hosts.client-zone=eu-west-1a", "zksdk.hosts.rebalance=false")
                .run(context -> {
                    InvalidConfigurationPropertyValueException e = invalid(context);
                    assertThat(e.getName()).isEqualTo("zksdk.hosts.client-zone");
                    assertThat(e.getValue()).isEqualTo("eu-west-1a");
                    assertThat(e.getMessage()).contains("'eu-west-1a'").contains("noRebalance");
                });
        withProperties(runner, Map.of("zksdk.hosts.server-zones.[zk1.example:2181]", " "))
                .run(context -> {
                    InvalidConfigurationPropertyValueException e = invalid(context);
                    assertThat(e.getName()).isEqualTo("zksdk.hosts.server-zones[zk1.example:2181]");
                    assertThat(e.getMessage()).contains("serverZone").contains("zk1.example:2181");
                });
        withProperties(runner, Map.of("zksdk.hosts.server-zones.[zk1.example]", "eu-west-1a"))
                .run(context -> {
                    InvalidConfigurationPropertyValueException e = invalid(context);
                    assertThat(e.getName()).isEqualTo("zksdk.hosts.server-zones[zk1.example]");
                    assertThat(e.getMessage()).contains("serverZone").contains("zk1.example");
                });
    }

    @Test
    void observerSettingsBindAndBadCombinationsNameTheProperty() {
        runner.withPropertyValues(
                        "zksdk.connect-string=zk1.example:2181,zk2.example:2181,obs1.example:2181",
                        "zksdk.observers=obs1.example:2181",
                        "zksdk.reads-from-observers=2")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    EnsembleConfig ensemble =
                            context.getBean(ZkSessionPool.class).defaultEnsemble();
                    assertThat(ensemble.observers()).containsExactly("obs1.example:2181");
                    assertThat(ensemble.readsFromObservers()).isEqualTo(2);
                    assertThat(ensemble.participants()).containsExactly("zk1.example:2181", "zk2.example:2181");
                });
        runner.withPropertyValues("zksdk.connect-string=zk1.example:2181", "zksdk.reads-from-observers=1")
                .run(context -> {
                    InvalidConfigurationPropertyValueException e = invalid(context);
                    assertThat(e.getName()).isEqualTo("zksdk.reads-from-observers");
                    assertThat(e.getValue()).isEqualTo(1);
                    assertThat(e.getMessage()).contains("needs observers");
                });
        runner.withPropertyValues("zksdk.connect-string=zk1.example:2181", "zksdk.observers=obs9.example:2181")
                .run(context -> {
                    InvalidConfigurationPropertyValueException e = invalid(context);
                    assertThat(e.getName()).isEqualTo("zksdk.observers");
                    assertThat(e.getMessage()).contains("obs9.example:2181").contains("not in the connectString");
                });
        assertInvalid("zksdk.reads-from-observers=-1", "zksdk.reads-from-observers", "-1");
    }

    @Test
    void anInvalidWeightIsReportedWithItsServer() {
        withProperties(runner, Map.of("zksdk.hosts.weights.[zk1.example:2181]", "-2"))
                .run(context -> {
                    InvalidConfigurationPropertyValueException e = invalid(context);
                    assertThat(e.getName()).isEqualTo("zksdk.hosts.weights[zk1.example:2181]");
                    assertThat(e.getValue()).isEqualTo(-2);
                    assertThat(e.getMessage()).contains("'-2'").contains("weight");
                });
    }

    @Test
    void aChrootInBothPlacesIsRefused() {
        runner.withPropertyValues("zksdk.connect-string=127.0.0.1:2181/a", "zksdk.chroot=/b")
                .run(context -> {
                    InvalidConfigurationPropertyValueException e = invalid(context);
                    assertThat(e.getName()).isEqualTo("zksdk.chroot");
                    assertThat(e.getMessage()).contains("/b").contains("already has a chroot");
                });
    }

    @Test
    void anUnconvertibleValueFailsStartUpNamingThePropertyAndTheValue() {
        runner.withPropertyValues("zksdk.session-timeout=soon").run(context -> {
            assertThat(context).hasFailed();
            assertThat(messages(context.getStartupFailure()))
                    .contains("zksdk.session-timeout")
                    .contains("soon");
        });
    }

    @Test
    void aBadCredentialIsReportedWithoutItsSecret() {
        runner.withPropertyValues("zksdk.auth[0].scheme= ", "zksdk.auth[0].credentials=billing:s3cret")
                .run(context -> {
                    InvalidConfigurationPropertyValueException e = invalid(context);
                    assertThat(e.getName()).isEqualTo("zksdk.auth[0].scheme");
                    assertThat(messages(context.getStartupFailure())).doesNotContain("s3cret");
                });
        runner.withPropertyValues("zksdk.auth[0].scheme=digest").run(context -> {
            assertThat(invalid(context).getName()).isEqualTo("zksdk.auth[0].credentials");
        });
    }

    private void assertInvalid(String property, String name, String value) {
        runner.withPropertyValues(property).run(context -> {
            InvalidConfigurationPropertyValueException e = invalid(context);
            assertThat(e.getName()).isEqualTo(name);
            assertThat(String.valueOf(e.getValue())).isEqualTo(value);
            assertThat(e.getMessage()).contains(name).contains("'" + value + "'");
            assertThat(e.getReason()).isNotBlank();
        });
    }

    /**
     * The pool's followEnsembleChanges setting. It has no public accessor and only shows in behaviour under a dynamic
     * reconfiguration, so the binding is checked on the pool's implementation.
     */
    private static boolean followsEnsembleChanges(ZkSessionPool pool) throws ReflectiveOperationException {
        java.lang.reflect.Field real = ZkSessionPool.class.getDeclaredField("pool");
        real.setAccessible(true);
        Object impl = real.get(pool);
        java.lang.reflect.Method follow = impl.getClass().getDeclaredMethod("followEnsembleChanges");
        follow.setAccessible(true);
        return (Boolean) follow.invoke(impl);
    }

    private static InvalidConfigurationPropertyValueException invalid(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        for (Throwable t = context.getStartupFailure(); t != null; t = t.getCause()) {
            if (t instanceof InvalidConfigurationPropertyValueException) {
                return (InvalidConfigurationPropertyValueException) t;
            }
        }
        throw new AssertionError("start-up did not fail with an invalid property", context.getStartupFailure());
    }

    private static String messages(Throwable failure) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append('\n');
        }
        return all.toString();
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnPool {
        @Bean(destroyMethod = "close")
        ZkSessionPool ownPool() {
            return ZkSessionPool.builder()
                    .connectString("127.0.0.1:2999")
                    .name("own")
                    .build();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Customizers {
        @Bean
        @Order(2)
        ZkSessionPoolCustomizer second() {
            return builder -> builder.name("second");
        }

        @Bean
        @Order(1)
        ZkSessionPoolCustomizer first() {
            return builder -> builder.name("first").sessionsPerEnsemble(2);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class RouteCustomizer {
        @Bean
        ZkSessionPoolCustomizer tenants() {
            return builder -> builder.route("/tenants/a", EnsembleConfig.of("127.0.0.1:2998"));
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnTracker implements MetricsTrackerFactory {
        final List<String> created = new ArrayList<>();

        @Override
        public MetricsTracker create(PoolView pool) {
            created.add(pool.name());
            return MetricsTracker.NONE;
        }
    }
}
