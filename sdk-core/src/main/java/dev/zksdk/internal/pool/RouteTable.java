package dev.zksdk.internal.pool;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.internal.Validation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One immutable version of a pool's routing table: path prefixes, each owned by one ensemble. {@link #lookup} finds the
 * longest prefix that matches a path on segment boundaries ({@code /tenants/a} matches {@code /tenants/a} and
 * {@code /tenants/a/x}, never {@code /tenants/ab}); {@code "/"} matches every path. It allocates nothing: the prefixes
 * are grouped by length, and the path is scanned once from its end towards its start, checking only the prefixes whose
 * length ends at one of its segment boundaries, so a lookup costs at most one pass over the path plus the
 * {@code regionMatches} of the prefixes of those lengths (usually none or one), whatever the number of routes.
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

    private static final Route[] NONE = new Route[0];

    /** {@code byLength[n]}: the routes whose prefix is {@code n} characters long (never the root's). */
    private final Route[][] byLength;

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
        int max = 0;
        for (String prefix : routes.keySet()) {
            max = Math.max(max, prefix.length());
        }
        List<List<Route>> grouped = new ArrayList<>(max + 1);
        for (int i = 0; i <= max; i++) {
            grouped.add(new ArrayList<>(0));
        }
        SortedMap<String, EnsembleConfig> v = new TreeMap<>();
        for (Route r : routes.values()) {
            v.put(r.prefix, r.config);
            if (r != root) {
                grouped.get(r.prefix.length()).add(r);
            }
        }
        this.byLength = new Route[max + 1][];
        for (int i = 0; i <= max; i++) {
            List<Route> at = grouped.get(i);
            byLength[i] = at.isEmpty() ? NONE : at.toArray(NONE);
        }
        this.view = Collections.unmodifiableSortedMap(v);
    }

    /**
     * The route of {@code path}: the longest prefix matching it on segment boundaries, or the root's.
     *
     * @throws IllegalArgumentException when {@code path} is null or does not start with {@code /} (naming it)
     */
    public Route lookup(String path) {
        int length = path == null ? 0 : path.length();
        if (length == 0 || path.charAt(0) != '/') {
            Validation.path("path", path); // throws, naming the path
        }
        Route[][] groups = byLength;
        for (int end = Math.min(length, groups.length - 1); end >= 2; end--) {
            if (end != length && path.charAt(end) != '/') {
                continue;
            }
            Route[] candidates = groups[end];
            for (Route r : candidates) {
                if (path.regionMatches(0, r.prefix, 0, end)) {
                    return r;
                }
            }
        }
        return root;
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
