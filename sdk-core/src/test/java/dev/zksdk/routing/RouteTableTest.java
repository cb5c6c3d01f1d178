package dev.zksdk.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.junit.jupiter.api.Test;

/**
 * The routing table's rules, on pools that never connect (nothing here needs a server: {@code build()} and routed
 * leases open nothing, and every refusal happens before anything is sent). What lands on which server is proven
 * against real ensembles in {@link RoutingIT}.
 */
class RouteTableTest {

    static final EnsembleConfig A =
            EnsembleConfig.builder().connectString("127.0.0.1:1").alias("ens-a").build();
    static final EnsembleConfig B =
            EnsembleConfig.builder().connectString("127.0.0.1:2").alias("ens-b").build();
    static final EnsembleConfig C = EnsembleConfig.builder()
            .connectString("127.0.0.1:3/chroot")
            .alias("ens-c")
            .digest("user", "s3cret-password")
            .build();

    static ZkSessionPool.Builder builder() {
        return ZkSessionPool.builder().name("routes-test");
    }

    @Test
    void theBuildersConnectStringIsTheDefaultRouteUnlessSlashIsGiven() {
        try (ZkSessionPool pool =
                builder().connectString("127.0.0.1:9").route("/tenants/a", A).build()) {
            assertThat(pool.routes().table()).containsOnlyKeys("/", "/tenants/a");
            assertThat(pool.routes().ensembleFor("/other")).isEqualTo(pool.defaultEnsemble());
            assertThat(pool.defaultEnsemble().connectString()).isEqualTo("127.0.0.1:9");
        }
        try (ZkSessionPool pool = builder().route("/tenants/a", A).route("/", B).build()) {
            assertThat(pool.routes().ensembleFor("/other")).isEqualTo(B);
            assertThat(pool.defaultEnsemble())
                    .as("no connect string: the / route is the default ensemble")
                    .isEqualTo(B);
        }
        // Both naming the default ensemble, differently: which one the pool's own methods (defaultEnsemble,
        // updateConnectString) act on and which one routed leases use would differ, so it is refused.
        assertThatThrownBy(() ->
                        builder().connectString("127.0.0.1:9").route("/", B).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connectString")
                .hasMessageContaining("route(\"/\", ens-b)");
        try (ZkSessionPool pool = builder()
                .connectString("127.0.0.1:2")
                .route("/", EnsembleConfig.of("127.0.0.1:2"))
                .build()) {
            assertThat(pool.routes().ensembleFor("/other")).isEqualTo(pool.defaultEnsemble());
        }
    }

    @Test
    void theLongestPrefixWinsOnWholeSegments() {
        try (ZkSessionPool pool = builder()
                .route("/", A)
                .route("/tenants", B)
                .route("/tenants/a", C)
                .route("/tenants/a/deep/er", A)
                .build()) {
            var routes = pool.routes();
            assertThat(routes.ensembleFor("/")).isEqualTo(A);
            assertThat(routes.ensembleFor("/x")).isEqualTo(A);
            assertThat(routes.ensembleFor("/tenants")).isEqualTo(B);
            assertThat(routes.ensembleFor("/tenants/b")).isEqualTo(B);
            assertThat(routes.ensembleFor("/tenantsx"))
                    .as("not a whole segment")
                    .isEqualTo(A);
            assertThat(routes.ensembleFor("/tenants/a")).isEqualTo(C);
            assertThat(routes.ensembleFor("/tenants/a/x/y")).isEqualTo(C);
            assertThat(routes.ensembleFor("/tenants/a/"))
                    .as("a sequential create's prefix")
                    .isEqualTo(C);
            assertThat(routes.ensembleFor("/tenants/ab"))
                    .as("not a whole segment")
                    .isEqualTo(B);
            assertThat(routes.ensembleFor("/tenants/ab/c")).isEqualTo(B);
            assertThat(routes.ensembleFor("/tenants/a/deep")).isEqualTo(C);
            assertThat(routes.ensembleFor("/tenants/a/deep/er")).isEqualTo(A);
            assertThat(routes.ensembleFor("/tenants/a/deep/er/1")).isEqualTo(A);
            assertThat(routes.ensembleFor("/tenants/a/deep/err")).isEqualTo(C);
            assertThat(routes.ensembleFor("/tenants/a/deep/e")).isEqualTo(C);
        }
    }

    /** "Aa" and "BB" have the same {@link String#hashCode()}: prefixes are told apart by their text. */
    @Test
    void prefixesWithTheSameHashAreToldApart() {
        assertThat("/Aa".hashCode()).isEqualTo("/BB".hashCode());
        try (ZkSessionPool pool = builder().route("/", A).route("/Aa", B).build()) {
            assertThat(pool.routes().ensembleFor("/Aa/x")).isEqualTo(B);
            assertThat(pool.routes().ensembleFor("/BB/x")).isEqualTo(A);
            pool.routes().route("/BB", C);
            assertThat(pool.routes().ensembleFor("/Aa")).isEqualTo(B);
            assertThat(pool.routes().ensembleFor("/BB")).isEqualTo(C);
            assertThat(pool.routes().ensembleFor("/BB/Aa")).isEqualTo(C);
        }
    }

    @Test
    void badRoutesAreRefusedNamingTheSettingAndTheValue() {
        assertThatThrownBy(() -> builder().route("tenants/a", A))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("route prefix")
                .hasMessageContaining("'tenants/a'");
        assertThatThrownBy(() -> builder().route("/tenants/a/", A))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("route prefix must not end with '/'")
                .hasMessageContaining("'/tenants/a/'");
        assertThatThrownBy(() -> builder().route("/tenants//a", A))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("route prefix '/tenants//a'");
        assertThatThrownBy(() -> builder().route(null, A))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("route prefix must not be null");
        assertThatThrownBy(() -> builder().route("/tenants/a", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("route ensemble for prefix '/tenants/a' must not be null");
        assertThatThrownBy(() -> builder().route("/tenants/a", A).route("/tenants/a", B))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("route prefix '/tenants/a' is given twice")
                .hasMessageContaining("ens-a")
                .hasMessageContaining("ens-b");
        assertThatThrownBy(() -> builder().route("/tenants/a", A).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connectString must be set, or a default route given with route(\"/\"");
        assertThatThrownBy(() -> builder()
                        .sessionTimeout(java.time.Duration.ofSeconds(5))
                        .route("/", A)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sessionTimeout configures the builder's own ensemble");
        try (ZkSessionPool pool = builder().route("/", A).build()) {
            assertThatThrownBy(() -> pool.routes().route("x", B))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'x'");
            assertThatThrownBy(() -> pool.routes().route("/x", null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("route ensemble for prefix '/x' must not be null");
            assertThatThrownBy(() -> pool.routes().remove("/"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("route prefix '/' cannot be removed");
            assertThat(pool.routes().table()).containsOnlyKeys("/");
        }
    }

    @Test
    void aPoolWithoutRoutesHasNoRoutingTable() {
        try (ZkSessionPool pool = builder().connectString("127.0.0.1:9").build()) {
            assertThatThrownBy(pool::routes)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("was built without routes");
        }
    }

    @Test
    void routesChangeAtRuntime() {
        try (ZkSessionPool pool = builder().route("/", A).route("/m", B).build()) {
            var table = pool.routes().table();
            pool.routes().route("/m", C);
            assertThat(pool.routes().ensembleFor("/m/x")).isEqualTo(C);
            assertThat(table).as("a snapshot").containsEntry("/m", B);
            pool.routes().route("/m/n", B);
            assertThat(pool.routes().ensembleFor("/m/n/1")).isEqualTo(B);
            assertThat(pool.routes().remove("/m")).isTrue();
            assertThat(pool.routes().remove("/m")).isFalse();
            assertThat(pool.routes().ensembleFor("/m/x")).isEqualTo(A);
            assertThat(pool.routes().ensembleFor("/m/n/1")).isEqualTo(B);
            pool.routes().route("/", B);
            assertThat(pool.routes().ensembleFor("/m/x")).isEqualTo(B);
        }
    }

    @Test
    void aMultiAcrossEnsemblesIsRefusedBeforeAnyLeaseIsTaken() {
        // Unreachable ensembles: taking a lease on either would wait and fail; the refusal comes first.
        try (ZkSessionPool pool = builder().route("/", A).route("/b", B).build();
                ZkLease lease = pool.lease()) {
            List<Op> ops = List.of(
                    Op.create("/a/1", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                    Op.create("/b/1", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            assertThatThrownBy(() -> lease.multi(ops))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("route to more than one ensemble")
                    .hasMessageContaining("ops[0] /a/1 -> ensemble 'ens-a' (route /)")
                    .hasMessageContaining("ops[1] /b/1 -> ensemble 'ens-b' (route /b)")
                    .hasMessageContaining("nothing was sent");
            assertThatThrownBy(() -> lease.multiAsync(ops)).isInstanceOf(IllegalArgumentException.class);
            assertThat(pool.stats().openSessions()).as("no ensemble started").isZero();
            assertThatThrownBy(() -> lease.getData("relative"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'relative'");
        }
    }

    /**
     * A lookup allocates nothing (the hot path of every routed operation), with 100 routes. Measured with the JVM's
     * per-thread allocation counter, not with a clock.
     */
    @Test
    void aLookupAllocatesNothing() {
        ZkSessionPool.Builder b = builder().route("/", A);
        for (int i = 0; i < 100; i++) {
            b.route("/tenants/t" + i, i % 2 == 0 ? B : C);
        }
        try (ZkSessionPool pool = b.build()) {
            var routes = pool.routes();
            String[] paths = {"/tenants/t42/x/y", "/tenants/t4", "/other/deep/path/z", "/tenants/t99", "/"};
            var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long id = Thread.currentThread().getId();
            int hits = 0;
            for (int i = 0; i < 200_000; i++) { // warm up
                hits += routes.ensembleFor(paths[i % paths.length]) == B ? 1 : 0;
            }
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 1_000_000; i++) {
                hits += routes.ensembleFor(paths[i % paths.length]) == B ? 1 : 0;
            }
            long allocated = threads.getThreadAllocatedBytes(id) - before;
            assertThat(hits).isPositive();
            assertThat(routes.ensembleFor("/tenants/t42/x/y")).isEqualTo(B);
            assertThat(routes.ensembleFor("/tenants/t4")).isEqualTo(B);
            assertThat(routes.ensembleFor("/tenants/t99")).isEqualTo(C);
            assertThat(routes.ensembleFor("/tenants/t100")).isEqualTo(A);
            // A million lookups; the counter's own reading may cost a few hundred bytes.
            assertThat(allocated).as("bytes allocated by 1,000,000 lookups").isLessThan(4096);
        }
    }

    @Test
    void noCredentialsInAnyToString() {
        try (ZkSessionPool pool = builder().route("/", A).route("/c", C).build();
                ZkLease lease = pool.lease()) {
            assertThat(pool.routes().toString())
                    .isEqualTo("ZkRoutes{/ -> ens-a, /c -> ens-c}")
                    .doesNotContain("s3cret");
            assertThat(pool.toString()).doesNotContain("s3cret").contains("routes={/ -> ens-a, /c -> ens-c}");
            assertThat(lease.toString()).doesNotContain("s3cret");
        }
    }
}
