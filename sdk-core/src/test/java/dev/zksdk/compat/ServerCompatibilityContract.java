package dev.zksdk.compat;

import static dev.zksdk.compat.CompatibilityMatrix.Feature;
import static dev.zksdk.compat.CompatibilityMatrix.Outcome;
import static dev.zksdk.compat.CompatibilityMatrix.expected;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EphemeralNode;
import dev.zksdk.SessionState;
import dev.zksdk.WatchEvent;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkAuthException;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.ZkUnavailableException;
import dev.zksdk.ZkUnsupportedException;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.diagnostics.DiagnosticsReport;
import dev.zksdk.diagnostics.DoctorOptions;
import dev.zksdk.diagnostics.EnsembleDoctor;
import dev.zksdk.diagnostics.FindingCode;
import dev.zksdk.diagnostics.ServerReport;
import dev.zksdk.security.TlsConfig;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.TestPki;
import dev.zksdk.testing.TxnLogOracle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Version;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The compatibility smoke suite, run against a standalone server of each version of {@link CompatibilityMatrix} (one
 * subclass per version, each server a separate process from that version's own jars). Every test asserts the matrix's
 * cell for its feature, and that no feature made the shared session reconnect more than the cell says.
 *
 * <p>Where the matrix says TLS works, the server also has a TLS client port (client certificates required, from
 * {@link TestPki#shared()}): it then runs ZooKeeper's Netty connection factory for both ports, as a server with TLS
 * does, and every other test meets it on the plaintext one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ServerCompatibilityContract {

    static final byte[] V = "v".getBytes(UTF_8);

    ProcessEnsemble server;
    String connect;
    /** The TLS client port's connect string; null where the matrix says there is no TLS. */
    String secureConnect;

    /** The matrix column: one of {@link CompatibilityMatrix#VERSIONS}. */
    abstract String version();

    boolean own() {
        return version().equals("3.9");
    }

    boolean tlsWorks() {
        return expected(Feature.TLS, version()).outcome() == Outcome.WORKS;
    }

    @BeforeAll
    void startServer() {
        ProcessEnsemble.Builder b = ProcessEnsemble.builder().size(1);
        if (!own()) {
            b.serverVersion(version());
        }
        if (tlsWorks()) {
            b.secureClientPort(TestPki.shared());
        }
        server = b.start();
        connect = server.connectString();
        secureConnect = tlsWorks() ? server.secureConnectString() : null;
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    long unknownBefore;

    @BeforeEach
    void countUnknownRequests() throws Exception {
        unknownBefore = unknownRequests();
    }

    /**
     * What {@code pools} new pools cost in unknown requests: on 3.5, one each (the first connection's 3.6 probe, which
     * the server answers by closing that connection, before anyone uses it); elsewhere none.
     */
    long probesOfNewPools(int pools) {
        return version().startsWith("3.5.") ? pools : 0;
    }

    /**
     * Requests the server did not know, from its own log (3.4 and 3.5 log each and close the connection after it): how
     * many since the test began.
     */
    long unknownRequestsSinceStart() throws Exception {
        return unknownRequests() - unknownBefore;
    }

    private long unknownRequests() {
        return ServerLogs.lines(server, l -> l.contains(ServerLogs.UNKNOWN)).size();
    }

    /**
     * Whether the server created {@code path} as a container node, from its transaction log (a Stat does not say: the
     * server reports a container's ephemeralOwner as 0).
     */
    boolean createdAsContainer(String path) {
        Path dataDir = server.servers().get(0).directory().resolve("data");
        return TxnLogOracle.read(dataDir.toFile()).txns().stream()
                .filter(t -> t.applied()
                        && t.ops().stream()
                                .anyMatch(op -> op.type() == TxnLogOracle.OpType.CREATE
                                        && op.path().equals(path)))
                .map(t -> t.opCode() == ZooDefs.OpCode.createContainer)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no create of " + path + " in the transaction log"));
    }

    ZkSessionPool pool(Recorder events) {
        return ZkSessionPool.builder()
                .name("compat-" + version())
                .connectString(connect)
                .sessionsPerEnsemble(1)
                .sessionTimeout(Duration.ofSeconds(10))
                .listener(events)
                .build();
    }

    static long reconnects(Recorder events) {
        return events.callbacks(SessionState.SUSPENDED).size();
    }

    static String unique(String name) {
        return "/compat-" + name + "-" + System.nanoTime();
    }

    static void expire(ZkLease lease, String connect) throws Exception {
        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
        ForcedExpiry.expireSession(connect, zk.getSessionId(), zk.getSessionPasswd());
    }

    @Test
    void serverIsTheVersionOfItsColumn() {
        String srvr = server.servers().get(0).fourLetter("srvr");
        String expectedVersion = own() ? Version.getFullVersion().split("-")[0] : version();
        assertThat(srvr).contains("Zookeeper version: " + expectedVersion);
    }

    @Test
    void everyLeaseOperationSyncAndAsync() throws Exception {
        Recorder events = new Recorder();
        String base = unique("ops");
        try (ZkSessionPool pool = pool(events);
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            String seq = lease.create(base + "/s-", V, CreateMode.PERSISTENT_SEQUENTIAL);
            assertThat(seq).startsWith(base + "/").endsWith("s-0000000000");
            assertThat(lease.getData(base)).isEqualTo(V);
            Stat stat = lease.setData(base, "w".getBytes(UTF_8), 0);
            assertThat(stat.getVersion()).isEqualTo(1);
            assertThat(lease.getChildren(base)).hasSize(1);
            lease.sync(base);
            List<OpResult> results = lease.multi(List.of(
                    Op.create(base + "/m", V, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                    Op.setData(base, V, 1),
                    Op.check(base, 2)));
            assertThat(results).hasSize(3);
            String async =
                    lease.createAsync(base + "/a", V, CreateMode.PERSISTENT).get(10, TimeUnit.SECONDS);
            assertThat(lease.getDataAsync(async).get(10, TimeUnit.SECONDS)).isEqualTo(V);
            assertThat(lease.existsAsync(async).get(10, TimeUnit.SECONDS)).isNotNull();
            assertThat(lease.getChildrenAsync(base).get(10, TimeUnit.SECONDS)).hasSize(3);
            lease.setDataAsync(async, V, 0).get(10, TimeUnit.SECONDS);
            lease.deleteAsync(async, 1).get(10, TimeUnit.SECONDS);
            lease.syncAsync(base).get(10, TimeUnit.SECONDS);
            lease.multiAsync(List.of(Op.delete(base + "/m", 0))).get(10, TimeUnit.SECONDS);
            lease.delete(seq, 0);
            assertThat(lease.exists(base + "/m")).isNull();
            lease.delete(base, 2);
            assertThat(lease.exists(base)).isNull();
            assertThat(reconnects(events)).as("reconnects").isZero();
        }
        assertThat(unknownRequestsSinceStart())
                .as("requests the server did not know")
                .isEqualTo(probesOfNewPools(1));
        assertThat(expected(Feature.OPERATIONS, version()).outcome()).isEqualTo(Outcome.WORKS);
    }

    /** Ephemeral under missing parents, then a real expiry: the recovery re-creates it under the new session. */
    @Test
    void ephemeralWithMissingParentsAndItsRecoveryAfterExpiry() throws Exception {
        Recorder events = new Recorder();
        String base = unique("eph");
        String path = base + "/a/b/node";
        try (ZkSessionPool pool = pool(events);
                ZkLease lease = pool.lease();
                EphemeralNode node = lease.ephemeral(path, V)) {
            long first = lease.sessionId();
            Stat stat = lease.exists(path);
            assertThat(stat).as(path).isNotNull();
            assertThat(stat.getEphemeralOwner()).isEqualTo(first);
            Outcome parents = expected(Feature.EPHEMERAL_PARENTS, version()).outcome();
            for (String parent : List.of(base, base + "/a", base + "/a/b")) {
                assertThat(createdAsContainer(parent))
                        .as(parent + " created as a container")
                        .isEqualTo(parents == Outcome.WORKS);
            }
            assertThat(reconnects(events)).as("reconnects before the expiry").isZero();

            List<WatchEvent> seen = new CopyOnWriteArrayList<>();
            lease.watch(base, seen::add);
            expire(lease, connect);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                long now = lease.sessionId();
                assertThat(now).isNotEqualTo(first);
                Stat s = lease.exists(path);
                assertThat(s).isNotNull();
                assertThat(s.getEphemeralOwner()).isEqualTo(now);
                assertThat(node.isPresent()).isTrue();
            });
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> seen.stream().anyMatch(e -> e.type() == WatchEvent.Type.RESYNC));
            lease.setData(base, "after".getBytes(UTF_8), -1);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> seen.stream().anyMatch(e -> e.type() == WatchEvent.Type.DATA_CHANGED));
        }
        assertThat(unknownRequestsSinceStart())
                .as("requests the server did not know")
                .isEqualTo(probesOfNewPools(1));
        assertThat(expected(Feature.RECOVERY, version()).outcome()).isEqualTo(Outcome.WORKS);
    }

    /**
     * Node and children watches and a node cache deliver changes; on servers without persistent watches they are
     * re-armed one-shot watches, known before the pool's first connection is used: no watch costs a reconnect.
     */
    @Test
    void watchesAndCaches() throws Exception {
        Recorder events = new Recorder();
        String base = unique("watch");
        try (ZkSessionPool pool = pool(events);
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            List<WatchEvent> node = new CopyOnWriteArrayList<>();
            List<WatchEvent> children = new CopyOnWriteArrayList<>();
            try (WatchHandle w1 = lease.watch(base, node::add);
                    WatchHandle w2 = lease.watchChildren(base, children::add);
                    WatchHandle w3 = lease.watch(base + "/other", e -> {});
                    ZkCache cache = lease.cache(base)) {
                for (int i = 1; i <= 3; i++) {
                    byte[] value = ("x" + i).getBytes(UTF_8);
                    lease.setData(base, value, -1);
                    lease.create(base + "/c" + i, V, CreateMode.PERSISTENT);
                    int n = i;
                    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                        assertThat(node.stream().filter(e -> e.type() == WatchEvent.Type.DATA_CHANGED))
                                .hasSizeGreaterThanOrEqualTo(n);
                        assertThat(children.stream().filter(e -> e.type() == WatchEvent.Type.CHILDREN_CHANGED))
                                .hasSizeGreaterThanOrEqualTo(n);
                        assertThat(cache.get()).isNotNull();
                        assertThat(cache.get().data()).isEqualTo(value);
                    });
                }
            }
            assertThat(reconnects(events))
                    .as("reconnects for three watches and a cache ("
                            + expected(Feature.WATCHES, version()).render() + ")")
                    .isZero();
            // A later watch on the same ensemble costs nothing.
            long before = reconnects(events);
            try (WatchHandle again = lease.watch(base, e -> {})) {
                assertThat(again).isNotNull();
            }
            lease.setData(base, V, -1);
            assertThat(reconnects(events)).as("reconnects for a later watch").isEqualTo(before);
        }
        assertThat(unknownRequestsSinceStart())
                .as("requests the server did not know")
                .isEqualTo(probesOfNewPools(1));
    }

    @Test
    void treeWatchesAndTreeCaches() throws Exception {
        Recorder events = new Recorder();
        String base = unique("tree");
        try (ZkSessionPool pool = pool(events);
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            Outcome outcome = expected(Feature.TREE_WATCHES, version()).outcome();
            if (outcome == Outcome.FAILS_CLEARLY) {
                assertThatThrownBy(() -> lease.watchTree(base, e -> {}))
                        .isInstanceOf(ZkUnsupportedException.class)
                        .hasMessageContaining("3.6")
                        .hasMessageContaining(connect);
                long after = reconnects(events);
                assertThat(after).as("reconnects for the first tree watch").isZero();
                // Known now: refused at once, nothing sent, no reconnect.
                long start = System.nanoTime();
                assertThatThrownBy(() -> lease.treeCache(base)).isInstanceOf(ZkUnsupportedException.class);
                assertThatThrownBy(() -> lease.watchTree(base, e -> {})).isInstanceOf(ZkUnsupportedException.class);
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                        .as("refused without a round trip")
                        .isLessThan(1_000);
                assertThat(reconnects(events))
                        .as("reconnects after it is known")
                        .isEqualTo(after);
                lease.setData(base, V, -1); // the session still works
            } else {
                List<WatchEvent> seen = new CopyOnWriteArrayList<>();
                try (WatchHandle w = lease.watchTree(base, seen::add)) {
                    lease.create(base + "/deep", V, CreateMode.PERSISTENT);
                    lease.create(base + "/deep/er", V, CreateMode.PERSISTENT);
                    await().atMost(Duration.ofSeconds(10))
                            .until(() -> seen.stream().anyMatch(e -> e.path().equals(base + "/deep/er")));
                }
                assertThat(reconnects(events)).isZero();
            }
        }
        assertThat(unknownRequestsSinceStart())
                .as("requests the server did not know")
                .isEqualTo(probesOfNewPools(1));
    }

    @Test
    void containerNodeByName() throws Exception {
        Recorder events = new Recorder();
        String base = unique("container");
        try (ZkSessionPool pool = pool(events);
                ZkLease lease = pool.lease()) {
            if (expected(Feature.CONTAINER_CREATE, version()).outcome() == Outcome.FAILS_CLEARLY) {
                assertThatThrownBy(() -> lease.create(base, V, CreateMode.CONTAINER))
                        .isInstanceOf(ZkUnsupportedException.class)
                        .hasMessageContaining("3.5");
                assertThat(lease.exists(base)).isNull();
            } else {
                lease.create(base, V, CreateMode.CONTAINER);
                assertThat(createdAsContainer(base))
                        .as("created as a container")
                        .isTrue();
            }
            assertThat(reconnects(events)).as("reconnects").isZero();
        }
        assertThat(unknownRequestsSinceStart())
                .as("requests the server did not know")
                .isEqualTo(probesOfNewPools(1));
    }

    /** Curator's recipes on {@code lease.curator()} (they send every create as {@code create2}). */
    @Test
    void curatorRecipes() throws Exception {
        Recorder events = new Recorder();
        String base = unique("recipes");
        try (ZkSessionPool pool = pool(events);
                ZkLease a = pool.lease();
                ZkLease b = pool.lease()) {
            CuratorFramework curator = a.curator();
            InterProcessMutex mutex = new InterProcessMutex(curator, base + "/lock");
            assertThat(mutex.acquire(10, TimeUnit.SECONDS)).isTrue();
            InterProcessMutex other = new InterProcessMutex(b.curator(), base + "/lock");
            assertThat(other.acquire(200, TimeUnit.MILLISECONDS))
                    .as("held by the first")
                    .isFalse();
            mutex.release();
            assertThat(other.acquire(10, TimeUnit.SECONDS)).isTrue();
            other.release();

            try (LeaderLatch latch = new LeaderLatch(curator, base + "/leader", "a")) {
                latch.start();
                assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
            }

            DistributedAtomicLong counter = new DistributedAtomicLong(curator, base + "/counter", new RetryOneTime(10));
            AtomicValue<Long> one = counter.increment();
            AtomicValue<Long> two = counter.increment();
            assertThat(one.succeeded()).isTrue();
            assertThat(two.postValue()).isEqualTo(2L);

            Stat stat = new Stat();
            String created = curator.create().storingStatIn(stat).forPath(base + "/with-stat", V);
            assertThat(stat.getCzxid()).as("Stat filled").isPositive();
            assertThat(stat.getDataLength()).isEqualTo(V.length);
            assertThat(a.exists(created).getCzxid()).isEqualTo(stat.getCzxid());
            assertThat(reconnects(events)).as("reconnects").isZero();
        }
        assertThat(unknownRequestsSinceStart())
                .as("requests the server did not know")
                .isEqualTo(probesOfNewPools(1));
        assertThat(expected(Feature.RECIPES, version()).outcome()).isNotEqualTo(Outcome.FAILS_CLEARLY);
    }

    @Test
    void doctorReadsTheServer() {
        DiagnosticsReport report = EnsembleDoctor.probe(connect, Duration.ofSeconds(10));
        assertThat(report.servers()).hasSize(1);
        ServerReport s = report.servers().get(0);
        assertThat(s.reachable()).isTrue();
        assertThat(s.serving()).as(s.toString()).isTrue();
        assertThat(s.mode()).isEqualTo("standalone");
        String expectedVersion = own() ? Version.getFullVersion().split("-")[0] : version();
        assertThat(s.version()).startsWith(expectedVersion);
        assertThat(s.zxid()).isNotNull();
        assertThat(expected(Feature.DOCTOR, version()).outcome()).isEqualTo(Outcome.WORKS);
    }

    @Test
    void digestAuthAndAcls() throws Exception {
        String base = unique("auth");
        try (ZkSessionPool authed = ZkSessionPool.builder()
                        .name("compat-auth-" + version())
                        .connectString(connect)
                        .digest("alice", "secret")
                        .build();
                ZkSessionPool anonymous = pool(new Recorder());
                ZkLease a = authed.lease();
                ZkLease n = anonymous.lease()) {
            a.create(base, V, CreateMode.PERSISTENT, List.of(new ACL(ZooDefs.Perms.ALL, ZooDefs.Ids.AUTH_IDS)));
            assertThat(a.getData(base)).isEqualTo(V);
            assertThatThrownBy(() -> n.getData(base)).isInstanceOf(ZkAuthException.class);
        }
        assertThat(unknownRequestsSinceStart())
                .as("requests the server did not know")
                .isEqualTo(probesOfNewPools(2));
        assertThat(expected(Feature.DIGEST_AUTH, version()).outcome()).isEqualTo(Outcome.WORKS);
    }

    /** The client certificate of {@link TestPki#shared()}, as the server's {@code x509} provider names it. */
    static final Id CLIENT_CERTIFICATE = new Id("x509", "CN=zk-sdk-client");

    static TlsConfig.Builder clientTls(TestPki pki) {
        return TlsConfig.builder()
                .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword())
                .trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword());
    }

    /** A pool for a connection that should fail: it gives up after a short connection timeout. */
    ZkSessionPool.Builder failingPool(String connectString) {
        return ZkSessionPool.builder()
                .name("compat-failing-" + version())
                .connectString(connectString)
                .sessionsPerEnsemble(1)
                .sessionTimeout(Duration.ofSeconds(4))
                .connectionTimeout(Duration.ofSeconds(2));
    }

    /**
     * A pool with the client certificate on the TLS port: lease writes and reads, an ephemeral the server holds for
     * the TLS session, a node only that certificate may read; a plaintext pool cannot use the TLS port, nor a TLS pool
     * without a certificate. Before 3.9 the server speaks only TLSv1.2 by default, which the pool offers by default
     * besides TLSv1.3; a pool told to offer TLSv1.3 only is refused there ({@link
     * CompatibilityMatrix#serverSpeaksOnlyTls12}).
     * Where there is no TLS, the fixture refuses a TLS port, and a TLS pool on the plaintext port fails within its
     * connection timeout, saying that port is not a {@code secureClientPort}.
     */
    @Test
    void tls() throws Exception {
        TestPki pki = TestPki.shared();
        Outcome outcome = expected(Feature.TLS, version()).outcome();
        if (outcome == Outcome.FAILS_CLEARLY) {
            assertThat(secureConnect).isNull();
            assertThatThrownBy(() -> ProcessEnsemble.builder()
                            .size(1)
                            .serverVersion(version())
                            .secureClientPort(pki)
                            .start())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("secureClientPort")
                    .hasMessageContaining(ProcessEnsemble.FIRST_TLS_VERSION)
                    .hasMessageContaining(version());
            long start = System.nanoTime();
            try (ZkSessionPool tlsOnPlainPort =
                    failingPool(connect).tls(clientTls(pki).build()).build()) {
                assertThatThrownBy(tlsOnPlainPort::lease)
                        .isInstanceOf(ZkUnavailableException.class)
                        .hasMessageContaining("is " + connect + " the server's secureClientPort?");
            }
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                    .as("ms until a TLS pool on a server without TLS gives up (connection timeout 2 s)")
                    .isLessThan(10_000);
            // The doctor's TLS probe on that port says so: the port speaks plain text.
            DiagnosticsReport report = EnsembleDoctor.probe(
                    connect,
                    DoctorOptions.builder()
                            .timeout(Duration.ofSeconds(5))
                            .tls(clientTls(pki).build())
                            .build());
            assertThat(report.servers()).hasSize(1);
            assertThat(report.servers().get(0).tlsMismatch())
                    .as(report.toText())
                    .isTrue();
            assertThat(report.findings(FindingCode.TLS_MISMATCH))
                    .as(report.toText())
                    .hasSize(1);
            assertThat(report.toText()).contains("the port speaks plain text and was probed over TLS");
            // The server serves plaintext clients as before.
            try (ZkSessionPool plain = pool(new Recorder());
                    ZkLease lease = plain.lease()) {
                assertThat(lease.exists("/")).isNotNull();
            }
            assertThat(unknownRequestsSinceStart())
                    .as("requests the server did not know")
                    .isEqualTo(probesOfNewPools(1));
            return;
        }
        assertThat(outcome).isEqualTo(Outcome.WORKS);
        assertThat(secureConnect).isNotNull().isNotEqualTo(connect);
        TlsConfig.Builder certificate = clientTls(pki);
        TlsConfig.Builder noCertificate =
                TlsConfig.builder().trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword());
        if (CompatibilityMatrix.serverSpeaksOnlyTls12(version())) {
            // The pool's default offers TLSv1.2 too (ZooKeeper's client alone would offer TLSv1.3 only, which this
            // server does not speak): a pool told to offer TLSv1.3 only is refused, and says why.
            // The refusal is an alert answering the first message, so it comes at once; the longer connection timeout
            // only keeps a slow handshake on a loaded machine from ending the attempt before the alert arrives.
            try (ZkSessionPool tls13Only = failingPool(secureConnect)
                    .sessionTimeout(Duration.ofSeconds(10))
                    .connectionTimeout(Duration.ofSeconds(10))
                    .tls(clientTls(pki).enabledProtocols("TLSv1.3").build())
                    .build()) {
                assertThatThrownBy(tls13Only::lease)
                        .isInstanceOf(ZkUnavailableException.class)
                        .hasMessageContaining("TLS handshake with " + secureConnect + " failed: the server speaks "
                                + "none of the TLS protocols offered (enabledProtocols [TLSv1.3]")
                        .hasMessageContaining("protocol_version");
            }
        }
        Recorder events = new Recorder();
        String base = unique("tls");
        String ephemeral = base + "/a/eph";
        String certificateOnly = base + "/certificate-only";
        try (ZkSessionPool tls = ZkSessionPool.builder()
                        .name("compat-tls-" + version())
                        .connectString(secureConnect)
                        .tls(certificate.build())
                        .sessionsPerEnsemble(1)
                        .sessionTimeout(Duration.ofSeconds(10))
                        .connectionTimeout(Duration.ofSeconds(10))
                        .listener(events)
                        .build();
                ZkLease lease = tls.lease();
                ZkSessionPool plain = pool(new Recorder());
                ZkLease plainLease = plain.lease()) {
            try (EphemeralNode node = lease.ephemeral(ephemeral, V)) {
                lease.setData(base, "w".getBytes(UTF_8), -1);
                assertThat(lease.getData(base)).isEqualTo("w".getBytes(UTF_8));
                lease.create(
                        certificateOnly,
                        V,
                        CreateMode.PERSISTENT,
                        List.of(new ACL(ZooDefs.Perms.ALL, CLIENT_CERTIFICATE)));
                assertThat(lease.getData(certificateOnly)).isEqualTo(V);
                assertThat(tls.stats().connectionsPerServer()).containsOnlyKeys(secureConnect);

                // What the server holds, seen by a plaintext session: the TLS session's ephemeral, and a node only
                // the client certificate may read.
                Stat stat = plainLease.exists(ephemeral);
                assertThat(stat).as(ephemeral + " seen over plaintext").isNotNull();
                assertThat(stat.getEphemeralOwner()).isEqualTo(lease.sessionId());
                assertThat(plainLease.getData(base)).isEqualTo("w".getBytes(UTF_8));
                assertThatThrownBy(() -> plainLease.getData(certificateOnly)).isInstanceOf(ZkAuthException.class);
                assertThat(node.isPresent()).isTrue();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> plainLease.exists(ephemeral) == null);
            assertThat(reconnects(events)).as("reconnects of the TLS session").isZero();
        }

        // The doctor's TLS probe reads the server on its TLS port (TLSv1.2 before 3.9) as it does on the plaintext one.
        DiagnosticsReport report = EnsembleDoctor.probe(
                secureConnect,
                DoctorOptions.builder()
                        .timeout(Duration.ofSeconds(10))
                        .tls(clientTls(pki).build())
                        .build());
        assertThat(report.servers()).hasSize(1);
        ServerReport doctored = report.servers().get(0);
        assertThat(doctored.reachable()).as(report.toText()).isTrue();
        assertThat(doctored.tlsMismatch()).as(report.toText()).isFalse();
        assertThat(doctored.serving()).as(report.toText()).isTrue();
        assertThat(doctored.mode()).isEqualTo("standalone");
        assertThat(doctored.version())
                .startsWith(own() ? Version.getFullVersion().split("-")[0] : version());
        assertThat(report.findings(FindingCode.TLS_MISMATCH))
                .as(report.toText())
                .isEmpty();

        // And it fails when it should: a plaintext pool on the TLS port, a TLS pool without a client certificate.
        try (ZkSessionPool plaintextOnSecurePort = failingPool(secureConnect).build()) {
            assertThatThrownBy(plaintextOnSecurePort::lease)
                    .isInstanceOf(ZkUnavailableException.class)
                    .hasMessageContaining("no session to " + secureConnect + " connected");
        }
        try (ZkSessionPool withoutCertificate =
                failingPool(secureConnect).tls(noCertificate.build()).build()) {
            assertThatThrownBy(withoutCertificate::lease)
                    .isInstanceOf(ZkUnavailableException.class)
                    .hasMessageContaining("TLS handshake with " + secureConnect + " failed")
                    .hasMessageContaining("the server requires a client certificate, and none was sent");
        }
        assertThat(unknownRequestsSinceStart())
                .as("requests the server did not know")
                .isEqualTo(probesOfNewPools(2));
    }

    /**
     * {@code whoAmI} (ZooKeeper 3.7) through the handle of {@code lease.curator()}: the identities where the server
     * has it; elsewhere an {@link UnsupportedOperationException} naming the version. Before 3.6 the pool knows from its
     * probe and sends nothing; a 3.6 server cannot be told from 3.7 without asking, so the first one is sent (the
     * server answers UNIMPLEMENTED and closes the connection, once) and the ensemble remembers it: no later one is
     * sent, and none costs another reconnect. ZooKeeper's own method returns null there and asks again each time.
     */
    @Test
    void whoAmI() throws Exception {
        Recorder events = new Recorder();
        Outcome outcome = expected(Feature.WHO_AM_I, version()).outcome();
        boolean sentOnce = version().startsWith("3.6.");
        try (ZkSessionPool pool = pool(events);
                ZkLease lease = pool.lease()) {
            ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
            if (outcome == Outcome.WORKS) {
                assertThat(zk.whoAmI()).isNotEmpty();
            } else {
                for (int i = 0; i < 3; i++) {
                    assertThatThrownBy(zk::whoAmI)
                            .isInstanceOf(UnsupportedOperationException.class)
                            .hasMessageContaining("whoAmI needs ZooKeeper 3.7 or later");
                    await().atMost(Duration.ofSeconds(10)).until(() -> lease.exists("/") != null);
                }
            }
            lease.create(unique("whoami"), V, CreateMode.PERSISTENT);
            assertThat(reconnects(events))
                    .as("reconnects (" + expected(Feature.WHO_AM_I, version()).render() + ")")
                    .isEqualTo(sentOnce ? 1 : 0);
        }
        assertThat(unknownRequestsSinceStart())
                .as("requests the server did not know")
                .isEqualTo(probesOfNewPools(1) + (sentOnce ? 1 : 0));
    }
}
