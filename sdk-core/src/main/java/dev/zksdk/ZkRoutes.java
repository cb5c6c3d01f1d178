package dev.zksdk;

import java.util.SortedMap;

/**
 * The routing table of a pool built with {@link ZkSessionPool.Builder#route routes}: path prefixes, each owned by one
 * ensemble, changeable while the pool runs (a migration of a prefix from one ensemble to another). Get it from
 * {@link ZkSessionPool#routes()}.
 *
 * <p>A path goes to the ensemble of the longest prefix that matches it on whole path segments: {@code /tenants/a}
 * matches {@code /tenants/a} and {@code /tenants/a/x}, never {@code /tenants/ab}; the default route {@code "/"}
 * matches every path and cannot be removed (only replaced). The path is sent unchanged: a chroot in the ensemble's
 * connect string applies as it always does ({@code /tenants/a/x} on {@code zkb:2181/b} is the node
 * {@code /b/tenants/a/x} on that server).
 *
 * <p><b>A change applies to operations that start after it</b>, through every lease of the pool, leases already open
 * included: each operation of a routed lease looks its path up in the table of that moment (a {@code multi} looks all
 * its ops up in one version of the table). What was made before the change under a moved prefix stays where it was
 * made, on the old ensemble's session, until it is closed:
 * <ul>
 *   <li>{@link WatchHandle watches} and caches ({@link ZkLease#cache}, {@link ZkLease#treeCache}) keep watching the
 *       old ensemble, and a cache keeps loading from it: they see no change made on the new ensemble. Close them and
 *       make them again after the change;</li>
 *   <li>an {@link EphemeralNode} stays on the old ensemble and keeps being re-created there after an expiry, until
 *       its handle is closed; the new ensemble knows nothing of it (register again there, close the old handle);</li>
 *   <li>a {@link ZkLock} or {@link ZkLeadership} keeps its turn on the old ensemble; {@link ZkLease#fenced} routes by
 *       the token's path in the table of that moment, so a token from before the move is refused (it was not made on
 *       the new ensemble): release, and acquire again on the new one.</li>
 * </ul>
 * Moving data between the ensembles is the application's (copy, then {@link #route}): the pool moves no node.
 * In-flight operations finish on the ensemble they were sent to.
 *
 * <p>Thread-safe; changes are serialized and each is published at once to every lookup (no lock on the operations'
 * path). {@link #toString()} shows prefixes and ensemble aliases, never credentials.
 */
public final class ZkRoutes {

    /** What the pool gives its routes: the engine's table, behind this package's own interface. */
    interface Table {
        void route(String prefix, EnsembleConfig ensemble);

        boolean remove(String prefix);

        EnsembleConfig ensembleFor(String path);

        SortedMap<String, EnsembleConfig> table();
    }

    private final Table router;

    ZkRoutes(Table router) {
        this.router = router;
    }

    /**
     * Adds the route of {@code prefix}, or moves it to {@code ensemble} if it has one: operations on paths under it
     * that start from now on go to {@code ensemble} (see the class comment for what stays behind). Opens nothing: the
     * ensemble's sessions start with the first operation routed to it. Logs one INFO line naming the prefix and the
     * ensembles' aliases.
     *
     * @param prefix an absolute path, not ending in {@code /} (except {@code "/"} itself, the default route)
     * @param ensemble the ensemble that owns the prefix from now on
     * @throws IllegalArgumentException when {@code prefix} does not start with {@code /}, ends with {@code /} or is not
     *     a valid path, {@code ensemble} is null, or another route's different ensemble has its alias, naming the
     *     setting and the value; nothing changes
     */
    public void route(String prefix, EnsembleConfig ensemble) {
        router.route(prefix, ensemble);
    }

    /**
     * Removes the route of {@code prefix}: its paths go to the next shorter matching prefix from now on.
     *
     * @param prefix the route's prefix
     * @return true when it had a route, false when there was none (nothing changes)
     * @throws IllegalArgumentException when {@code prefix} is {@code "/"} (the default route is only replaced) or is
     *     invalid as in {@link #route}
     */
    public boolean remove(String prefix) {
        return router.remove(prefix);
    }

    /**
     * The ensemble that owns {@code path} now.
     *
     * @param path an absolute path
     * @return the config of the ensemble its operations go to
     * @throws IllegalArgumentException when {@code path} is null or not absolute
     */
    public EnsembleConfig ensembleFor(String path) {
        return router.ensembleFor(path);
    }

    /**
     * The table now: prefix to ensemble, in prefix order. A snapshot: later changes do not show in it.
     *
     * @return an unmodifiable map, always holding {@code "/"}
     */
    public SortedMap<String, EnsembleConfig> table() {
        return router.table();
    }

    /** Prefixes and the aliases of their ensembles, e.g. {@code ZkRoutes{/ -> zk1:2181, /tenants/a -> tenant-a}}. */
    @Override
    public String toString() {
        return "ZkRoutes" + router;
    }
}
