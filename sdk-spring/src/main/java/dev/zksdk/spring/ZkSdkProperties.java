package dev.zksdk.spring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.DeprecatedConfigurationProperty;

/**
 * Settings of the auto-configured {@link dev.zksdk.ZkSessionPool}, under {@code zksdk.*}. Every pool setting has a
 * property (TLS through a Spring Boot SSL bundle; listeners, the ACL provider beyond the three standard ones and the
 * metrics binding are beans or a {@link ZkSessionPoolCustomizer}); the defaults are the core's
 * ({@code EnsembleConfig}, {@code OperationPolicy}, {@code HostsConfig} {@code DEFAULT_*} constants). Values are validated by the core builders when the pool is created: a bad value fails
 * start-up with an
 * {@link org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException} naming the
 * property and the value (a credential's value is never shown).
 *
 * <p>Credentials live only in properties whose names end in {@code password} or {@code credentials} (a login-module
 * option holding a secret should be named so too, as {@code zksdk.sasl.options.password} is), so that Actuator's {@code /configprops}, when it shows values, masks them
 * with a {@code SanitizingFunction.sanitizeValue().ifLikelyCredential()} bean (the application declares it: without
 * a sanitizing function Spring Boot shows every value); {@link #toString()} never prints them.
 * TLS comes from a Spring Boot SSL bundle ({@code zksdk.ssl.bundle}), whose passwords stay under
 * {@code spring.ssl.bundle.*}.
 *
 * <p>Durations take Spring's forms: {@code 500ms}, {@code 30s}, {@code PT30S}; a bare number is milliseconds.
 */
@ConfigurationProperties(prefix = "zksdk")
public class ZkSdkProperties {

    /** Whether to auto-configure the ZooKeeper session pool. */
    private boolean enabled = true;

    /** Name of the pool: used in thread names, logs and the "pool" tag of its meters. */
    private String name = "zksdk";

    /**
     * ZooKeeper connect string: "host:port[,host:port...]", optionally followed by a chroot such as "/apps/billing".
     * Every server needs its port.
     */
    private String connectString = "localhost:2181";

    /** Chroot appended to the connect string, such as "/apps/billing"; leave unset when the connect string has one. */
    private String chroot;

    /** Session timeout to request. The server clamps it to its min/max session timeout; the granted one is reported. */
    private Duration sessionTimeout = Duration.ofSeconds(30);

    /** How long to wait for a connected session, when leasing and in each operation. */
    private Duration connectionTimeout = Duration.ofSeconds(15);

    /** Long-lived sessions kept per ensemble; leases spread over them. */
    private int sessionsPerEnsemble = 1;

    /**
     * Servers of the connect string that are ZooKeeper observers, host:port each: the leases' sessions never connect to
     * them, the reads-from-observers sessions only to them.
     */
    private List<String> observers = new ArrayList<>();

    /**
     * Sessions kept on the observers for the plain reads of leases (getData, exists, getChildren), which see every write
     * the pool completed before them; 0 (the default) keeps none. Needs observers.
     */
    private int readsFromObservers = 0;

    /**
     * How long closing each session waits for the server to answer its close request; past it the connection is
     * dropped and the server ends the session when it expires.
     */
    private Duration closeTimeout = Duration.ofSeconds(2);

    /**
     * Whether sessions may connect to a read-only server (servers with readonlymode.enabled=true) while no majority is
     * reachable: reads are served, writes fail at once with NOTREADONLY.
     */
    private boolean canBeReadOnly = false;

    /** Longest time one operation may take in all, its retries included. */
    private Duration operationTimeout = Duration.ofSeconds(15);

    /** Credentials added to every session (ZooKeeper addAuthInfo), in order. */
    private List<Auth> auth = new ArrayList<>();

    /**
     * Whether sessions follow the ensemble's own membership (/zookeeper/config, dynamic reconfiguration). Turn it off
     * when the servers' configured client addresses are not the ones this client must use (NAT, proxies).
     */
    private boolean followEnsembleChanges = true;

    /**
     * ACL of nodes created without an explicit one, Curator recipes included. "creator-all" and
     * "creator-all-world-read" need an identity (zksdk.digest, zksdk.auth, zksdk.sasl or a TLS client certificate).
     */
    private DefaultAcl defaultAcl = DefaultAcl.OPEN;

    /**
     * Whether to connect the pool while the application context starts: start-up then fails, naming the servers and
     * what went wrong, when no session connects within the initialization timeout, and health is DOWN (not UNKNOWN)
     * until the pool has connected. Off, sessions open on the first lease.
     */
    private boolean connectOnStartup = false;

    /** How long start-up waits for a connected session when connect-on-startup is set. */
    private Duration initializationTimeout = Duration.ofSeconds(30);

    private final Digest digest = new Digest();

    private final Sasl sasl = new Sasl();

    private final Ssl ssl = new Ssl();

    private final Retry retry = new Retry();

    private final CircuitBreaker circuitBreaker = new CircuitBreaker();

    private final Bulkhead bulkhead = new Bulkhead();

    private final Hosts hosts = new Hosts();

    private final Cache cache = new Cache();

    private final Metrics metrics = new Metrics();
    private final Observation observation = new Observation();

    /**
     * Whether to auto-configure the ZooKeeper session pool. Property {@code zksdk.enabled}.
     *
     * @return the bound value (default {@code true})
     */
    public boolean isEnabled() {
        return enabled;
    }

    /**
     * Sets {@code zksdk.enabled}; see {@link #isEnabled()}.
     *
     * @param enabled the new value
     */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /**
     * Name of the pool: used in thread names, logs and the "pool" tag of its meters. Property {@code zksdk.name}.
     *
     * @return the bound value (default {@code zksdk})
     */
    public String getName() {
        return name;
    }

    /**
     * Sets {@code zksdk.name}; see {@link #getName()}.
     *
     * @param name the new value
     */
    public void setName(String name) {
        this.name = name;
    }

    /**
     * ZooKeeper connect string: "host:port[,host:port...]", optionally followed by a chroot such as "/apps/billing".
     * Every server needs its port. Property {@code zksdk.connect-string}.
     *
     * @return the bound value (default {@code localhost:2181})
     */
    public String getConnectString() {
        return connectString;
    }

    /**
     * Sets {@code zksdk.connect-string}; see {@link #getConnectString()}.
     *
     * @param connectString the new value
     */
    public void setConnectString(String connectString) {
        this.connectString = connectString;
    }

    /**
     * Chroot appended to the connect string, such as "/apps/billing"; leave unset when the connect string has one.
     * Property {@code zksdk.chroot}.
     *
     * @return the bound value
     */
    public String getChroot() {
        return chroot;
    }

    /**
     * Sets {@code zksdk.chroot}; see {@link #getChroot()}.
     *
     * @param chroot the new value
     */
    public void setChroot(String chroot) {
        this.chroot = chroot;
    }

    /**
     * Session timeout to request. The server clamps it to its min/max session timeout; the granted one is reported.
     * Property {@code zksdk.session-timeout}.
     *
     * @return the bound value (default 30 s)
     */
    public Duration getSessionTimeout() {
        return sessionTimeout;
    }

    /**
     * Sets {@code zksdk.session-timeout}; see {@link #getSessionTimeout()}.
     *
     * @param sessionTimeout the new value
     */
    public void setSessionTimeout(Duration sessionTimeout) {
        this.sessionTimeout = sessionTimeout;
    }

    /**
     * How long to wait for a connected session, when leasing and in each operation. Property
     * {@code zksdk.connection-timeout}.
     *
     * @return the bound value (default 15 s)
     */
    public Duration getConnectionTimeout() {
        return connectionTimeout;
    }

    /**
     * Sets {@code zksdk.connection-timeout}; see {@link #getConnectionTimeout()}.
     *
     * @param connectionTimeout the new value
     */
    public void setConnectionTimeout(Duration connectionTimeout) {
        this.connectionTimeout = connectionTimeout;
    }

