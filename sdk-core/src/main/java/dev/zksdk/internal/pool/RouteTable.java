package dev.zksdk.internal.pool;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.internal.Validation;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One immutable version of a pool's routing table: path prefixes, each owned by one ensemble. {@link #lookup} finds the
 * longest prefix that matches a path on segment boundaries ({@code /tenants/a} matches {@code /tenants/a} and
 * {@code /tenants/a/x}, never {@code /tenants/ab}); {@code "/"} matches every path. It allocates nothing and its cost
 * does not grow with the number of routes: one pass over the path (no further than the longest prefix), one probe of a
 * hash table of the prefixes at each of the path's segment boundaries, and one {@code regionMatches} per hit.
 */
public final class RouteTable {

    /** One entry of the table: a prefix, the ensemble that owns it and that ensemble's slot in the pool's router. */
    public static final class Route {
        final String prefix;
        final EnsembleConfig config;
        /** The same for every route to an equal config (in every version of the table): indexes a lease's sub-leases. */
        final int slot;

        Route(String prefix, EnsembleConfig config, int slot) {
            this.prefix = prefix;
            this.config = config;
            this.slot = slot;
        }

        public String prefix() {
            return prefix;
        }

        public EnsembleConfig config() {
            return config;
        }

        @Override
        public String toString() {
            return prefix + " -> " + config.alias();
        }
    }

    /**
     * Open addressing, linear probing: the routes other than the root's, at the slot of their prefix's
     * {@link String#hashCode()}; {@code hashes[i]} is {@code routes[i].prefix.hashCode()}. At most half full.
     */
    private final Route[] routes;

    private final int[] hashes;
    private final int mask;
    /** The longest prefix's length: no boundary of a path beyond it can match. */
    private final int maxLength;

    private final Route root;
    private final SortedMap<String, EnsembleConfig> view;

    /**
     * @param routes prefix to route; must hold {@code "/"}
     */
    RouteTable(SortedMap<String, Route> routes) {
        this.root = routes.get("/");
        if (root == null) {
            throw new IllegalStateException("a routing table needs a route for /");
        }
        int capacity = Integer.highestOneBit(Math.max(2, routes.size()) * 2 - 1) * 2;
        this.routes = new Route[capacity];
        this.hashes = new int[capacity];
        this.mask = capacity - 1;
        int max = 0;
        SortedMap<String, EnsembleConfig> v = new TreeMap<>();
        for (Route r : routes.values()) {
            v.put(r.prefix, r.config);
            if (r == root) {
                continue;
            }
            max = Math.max(max, r.prefix.length());
            int h = r.prefix.hashCode();
            int i = spread(h) & mask;
            while (this.routes[i] != null) {
                i = (i + 1) & mask;
            }
            this.routes[i] = r;
            this.hashes[i] = h;
        }
        this.maxLength = max;
        this.view = Collections.unmodifiableSortedMap(v);
    }

    /** A route to the ensemble of that alias (any of them when several prefixes go there), or null. Not for hot paths. */
    Route byAlias(String alias) {
        if (root.config.alias().equals(alias)) {
            return root;
        }
        for (Route r : routes) {
            if (r != null && r.config.alias().equals(alias)) {
                return r;
            }
        }
        return null;
    }

    /** The aliases of the ensembles the table names, sorted, each once. */
    java.util.SortedSet<String> aliases() {
        java.util.SortedSet<String> out = new java.util.TreeSet<>();
        view.values().forEach(c -> out.add(c.alias()));
        return out;
    }

    private static int spread(int h) {
        return h ^ (h >>> 16);
    }

    /**
     * The route of {@code path}: the longest prefix matching it on segment boundaries, or the root's. One pass over
     * the path (up to the longest prefix's length) computes {@link String#hashCode()} of each leading part as it goes;
     * at each segment boundary, one probe of the hash table. No allocation.
     *
     * @throws IllegalArgumentException when {@code path} is null or does not start with {@code /} (naming it)
     */
    public Route lookup(String path) {
        int length = path == null ? 0 : path.length();
        if (length == 0 || path.charAt(0) != '/') {
            Validation.path("path", path); // throws, naming the path
        }
        Route best = root;
        int last = Math.min(length, maxLength);
        int h = '/';
        for (int end = 2; end <= last; end++) {
            h = 31 * h + path.charAt(end - 1);
            if (end != length && path.charAt(end) != '/') {
                continue;
            }
            for (int i = spread(h) & mask; routes[i] != null; i = (i + 1) & mask) {
                Route r = routes[i];
                if (hashes[i] == h && r.prefix.length() == end && path.regionMatches(0, r.prefix, 0, end)) {
                    best = r;
                    break;
                }
            }
        }
        return best;
    }

    /** The default route, {@code "/"}. */
    public Route root() {
        return root;
    }

    /** Prefix to ensemble, in prefix order; unmodifiable. */
    public SortedMap<String, EnsembleConfig> view() {
        return view;
    }

    /** Prefix to alias, in prefix order: no credentials (an alias never holds any). */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, EnsembleConfig> e : view.entrySet()) {
            if (b.length() > 1) {
                b.append(", ");
            }
            b.append(e.getKey()).append(" -> ").append(e.getValue().alias());
        }
        return b.append('}').toString();
    }
}
