package dev.zksdk.security;

import dev.zksdk.internal.Validation;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * SASL authentication of an ensemble's sessions, configured per ensemble instead of through the JVM-wide
 * {@code java.security.auth.login.config} file and {@code zookeeper.sasl.*} system properties.
 *
 * <p>Two forms:
 * <ul>
 *   <li>a login module with its options, such as {@link #digest(String, String)} (ZooKeeper's
 *       {@code DigestLoginModule}, SASL DIGEST-MD5) or Kerberos' {@code Krb5LoginModule} with a key tab. The pool
 *       serves them to ZooKeeper as a JAAS section of its own, under a name no other config uses, so two pools (or
 *       two ensembles of one pool) with different identities never see each other's;</li>
 *   <li>{@link #jaasSection(String)}: a section of the JVM's existing JAAS configuration, by name.</li>
 * </ul>
 *
 * <p>DIGEST-MD5 (a user name and password, no Kerberos) is not a FIPS-approved mechanism, and ZooKeeper's client
 * refuses it while its FIPS mode ({@code zookeeper.fips-mode}, on by default) is on. A config that logs in with
 * DIGEST-MD5 ({@link #digest(String, String)}, or {@link Builder#digestMd5(boolean)} for a JAAS section that does)
 * therefore runs its ensemble's sessions with ZooKeeper's FIPS mode off; for TLS that means ZooKeeper's own trust
 * manager, which checks host names itself, instead of the JDK's endpoint identification. Other ensembles keep it on.
 *
 * <p>An ensemble without a {@code SaslConfig} does not use SASL at all, even if the JVM's JAAS configuration has a
 * {@code Client} section: a pooled session's identity is always what its {@code EnsembleConfig} says.
 *
 * <p>Immutable; equal by content (so configs with different secrets never share sessions). {@link #toString()}
 * shows option names, never their values.
 *
 * <p>When the server refuses the credentials ({@code AUTHFAILED}), every lease and operation of that ensemble fails
 * at once with {@link dev.zksdk.ZkAuthException} and the pool does not try the credentials again: repeated failed
 * logins can lock an account, and the same credentials cannot start working by themselves.
 */
public final class SaslConfig {

    /** ZooKeeper's login module for SASL DIGEST-MD5 user names and passwords. */
    public static final String DIGEST_LOGIN_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule";
    /** The service name of the server's Kerberos principal when none is set ({@code zookeeper/host@REALM}). */
    public static final String DEFAULT_SERVICE_NAME = "zookeeper";
    /** Whether server host names are canonicalized to build its principal when not set: as ZooKeeper, true. */
    public static final boolean DEFAULT_CANONICALIZE_HOSTNAME = true;

    private final String jaasSection;
    private final String loginModule;
    private final Map<String, String> options;
    private final String serviceName;
    private final String serverPrincipal;
    private final boolean canonicalizeHostname;
    private final boolean digestMd5;

    private SaslConfig(Builder b) {
        this.jaasSection = b.jaasSection;
        this.loginModule = b.loginModule;
        this.options = Collections.unmodifiableMap(new TreeMap<>(b.options));
        this.serviceName = b.serviceName;
        this.serverPrincipal = b.serverPrincipal;
        this.canonicalizeHostname = b.canonicalizeHostname;
        this.digestMd5 = b.digestMd5 != null ? b.digestMd5 : DIGEST_LOGIN_MODULE.equals(b.loginModule);
    }

    /**
     * SASL DIGEST-MD5 with a user name and password (the server lists users in its {@code Server} JAAS section).
     *
     * @param username the user name, not blank
     * @param password the password
     * @return a config with {@link #DIGEST_LOGIN_MODULE} and these options
     * @throws IllegalArgumentException when either is null or {@code username} is blank
     */
    public static SaslConfig digest(String username, String password) {
        Validation.notNull("sasl username", username);
        Validation.notNull("sasl password", password);
        if (username.isBlank()) {
            throw new IllegalArgumentException("sasl username must not be blank");
        }
        return builder()
                .loginModule(DIGEST_LOGIN_MODULE)
                .option("username", username)
                .option("password", password)
                .build();
    }

    /**
     * A section of the JVM's existing JAAS configuration, by name.
     *
     * @param name the section's name, not blank
     * @return a config that uses that section
     * @throws IllegalArgumentException when {@code name} is null or blank
     */
    public static SaslConfig jaasSection(String name) {
        return builder().jaasSection(name).build();
    }

    /**
     * Starts a SASL config; set either a login module with options or a JAAS section.
     *
     * @return an empty builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts a config from this one, to change a few settings.
     *
     * @return a builder holding this config's settings
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.jaasSection = jaasSection;
        b.loginModule = loginModule;
        b.options.putAll(options);
        b.serviceName = serviceName;
        b.serverPrincipal = serverPrincipal;
        b.canonicalizeHostname = canonicalizeHostname;
        b.digestMd5 = digestMd5;
        return b;
    }

    /**
     * The JVM JAAS section this config uses.
     *
     * @return the section's name, or null when this config carries its own login module
     */
    public String jaasSectionName() {
        return jaasSection;
    }

    /**
     * The login module this config carries.
     *
     * @return the module's class name, or null when an existing JAAS section is used
     */
    public String loginModule() {
        return loginModule;
    }

    /**
     * The login module's options (secrets included: handle with care).
     *
     * @return an unmodifiable map sorted by name; empty with a JAAS section
     */
    public Map<String, String> options() {
        return options;
    }

    /**
     * The service part of the server's Kerberos principal.
     *
     * @return the service name (default {@link #DEFAULT_SERVICE_NAME})
     */
    public String serviceName() {
        return serviceName;
    }

    /**
     * The server's full principal, when set.
     *
     * @return the principal, or null to build it from {@link #serviceName()} and the server's host
     */
    public String serverPrincipal() {
        return serverPrincipal;
    }

    /**
     * Whether server host names are canonicalized to build their principals.
     *
     * @return true to canonicalize (default {@link #DEFAULT_CANONICALIZE_HOSTNAME})
     */
    public boolean canonicalizeHostname() {
        return canonicalizeHostname;
    }

    /**
     * Whether the login uses DIGEST-MD5 (user name and password), so ZooKeeper's FIPS mode must be off for it.
     *
     * @return true for DIGEST-MD5
     */
    public boolean digestMd5() {
        return digestMd5;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof SaslConfig)) {
            return false;
        }
        SaslConfig that = (SaslConfig) o;
        return canonicalizeHostname == that.canonicalizeHostname
                && digestMd5 == that.digestMd5
                && Objects.equals(jaasSection, that.jaasSection)
                && Objects.equals(loginModule, that.loginModule)
                && options.equals(that.options)
                && serviceName.equals(that.serviceName)
                && Objects.equals(serverPrincipal, that.serverPrincipal);
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                jaasSection, loginModule, options, serviceName, serverPrincipal, canonicalizeHostname, digestMd5);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("SaslConfig{");
        if (jaasSection != null) {
            s.append("jaasSection=").append(jaasSection);
        } else {
            s.append("loginModule=").append(loginModule).append(", options={");
            boolean first = true;
            for (String key : options.keySet()) {
                s.append(first ? "" : ", ").append(key).append("=****");
                first = false;
            }
            s.append('}');
        }
        s.append(", serviceName=").append(serviceName);
        if (serverPrincipal != null) {
            s.append(", serverPrincipal=").append(serverPrincipal);
        }
        return s.append(", canonicalizeHostname=")
                .append(canonicalizeHostname)
                .append(", digestMd5=")
                .append(digestMd5)
                .append('}')
                .toString();
    }

    /** Builds a {@link SaslConfig}: either a login module with options, or an existing JAAS section. */
    public static final class Builder {
        private String jaasSection;
        private String loginModule;
        private final Map<String, String> options = new TreeMap<>();
        private String serviceName = DEFAULT_SERVICE_NAME;
        private String serverPrincipal;
        private boolean canonicalizeHostname = DEFAULT_CANONICALIZE_HOSTNAME;
        private Boolean digestMd5;

        private Builder() {}

        /**
         * Uses the JVM's JAAS section of this name (from {@code java.security.auth.login.config}).
         *
         * @param name the section's name, not blank
         * @return this builder
         * @throws IllegalArgumentException when {@code name} is null or blank
         */
        public Builder jaasSection(String name) {
            Validation.notNull("sasl jaasSection", name);
            if (name.isBlank()) {
                throw new IllegalArgumentException("sasl jaasSection must not be blank");
            }
            this.jaasSection = name;
            return this;
        }

        /**
         * The login module class, such as {@link #DIGEST_LOGIN_MODULE} or
         * {@code com.sun.security.auth.module.Krb5LoginModule}.
         *
         * @param className the fully qualified class name
         * @return this builder
         * @throws IllegalArgumentException when {@code className} is null or not a class name
         */
        public Builder loginModule(String className) {
            Validation.notNull("sasl loginModule", className);
            if (!className.matches("[A-Za-z_$][\\w$]*(\\.[A-Za-z_$][\\w$]*)*")) {
                throw new IllegalArgumentException("sasl loginModule must be a class name, was '" + className + "'");
            }
            this.loginModule = className;
            return this;
        }

        /**
         * One option of the login module ({@code required} flag). Values are never printed. Setting a name again
         * replaces its value.
         *
         * @param name the option's name, not blank
         * @param value the option's value
         * @return this builder
         * @throws IllegalArgumentException when either is null or {@code name} is blank
         */
        public Builder option(String name, String value) {
            Validation.notNull("sasl option name", name);
            if (name.isBlank()) {
                throw new IllegalArgumentException("sasl option names must not be blank");
            }
            Validation.notNull("sasl option " + name, value);
            options.put(name, value);
            return this;
        }

        /**
         * The service part of the server principal ({@code zookeeper.sasl.client.username}); default "zookeeper".
         *
         * @param name the service name, not blank
         * @return this builder
         * @throws IllegalArgumentException when {@code name} is null or blank
         */
        public Builder serviceName(String name) {
            Validation.notNull("sasl serviceName", name);
            if (name.isBlank()) {
                throw new IllegalArgumentException("sasl serviceName must not be blank");
            }
            this.serviceName = name;
            return this;
        }

        /**
         * The server's full principal ({@code zookeeper.server.principal}), instead of building it per host.
         *
         * @param principal the principal, such as {@code zookeeper/zk1.example.com@EXAMPLE.COM}
         * @return this builder
         * @throws IllegalArgumentException when {@code principal} is null
         */
        public Builder serverPrincipal(String principal) {
            Validation.notNull("sasl serverPrincipal", principal);
            this.serverPrincipal = principal;
            return this;
        }

        /**
         * Whether to canonicalize server host names to build their principals (default true).
         *
         * @param canonicalize false to use host names as given in the connect string
         * @return this builder
         */
        public Builder canonicalizeHostname(boolean canonicalize) {
            this.canonicalizeHostname = canonicalize;
            return this;
        }

        /**
         * Whether the login authenticates with DIGEST-MD5 (a user name and password, no Kerberos principal). Default:
         * true for {@link #DIGEST_LOGIN_MODULE}, false otherwise; set it for a JAAS section that uses DIGEST-MD5.
         *
         * @param digestMd5 true when the login uses DIGEST-MD5
         * @return this builder
         */
        public Builder digestMd5(boolean digestMd5) {
            this.digestMd5 = digestMd5;
            return this;
        }

        /**
         * Checks the settings together and builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException when neither or both of a login module and a JAAS section are set, or options
         *     are given with a JAAS section
         */
        public SaslConfig build() {
            if (jaasSection != null && (loginModule != null || !options.isEmpty())) {
                throw new IllegalArgumentException(
                        "sasl: set either jaasSection or a loginModule with options, not both");
            }
            if (jaasSection == null && loginModule == null) {
                throw new IllegalArgumentException("sasl: set a loginModule (with its options) or a jaasSection");
            }
            return new SaslConfig(this);
        }
    }
}