    /**
     * Long-lived sessions kept per ensemble; leases spread over them. Property {@code zksdk.sessions-per-ensemble}.
     *
     * @return the bound value (default {@code 1})
     */
    public int getSessionsPerEnsemble() {
        return sessionsPerEnsemble;
    }

    /**
     * Sets {@code zksdk.sessions-per-ensemble}; see {@link #getSessionsPerEnsemble()}.
     *
     * @param sessionsPerEnsemble the new value
     */
    public void setSessionsPerEnsemble(int sessionsPerEnsemble) {
        this.sessionsPerEnsemble = sessionsPerEnsemble;
    }

    /**
     * Servers of the connect string that are ZooKeeper observers. Property {@code zksdk.observers}; see
     * {@link dev.zksdk.EnsembleConfig.Builder#observers(String...)}.
     *
     * @return the bound value (default empty)
     */
    public List<String> getObservers() {
        return observers;
    }

    /**
     * Sets {@code zksdk.observers}; see {@link #getObservers()}.
     *
     * @param observers the new value
     */
    public void setObservers(List<String> observers) {
        this.observers = observers;
    }

    /**
     * Sessions kept on the observers for plain reads. Property {@code zksdk.reads-from-observers}; see
     * {@link dev.zksdk.EnsembleConfig.Builder#readsFromObservers(int)}.
     *
     * @return the bound value (default {@code 0})
     */
    public int getReadsFromObservers() {
        return readsFromObservers;
    }

    /**
     * Sets {@code zksdk.reads-from-observers}; see {@link #getReadsFromObservers()}.
     *
     * @param readsFromObservers the new value
     */
    public void setReadsFromObservers(int readsFromObservers) {
        this.readsFromObservers = readsFromObservers;
    }

    /**
     * How long closing each session waits for the server to answer its close request; past it the connection is
     * dropped and the server ends the session when it expires. Property {@code zksdk.close-timeout}.
     *
     * @return the bound value (default 2 s)
     */
    public Duration getCloseTimeout() {
        return closeTimeout;
    }

    /**
     * Sets {@code zksdk.close-timeout}; see {@link #getCloseTimeout()}.
     *
     * @param closeTimeout the new value
     */
    public void setCloseTimeout(Duration closeTimeout) {
        this.closeTimeout = closeTimeout;
    }

    /**
     * Whether sessions may connect to a read-only server (ZooKeeper's read-only mode; the servers need
     * {@code readonlymode.enabled=true} and {@code localSessionsEnabled=true}) while no majority is reachable: reads
     * are served, writes fail at once with {@code NOTREADONLY}. Property {@code zksdk.can-be-read-only}; see
     * {@link dev.zksdk.EnsembleConfig.Builder#canBeReadOnly(boolean)}.
     *
     * @return the bound value (default {@code false})
     */
    public boolean isCanBeReadOnly() {
        return canBeReadOnly;
    }

    /**
     * Sets {@code zksdk.can-be-read-only}; see {@link #isCanBeReadOnly()}.
     *
     * @param canBeReadOnly the new value
     */
    public void setCanBeReadOnly(boolean canBeReadOnly) {
        this.canBeReadOnly = canBeReadOnly;
    }

    /**
     * Longest time one operation may take in all, its retries included. Property {@code zksdk.operation-timeout}.
     *
     * @return the bound value (default 15 s)
     */
    public Duration getOperationTimeout() {
        return operationTimeout;
    }

    /**
     * Sets {@code zksdk.operation-timeout}; see {@link #getOperationTimeout()}.
     *
     * @param operationTimeout the new value
     */
    public void setOperationTimeout(Duration operationTimeout) {
        this.operationTimeout = operationTimeout;
    }

    /**
     * Credentials added to every session (ZooKeeper addAuthInfo), in order. Property {@code zksdk.auth}.
     *
     * @return the bound value
     */
    public List<Auth> getAuth() {
        return auth;
    }

    /**
     * Sets {@code zksdk.auth}; see {@link #getAuth()}.
     *
     * @param auth the new value
     */
    public void setAuth(List<Auth> auth) {
        this.auth = auth;
    }

    /**
     * Whether sessions follow the ensemble's own membership (/zookeeper/config, dynamic reconfiguration). Turn it off
     * when the servers' configured client addresses are not the ones this client must use (NAT, proxies). Property
     * {@code zksdk.follow-ensemble-changes}.
     *
     * @return the bound value (default {@code true})
     */
    public boolean isFollowEnsembleChanges() {
        return followEnsembleChanges;
    }

    /**
     * Sets {@code zksdk.follow-ensemble-changes}; see {@link #isFollowEnsembleChanges()}.
     *
     * @param followEnsembleChanges the new value
     */
    public void setFollowEnsembleChanges(boolean followEnsembleChanges) {
        this.followEnsembleChanges = followEnsembleChanges;
    }

    /**
     * ACL of nodes created without an explicit one, Curator recipes included. "creator-all" and
     * "creator-all-world-read" need an identity (zksdk.digest, zksdk.auth, zksdk.sasl or a TLS client certificate).
     * Property {@code zksdk.default-acl}.
     *
     * @return the bound value (default {@code OPEN})
     */
    public DefaultAcl getDefaultAcl() {
        return defaultAcl;
    }

    /**
     * Sets {@code zksdk.default-acl}; see {@link #getDefaultAcl()}.
     *
     * @param defaultAcl the new value
     */
    public void setDefaultAcl(DefaultAcl defaultAcl) {
        this.defaultAcl = defaultAcl;
    }

    /**
     * Whether to connect the pool while the application context starts: start-up then fails, naming the servers and
     * what went wrong, when no session connects within the initialization timeout, and health is DOWN (not UNKNOWN)
     * until the pool has connected. Off, sessions open on the first lease. Property {@code zksdk.connect-on-startup}.
     *
     * @return the bound value (default {@code false})
     */
    public boolean isConnectOnStartup() {
        return connectOnStartup;
    }

    /**
     * Sets {@code zksdk.connect-on-startup}; see {@link #isConnectOnStartup()}.
     *
     * @param connectOnStartup the new value
     */
    public void setConnectOnStartup(boolean connectOnStartup) {
        this.connectOnStartup = connectOnStartup;
    }

    /**
     * How long start-up waits for a connected session when connect-on-startup is set. Property
     * {@code zksdk.initialization-timeout}.
     *
     * @return the bound value (default 30 s)
     */
    public Duration getInitializationTimeout() {
        return initializationTimeout;
    }

    /**
     * Sets {@code zksdk.initialization-timeout}; see {@link #getInitializationTimeout()}.
     *
     * @param initializationTimeout the new value
     */
    public void setInitializationTimeout(Duration initializationTimeout) {
        this.initializationTimeout = initializationTimeout;
    }

    /**
     * The {@code zksdk.digest.*} properties.
     *
     * @return the nested settings, never null
     */
    public Digest getDigest() {
        return digest;
    }

    /**
     * The {@code zksdk.sasl.*} properties.
     *
     * @return the nested settings, never null
     */
    public Sasl getSasl() {
        return sasl;
    }

    /**
     * The {@code zksdk.ssl.*} properties.
     *
     * @return the nested settings, never null
     */
    public Ssl getSsl() {
        return ssl;
    }

    /**
     * The {@code zksdk.retry.*} properties.
     *
     * @return the nested settings, never null
     */
    public Retry getRetry() {
        return retry;
    }

    /**
     * The {@code zksdk.circuit-breaker.*} properties.
     *
     * @return the nested settings, never null
     */
    public CircuitBreaker getCircuitBreaker() {
        return circuitBreaker;
    }

    /**
     * The {@code zksdk.bulkhead.*} properties.
     *
     * @return the nested settings, never null
     */
    public Bulkhead getBulkhead() {
        return bulkhead;
    }

    /**
     * The {@code zksdk.hosts.*} properties.
     *
     * @return the nested settings, never null
     */
    public Hosts getHosts() {
        return hosts;
    }

    /**
     * The {@code zksdk.cache.*} properties.
     *
     * @return the nested settings, never null
     */
    public Cache getCache() {
        return cache;
    }

