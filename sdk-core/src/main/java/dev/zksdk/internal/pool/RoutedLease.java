package dev.zksdk.internal.pool;

import dev.zksdk.EphemeralNode;
import dev.zksdk.FencedWrites;
import dev.zksdk.FencingToken;
import dev.zksdk.LeadershipListener;
import dev.zksdk.NodeData;
import dev.zksdk.WatchHandle;
import dev.zksdk.WatchListener;
import dev.zksdk.ZkLeadership;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkLock;
import dev.zksdk.cache.CacheConfig;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.cache.ZkTreeCache;
import dev.zksdk.internal.Validation;
import dev.zksdk.internal.pipeline.Calls;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

/**
 * The lease {@link dev.zksdk.ZkSessionPool#lease()} hands out when the pool has routes: each operation goes to a lease
 * on the ensemble that owns its path in the routing table of that moment. Those leases are taken on first use (each
 * with the usual wait for a connected session and its failures) and closed with this one.
 */
final class RoutedLease implements ZkLease {

    private static final ZkLease[] NO_LEASES = new ZkLease[0];

    private final RealSessionPool pool;
    private final Router router;

    /** By slot of the ensemble; copied on write under {@code this}, read without a lock. */
    private volatile ZkLease[] leases = NO_LEASES;

    /** Guarded by {@code this}; read without it for the fast refusal of calls after close. */
    private volatile boolean closed;

    RoutedLease(RealSessionPool pool, Router router) {
        this.pool = pool;
        this.router = router;
        pool.checkOpen();
    }

    /** The lease on the ensemble that owns {@code path} now. */
    private ZkLease at(String path) {
        if (closed) {
            throw new IllegalStateException("the lease is closed");
        }
        return leaseOf(router.table().lookup(path));
    }

    /**
     * The lease for a create at {@code path}: a sequential node is made beside its path, as a child of its parent named
     * by the path's last segment and a counter ({@code /b/q} makes {@code /b/q0000000001}, or Curator's protected
     * {@code /b/_c_<uuid>-q0000000001}), so it goes where the parent's children go, even when the path itself is a
     * route's prefix (whose route takes only {@code /b/q} and what is under it).
     */
    private ZkLease atCreate(String path, CreateMode mode) {
        return at(mode != null && mode.isSequential() ? parentOf(path) : path);
    }

    /** The path that decides the route of {@code op}: its parent for a sequential create, else its own. */
    static String routePath(Op op) {
        return Calls.isSequentialCreate(op) ? parentOf(op.getPath()) : op.getPath();
    }

    /** The parent of an absolute path ({@code "/"} for a top-level one); anything else unchanged, for validation. */
    static String parentOf(String path) {
        if (path == null || path.length() < 2 || path.charAt(0) != '/') {
            return path;
        }
        int last = path.lastIndexOf('/');
        return last == 0 ? "/" : path.substring(0, last);
    }

    private ZkLease leaseOf(RouteTable.Route route) {
        if (closed) {
            throw new IllegalStateException("the lease is closed");
        }
        ZkLease[] taken = leases;
        int slot = route.slot;
        if (slot < taken.length) {
            ZkLease lease = taken[slot];
            if (lease != null) {
                return lease;
            }
        }
        return take(route);
    }

    /**
     * Takes a lease on the route's ensemble, outside any lock (it may wait up to the connection timeout, and other
     * ensembles' operations on this lease must not wait behind it); of two threads racing, one lease is kept.
     */
    private ZkLease take(RouteTable.Route route) {
        ZkLease lease = pool.lease(route.config);
        synchronized (this) {
            ZkLease[] taken = leases;
            ZkLease existing = route.slot < taken.length ? taken[route.slot] : null;
            if (!closed && existing == null) {
                ZkLease[] grown = taken.length > route.slot ? taken.clone() : Arrays.copyOf(taken, route.slot + 1);
                grown[route.slot] = lease;
                leases = grown;
                return lease;
            }
        }
        lease.close();
        if (closed) {
            throw new IllegalStateException("the lease is closed");
        }
        return leases[route.slot];
    }

    @Override
    public byte[] getData(String path) {
        return at(path).getData(path);
    }

    @Override
    public NodeData getNode(String path) {
        return at(path).getNode(path);
    }

    @Override
    public Stat exists(String path) {
        return at(path).exists(path);
    }

    @Override
    public List<String> getChildren(String path) {
        return at(path).getChildren(path);
    }

    @Override
    public String create(String path, byte[] data, CreateMode mode) {
        return atCreate(path, mode).create(path, data, mode);
    }

    @Override
    public String create(String path, byte[] data, CreateMode mode, List<ACL> acl) {
        return atCreate(path, mode).create(path, data, mode, acl);
    }

    @Override
    public Stat setData(String path, byte[] data, int version) {
        return at(path).setData(path, data, version);
    }

    @Override
    public void delete(String path, int version) {
        at(path).delete(path, version);
    }

    @Override
    public void sync(String path) {
        at(path).sync(path);
    }

