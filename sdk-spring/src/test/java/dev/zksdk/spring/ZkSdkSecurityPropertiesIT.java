package dev.zksdk.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.security.TlsConfig;
import dev.zksdk.spring.health.ZkSessionPoolHealthAutoConfiguration;
import dev.zksdk.testing.SecretScan;
import dev.zksdk.testing.SecureServer;
import dev.zksdk.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.ClientInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * TLS through a Spring Boot SSL bundle and SASL through properties, against a real server with a TLS client port
 * (client certificates required) and SASL DIGEST-MD5 users: the identity the server sees is the one the properties
 * name, and no password reaches toString, health or the start-up failure.
 */
class ZkSdkSecurityPropertiesIT {

    private static final String ALICE_PW = "alice-" + UUID.randomUUID();

    private static TestPki pki;
    private static SecureServer server;

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    ZkSessionPoolAutoConfiguration.class,
                    SslAutoConfiguration.class,
                    ZkSessionPoolHealthAutoConfiguration.class,
                    HealthContributorAutoConfiguration.class,
                    HealthContributorRegistryAutoConfiguration.class))
            .withPropertyValues(
                    "zksdk.connect-on-startup=true", "zksdk.initialization-timeout=30s", "zksdk.session-timeout=4s");

    @BeforeAll
    static void start() {
        pki = TestPki.shared();
        server = SecureServer.start(pki, Map.of("alice", ALICE_PW));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private ApplicationContextRunner withBundle() {
        return runner.withPropertyValues(
                "spring.ssl.bundle.jks.zk.keystore.location=file:" + pki.clientKeyStore(),
                "spring.ssl.bundle.jks.zk.keystore.password=" + pki.clientKeyStorePassword(),
                "spring.ssl.bundle.jks.zk.keystore.type=PKCS12",
                "spring.ssl.bundle.jks.zk.truststore.location=file:" + pki.clientTrustStore(),
                "spring.ssl.bundle.jks.zk.truststore.password=" + pki.clientTrustStorePassword(),
                "spring.ssl.bundle.jks.zk.truststore.type=PKCS12");
    }

    @Test
    void aTlsPoolConnectsWithTheSslBundlesClientCertificate() {
        Path[] stores = new Path[2];
        withBundle()
                .withPropertyValues("zksdk.connect-string=" + server.secureConnectString(), "zksdk.ssl.bundle=zk")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    ZkSessionPool pool = context.getBean(ZkSessionPool.class);
                    TlsConfig tls = pool.defaultEnsemble().tls();
                    assertThat(tls).isNotNull();
                    assertThat(tls.hostnameVerification()).isTrue();
                    stores[0] = tls.keyStore();
                    stores[1] = tls.trustStore();
                    // The copies for ZooKeeper are readable by the process owner only.
                    assertThat(Files.getPosixFilePermissions(stores[0].getParent()))
                            .isEqualTo(PosixFilePermissions.fromString("rwx------"));
                    try (ZkLease lease = pool.lease()) {
                        lease.create("/tls-" + UUID.randomUUID(), new byte[] {1}, CreateMode.EPHEMERAL);
                        // The server saw the bundle's client certificate.
                        assertThat(whoAmI(lease))
                                .anyMatch(id -> id.startsWith("x509:") && id.contains("zk-sdk-client"));
                    }
                    Health health = ((HealthIndicator)
                                    context.getBean("zksdkHealthContributor", HealthContributor.class))
                            .health(true);
                    assertThat(health.getStatus()).isEqualTo(Status.UP);
                    SecretScan scan = new SecretScan()
                            .secret("key store password", pki.clientKeyStorePassword())
                            .secret("trust store password", pki.clientTrustStorePassword())
                            .check("pool", pool.toString())
                            .check(
                                    "properties",
                                    context.getBean(ZkSdkProperties.class).toString())
                            .check("health", health.toString());
                    assertThat(scan.leaks()).isEmpty();
                });
        // Deleted with the context.
        assertThat(stores[0]).doesNotExist();
        assertThat(stores[1]).doesNotExist();
        assertThat(stores[0].getParent()).doesNotExist();
    }

    @Test
    void withoutTheBundleTheTlsPortCannotBeUsed() {
        // Trusting the JVM's CAs only, the server's certificate is refused: the bundle above is what made it work.
        withBundle()
                .withPropertyValues(
                        "zksdk.connect-string=" + server.secureConnectString(),
                        "zksdk.ssl.enabled=true",
                        "zksdk.connection-timeout=1s",
                        "zksdk.initialization-timeout=3s")
                .run(context -> {
                    ZkSessionPoolStartupException e =
                            ZkSdkPropertiesCompletenessTest.cause(context, ZkSessionPoolStartupException.class);
                    assertThat(e.getServers()).containsExactly(server.secureConnectString());
                });
    }

    @Test
    void saslPropertiesLogInAsTheNamedUser() {
        runner.withPropertyValues(
                        "zksdk.connect-string=" + server.plainConnectString(),
                        "zksdk.sasl.username=alice",
                        "zksdk.sasl.password=" + ALICE_PW)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    try (ZkLease lease = context.getBean(ZkSessionPool.class).lease()) {
                        assertThat(whoAmI(lease)).contains("sasl:alice");
                    }
                    assertThat(new SecretScan()
                                    .secret("sasl password", ALICE_PW)
                                    .check(
                                            "pool",
                                            context.getBean(ZkSessionPool.class).toString())
                                    .check(
                                            "properties",
                                            context.getBean(ZkSdkProperties.class)
                                                    .toString())
                                    .leaks())
                            .isEmpty();
                });
    }

    @Test
    void refusedSaslCredentialsFailStartUpAtOnceWithoutThePassword() {
        String wrong = "wrong-" + UUID.randomUUID();
        long started = System.nanoTime();
        runner.withPropertyValues(
                        "zksdk.connect-string=" + server.plainConnectString(),
                        "zksdk.sasl.username=alice",
                        "zksdk.sasl.password=" + wrong)
                .run(context -> {
                    long tookMillis = (System.nanoTime() - started) / 1_000_000;
                    ZkSessionPoolStartupException e =
                            ZkSdkPropertiesCompletenessTest.cause(context, ZkSessionPoolStartupException.class);
                    assertThat(e.getMessage()).contains(server.plainConnectString());
                    // Not the 30 s initialization timeout: a refusal does not get better by waiting.
                    assertThat(tookMillis).isLessThan(20_000);
                    FailureAnalysis analysis = ZkSdkPropertiesCompletenessTest.analyze(context.getStartupFailure());
                    assertThat(analysis.getAction()).contains("zksdk.sasl.*");
                    String all = ZkSdkPropertiesCompletenessTest.messages(context.getStartupFailure())
                            + analysis.getDescription()
                            + analysis.getAction();
                    assertThat(new SecretScan()
                                    .secret("wrong password", wrong)
                                    .check("failure", all)
                                    .leaks())
                            .isEmpty();
                });
    }

    private static List<String> whoAmI(ZkLease lease) throws Exception {
        return lease.curator().getZookeeperClient().getZooKeeper().whoAmI().stream()
                .map((ClientInfo c) -> c.getAuthScheme() + ":" + c.getUser())
                .collect(Collectors.toList());
    }
}