    /**
     * The {@code zksdk.metrics.*} properties.
     *
     * @return the nested settings, never null
     */
    public Metrics getMetrics() {
        return metrics;
    }

    /**
     * The {@code zksdk.observation.*} properties.
     *
     * @return the nested settings, never null
     */
    public Observation getObservation() {
        return observation;
    }

    @Override
    public String toString() {
        return "ZkSdkProperties{name=" + name + ", connectString=" + connectString + ", chroot=" + chroot
                + ", sessionTimeout=" + sessionTimeout + ", connectionTimeout=" + connectionTimeout
                + ", sessionsPerEnsemble="
                + sessionsPerEnsemble + (observers.isEmpty() ? "" : ", observers=" + observers)
                + (readsFromObservers == 0 ? "" : ", readsFromObservers=" + readsFromObservers)
                + ", canBeReadOnly=" + canBeReadOnly + ", operationTimeout=" + operationTimeout
                + ", auth=" + auth
                + ", digest=" + digest + ", sasl=" + sasl + ", ssl=" + ssl + ", followEnsembleChanges="
                + followEnsembleChanges + ", defaultAcl=" + defaultAcl + ", connectOnStartup=" + connectOnStartup
                + ", initializationTimeout=" + initializationTimeout + ", closeTimeout=" + closeTimeout + ", cache="
                + cache + "}";
    }

    /** The ACL of nodes created without an explicit one ({@link dev.zksdk.security.ZkAcls}). */
    public enum DefaultAcl {
        /** Anyone may do anything (ZooKeeper's OPEN_ACL_UNSAFE). */
        OPEN,
        /** Only the creating identity. */
        CREATOR_ALL,
        /** The creating identity may do anything, anyone may read. */
        CREATOR_ALL_WORLD_READ
    }

    /** ZooKeeper digest credentials for every session ("addauth digest user:password"). */
    public static class Digest {

        /** User name of the digest credentials; no ':' allowed. */
        private String username;

        /** Password of the digest credentials; never logged. */
        private String password;

        /**
         * User name of the digest credentials; no ':' allowed. Property {@code zksdk.digest.username}.
         *
         * @return the bound value
         */
        public String getUsername() {
            return username;
        }

        /**
         * Sets {@code zksdk.digest.username}; see {@link #getUsername()}.
         *
         * @param username the new value
         */
        public void setUsername(String username) {
            this.username = username;
        }

        /**
         * Password of the digest credentials; never logged. Property {@code zksdk.digest.password}.
         *
         * @return the bound value
         */
        public String getPassword() {
            return password;
        }

        /**
         * Sets {@code zksdk.digest.password}; see {@link #getPassword()}.
         *
         * @param password the new value
         */
        public void setPassword(String password) {
            this.password = password;
        }

        @Override
        public String toString() {
            return username == null ? "(none)" : username + ":****";
        }
    }

    /**
     * SASL authentication of every session, in one of three forms: a user name and password (SASL DIGEST-MD5 through
     * ZooKeeper's DigestLoginModule), a login module with its options (such as Kerberos' Krb5LoginModule with a key
     * tab), or a section of the JVM's JAAS configuration by name. Unset, sessions do not use SASL, whatever the JVM's
     * JAAS configuration says.
     */
    public static class Sasl {

        /** User name for SASL DIGEST-MD5 (ZooKeeper's DigestLoginModule). */
        private String username;

        /** Password for SASL DIGEST-MD5; never logged. */
        private String password;

        /** Name of a section of the JVM's JAAS configuration (java.security.auth.login.config) to log in with. */
        private String jaasSection;

        /** Login module class, such as "com.sun.security.auth.module.Krb5LoginModule"; its options below. */
        private String loginModule;

        /** Options of the login module, such as keyTab and principal; values are never logged. */
        private Map<String, String> options = new TreeMap<>();

        /** Service part of the servers' Kerberos principal. */
        private String serviceName = "zookeeper";

        /** The servers' full Kerberos principal, instead of building it from the service name and each host. */
        private String serverPrincipal;

        /** Whether to canonicalize server host names to build their Kerberos principals. */
        private boolean canonicalizeHostname = true;

        /**
         * Whether the login uses DIGEST-MD5 (runs the sessions with ZooKeeper's FIPS mode off). Unset: true for a user
         * name and password and for the DigestLoginModule, false otherwise; set it for a JAAS section using DIGEST-MD5.
         */
        private Boolean digestMd5;

        /**
         * User name for SASL DIGEST-MD5 (ZooKeeper's DigestLoginModule). Property {@code zksdk.sasl.username}.
         *
         * @return the bound value
         */
        public String getUsername() {
            return username;
        }

        /**
         * Sets {@code zksdk.sasl.username}; see {@link #getUsername()}.
         *
         * @param username the new value
         */
        public void setUsername(String username) {
            this.username = username;
        }

        /**
         * Password for SASL DIGEST-MD5; never logged. Property {@code zksdk.sasl.password}.
         *
         * @return the bound value
         */
        public String getPassword() {
            return password;
        }

        /**
         * Sets {@code zksdk.sasl.password}; see {@link #getPassword()}.
         *
         * @param password the new value
         */
        public void setPassword(String password) {
            this.password = password;
        }

        /**
         * Name of a section of the JVM's JAAS configuration (java.security.auth.login.config) to log in with. Property
         * {@code zksdk.sasl.jaas-section}.
         *
         * @return the bound value
         */
        public String getJaasSection() {
            return jaasSection;
        }

        /**
         * Sets {@code zksdk.sasl.jaas-section}; see {@link #getJaasSection()}.
         *
         * @param jaasSection the new value
         */
        public void setJaasSection(String jaasSection) {
            this.jaasSection = jaasSection;
        }

        /**
         * Login module class, such as "com.sun.security.auth.module.Krb5LoginModule"; its options below. Property
         * {@code zksdk.sasl.login-module}.
         *
         * @return the bound value
         */
        public String getLoginModule() {
            return loginModule;
        }

        /**
         * Sets {@code zksdk.sasl.login-module}; see {@link #getLoginModule()}.
         *
         * @param loginModule the new value
         */
        public void setLoginModule(String loginModule) {
            this.loginModule = loginModule;
        }

        /**
         * Options of the login module, such as keyTab and principal; values are never logged. Property
         * {@code zksdk.sasl.options}.
         *
         * @return the bound value
         */
        public Map<String, String> getOptions() {
            return options;
        }

        /**
         * Sets {@code zksdk.sasl.options}; see {@link #getOptions()}.
         *
         * @param options the new value
         */
        public void setOptions(Map<String, String> options) {
            this.options = options;
        }

        /**
         * Service part of the servers' Kerberos principal. Property {@code zksdk.sasl.service-name}.
         *
         * @return the bound value (default {@code zookeeper})
         */
        public String getServiceName() {
            return serviceName;
        }

        /**
         * Sets {@code zksdk.sasl.service-name}; see {@link #getServiceName()}.
         *
         * @param serviceName the new value
         */
        public void setServiceName(String serviceName) {
            this.serviceName = serviceName;
        }

        /**
         * The servers' full Kerberos principal, instead of building it from the service name and each host. Property
         * {@code zksdk.sasl.server-principal}.
         *
         * @return the bound value
         */
        public String getServerPrincipal() {
            return serverPrincipal;
        }

        /**
         * Sets {@code zksdk.sasl.server-principal}; see {@link #getServerPrincipal()}.
         *
         * @param serverPrincipal the new value
         */
        public void setServerPrincipal(String serverPrincipal) {
            this.serverPrincipal = serverPrincipal;
        }

        /**
         * Whether to canonicalize server host names to build their Kerberos principals. Property
         * {@code zksdk.sasl.canonicalize-hostname}.
         *
         * @return the bound value (default {@code true})
         */
        public boolean isCanonicalizeHostname() {
            return canonicalizeHostname;
        }

