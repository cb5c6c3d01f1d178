package dev.zksdk.internal.pool;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.internal.Validation;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pool's routing table, changeable at runtime: every change publishes a new immutable {@link RouteTable} through one
 * volatile field, so a lookup takes no lock. Changes are serialized. Each distinct ensemble config gets a slot number
 * once, kept for the pool's life, by which routed leases index the leases they took on it.
 */
public final class Router {

    private static final Logger log = LoggerFactory.getLogger(Router.class);

    private final String poolName;
    /** Guarded by {@code this}. */
    private final Map<EnsembleConfig, Integer> slots = new HashMap<>();
    /** Guarded by {@code this}; what {@link #table} was built from. */
    private final SortedMap<String, RouteTable.Route> routes = new TreeMap<>();

    private volatile RouteTable table;

    /**
     * @param initial prefix to ensemble, already validated, holding {@code "/"}
     */
    public Router(String poolName, Map<String, EnsembleConfig> initial) {
        this.poolName = poolName;
        synchronized (this) {
            for (Map.Entry<String, EnsembleConfig> e : initial.entrySet()) {
                checkAlias(e.getKey(), e.getValue());
                routes.put(e.getKey(), new RouteTable.Route(e.getKey(), e.getValue(), slot(e.getValue())));
            }
            table = new RouteTable(routes);
        }
    }

    private int slot(EnsembleConfig config) {
        return slots.computeIfAbsent(config, c -> slots.size());
    }

    /**
     * Refuses a route whose ensemble has the alias of another route's different ensemble (two chroots on one server,
     * by default): their sessions, meters, health and messages could not be told apart. Called holding this.
     */
    private void checkAlias(String prefix, EnsembleConfig ensemble) {
        for (RouteTable.Route r : routes.values()) {
            if (!r.prefix.equals(prefix)
                    && !r.config.equals(ensemble)
                    && r.config.alias().equals(ensemble.alias())) {
                throw new IllegalArgumentException("route '" + prefix + "': its ensemble's alias '" + ensemble.alias()
                        + "' is already the alias of another ensemble (route '" + r.prefix + "'), whose sessions, "
                        + "meters, health and messages could not be told apart from its own; give each ensemble its "
                        + "own with EnsembleConfig.Builder.alias(...)");
            }
        }
    }

    /** The table now. */
    public RouteTable table() {
        return table;
    }

    /**
     * Checks a route's prefix: starts with {@code /}, does not end with one (except the root itself), and is a valid
     * ZooKeeper path. Throws {@link IllegalArgumentException} naming the setting and the value.
     */
    public static String checkPrefix(String prefix) {
        if (prefix == null) {
            throw new IllegalArgumentException("route prefix must not be null");
        }
        if (!prefix.startsWith("/")) {
            throw new IllegalArgumentException(
                    "route prefix must start with '/' (an absolute path such as /tenants/a), was '" + prefix + "'");
        }
        if (prefix.length() > 1 && prefix.endsWith("/")) {
            throw new IllegalArgumentException("route prefix must not end with '/' (prefixes match whole path "
                    + "segments: write /tenants/a, which also matches /tenants/a/x), was '" + prefix + "'");
        }
        return Validation.path("route prefix", prefix);
    }

    /** Checks a route's ensemble: not null. */
    public static EnsembleConfig checkEnsemble(String prefix, EnsembleConfig ensemble) {
        if (ensemble == null) {
            throw new IllegalArgumentException("route ensemble for prefix '" + prefix + "' must not be null");
        }
        return ensemble;
    }

    /** Adds or replaces the route of {@code prefix}. */
    public void route(String prefix, EnsembleConfig ensemble) {
        checkPrefix(prefix);
        checkEnsemble(prefix, ensemble);
        synchronized (this) {
            checkAlias(prefix, ensemble);
            RouteTable.Route old = routes.put(prefix, new RouteTable.Route(prefix, ensemble, slot(ensemble)));
            table = new RouteTable(routes);
            if (old == null) {
                log.info("{}: route {} -> {} added", poolName, prefix, ensemble.alias());
            } else if (!old.config.equals(ensemble)) {
                log.info("{}: route {} moved from {} to {}", poolName, prefix, old.config.alias(), ensemble.alias());
            }
        }
    }

    /** Removes the route of {@code prefix} (never the root's); whether there was one. */
    public boolean remove(String prefix) {
        checkPrefix(prefix);
        if (prefix.equals("/")) {
            throw new IllegalArgumentException("route prefix '/' cannot be removed: it is the default route, taken by "
                    + "every path no other prefix matches; replace it with route(\"/\", ensemble) instead");
        }
        synchronized (this) {
            RouteTable.Route old = routes.remove(prefix);
            if (old == null) {
                return false;
            }
            table = new RouteTable(routes);
            log.info(
                    "{}: route {} -> {} removed; its paths go to {}",
                    poolName,
                    prefix,
                    old.config.alias(),
                    table.lookup(prefix).config.alias());
            return true;
        }
    }

    @Override
    public String toString() {
        return table.toString();
    }
}
