package dev.zksdk.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.OperationPolicy;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.security.SaslConfig;
import dev.zksdk.security.TlsConfig;
import dev.zksdk.spring.health.ZkSessionPoolHealthAutoConfiguration;
import dev.zksdk.spring.health.ZkSessionPoolHealthIndicator;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.context.properties.ConfigurationPropertiesReportEndpoint;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.context.properties.source.MutuallyExclusiveConfigurationPropertiesException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.support.SpringFactoriesLoader;
import tools.jackson.databind.json.JsonMapper;

/**
 * The properties added for issue 20 without a server: security (digest, SASL, SSL bundle), follow-ensemble-changes,
 * the default ACL, resilience4j's names with the earlier ones as deprecated aliases, what /configprops shows, health
 * while a connection is expected, and the failure analyzer's registration.
 */
class ZkSdkPropertiesCompletenessTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    ZkSessionPoolAutoConfiguration.class,
                    SslAutoConfiguration.class,
                    ZkSessionPoolHealthAutoConfiguration.class,
                    HealthContributorAutoConfiguration.class,
                    HealthContributorRegistryAutoConfiguration.class))
            .withPropertyValues("zksdk.connect-string=127.0.0.1:2181");

    @Test
    void theEarlierBreakerAndBulkheadNamesStillBindAsDeprecatedAliases() {
        runner.withPropertyValues(
                        "zksdk.circuit-breaker.sliding-window=20",
                        "zksdk.circuit-breaker.minimum-calls=8",
                        "zksdk.circuit-breaker.open-duration=10s",
                        "zksdk.circuit-breaker.half-open-calls=3",
                        "zksdk.bulkhead.max-in-flight=128",
                        "zksdk.bulkhead.max-wait=250ms")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    OperationPolicy policy =
                            ZkSdkPropertiesMapper.operationPolicy(context.getBean(ZkSdkProperties.class));
                    assertThat(policy.breakerSlidingWindow()).isEqualTo(20);
                    assertThat(policy.breakerMinimumCalls()).isEqualTo(8);
                    assertThat(policy.breakerOpenDuration()).isEqualTo(Duration.ofSeconds(10));
                    assertThat(policy.breakerHalfOpenCalls()).isEqualTo(3);
                    assertThat(policy.maxInFlight()).isEqualTo(128);
                    assertThat(policy.maxInFlightWait()).isEqualTo(Duration.ofMillis(250));
                });
    }

    @Test
    void resilience4jsNameWinsOverItsDeprecatedAlias() {
        runner.withPropertyValues(
                        "zksdk.circuit-breaker.sliding-window=20",
                        "zksdk.circuit-breaker.sliding-window-size=30",
                        "zksdk.bulkhead.max-concurrent-calls=64",
                        "zksdk.bulkhead.max-in-flight=128",
                        "zksdk.bulkhead.max-wait=1s",
                        "zksdk.bulkhead.max-wait-duration=2s")
                .run(context -> {
                    OperationPolicy policy =
                            ZkSdkPropertiesMapper.operationPolicy(context.getBean(ZkSdkProperties.class));
                    assertThat(policy.breakerSlidingWindow()).isEqualTo(30);
                    assertThat(policy.maxInFlight()).isEqualTo(64);
                    assertThat(policy.maxInFlightWait()).isEqualTo(Duration.ofSeconds(2));
                });
    }

    @Test
    void saslUserAndPasswordBecomeADigestLogin() {
        runner.withPropertyValues(
                        "zksdk.sasl.username=alice",
                        "zksdk.sasl.password=sasl-s3cret-pw",
                        "zksdk.sasl.service-name=zk",
                        "zksdk.sasl.canonicalize-hostname=false")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    SaslConfig sasl = context.getBean(ZkSessionPool.class)
                            .defaultEnsemble()
                            .sasl();
                    assertThat(sasl)
                            .isEqualTo(SaslConfig.digest("alice", "sasl-s3cret-pw").toBuilder()
                                    .serviceName("zk")
                                    .canonicalizeHostname(false)
                                    .build());
                    assertThat(sasl.digestMd5()).isTrue();
                    assertThat(context.getBean(ZkSessionPool.class).toString()).doesNotContain("sasl-s3cret-pw");
                    assertThat(context.getBean(ZkSdkProperties.class).toString())
                            .contains("alice")
                            .doesNotContain("sasl-s3cret-pw");
                });
    }

    @Test
    void saslLoginModuleWithOptionsAndPrincipalBinds() {
        runner.withPropertyValues(
                        "zksdk.sasl.login-module=com.sun.security.auth.module.Krb5LoginModule",
                        "zksdk.sasl.options.useKeyTab=true",
                        "zksdk.sasl.options.keyTab=/etc/app.keytab",
                        "zksdk.sasl.options.principal=app@EXAMPLE.COM",
                        "zksdk.sasl.server-principal=zookeeper/zk1.example@EXAMPLE.COM",
                        "zksdk.sasl.digest-md5=false")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    SaslConfig sasl = context.getBean(ZkSessionPool.class)
                            .defaultEnsemble()
                            .sasl();
                    assertThat(sasl.loginModule()).isEqualTo("com.sun.security.auth.module.Krb5LoginModule");
                    assertThat(sasl.options())
                            .containsEntry("useKeyTab", "true")
                            .containsEntry("keyTab", "/etc/app.keytab")
                            .containsEntry("principal", "app@EXAMPLE.COM");
                    assertThat(sasl.serverPrincipal()).isEqualTo("zookeeper/zk1.example@EXAMPLE.COM");
                    assertThat(sasl.serviceName()).isEqualTo(SaslConfig.DEFAULT_SERVICE_NAME);
                    assertThat(sasl.digestMd5()).isFalse();
                });
        runner.withPropertyValues("zksdk.sasl.jaas-section=ZkClient").run(context -> {
            assertThat(context.getBean(ZkSessionPool.class).defaultEnsemble().sasl())
                    .isEqualTo(SaslConfig.jaasSection("ZkClient"));
        });
    }

    @Test
    void conflictingOrIncompleteSaslSettingsFailNamingTheProperties() {
        runner.withPropertyValues(
                        "zksdk.sasl.username=alice",
                        "zksdk.sasl.password=sasl-s3cret-pw",
                        "zksdk.sasl.jaas-section=ZkClient")
                .run(context -> {
                    assertThat(context).hasFailed();
                    MutuallyExclusiveConfigurationPropertiesException e =
                            cause(context, MutuallyExclusiveConfigurationPropertiesException.class);
                    assertThat(e.getConfiguredNames())
                            .containsExactlyInAnyOrder("zksdk.sasl.username", "zksdk.sasl.jaas-section");
                    assertThat(messages(context.getStartupFailure())).doesNotContain("sasl-s3cret-pw");
                });
        runner.withPropertyValues("zksdk.sasl.username=alice").run(context -> {
            assertThat(cause(context, InvalidConfigurationPropertyValueException.class)
                            .getName())
                    .isEqualTo("zksdk.sasl.password");
        });
        runner.withPropertyValues("zksdk.sasl.options.password=opt-s3cret-pw").run(context -> {
            InvalidConfigurationPropertyValueException e =
                    cause(context, InvalidConfigurationPropertyValueException.class);
            assertThat(e.getName()).isEqualTo("zksdk.sasl.options");
            assertThat(messages(context.getStartupFailure())).doesNotContain("opt-s3cret-pw");
        });
        runner.withPropertyValues("zksdk.sasl.login-module=not a class").run(context -> {
            assertThat(cause(context, InvalidConfigurationPropertyValueException.class)
                            .getName())
                    .isEqualTo("zksdk.sasl.login-module");
        });
    }

    @Test
    void sslWithoutABundleTrustsTheJvmsCasAndHonoursHostnameVerification() {
        runner.withPropertyValues("zksdk.ssl.enabled=true", "zksdk.ssl.hostname-verification=false")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    TlsConfig tls = context.getBean(ZkSessionPool.class)
                            .defaultEnsemble()
                            .tls();
                    assertThat(tls).isNotNull();
                    assertThat(tls.keyStore()).isNull();
                    assertThat(tls.trustStore()).isNull();
                    assertThat(tls.hostnameVerification()).isFalse();
                });
        runner.run(context -> assertThat(
                        context.getBean(ZkSessionPool.class).defaultEnsemble().tls())
                .isNull());
    }

    @Test
    void anUnknownSslBundleFailsNamingThePropertyAndTheBundlesThereAre() {
        runner.withPropertyValues("zksdk.ssl.bundle=nope").run(context -> {
            InvalidConfigurationPropertyValueException e =
                    cause(context, InvalidConfigurationPropertyValueException.class);
            assertThat(e.getName()).isEqualTo("zksdk.ssl.bundle");
            assertThat(e.getValue()).isEqualTo("nope");
            assertThat(e.getReason()).contains("spring.ssl.bundle.jks.nope");
        });
        // Switched off explicitly, a bundle name is not even looked up.
        runner.withPropertyValues("zksdk.ssl.bundle=nope", "zksdk.ssl.enabled=false")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(ZkSessionPool.class)
                                    .defaultEnsemble()
                                    .tls())
                            .isNull();
                });
    }

    @Test
    void aCreatorAclWithoutAnIdentityFailsNamingTheProperty() {
        runner.withPropertyValues("zksdk.default-acl=creator-all-world-read").run(context -> {
            InvalidConfigurationPropertyValueException e =
                    cause(context, InvalidConfigurationPropertyValueException.class);
            assertThat(e.getName()).isEqualTo("zksdk.default-acl");
            assertThat(e.getReason()).contains("INVALIDACL");
        });
    }

    @Test
    void configpropsNeverShowsTheCredentials() {
        ApplicationContextRunner withCredentials = runner.withPropertyValues(
                "zksdk.auth[0].scheme=digest",
                "zksdk.auth[0].credentials=app:auth-s3cret-pw",
                "zksdk.digest.username=dora",
                "zksdk.digest.password=digest-s3cret-pw",
                "zksdk.sasl.login-module=org.apache.zookeeper.server.auth.DigestLoginModule",
                "zksdk.sasl.options.username=bob",
                "zksdk.sasl.options.password=option-s3cret-pw");
        List<String> secrets = List.of("auth-s3cret-pw", "digest-s3cret-pw", "option-s3cret-pw");
        withCredentials.run(context -> {
            assertThat(context).hasNotFailed();
            // Spring Boot's default (management.endpoint.configprops.show-values=never): no value shown at all.
            String hidden = configprops(context, List.of(), Show.NEVER);
            assertThat(hidden).contains("zksdk").doesNotContain("127.0.0.1:2181");
            secrets.forEach(secret -> assertThat(hidden).doesNotContain(secret));
            // Values shown, with Spring Boot's credential sanitizing: the property names make it apply.
            String shown = configprops(
                    context, List.of(SanitizingFunction.sanitizeValue().ifLikelyCredential()), Show.ALWAYS);
            assertThat(shown).contains("127.0.0.1:2181").contains("dora").contains("bob");
            secrets.forEach(secret -> assertThat(shown).doesNotContain(secret));
            // Without any sanitizing function they would show: the check above is not vacuous.
            assertThat(configprops(context, List.of(), Show.ALWAYS)).contains("digest-s3cret-pw");
        });
    }

    @Test
    void healthIsDownBeforeTheFirstConnectionWhenOneIsExpected() {
        try (ZkSessionPool pool =
                ZkSessionPool.builder().connectString("127.0.0.1:2181").build()) {
            Health expected = new ZkSessionPoolHealthIndicator(pool, true).health(true);
            assertThat(expected.getStatus()).isEqualTo(Status.DOWN);
            assertThat(String.valueOf(expected.getDetails().get("reason")))
                    .contains("zksdk.connect-on-startup")
                    .contains("127.0.0.1:2181");
            assertThat(new ZkSessionPoolHealthIndicator(pool).health(true).getStatus())
                    .isEqualTo(Status.UNKNOWN);
        }
        // The auto-configured indicator expects a connection when connect-on-startup is set. The connector is
        // replaced here, so that the state before any connection can be seen.
        runner.withPropertyValues("zksdk.connect-on-startup=true")
                .withUserConfiguration(NoStartupConnect.class)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    Health health = ((HealthIndicator)
                                    context.getBean("zksdkHealthContributor", HealthContributor.class))
                            .health();
                    assertThat(health.getStatus()).isEqualTo(Status.DOWN);
                });
    }

    @Test
    void aCustomizersBadValueIsAnalyzedAsAPoolConfigurationError() {
        runner.withUserConfiguration(BadCustomizer.class).run(context -> {
            assertThat(context).hasFailed();
            FailureAnalysis analysis = analyze(context.getStartupFailure());
            assertThat(analysis).isNotNull();
            assertThat(analysis.getDescription())
                    .contains("could not be configured")
                    .contains("sessionsPerEnsemble")
                    .contains("-3");
            assertThat(analysis.getAction()).contains("ZkSessionPoolCustomizer");
        });
    }

    /** What Spring Boot's FailureAnalyzers do: the analyzers registered in spring.factories, first answer wins. */
    static FailureAnalysis analyze(Throwable failure) {
        List<FailureAnalyzer> analyzers = SpringFactoriesLoader.forDefaultResourceLocation()
                .load(FailureAnalyzer.class, SpringFactoriesLoader.ArgumentResolver.none(), (type, name, e) -> {});
        assertThat(analyzers).hasAtLeastOneElementOfType(ZkSessionPoolFailureAnalyzer.class);
        for (FailureAnalyzer analyzer : analyzers) {
            FailureAnalysis analysis = analyzer.analyze(failure);
            if (analysis != null) {
                return analysis;
            }
        }
        return null;
    }

    /** What Actuator's /configprops/zksdk answers with these sanitizing functions and this show-values setting. */
    private static String configprops(
            AssertableApplicationContext context, List<SanitizingFunction> sanitizing, Show show) {
        ConfigurationPropertiesReportEndpoint endpoint = new ConfigurationPropertiesReportEndpoint(sanitizing, show);
        endpoint.setApplicationContext(context);
        return JsonMapper.builder().build().writeValueAsString(endpoint.configurationPropertiesWithPrefix("zksdk"));
    }

    static <T extends Throwable> T cause(AssertableApplicationContext context, Class<T> type) {
        assertThat(context).hasFailed();
        for (Throwable t = context.getStartupFailure(); t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        throw new AssertionError("start-up did not fail with " + type.getSimpleName(), context.getStartupFailure());
    }

    static String messages(Throwable failure) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append('\n');
        }
        return all.toString();
    }

    @Configuration(proxyBeanMethods = false)
    static class NoStartupConnect {
        @Bean
        ZkSessionPoolStartupConnector zkSessionPoolStartupConnector() {
            return new ZkSessionPoolStartupConnector(null, Duration.ofSeconds(1)) {
                @Override
                public void afterSingletonsInstantiated() {}
            };
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class BadCustomizer {
        @Bean
        ZkSessionPoolCustomizer badSessions() {
            return builder -> builder.sessionsPerEnsemble(-3);
        }
    }
}