        /**
         * Sets {@code zksdk.sasl.canonicalize-hostname}; see {@link #isCanonicalizeHostname()}.
         *
         * @param canonicalizeHostname the new value
         */
        public void setCanonicalizeHostname(boolean canonicalizeHostname) {
            this.canonicalizeHostname = canonicalizeHostname;
        }

        /**
         * Whether the login uses DIGEST-MD5 (runs the sessions with ZooKeeper's FIPS mode off). Unset: true for a user
         * name and password and for the DigestLoginModule, false otherwise; set it for a JAAS section using DIGEST-MD5.
         * Property {@code zksdk.sasl.digest-md5}.
         *
         * @return the bound value
         */
        public Boolean getDigestMd5() {
            return digestMd5;
        }

        /**
         * Sets {@code zksdk.sasl.digest-md5}; see {@link #getDigestMd5()}.
         *
         * @param digestMd5 the new value
         */
        public void setDigestMd5(Boolean digestMd5) {
            this.digestMd5 = digestMd5;
        }

        /** Whether any SASL form is configured. */
        boolean isConfigured() {
            return username != null || password != null || jaasSection != null || loginModule != null;
        }

        @Override
        public String toString() {
            if (!isConfigured()) {
                return "(none)";
            }
            return "{" + (username != null ? "username=" + username + ", password=****" : "")
                    + (jaasSection != null ? "jaasSection=" + jaasSection : "")
                    + (loginModule != null ? "loginModule=" + loginModule + ", options=" + options.keySet() : "")
                    + ", serviceName=" + serviceName + "}";
        }
    }

    /** TLS to the servers' secure client port, with the key and trust material of a Spring Boot SSL bundle. */
    public static class Ssl {

        /**
         * Whether to connect with TLS. Enabled automatically when a bundle is set, unless set to false; enabled without
         * a bundle, the JVM's default CAs are trusted and no client certificate is sent.
         */
        private Boolean enabled;

        /**
         * Name of the SSL bundle (spring.ssl.bundle.jks.<name> or spring.ssl.bundle.pem.<name>) with this client's
         * key store (sent when the server asks for a client certificate) and the trust store with the servers' CAs.
         * The bundle's enabled protocols and ciphers apply too.
         */
        private String bundle;

        /** Whether the server's certificate must name the host or IP address connected to. */
        private boolean hostnameVerification = true;

        /**
         * Whether to connect with TLS. Enabled automatically when a bundle is set, unless set to false; enabled without
         * a bundle, the JVM's default CAs are trusted and no client certificate is sent. Property
         * {@code zksdk.ssl.enabled}.
         *
         * @return the bound value
         */
        public Boolean getEnabled() {
            return enabled;
        }

        /**
         * Sets {@code zksdk.ssl.enabled}; see {@link #getEnabled()}.
         *
         * @param enabled the new value
         */
        public void setEnabled(Boolean enabled) {
            this.enabled = enabled;
        }

        /** Whether TLS is on: set, or else implied by a bundle. */
        boolean isOn() {
            return enabled != null ? enabled : bundle != null;
        }

        /**
         * Name of the SSL bundle ({@code spring.ssl.bundle.jks.<name>} or {@code spring.ssl.bundle.pem.<name>}) with
         * this client's key store (sent when the server asks for a client certificate) and the trust store with the
         * servers' CAs. The bundle's enabled protocols and ciphers apply too. Property {@code zksdk.ssl.bundle}.
         *
         * @return the bound value
         */
        public String getBundle() {
            return bundle;
        }

        /**
         * Sets {@code zksdk.ssl.bundle}; see {@link #getBundle()}.
         *
         * @param bundle the new value
         */
        public void setBundle(String bundle) {
            this.bundle = bundle;
        }

        /**
         * Whether the server's certificate must name the host or IP address connected to. Property
         * {@code zksdk.ssl.hostname-verification}.
         *
         * @return the bound value (default {@code true})
         */
        public boolean isHostnameVerification() {
            return hostnameVerification;
        }

        /**
         * Sets {@code zksdk.ssl.hostname-verification}; see {@link #isHostnameVerification()}.
         *
         * @param hostnameVerification the new value
         */
        public void setHostnameVerification(boolean hostnameVerification) {
            this.hostnameVerification = hostnameVerification;
        }

        @Override
        public String toString() {
            return isOn() ? "{bundle=" + bundle + ", hostnameVerification=" + hostnameVerification + "}" : "(off)";
        }
    }

    /** One credential. Printed as {@code scheme:****}. */
    public static class Auth {

        /** Authentication scheme, such as "digest". */
        private String scheme = "digest";

        /** The credential, such as "user:password" for the digest scheme; sent as UTF-8 bytes and never logged. */
        private String credentials;

        /**
         * Authentication scheme, such as "digest". Property {@code zksdk.auth[n].scheme}.
         *
         * @return the bound value (default {@code digest})
         */
        public String getScheme() {
            return scheme;
        }

        /**
         * Sets {@code zksdk.auth[n].scheme}; see {@link #getScheme()}.
         *
         * @param scheme the new value
         */
        public void setScheme(String scheme) {
            this.scheme = scheme;
        }

        /**
         * The credential, such as "user:password" for the digest scheme; sent as UTF-8 bytes and never logged. Property
         * {@code zksdk.auth[n].credentials}.
         *
         * @return the bound value
         */
        public String getCredentials() {
            return credentials;
        }

        /**
         * Sets {@code zksdk.auth[n].credentials}; see {@link #getCredentials()}.
         *
         * @param credentials the new value
         */
        public void setCredentials(String credentials) {
            this.credentials = credentials;
        }

        @Override
        public String toString() {
            return scheme + ":****";
        }
    }

    /**
     * Every retry of the SDK: operations after connection loss (exponential backoff with full jitter, bounded by the
     * operation timeout; Curator's own retry for recipes follows the same), and recovery passes that left work undone.
     */
    public static class Retry {

        /** Upper bound of the first retry's random wait; each later retry doubles it, up to the max backoff. */
        private Duration initialBackoff = Duration.ofMillis(20);

        /** Upper bound of any retry's random wait. */
        private Duration maxBackoff = Duration.ofSeconds(1);

        /**
         * Upper bound of the first random wait before a recovery pass that left an owned ephemeral missing or a watch
         * unarmed is tried again; each later one doubles it, up to the recovery max backoff.
         */
        private Duration recoveryInitialBackoff = Duration.ofMillis(200);

        /** Upper bound of any random wait between recovery passes that left work undone. */
        private Duration recoveryMaxBackoff = Duration.ofSeconds(5);

        /**
         * Upper bound of the first random wait before a recovery pass that left an owned ephemeral missing or a watch
         * unarmed is tried again; each later one doubles it, up to the recovery max backoff. Property
         * {@code zksdk.retry.recovery-initial-backoff}.
         *
         * @return the bound value (default 200 ms)
         */
        public Duration getRecoveryInitialBackoff() {
            return recoveryInitialBackoff;
        }

        /**
         * Sets {@code zksdk.retry.recovery-initial-backoff}; see {@link #getRecoveryInitialBackoff()}.
         *
         * @param recoveryInitialBackoff the new value
         */
        public void setRecoveryInitialBackoff(Duration recoveryInitialBackoff) {
            this.recoveryInitialBackoff = recoveryInitialBackoff;
        }

        /**
         * Upper bound of any random wait between recovery passes that left work undone. Property
         * {@code zksdk.retry.recovery-max-backoff}.
         *
         * @return the bound value (default 5 s)
         */
        public Duration getRecoveryMaxBackoff() {
            return recoveryMaxBackoff;
        }

        /**
         * Sets {@code zksdk.retry.recovery-max-backoff}; see {@link #getRecoveryMaxBackoff()}.
         *
         * @param recoveryMaxBackoff the new value
         */
        public void setRecoveryMaxBackoff(Duration recoveryMaxBackoff) {
            this.recoveryMaxBackoff = recoveryMaxBackoff;
        }