    @Override
    public List<OpResult> multi(List<Op> ops) {
        return multiLease(ops).multi(ops);
    }

    @Override
    public CompletableFuture<byte[]> getDataAsync(String path) {
        return at(path).getDataAsync(path);
    }

    @Override
    public CompletableFuture<NodeData> getNodeAsync(String path) {
        return at(path).getNodeAsync(path);
    }

    @Override
    public CompletableFuture<Stat> existsAsync(String path) {
        return at(path).existsAsync(path);
    }

    @Override
    public CompletableFuture<List<String>> getChildrenAsync(String path) {
        return at(path).getChildrenAsync(path);
    }

    @Override
    public CompletableFuture<String> createAsync(String path, byte[] data, CreateMode mode) {
        return atCreate(path, mode).createAsync(path, data, mode);
    }

    @Override
    public CompletableFuture<String> createAsync(String path, byte[] data, CreateMode mode, List<ACL> acl) {
        return atCreate(path, mode).createAsync(path, data, mode, acl);
    }

    @Override
    public CompletableFuture<Stat> setDataAsync(String path, byte[] data, int version) {
        return at(path).setDataAsync(path, data, version);
    }

    @Override
    public CompletableFuture<Void> deleteAsync(String path, int version) {
        return at(path).deleteAsync(path, version);
    }

    @Override
    public CompletableFuture<Void> syncAsync(String path) {
        return at(path).syncAsync(path);
    }

    @Override
    public CompletableFuture<List<OpResult>> multiAsync(List<Op> ops) {
        return multiLease(ops).multiAsync(ops);
    }

    /**
     * The lease of the one ensemble every op routes to (in one version of the table); refused with
     * {@link IllegalArgumentException}, before anything is sent or any lease taken, when they route to more than one.
     */
    private ZkLease multiLease(List<Op> ops) {
        if (closed) {
            throw new IllegalStateException("the lease is closed");
        }
        Validation.notNull("ops", ops);
        if (ops.isEmpty()) {
            throw new IllegalArgumentException("ops must not be empty");
        }
        RouteTable table = router.table();
        RouteTable.Route first = null;
        boolean split = false;
        for (int i = 0; i < ops.size(); i++) {
            Op op = Validation.notNull("ops[" + i + "]", ops.get(i));
            if (op.getPath() == null || op.getPath().isEmpty() || op.getPath().charAt(0) != '/') {
                Validation.path("ops[" + i + "] path", op.getPath()); // throws, naming the op
            }
            RouteTable.Route route = table.lookup(routePath(op));
            if (first == null) {
                first = route;
            } else if (route.slot != first.slot) {
                split = true;
            }
        }
        if (split) {
            throw crossEnsemble("a multi", ops, table);
        }
        return leaseOf(first);
    }

    /** The refusal of operations that would span ensembles: names each path, its prefix and its ensemble's alias. */
    static IllegalArgumentException crossEnsemble(String what, List<Op> ops, RouteTable table) {
        List<String> where = new ArrayList<>(ops.size());
        for (int i = 0; i < ops.size(); i++) {
            RouteTable.Route r = table.lookup(routePath(ops.get(i)));
            where.add("ops[" + i + "] " + ops.get(i).getPath() + " -> ensemble '" + r.config.alias() + "' (route "
                    + r.prefix + ")");
        }
        return new IllegalArgumentException(what + "'s ops route to more than one ensemble, and no atomicity exists "
                + "across ensembles; nothing was sent: " + String.join(", ", where)
                + ". Split it into one multi per ensemble.");
    }

    @Override
    public EphemeralNode ephemeral(String path, byte[] data) {
        return at(path).ephemeral(path, data);
    }

    @Override
    public EphemeralNode ephemeral(String path, byte[] data, CreateMode mode) {
        return atCreate(path, mode).ephemeral(path, data, mode);
    }

    @Override
    public WatchHandle watch(String path, WatchListener listener) {
        return at(path).watch(path, listener);
    }

    @Override
    public WatchHandle watchTree(String path, WatchListener listener) {
        return at(path).watchTree(path, listener);
    }

    @Override
    public WatchHandle watchChildren(String path, WatchListener listener) {
        return at(path).watchChildren(path, listener);
    }

    @Override
    public ZkCache cache(String path) {
        return at(path).cache(path);
    }

    @Override
    public ZkCache cache(String path, CacheConfig config) {
        return at(path).cache(path, config);
    }

    @Override
    public ZkTreeCache treeCache(String path) {
        return at(path).treeCache(path);
    }

    @Override
    public ZkTreeCache treeCache(String path, CacheConfig config) {
        return at(path).treeCache(path, config);
    }

    /** The default route's ({@code "/"}) session. */
    @Override
    public long sessionId() {
        return leaseOf(router.table().root()).sessionId();
    }

    @Override
    public long sessionId(String path) {
        return at(path).sessionId();
    }

    /** The default route's ({@code "/"}) Curator client. */
    @Override
    public CuratorFramework curator() {
        return leaseOf(router.table().root()).curator();
    }

    @Override
    public CuratorFramework curator(String path) {
        return at(path).curator();
    }

