package dev.zksdk.internal.session;

import dev.zksdk.security.SaslConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;

/**
 * Serves the login modules of {@link SaslConfig}s to ZooKeeper as JAAS sections, without a JAAS file or a system
 * property.
 *
 * <p>ZooKeeper's SASL client finds its login module through the JVM-wide {@link Configuration}, by section name (the
 * session's client config names it). JAAS has no other hook, so this class installs one delegating
 * {@code Configuration}: it answers for the sections it registered, under names of its own ({@code zksdk-sasl-N}),
 * and passes every other name to the configuration that was there before (a JAAS file, an application's own). Equal
 * {@code SaslConfig}s share a section; a section goes when the last session using it closes. Anyone who replaces the
 * JVM's configuration afterwards is wrapped again before the next ZooKeeper handle is created.
 *
 * <p>Thread-safe.
 */
public final class JaasSections {

    private static final String PREFIX = "zksdk-sasl-";
    private static final AtomicInteger NEXT = new AtomicInteger(1);
    private static final Map<String, AppConfigurationEntry[]> SECTIONS = new ConcurrentHashMap<>();
    private static final Map<SaslConfig, Registration> BY_CONFIG = new HashMap<>();

    private JaasSections() {}

    /**
     * The JAAS section name for {@code sasl}: its own existing section, or one registered here (counted: pair every call
     * with {@link #release(SaslConfig)}).
     */
    public static synchronized String acquire(SaslConfig sasl) {
        if (sasl.jaasSectionName() != null) {
            return sasl.jaasSectionName();
        }
        Registration r = BY_CONFIG.get(sasl);
        if (r == null) {
            r = new Registration(PREFIX + NEXT.getAndIncrement());
            BY_CONFIG.put(sasl, r);
            SECTIONS.put(r.name, new AppConfigurationEntry[] {
                new AppConfigurationEntry(
                        sasl.loginModule(),
                        AppConfigurationEntry.LoginModuleControlFlag.REQUIRED,
                        new HashMap<>(sasl.options()))
            });
        }
        r.users++;
        ensureInstalled();
        return r.name;
    }

    /** Gives back a section from {@link #acquire(SaslConfig)}; the last user removes it. */
    public static synchronized void release(SaslConfig sasl) {
        if (sasl.jaasSectionName() != null) {
            return;
        }
        Registration r = BY_CONFIG.get(sasl);
        if (r != null && --r.users == 0) {
            BY_CONFIG.remove(sasl);
            SECTIONS.remove(r.name);
        }
    }

    /** Makes sure the JVM's JAAS configuration answers for the sections registered here. */
    public static synchronized void ensureInstalled() {
        Configuration current = currentOrNull();
        if (!(current instanceof Delegating)) {
            Configuration.setConfiguration(new Delegating(current));
        }
    }

    private static Configuration currentOrNull() {
        try {
            return Configuration.getConfiguration();
        } catch (SecurityException e) {
            // No usable JVM configuration (for example java.security.auth.login.config names a missing file): the
            // sections registered here still work; every other name finds nothing, as before.
            return null;
        }
    }

    private static final class Registration {
        final String name;
        int users;

        Registration(String name) {
            this.name = name;
        }
    }

    /** Answers for the registered sections, and delegates every other name. */
    private static final class Delegating extends Configuration {
        private final Configuration fallback;

        Delegating(Configuration fallback) {
            this.fallback = fallback;
        }

        @Override
        public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
            AppConfigurationEntry[] own = SECTIONS.get(name);
            if (own != null) {
                return own.clone();
            }
            return fallback == null ? null : fallback.getAppConfigurationEntry(name);
        }

        @Override
        public void refresh() {
            if (fallback != null) {
                fallback.refresh();
            }
        }

        @Override
        public String toString() {
            return "zk-sdk JAAS sections " + SECTIONS.keySet() + " over " + fallback;
        }
    }
}