        /**
         * Upper bound of the first retry's random wait; each later retry doubles it, up to the max backoff. Property
         * {@code zksdk.retry.initial-backoff}.
         *
         * @return the bound value (default 20 ms)
         */
        public Duration getInitialBackoff() {
            return initialBackoff;
        }

        /**
         * Sets {@code zksdk.retry.initial-backoff}; see {@link #getInitialBackoff()}.
         *
         * @param initialBackoff the new value
         */
        public void setInitialBackoff(Duration initialBackoff) {
            this.initialBackoff = initialBackoff;
        }

        /**
         * Upper bound of any retry's random wait. Property {@code zksdk.retry.max-backoff}.
         *
         * @return the bound value (default 1 s)
         */
        public Duration getMaxBackoff() {
            return maxBackoff;
        }

        /**
         * Sets {@code zksdk.retry.max-backoff}; see {@link #getMaxBackoff()}.
         *
         * @param maxBackoff the new value
         */
        public void setMaxBackoff(Duration maxBackoff) {
            this.maxBackoff = maxBackoff;
        }
    }

    /**
     * The per-ensemble circuit breaker: counts only connection-level failures, never application results. Property names
     * are resilience4j's; the earlier names still bind, deprecated.
     */
    public static class CircuitBreaker {

        /** Failure percentage, in (0, 100], at which the breaker opens. */
        private float failureRateThreshold = 50f;

        /** Calls the breaker looks back over. */
        private int slidingWindowSize = 10;

        /** Calls the breaker needs to see before it may open; at most the sliding window size. */
        private int minimumNumberOfCalls = 4;

        /** How long an open breaker refuses calls before letting trial calls through. */
        private Duration waitDurationInOpenState = Duration.ofSeconds(5);

        /** Trial calls let through by a half-open breaker. */
        private int permittedNumberOfCallsInHalfOpenState = 2;

        // Whether the new name was bound, so that a deprecated alias bound after it does not overwrite it.
        private boolean slidingWindowSizeSet;
        private boolean minimumNumberOfCallsSet;
        private boolean waitDurationInOpenStateSet;
        private boolean permittedNumberOfCallsInHalfOpenStateSet;

        /**
         * Failure percentage, in (0, 100], at which the breaker opens. Property
         * {@code zksdk.circuit-breaker.failure-rate-threshold}.
         *
         * @return the bound value (default {@code 50})
         */
        public float getFailureRateThreshold() {
            return failureRateThreshold;
        }

        /**
         * Sets {@code zksdk.circuit-breaker.failure-rate-threshold}; see {@link #getFailureRateThreshold()}.
         *
         * @param failureRateThreshold the new value
         */
        public void setFailureRateThreshold(float failureRateThreshold) {
            this.failureRateThreshold = failureRateThreshold;
        }

        /**
         * Calls the breaker looks back over. Property {@code zksdk.circuit-breaker.sliding-window-size}.
         *
         * @return the bound value (default {@code 10})
         */
        public int getSlidingWindowSize() {
            return slidingWindowSize;
        }

        /**
         * Sets {@code zksdk.circuit-breaker.sliding-window-size}; see {@link #getSlidingWindowSize()}.
         *
         * @param slidingWindowSize the new value
         */
        public void setSlidingWindowSize(int slidingWindowSize) {
            this.slidingWindowSize = slidingWindowSize;
            this.slidingWindowSizeSet = true;
        }

        /**
         * Calls the breaker needs to see before it may open; at most the sliding window size. Property
         * {@code zksdk.circuit-breaker.minimum-number-of-calls}.
         *
         * @return the bound value (default {@code 4})
         */
        public int getMinimumNumberOfCalls() {
            return minimumNumberOfCalls;
        }

        /**
         * Sets {@code zksdk.circuit-breaker.minimum-number-of-calls}; see {@link #getMinimumNumberOfCalls()}.
         *
         * @param minimumNumberOfCalls the new value
         */
        public void setMinimumNumberOfCalls(int minimumNumberOfCalls) {
            this.minimumNumberOfCalls = minimumNumberOfCalls;
            this.minimumNumberOfCallsSet = true;
        }

        /**
         * How long an open breaker refuses calls before letting trial calls through. Property
         * {@code zksdk.circuit-breaker.wait-duration-in-open-state}.
         *
         * @return the bound value (default 5 s)
         */
        public Duration getWaitDurationInOpenState() {
            return waitDurationInOpenState;
        }

        /**
         * Sets {@code zksdk.circuit-breaker.wait-duration-in-open-state}; see {@link #getWaitDurationInOpenState()}.
         *
         * @param waitDurationInOpenState the new value
         */
        public void setWaitDurationInOpenState(Duration waitDurationInOpenState) {
            this.waitDurationInOpenState = waitDurationInOpenState;
            this.waitDurationInOpenStateSet = true;
        }

        /**
         * Trial calls let through by a half-open breaker. Property
         * {@code zksdk.circuit-breaker.permitted-number-of-calls-in-half-open-state}.
         *
         * @return the bound value (default {@code 2})
         */
        public int getPermittedNumberOfCallsInHalfOpenState() {
            return permittedNumberOfCallsInHalfOpenState;
        }

        /**
         * Sets {@code zksdk.circuit-breaker.permitted-number-of-calls-in-half-open-state}; see
         * {@link #getPermittedNumberOfCallsInHalfOpenState()}.
         *
         * @param permittedNumberOfCallsInHalfOpenState the new value
         */
        public void setPermittedNumberOfCallsInHalfOpenState(int permittedNumberOfCallsInHalfOpenState) {
            this.permittedNumberOfCallsInHalfOpenState = permittedNumberOfCallsInHalfOpenState;
            this.permittedNumberOfCallsInHalfOpenStateSet = true;
        }

        /**
         * Deprecated alias of {@code zksdk.circuit-breaker.sliding-window-size}, the name resilience4j uses.
         *
         * @return the value of {@code zksdk.circuit-breaker.sliding-window-size}
         * @deprecated use {@link #getSlidingWindowSize()}
         */
        @Deprecated(since = "0.1.0")
        @DeprecatedConfigurationProperty(replacement = "zksdk.circuit-breaker.sliding-window-size", since = "0.1.0")
        public int getSlidingWindow() {
            return slidingWindowSize;
        }

        /**
         * Deprecated alias of the setter of {@code zksdk.circuit-breaker.sliding-window-size}.
         *
         * @param value the value, taken only when {@code zksdk.circuit-breaker.sliding-window-size} is not set
         * @deprecated use {@link #setSlidingWindowSize(int)}; when both are set, the new name wins.
         */
        @Deprecated(since = "0.1.0")
        public void setSlidingWindow(int value) {
            if (!slidingWindowSizeSet) {
                this.slidingWindowSize = value;
            }
        }

        /**
         * Deprecated alias of {@code zksdk.circuit-breaker.minimum-number-of-calls}, the name resilience4j uses.
         *
         * @return the value of {@code zksdk.circuit-breaker.minimum-number-of-calls}
         * @deprecated use {@link #getMinimumNumberOfCalls()}
         */
        @Deprecated(since = "0.1.0")
        @DeprecatedConfigurationProperty(replacement = "zksdk.circuit-breaker.minimum-number-of-calls", since = "0.1.0")
        public int getMinimumCalls() {
            return minimumNumberOfCalls;
        }

        /**
         * Deprecated alias of the setter of {@code zksdk.circuit-breaker.minimum-number-of-calls}.
         *
         * @param value the value, taken only when {@code zksdk.circuit-breaker.minimum-number-of-calls} is not set
         * @deprecated use {@link #setMinimumNumberOfCalls(int)}; when both are set, the new name wins.
         */
        @Deprecated(since = "0.1.0")
        public void setMinimumCalls(int value) {
            if (!minimumNumberOfCallsSet) {
                this.minimumNumberOfCalls = value;
            }
        }

