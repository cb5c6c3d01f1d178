package dev.zksdk.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.EphemeralNode;
import dev.zksdk.OperationPolicy;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.diagnostics.DiagnosticsReport;
import dev.zksdk.diagnostics.EnsembleDoctor;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.internal.session.JaasSections;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.testing.LogCapture;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.SecretScan;
import dev.zksdk.testing.SecureServer;
import dev.zksdk.testing.TestPki;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.security.auth.login.Configuration;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.X509Util;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Secrets never leak: the whole security flow (digest and SASL together, TLS with key and trust store passwords,
 * creator-only ACLs, ephemerals, watches, a Curator recipe, and every kind of failure: NOAUTH, AUTHFAILED, an
 * untrusted server, a wrong store password, a malformed credential) runs with every logger of the JVM at DEBUG, and
 * then the logs, the {@code toString()} of every config and runtime object, every exception (messages, causes, stack
 * traces), session events and the diagnostics report (text and JSON) are searched for every secret in every byte
 * rendering. Session passwords the server handed out count as secrets too.
 *
 * <p>The pool also publishes to a Micrometer registry during the flow, and every meter's name, tags and value is
 * searched too. Health details are produced by sdk-spring; its own leak test scans them the same way.
 */
class SecretLeakIT {

    private static final String DIGEST_PW = "dg-" + UUID.randomUUID();
    private static final String WRONG_DIGEST_PW = "wdg-" + UUID.randomUUID();
    private static final String SASL_PW = "sl-" + UUID.randomUUID();
    private static final String WRONG_SASL_PW = "wsl-" + UUID.randomUUID();
    private static final byte[] DATA = "payload".getBytes(StandardCharsets.UTF_8);

    static TestPki pki;
    static SecureServer server;