    @Override
    public CuratorFramework curatorOfEnsemble(String alias) {
        if (alias == null || alias.isEmpty()) {
            throw new IllegalArgumentException(
                    "alias must name an ensemble, was " + (alias == null ? "null" : "empty"));
        }
        RouteTable table = router.table();
        RouteTable.Route route = table.byAlias(alias);
        if (route == null) {
            throw new IllegalArgumentException("no route names an ensemble with the alias '" + alias
                    + "'; the routing table's: " + table.aliases());
        }
        return leaseOf(route).curator();
    }

    @Override
    public ZkLeadership leaderElection(String path, LeadershipListener listener) {
        return at(path).leaderElection(path, listener);
    }

    @Override
    public ZkLock lock(String path) {
        return at(path).lock(path);
    }

    @Override
    public ZkLock lock(String path, LeadershipListener listener) {
        return at(path).lock(path, listener);
    }

    /**
     * Routed by the token's election or lock path (its epoch path without {@code -epoch}), where its epoch node and
     * holder node live; each write must route to that same ensemble.
     */
    @Override
    public FencedWrites fenced(FencingToken token) {
        Validation.notNull("token", token);
        RouteTable.Route route = router.table().lookup(electionPath(token));
        return new RoutedFencedWrites(leaseOf(route).fenced(token), route, router);
    }

    private static String electionPath(FencingToken token) {
        String epoch = token.epochPath();
        return epoch.endsWith(RealLease.EPOCH_SUFFIX)
                ? epoch.substring(0, epoch.length() - RealLease.EPOCH_SUFFIX.length())
                : epoch;
    }

    @Override
    public void close() {
        ZkLease[] taken;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            taken = leases;
        }
        for (ZkLease lease : taken) {
            if (lease != null) {
                lease.close();
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("ZkLease{routes=").append(router.table());
        ZkLease[] taken = leases;
        b.append(", leased=[");
        boolean any = false;
        for (ZkLease lease : taken) {
            if (lease != null) {
                b.append(any ? ", " : "").append(lease);
                any = true;
            }
        }
        return b.append(']').append(closed ? ", closed" : "").append('}').toString();
    }

    /** Fenced writes of one token, refused for a path that routes to another ensemble than the token's. */
    private static final class RoutedFencedWrites implements FencedWrites {
        private final FencedWrites writes;
        private final RouteTable.Route route;
        private final Router router;

        RoutedFencedWrites(FencedWrites writes, RouteTable.Route route, Router router) {
            this.writes = writes;
            this.route = route;
            this.router = router;
        }

        private String check(String path) {
            return check(path, path);
        }

        /** {@code path}, once {@code routeBy} (its parent for a sequential create) is found on the token's ensemble. */
        private String check(String path, String routeBy) {
            if (path == null || path.isEmpty() || path.charAt(0) != '/') {
                return path; // the fenced write's own validation names it
            }
            RouteTable.Route to = router.table().lookup(routeBy);
            if (to.slot != route.slot) {
                throw new IllegalArgumentException("fenced write to " + path + " refused: it routes to ensemble '"
                        + to.config.alias() + "' (route " + to.prefix + ") but the token's epoch is on '"
                        + route.config.alias() + "' (route " + route.prefix + "), and the check and the write are one "
                        + "multi on one ensemble; nothing was sent");
            }
            return path;
        }

        private String checkCreate(String path, CreateMode mode) {
            return check(path, mode != null && mode.isSequential() ? parentOf(path) : path);
        }

        private List<Op> check(List<Op> ops) {
            if (ops != null) {
                for (Op op : ops) {
                    if (op != null) {
                        check(op.getPath(), op.getPath() == null ? null : routePath(op));
                    }
                }
            }
            return ops;
        }

        @Override
        public FencingToken token() {
            return writes.token();
        }

        @Override
        public String create(String path, byte[] data, CreateMode mode) {
            return writes.create(checkCreate(path, mode), data, mode);
        }

        @Override
        public Stat setData(String path, byte[] data, int version) {
            return writes.setData(check(path), data, version);
        }

        @Override
        public void delete(String path, int version) {
            writes.delete(check(path), version);
        }

        @Override
        public List<OpResult> multi(List<Op> ops) {
            return writes.multi(check(ops));
        }

        @Override
        public CompletableFuture<String> createAsync(String path, byte[] data, CreateMode mode) {
            return writes.createAsync(checkCreate(path, mode), data, mode);
        }

        @Override
        public CompletableFuture<Stat> setDataAsync(String path, byte[] data, int version) {
            return writes.setDataAsync(check(path), data, version);
        }

        @Override
        public CompletableFuture<Void> deleteAsync(String path, int version) {
            return writes.deleteAsync(check(path), version);
        }

        @Override
        public CompletableFuture<List<OpResult>> multiAsync(List<Op> ops) {
            return writes.multiAsync(check(ops));
        }

        @Override
        public String toString() {
            return "FencedWrites{" + writes + ", ensemble=" + route.config.alias() + "}";
        }
    }
}