        /**
         * Deprecated alias of {@code zksdk.circuit-breaker.wait-duration-in-open-state}, the name resilience4j uses.
         *
         * @return the value of {@code zksdk.circuit-breaker.wait-duration-in-open-state}
         * @deprecated use {@link #getWaitDurationInOpenState()}
         */
        @Deprecated(since = "0.1.0")
        @DeprecatedConfigurationProperty(
                replacement = "zksdk.circuit-breaker.wait-duration-in-open-state",
                since = "0.1.0")
        public Duration getOpenDuration() {
            return waitDurationInOpenState;
        }

        /**
         * Deprecated alias of the setter of {@code zksdk.circuit-breaker.wait-duration-in-open-state}.
         *
         * @param value the value, taken only when {@code zksdk.circuit-breaker.wait-duration-in-open-state} is not set
         * @deprecated use {@link #setWaitDurationInOpenState(Duration)}; when both are set, the new name wins.
         */
        @Deprecated(since = "0.1.0")
        public void setOpenDuration(Duration value) {
            if (!waitDurationInOpenStateSet) {
                this.waitDurationInOpenState = value;
            }
        }

        /**
         * Deprecated alias of {@code zksdk.circuit-breaker.permitted-number-of-calls-in-half-open-state}, the name resilience4j uses.
         *
         * @return the value of {@code zksdk.circuit-breaker.permitted-number-of-calls-in-half-open-state}
         * @deprecated use {@link #getPermittedNumberOfCallsInHalfOpenState()}
         */
        @Deprecated(since = "0.1.0")
        @DeprecatedConfigurationProperty(
                replacement = "zksdk.circuit-breaker.permitted-number-of-calls-in-half-open-state",
                since = "0.1.0")
        public int getHalfOpenCalls() {
            return permittedNumberOfCallsInHalfOpenState;
        }

        /**
         * Deprecated alias of the setter of {@code zksdk.circuit-breaker.permitted-number-of-calls-in-half-open-state}.
         *
         * @param value the value, taken only when
         *     {@code zksdk.circuit-breaker.permitted-number-of-calls-in-half-open-state} is not set
         * @deprecated use {@link #setPermittedNumberOfCallsInHalfOpenState(int)}; when both are set, the new name wins.
         */
        @Deprecated(since = "0.1.0")
        public void setHalfOpenCalls(int value) {
            if (!permittedNumberOfCallsInHalfOpenStateSet) {
                this.permittedNumberOfCallsInHalfOpenState = value;
            }
        }
    }

    /**
     * The per-ensemble in-flight limit. Property names are resilience4j's (semaphore bulkhead); the earlier names still
     * bind, deprecated.
     */
    public static class Bulkhead {

        /** Operations in flight per ensemble before new ones are refused. */
        private int maxConcurrentCalls = 4096;

        /** How long an operation may wait for an in-flight slot; 0 refuses at once. */
        private Duration maxWaitDuration = Duration.ZERO;

        private boolean maxConcurrentCallsSet;
        private boolean maxWaitDurationSet;

        /**
         * Operations in flight per ensemble before new ones are refused. Property
         * {@code zksdk.bulkhead.max-concurrent-calls}.
         *
         * @return the bound value (default {@code 4096})
         */
        public int getMaxConcurrentCalls() {
            return maxConcurrentCalls;
        }

        /**
         * Sets {@code zksdk.bulkhead.max-concurrent-calls}; see {@link #getMaxConcurrentCalls()}.
         *
         * @param maxConcurrentCalls the new value
         */
        public void setMaxConcurrentCalls(int maxConcurrentCalls) {
            this.maxConcurrentCalls = maxConcurrentCalls;
            this.maxConcurrentCallsSet = true;
        }

        /**
         * How long an operation may wait for an in-flight slot; 0 refuses at once. Property
         * {@code zksdk.bulkhead.max-wait-duration}.
         *
         * @return the bound value (default {@code ZERO})
         */
        public Duration getMaxWaitDuration() {
            return maxWaitDuration;
        }

        /**
         * Sets {@code zksdk.bulkhead.max-wait-duration}; see {@link #getMaxWaitDuration()}.
         *
         * @param maxWaitDuration the new value
         */
        public void setMaxWaitDuration(Duration maxWaitDuration) {
            this.maxWaitDuration = maxWaitDuration;
            this.maxWaitDurationSet = true;
        }

        /**
         * Deprecated alias of {@code zksdk.bulkhead.max-concurrent-calls}, the name resilience4j uses.
         *
         * @return the value of {@code zksdk.bulkhead.max-concurrent-calls}
         * @deprecated use {@link #getMaxConcurrentCalls()}
         */
        @Deprecated(since = "0.1.0")
        @DeprecatedConfigurationProperty(replacement = "zksdk.bulkhead.max-concurrent-calls", since = "0.1.0")
        public int getMaxInFlight() {
            return maxConcurrentCalls;
        }

        /**
         * Deprecated alias of the setter of {@code zksdk.bulkhead.max-concurrent-calls}.
         *
         * @param value the value, taken only when {@code zksdk.bulkhead.max-concurrent-calls} is not set
         * @deprecated use {@link #setMaxConcurrentCalls(int)}; when both are set, the new name wins.
         */
        @Deprecated(since = "0.1.0")
        public void setMaxInFlight(int value) {
            if (!maxConcurrentCallsSet) {
                this.maxConcurrentCalls = value;
            }
        }

        /**
         * Deprecated alias of {@code zksdk.bulkhead.max-wait-duration}, the name resilience4j uses.
         *
         * @return the value of {@code zksdk.bulkhead.max-wait-duration}
         * @deprecated use {@link #getMaxWaitDuration()}
         */
        @Deprecated(since = "0.1.0")
        @DeprecatedConfigurationProperty(replacement = "zksdk.bulkhead.max-wait-duration", since = "0.1.0")
        public Duration getMaxWait() {
            return maxWaitDuration;
        }

        /**
         * Deprecated alias of the setter of {@code zksdk.bulkhead.max-wait-duration}.
         *
         * @param value the value, taken only when {@code zksdk.bulkhead.max-wait-duration} is not set
         * @deprecated use {@link #setMaxWaitDuration(Duration)}; when both are set, the new name wins.
         */
        @Deprecated(since = "0.1.0")
        public void setMaxWait(Duration value) {
            if (!maxWaitDurationSet) {
                this.maxWaitDuration = value;
            }
        }
    }

    /** Server selection: weights, connection budget, quarantine, reconnect jitter and the session-creation rate limit. */
    public static class Hosts {

        /**
         * Relative weight per server, keyed "host:port" as in the connect string. Bracket the key, and in a .properties
         * file escape its colon: zksdk.hosts.weights.[zk1\:2181]=3 (YAML: "[zk1:2181]": 3). Servers not listed weigh 1;
         * weight 0 means "only when no other server can be used".
         */
        private Map<String, Integer> weights = new LinkedHashMap<>();

        /** Connections this process may hold to one server, over all pools of the JVM; keep below maxClientCnxns. */
        private int perServerConnectionBudget = 50;

        /** Quarantine of a server after its first failed connect; doubles per further failure. */
        private Duration quarantineInitialBackoff = Duration.ofSeconds(1);

        /** Upper bound of a repeatedly failing server's quarantine. */
        private Duration quarantineMaxBackoff = Duration.ofSeconds(30);

        /** Upper bound of the reconnect delay after a first failed attempt; doubles per further failure. 0 disables it. */
        private Duration reconnectJitterBase = Duration.ofMillis(100);

        /** Upper bound of any reconnect delay. */
        private Duration reconnectJitterCap = Duration.ofSeconds(2);

        /** New ZooKeeper sessions per second, process-wide: protects the servers' accept queues from bursts. */
        private double sessionCreationRate = 20.0;

        /** How long a new session waits for a creation permit before it is refused. */
        private Duration sessionCreationMaxWait = Duration.ofSeconds(5);

        /**
         * The longest one connection attempt may go unanswered before the next server is tried; unset, an attempt gets
         * the session timeout divided by the number of servers, and at most a third of it.
         */
        private Duration connectAttemptTimeout;

        /**
         * The shortest time an unanswered connection attempt is given; an attempt gets 8 times the slowest recent
         * handshake with the server, at least this, four times longer per unanswered attempt of the session.
         */
        private Duration minConnectAttemptTimeout = Duration.ofMillis(500);