    @BeforeAll
    static void start() {
        pki = TestPki.shared();
        server = SecureServer.start(pki, Map.of("alice", SASL_PW));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static SecretScan secrets() {
        return new SecretScan()
                .secret("digest password", DIGEST_PW)
                .secret("digest credential", "carol:" + DIGEST_PW)
                .secret("wrong digest password", WRONG_DIGEST_PW)
                .secret("SASL password", SASL_PW)
                .secret("wrong SASL password", WRONG_SASL_PW)
                .secret("client key store password", pki.clientKeyStorePassword())
                .secret("client trust store password", pki.clientTrustStorePassword());
    }

    @Test
    void noSecretAppearsInLogsToStringsExceptionsEventsOrDiagnostics() throws Exception {
        SecretScan scan = secrets();
        List<Object> printed = new ArrayList<>();
        List<Throwable> thrown = new ArrayList<>();
        List<byte[]> sessionPasswords = new ArrayList<>();
        Recorder recorder = new Recorder();
        List<Object> events;
        String logText;
        int debugLines;
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        StringBuilder meters = new StringBuilder();
        try (LogCapture logs = LogCapture.atDebug()) {
            TlsConfig tls = TlsConfig.builder()
                    .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword())
                    .trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword())
                    .build();
            SaslConfig sasl = SaslConfig.digest("alice", SASL_PW);
            EnsembleConfig overTls = EnsembleConfig.builder()
                    .connectString(server.secureConnectString())
                    .sessionTimeout(Duration.ofSeconds(4))
                    .connectionTimeout(Duration.ofSeconds(3))
                    .digest("carol", DIGEST_PW)
                    .tls(tls)
                    .aclProvider(ZkAcls.creatorAll())
                    .build();
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .name("leak-check")
                    .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                    .connectString(server.plainConnectString())
                    .sessionTimeout(Duration.ofSeconds(4))
                    .connectionTimeout(Duration.ofSeconds(3))
                    .digest("carol", DIGEST_PW)
                    .sasl(sasl)
                    .aclProvider(ZkAcls.creatorAll())
                    .listener(recorder)
                    .build()) {
                for (EnsembleConfig ensemble : List.of(pool.defaultEnsemble(), overTls)) {
                    String root = ensemble == overTls ? "/leak-tls" : "/leak-plain";
                    try (ZkLease lease = pool.lease(ensemble)) {
                        lease.create(root, DATA, CreateMode.PERSISTENT);
                        lease.setData(root, DATA, -1);
                        lease.getData(root);
                        Recorder seen = new Recorder();
                        try (WatchHandle watch = lease.watch(root, seen);
                                EphemeralNode node = lease.ephemeral(root + "/members/m1", DATA)) {
                            lease.setData(root, "changed".getBytes(StandardCharsets.UTF_8), -1);
                            await().atMost(Duration.ofSeconds(10))
                                    .until(() -> !seen.watchEvents().isEmpty());
                            InterProcessMutex lock = new InterProcessMutex(lease.curator(), root + "/lock");
                            lock.acquire();
                            lock.release();
                            printed.addAll(List.of(
                                    watch, node, lease.curator().getACL().forPath(root)));
                        }
                        printed.add(seen.watchEvents()); // all the watch was told, now that it is closed
                        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
                        sessionPasswords.add(zk.getSessionPasswd());
                        printed.addAll(List.of(lease, zk, zk.getClientConfig(), pool.stats()));
                    }
                }
                // Every kind of failure, each with a secret close by.
                EnsembleConfig wrongDigest = EnsembleConfig.builder()
                        .connectString(server.plainConnectString())
                        .digest("carol", WRONG_DIGEST_PW)
                        .build();
                try (ZkLease impostor = pool.lease(wrongDigest)) {
                    thrown.add(catchThrowable(() -> impostor.getData("/leak-plain")));
                }
                EnsembleConfig wrongSasl = EnsembleConfig.builder()
                        .connectString(server.plainConnectString())
                        .sasl(SaslConfig.digest("alice", WRONG_SASL_PW))
                        .build();
                thrown.add(catchThrowable(() -> pool.lease(wrongSasl)));
                EnsembleConfig untrusted = EnsembleConfig.builder()
                        .connectString(server.secureConnectString())
                        .connectionTimeout(Duration.ofSeconds(2))
                        .tls(TlsConfig.builder()
                                .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword())
                                .build())
                        .build();
                thrown.add(catchThrowable(() -> pool.lease(untrusted)));
                thrown.add(catchThrowable(() -> TlsConfig.builder()
                        .keyStore(pki.clientKeyStore(), pki.clientTrustStorePassword())
                        .build()));
                thrown.add(catchThrowable(() -> EnsembleConfig.builder()
                        .connectString(server.plainConnectString())
                        .authorization("digest", DIGEST_PW.getBytes(StandardCharsets.UTF_8))));
                printed.addAll(List.of(pool, pool.stats(), wrongDigest, wrongSasl, untrusted));
                // Read while the pool is open: closing it removes its meters.
                for (Meter meter : registry.getMeters()) {
                    meters.append(meter.getId())
                            .append(' ')
                            .append(meter.getId().getDescription())
                            .append(' ');
                    meter.measure().forEach(m -> meters.append(m).append(' '));
                    meters.append('\n');
                }
            }
            DiagnosticsReport report = EnsembleDoctor.probe(server.plainConnectString());
            printed.addAll(List.of(report.toText(), report.toJson(), report));
            printed.addAll(List.of(
                    tls,
                    sasl,
                    overTls,
                    overTls.authorizations(),
                    overTls.aclProvider(),
                    ZkAcls.digest("carol", DIGEST_PW, 31),
                    OperationPolicy.defaults(),
                    HostsConfig.defaults(),
                    Configuration.getConfiguration()));
            // What the pool told its listeners: every session event and recovery, in order.
            events = recorder.callbacks().stream()
                    .filter(c -> c.kind() == Recorder.Kind.STATE_CHANGE || c.kind() == Recorder.Kind.RECOVERED)
                    .map(Recorder.Callback::value)
                    .toList();
            printed.addAll(events);
            logText = logs.text();
            debugLines = (int) logs.count(l -> l.startsWith("DEBUG org.apache.zookeeper"));
        }

        for (int i = 0; i < sessionPasswords.size(); i++) {
            scan.secret("session password " + i, sessionPasswords.get(i));
        }
        scan.check("logs at DEBUG", logText);
        assertThat(meters.toString()).as("meters were published").contains("zksdk.operations");
        scan.check("meter names, tags and values", meters.toString());
        for (Object o : printed) {
            scan.check("toString of " + (o == null ? "null" : o.getClass().getName()), String.valueOf(o));
        }
        for (Throwable t : thrown) {
            assertThat(t).as("each failure case failed").isNotNull();
            scan.check("exception " + t.getClass().getName(), t);
        }

        assertThat(debugLines).as("ZooKeeper's DEBUG lines captured").isGreaterThan(100);
        assertThat(sessionPasswords).hasSize(2);
        assertThat(events).isNotEmpty();
        assertThat(scan.secretCount()).isEqualTo(9);
        assertThat(scan.leaks()).isEmpty();
    }

    /**
     * The check can fail: a plain ZooKeeper client with SASL and digest credentials on its default (NIO) socket logs
     * the held-back {@code addauth} packet, credentials in hex, at DEBUG. The scan finds it; this is also why the pool
     * runs SASL sessions on the Netty socket, which holds packets back without logging them.
     */
    @Test
    void theScanFindsZooKeepersOwnDebugLeakOfDigestCredentials() throws Exception {
        SecretScan scan = secrets();
        SaslConfig sasl = SaslConfig.digest("alice", SASL_PW);
        String section = JaasSections.acquire(sasl);
        String logText;
        try (LogCapture logs = LogCapture.atDebug()) {
            ZKClientConfig config = new ZKClientConfig();
            config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "true");
            config.setProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY, section);
            config.setProperty(X509Util.FIPS_MODE_PROPERTY, "false");
            config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, "org.apache.zookeeper.ClientCnxnSocketNIO");
            ZooKeeper raw = new ZooKeeper(server.plainConnectString(), 4000, event -> {}, config);
            try {
                raw.addAuthInfo("digest", ("carol:" + DIGEST_PW).getBytes(StandardCharsets.UTF_8));
                await().atMost(Duration.ofSeconds(10)).until(() -> raw.getState() == ZooKeeper.States.CONNECTED);
                raw.exists("/", false);
            } finally {
                raw.close();
            }
            logText = logs.text();
        } finally {
            JaasSections.release(sasl);
        }
        scan.check("logs of a raw ZooKeeper client", logText);
        assertThat(scan.leaks())
                .anyMatch(leak -> leak.startsWith("digest credential in logs of a raw ZooKeeper client")
                        && leak.contains("request:: 0,'digest,#<digest credential>"));
    }
}