        /**
         * Rebalancing after failover: the pool moves its sessions, one at a time and each keeping its id, from the
         * servers a failover left with more to the healthy ones with fewer. False turns it off.
         */
        private boolean rebalance = true;

        /** The mean time between two looks at the spread of the pool's sessions (each moves at most one session). */
        private Duration rebalanceInterval = Duration.ofSeconds(2);

        /**
         * The zone (availability zone, rack, data centre) this client runs in: sessions prefer the servers of this zone
         * and fall back to others only when none there can be used. Unset, zones play no part. Needs rebalancing on.
         */
        private String clientZone;

        /**
         * The zone of each server, keyed "host:port" as in the connect string (bracket the key, and in a .properties
         * file escape its colon: zksdk.hosts.server-zones.[zk1\:2181]=eu-west-1a). Servers not listed are in no zone.
         */
        private Map<String, String> serverZones = new LinkedHashMap<>();

        /**
         * How long a session that fell back to a server outside the client's zone stays there before it moves back,
         * keeping its id, to a healthy server in the zone (jittered between 0.75 and 1.25 times it).
         */
        private Duration fallbackSessionLifetime = Duration.ofMinutes(10);

        /**
         * The zone this client runs in; sessions prefer the servers of this zone. Property
         * {@code zksdk.hosts.client-zone}.
         *
         * @return the bound value (default unset: no zone preference)
         */
        public String getClientZone() {
            return clientZone;
        }

        /**
         * Sets {@code zksdk.hosts.client-zone}; see {@link #getClientZone()}.
         *
         * @param clientZone the new value
         */
        public void setClientZone(String clientZone) {
            this.clientZone = clientZone;
        }

        /**
         * The zone of each server, keyed "host:port" as in the connect string. Property
         * {@code zksdk.hosts.server-zones}.
         *
         * @return the bound value
         */
        public Map<String, String> getServerZones() {
            return serverZones;
        }

        /**
         * Sets {@code zksdk.hosts.server-zones}; see {@link #getServerZones()}.
         *
         * @param serverZones the new value
         */
        public void setServerZones(Map<String, String> serverZones) {
            this.serverZones = serverZones;
        }

        /**
         * How long a session that fell back outside the client's zone stays there before it moves back. Property
         * {@code zksdk.hosts.fallback-session-lifetime}.
         *
         * @return the bound value (default 10 min)
         */
        public Duration getFallbackSessionLifetime() {
            return fallbackSessionLifetime;
        }

        /**
         * Sets {@code zksdk.hosts.fallback-session-lifetime}; see {@link #getFallbackSessionLifetime()}.
         *
         * @param fallbackSessionLifetime the new value
         */
        public void setFallbackSessionLifetime(Duration fallbackSessionLifetime) {
            this.fallbackSessionLifetime = fallbackSessionLifetime;
        }

        /**
         * Rebalancing after failover: the pool moves its sessions, one at a time and each keeping its id, from the
         * servers a failover left with more to the healthy ones with fewer. False turns it off. Property
         * {@code zksdk.hosts.rebalance}.
         *
         * @return the bound value (default true)
         */
        public boolean isRebalance() {
            return rebalance;
        }

        /**
         * Sets {@code zksdk.hosts.rebalance}; see {@link #isRebalance()}.
         *
         * @param rebalance the new value
         */
        public void setRebalance(boolean rebalance) {
            this.rebalance = rebalance;
        }

        /**
         * The mean time between two looks at the spread of the pool's sessions (each moves at most one session).
         * Property {@code zksdk.hosts.rebalance-interval}.
         *
         * @return the bound value (default 2 s)
         */
        public Duration getRebalanceInterval() {
            return rebalanceInterval;
        }

        /**
         * Sets {@code zksdk.hosts.rebalance-interval}; see {@link #getRebalanceInterval()}.
         *
         * @param rebalanceInterval the new value
         */
        public void setRebalanceInterval(Duration rebalanceInterval) {
            this.rebalanceInterval = rebalanceInterval;
        }

        /**
         * The shortest time an unanswered connection attempt is given; an attempt gets 8 times the slowest recent
         * handshake with the server, at least this, four times longer per unanswered attempt of the session. Property
         * {@code zksdk.hosts.min-connect-attempt-timeout}.
         *
         * @return the bound value (default 500 ms)
         */
        public Duration getMinConnectAttemptTimeout() {
            return minConnectAttemptTimeout;
        }

        /**
         * Sets {@code zksdk.hosts.min-connect-attempt-timeout}; see {@link #getMinConnectAttemptTimeout()}.
         *
         * @param minConnectAttemptTimeout the new value
         */
        public void setMinConnectAttemptTimeout(Duration minConnectAttemptTimeout) {
            this.minConnectAttemptTimeout = minConnectAttemptTimeout;
        }

        /**
         * Relative weight per server, keyed "host:port" as in the connect string. Bracket the key, and in a .properties
         * file escape its colon: zksdk.hosts.weights.[zk1\:2181]=3 (YAML: "[zk1:2181]": 3). Servers not listed weigh 1;
         * weight 0 means "only when no other server can be used". Property {@code zksdk.hosts.weights}.
         *
         * @return the bound value
         */
        public Map<String, Integer> getWeights() {
            return weights;
        }

        /**
         * Sets {@code zksdk.hosts.weights}; see {@link #getWeights()}.
         *
         * @param weights the new value
         */
        public void setWeights(Map<String, Integer> weights) {
            this.weights = weights;
        }

        /**
         * Connections this process may hold to one server, over all pools of the JVM; keep below maxClientCnxns.
         * Property {@code zksdk.hosts.per-server-connection-budget}.
         *
         * @return the bound value (default {@code 50})
         */
        public int getPerServerConnectionBudget() {
            return perServerConnectionBudget;
        }

        /**
         * Sets {@code zksdk.hosts.per-server-connection-budget}; see {@link #getPerServerConnectionBudget()}.
         *
         * @param perServerConnectionBudget the new value
         */
        public void setPerServerConnectionBudget(int perServerConnectionBudget) {
            this.perServerConnectionBudget = perServerConnectionBudget;
        }

        /**
         * Quarantine of a server after its first failed connect; doubles per further failure. Property
         * {@code zksdk.hosts.quarantine-initial-backoff}.
         *
         * @return the bound value (default 1 s)
         */
        public Duration getQuarantineInitialBackoff() {
            return quarantineInitialBackoff;
        }

        /**
         * Sets {@code zksdk.hosts.quarantine-initial-backoff}; see {@link #getQuarantineInitialBackoff()}.
         *
         * @param quarantineInitialBackoff the new value
         */
        public void setQuarantineInitialBackoff(Duration quarantineInitialBackoff) {
            this.quarantineInitialBackoff = quarantineInitialBackoff;
        }

        /**
         * Upper bound of a repeatedly failing server's quarantine. Property {@code zksdk.hosts.quarantine-max-backoff}.
         *
         * @return the bound value (default 30 s)
         */
        public Duration getQuarantineMaxBackoff() {
            return quarantineMaxBackoff;
        }

        /**
         * Sets {@code zksdk.hosts.quarantine-max-backoff}; see {@link #getQuarantineMaxBackoff()}.
         *
         * @param quarantineMaxBackoff the new value
         */
        public void setQuarantineMaxBackoff(Duration quarantineMaxBackoff) {
            this.quarantineMaxBackoff = quarantineMaxBackoff;
        }

        /**
         * Upper bound of the reconnect delay after a first failed attempt; doubles per further failure. 0 disables it.
         * Property {@code zksdk.hosts.reconnect-jitter-base}.
         *
         * @return the bound value (default 100 ms)
         */
        public Duration getReconnectJitterBase() {
            return reconnectJitterBase;
        }

        /**
         * Sets {@code zksdk.hosts.reconnect-jitter-base}; see {@link #getReconnectJitterBase()}.
         *
         * @param reconnectJitterBase the new value
         */
        public void setReconnectJitterBase(Duration reconnectJitterBase) {
            this.reconnectJitterBase = reconnectJitterBase;
        }

        /**
         * The longest one connection attempt may go unanswered before the next server is tried; unset, an attempt gets
         * the session timeout divided by the number of servers, and at most a third of it. Property
         * {@code zksdk.hosts.connect-attempt-timeout}.
         *
         * @return the bound value
         */
        public Duration getConnectAttemptTimeout() {
            return connectAttemptTimeout;
        }

        /**
         * Sets {@code zksdk.hosts.connect-attempt-timeout}; see {@link #getConnectAttemptTimeout()}.
         *
         * @param connectAttemptTimeout the new value
         */
        public void setConnectAttemptTimeout(Duration connectAttemptTimeout) {
            this.connectAttemptTimeout = connectAttemptTimeout;
        }

        /**
         * Upper bound of any reconnect delay. Property {@code zksdk.hosts.reconnect-jitter-cap}.
         *
         * @return the bound value (default 2 s)
         */
        public Duration getReconnectJitterCap() {
            return reconnectJitterCap;
        }

        /**
         * Sets {@code zksdk.hosts.reconnect-jitter-cap}; see {@link #getReconnectJitterCap()}.
         *
         * @param reconnectJitterCap the new value
         */
        public void setReconnectJitterCap(Duration reconnectJitterCap) {
            this.reconnectJitterCap = reconnectJitterCap;
        }

        /**
         * New ZooKeeper sessions per second, process-wide: protects the servers' accept queues from bursts. Property
         * {@code zksdk.hosts.session-creation-rate}.
         *
         * @return the bound value (default {@code 20.0})
         */
        public double getSessionCreationRate() {
            return sessionCreationRate;
        }

        /**
         * Sets {@code zksdk.hosts.session-creation-rate}; see {@link #getSessionCreationRate()}.
         *
         * @param sessionCreationRate the new value
         */
        public void setSessionCreationRate(double sessionCreationRate) {
            this.sessionCreationRate = sessionCreationRate;
        }

        /**
         * How long a new session waits for a creation permit before it is refused. Property
         * {@code zksdk.hosts.session-creation-max-wait}.
         *
         * @return the bound value (default 5 s)
         */
        public Duration getSessionCreationMaxWait() {
            return sessionCreationMaxWait;
        }

        /**
         * Sets {@code zksdk.hosts.session-creation-max-wait}; see {@link #getSessionCreationMaxWait()}.
         *
         * @param sessionCreationMaxWait the new value
         */
        public void setSessionCreationMaxWait(Duration sessionCreationMaxWait) {
            this.sessionCreationMaxWait = sessionCreationMaxWait;
        }
    }

    /**
     * Caches of the pool's nodes (lease.cache(path, config), lease.treeCache(path, config)): the starter's
     * {@code CacheConfig} bean, built from these, is the configuration to pass.
     */
    public static class Cache {

        /**
         * Entries a cache keeps (a node's data and stat is one entry, its children list another); beyond it, entries
         * are evicted (Caffeine's W-TinyLFU policy). At least 1.
         */
        private long maximumSize = 10_000;

        /**
         * How long after the client notices a disconnection a cache may still serve what it held; 0: never while
         * disconnected.
         */
        private Duration maxDisconnectedStaleness = Duration.ofSeconds(10);

        /** Whether caches record hits, misses, loads and evictions (ZkCache.stats(), CacheMetrics). */
        private boolean recordStats = true;

        /**
         * Entries a cache keeps (a node's data and stat is one entry, its children list another); beyond it, entries
         * are evicted (Caffeine's W-TinyLFU policy). At least 1. Property {@code zksdk.cache.maximum-size}.
         *
         * @return the bound value (default {@code 10000})
         */
        public long getMaximumSize() {
            return maximumSize;
        }

        /**
         * Sets {@code zksdk.cache.maximum-size}; see {@link #getMaximumSize()}.
         *
         * @param maximumSize the new value
         */
        public void setMaximumSize(long maximumSize) {
            this.maximumSize = maximumSize;
        }

        /**
         * How long after the client notices a disconnection a cache may still serve what it held; 0: never while
         * disconnected. Property {@code zksdk.cache.max-disconnected-staleness}.
         *
         * @return the bound value (default 10 s)
         */
        public Duration getMaxDisconnectedStaleness() {
            return maxDisconnectedStaleness;
        }

        /**
         * Sets {@code zksdk.cache.max-disconnected-staleness}; see {@link #getMaxDisconnectedStaleness()}.
         *
         * @param maxDisconnectedStaleness the new value
         */
        public void setMaxDisconnectedStaleness(Duration maxDisconnectedStaleness) {
            this.maxDisconnectedStaleness = maxDisconnectedStaleness;
        }

        /**
         * Whether caches record hits, misses, loads and evictions (ZkCache.stats(), CacheMetrics). Property
         * {@code zksdk.cache.record-stats}.
         *
         * @return the bound value (default {@code true})
         */
        public boolean isRecordStats() {
            return recordStats;
        }

        /**
         * Sets {@code zksdk.cache.record-stats}; see {@link #isRecordStats()}.
         *
         * @param recordStats the new value
         */
        public void setRecordStats(boolean recordStats) {
            this.recordStats = recordStats;
        }

        @Override
        public String toString() {
            return "Cache{maximumSize=" + maximumSize + ", maxDisconnectedStaleness=" + maxDisconnectedStaleness
                    + ", recordStats=" + recordStats + "}";
        }
    }

    /** Micrometer metrics of the pool. */
    public static class Metrics {

        /** Whether to publish the pool's meters to the application's MeterRegistry (when Micrometer is present). */
        private boolean enabled = true;

        /**
         * The default ensemble's name in meter tags, traces and logs (the `ensemble` tag), such as `orders-zk`; applied
         * whether or not metrics are published. Default: derived from the servers (the first in sorted order and `+n`
         * for the others).
         */
        private String ensembleAlias;

        /**
         * Whether to publish the pool's meters to the application's MeterRegistry (when Micrometer is present).
         * Property {@code zksdk.metrics.enabled}.
         *
         * @return the bound value (default {@code true})
         */
        public boolean isEnabled() {
            return enabled;
        }

        /**
         * Sets {@code zksdk.metrics.enabled}; see {@link #isEnabled()}.
         *
         * @param enabled the new value
         */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /**
         * The default ensemble's name in meter tags, traces and logs (the `ensemble` tag), such as `orders-zk`; applied
         * whether or not metrics are published. Default: derived from the servers (the first in sorted order and `+n`
         * for the others). Property {@code zksdk.metrics.ensemble-alias}.
         *
         * @return the bound value
         */
        public String getEnsembleAlias() {
            return ensembleAlias;
        }

        /**
         * Sets {@code zksdk.metrics.ensemble-alias}; see {@link #getEnsembleAlias()}.
         *
         * @param ensembleAlias the new value
         */
        public void setEnsembleAlias(String ensembleAlias) {
            this.ensembleAlias = ensembleAlias;
        }
    }

    /** Lease operations as Micrometer observations (spans and the operations timer). */
    public static class Observation {

        /**
         * Whether every lease operation is an observation of the application's ObservationRegistry (when there is one
         * and metrics are enabled); the `zksdk.operations` timer then comes from the registry's meter handler.
         */
        private boolean enabled = false;

        /**
         * Whether every lease operation is an observation of the application's ObservationRegistry (when there is one
         * and metrics are enabled); the `zksdk.operations` timer then comes from the registry's meter handler. Property
         * {@code zksdk.observation.enabled}. Off by default: with Spring Boot's meter observation handler an observed
         * operation cost about twice the caller's CPU of a metered one (sdk-benchmarks' observation pair).
         *
         * @return the bound value (default {@code false})
         */
        public boolean isEnabled() {
            return enabled;
        }

        /**
         * Sets {@code zksdk.observation.enabled}; see {@link #isEnabled()}.
         *
         * @param enabled the new value
         */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }
}
