package dev.zksdk;

import dev.zksdk.internal.ConnectString;
import dev.zksdk.internal.Validation;
import dev.zksdk.security.SaslConfig;
import dev.zksdk.security.TlsConfig;
import dev.zksdk.security.ZkAcls;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.apache.curator.framework.api.ACLProvider;

/**
 * Everything that identifies one ZooKeeper ensemble to the pool: the connect string (with its optional chroot), the
 * requested session timeout, the connection timeout, the number of sessions to keep, and the credentials. Two leases
 * asked for with equal configs share sessions; configs that differ in any of these (credentials included) never do.
 *
 * <p>Immutable. Credentials are compared by content but never printed: {@link #toString()} masks them.
 *
 * <p>Security: digest credentials ({@link Builder#digest}, {@link Builder#authorization}), SASL
 * ({@link Builder#sasl}), TLS ({@link Builder#tls}) and the ACL of creates ({@link Builder#aclProvider}) are all part
 * of the config, so they are part of the pool's key. The pool gives each session its own ZooKeeper client config built
 * from these settings; ZooKeeper's JVM-wide security system properties ({@code zookeeper.client.secure},
 * {@code zookeeper.ssl.*}, {@code zookeeper.sasl.client*}, {@code zookeeper.server.realm}) are not read, so an
 * ensemble uses exactly the identity and transport its config names, whatever else runs in the JVM.
 */
public final class EnsembleConfig {

    /** Requested session timeout when none is set. The server may clamp it to its min/max session timeout. */
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(30);
    /** How long connecting (and an operation waiting for a connection) may take when none is set. */
    public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(15);
    /** Sessions kept per ensemble when none is set. */
    public static final int DEFAULT_SESSIONS_PER_ENSEMBLE = 1;

    private final ConnectString connectString;
    private final Duration sessionTimeout;
    private final Duration connectionTimeout;
    private final int sessionsPerEnsemble;
    private final List<Auth> authorizations;
    private final SaslConfig sasl;
    private final TlsConfig tls;
    private final ACLProvider aclProvider;
    private final String alias;
    private final boolean canBeReadOnly;
    private final BatchingConfig asyncBatching;
    private final List<String> observers;
    private final int readsFromObservers;

    private EnsembleConfig(Builder b) {
        this.connectString = b.connectString;
        this.sessionTimeout = b.sessionTimeout;
        this.connectionTimeout = b.connectionTimeout;
        this.sessionsPerEnsemble = b.sessionsPerEnsemble;
        this.authorizations = Collections.unmodifiableList(new ArrayList<>(b.authorizations));
        this.sasl = b.sasl;
        this.tls = b.tls;
        this.aclProvider = b.aclProvider;
        this.alias = b.alias != null ? b.alias : defaultAlias(connectString.servers());
        this.canBeReadOnly = b.canBeReadOnly;
        this.asyncBatching = b.asyncBatching;
        this.observers = List.copyOf(b.observers);
        this.readsFromObservers = b.readsFromObservers;
    }

    /**
     * The default {@link #alias()}: the first of the servers in sorted order, followed by {@code +n} when there are
     * {@code n} more ({@code "zk1.example:2181+2"} for three servers). Short, and the same for the same servers in any
     * order, so meters keep their tags across restarts; never the whole server list.
     */
    static String defaultAlias(List<String> servers) {
        List<String> sorted = new ArrayList<>(servers);
        Collections.sort(sorted);
        return sorted.size() <= 1 ? sorted.get(0) : sorted.get(0) + "+" + (sorted.size() - 1);
    }

    /**
     * Starts an ensemble's config; only the connect string is required.
     *
     * @return a builder with every other setting at its default
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A config with defaults for everything but the connect string.
     *
     * @param connectString {@code host:port[,host:port...][/chroot]}
     * @return the config
     * @throws IllegalArgumentException when the connect string is null or malformed
     */
    public static EnsembleConfig of(String connectString) {
        return builder().connectString(connectString).build();
    }

    /**
     * Starts a config from this one, to change a few settings (a changed copy is another ensemble to the pool).
     *
     * @return a builder holding this config's settings, credentials included
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.connectString = connectString;
        b.sessionTimeout = sessionTimeout;
        b.connectionTimeout = connectionTimeout;
        b.sessionsPerEnsemble = sessionsPerEnsemble;
        b.authorizations.addAll(authorizations);
        b.sasl = sasl;
        b.tls = tls;
        b.aclProvider = aclProvider;
        b.alias = alias;
        b.canBeReadOnly = canBeReadOnly;
        b.asyncBatching = asyncBatching;
        b.observers.addAll(observers);
        b.readsFromObservers = readsFromObservers;
        return b;
    }

    /**
     * The normalized connect string, chroot included.
     *
     * @return the connect string, such as {@code zk1:2181,zk2:2181/app}
     */
    public String connectString() {
        return connectString.value();
    }

    /**
     * The servers, {@code host:port}, in the order given.
     *
     * @return an unmodifiable list of the servers
     */
    public List<String> servers() {
        return connectString.servers();
    }

    /**
     * The chroot, or null when there is none.
     *
     * @return the chroot, such as {@code /app}, or null
     */
    public String chroot() {
        return connectString.chroot();
    }

    /**
     * The session timeout sessions request; the server may clamp it to its min/max session timeout.
     *
     * @return the requested timeout (default {@link #DEFAULT_SESSION_TIMEOUT}, 30 s)
     */
    public Duration sessionTimeout() {
        return sessionTimeout;
    }

    /**
     * How long a lease, and each operation, waits for a connected session.
     *
     * @return the connection timeout (default {@link #DEFAULT_CONNECTION_TIMEOUT}, 15 s)
     */
    public Duration connectionTimeout() {
        return connectionTimeout;
    }

    /**
     * How many long-lived sessions the pool keeps for this ensemble; leases spread over them.
     *
     * @return the number of sessions (default {@link #DEFAULT_SESSIONS_PER_ENSEMBLE}, 1)
     */
    public int sessionsPerEnsemble() {
        return sessionsPerEnsemble;
    }

    /**
     * The servers of the connect string that are ZooKeeper observers (non-voting members), as named with
     * {@link Builder#observers(String...)}: the {@link #sessionsPerEnsemble()} sessions never connect to them, and the
     * {@link #readsFromObservers()} sessions connect only to them.
     *
     * @return an unmodifiable list of {@code host:port}, in the connect string's spelling; empty when none are named
     */
    public List<String> observers() {
        return observers;
    }

    /**
     * How many sessions the pool keeps on the {@link #observers()} for plain reads, besides the
     * {@link #sessionsPerEnsemble()} sessions on the participants; see {@link Builder#readsFromObservers(int)}.
     *
     * @return the number of observer sessions (default 0: every read goes to the lease's session)
     */
    public int readsFromObservers() {
        return readsFromObservers;
    }

    /**
     * The servers of the connect string that are not {@link #observers()}: where the {@link #sessionsPerEnsemble()}
     * sessions connect.
     *
     * @return an unmodifiable list of {@code host:port}; all servers when no observers are named
     */
    public List<String> participants() {
        if (observers.isEmpty()) {
            return servers();
        }
        List<String> out = new ArrayList<>();
        for (String server : servers()) {
            if (!isObserver(server)) {
                out.add(server);
            }
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * Whether {@code server} ({@code host:port}) is one of the {@link #observers()}; host names compare without case.
     *
     * @param server a server as the connect string names it
     * @return true when it is named as an observer
     */
    public boolean isObserver(String server) {
        for (String o : observers) {
            if (o.equalsIgnoreCase(server)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The credentials added to every session of this ensemble, in order.
     *
     * @return an unmodifiable list, empty when there are none
     */
    public List<Auth> authorizations() {
        return authorizations;
    }

    /**
     * SASL authentication of every session of this ensemble, or null for none.
     *
     * @return the SASL settings, or null
     */
    public SaslConfig sasl() {
        return sasl;
    }

    /**
     * TLS to the ensemble's client port, or null for plaintext.
     *
     * @return the TLS settings, or null
     */
    public TlsConfig tls() {
        return tls;
    }

    /**
     * The ACL of every node the SDK (or a Curator recipe through the lease) creates without an explicit ACL.
     *
     * @return the provider (default {@link ZkAcls#open()})
     */
    public ACLProvider aclProvider() {
        return aclProvider;
    }

    /**
     * The ensemble's short name in metrics and traces: the {@code ensemble} tag of its meters and the {@code ensemble}
     * key value of its operations' observations. Set with {@link Builder#alias(String)}; by default derived from the
     * servers (the first in sorted order, and {@code +n} for the others: {@code "zk1:2181+2"}), never credentials or a
     * path.
     *
     * @return the alias, never null
     */
    public String alias() {
        return alias;
    }

    /**
     * Whether sessions may connect to a server in ZooKeeper's read-only mode ({@code readonlymode.enabled=true} on the
     * servers) when no majority is reachable. See {@link Builder#canBeReadOnly(boolean)}.
     *
     * @return true when read-only sessions are allowed (default false)
     */
    public boolean canBeReadOnly() {
        return canBeReadOnly;
    }

    /**
     * How leases batch their asynchronous operations; see {@link Builder#asyncBatching(BatchingConfig)}.
     *
     * @return the batch limits, or null when asynchronous operations are not batched (the default)
     */
    public BatchingConfig asyncBatching() {
        return asyncBatching;
    }

    /**
     * True when sessions present some identity: digest or other credentials, SASL, or a TLS client certificate.
     *
     * @return true when the server knows the sessions by some identity
     */
    public boolean hasIdentity() {
        return !authorizations.isEmpty() || sasl != null || (tls != null && tls.keyStore() != null);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof EnsembleConfig)) {
            return false;
        }
        EnsembleConfig that = (EnsembleConfig) o;
        return sessionsPerEnsemble == that.sessionsPerEnsemble
                && canBeReadOnly == that.canBeReadOnly
                && Objects.equals(asyncBatching, that.asyncBatching)
                && readsFromObservers == that.readsFromObservers
                && observers.equals(that.observers)
                && connectString.equals(that.connectString)
                && sessionTimeout.equals(that.sessionTimeout)
                && connectionTimeout.equals(that.connectionTimeout)
                && authorizations.equals(that.authorizations)
                && Objects.equals(sasl, that.sasl)
                && Objects.equals(tls, that.tls)
                && aclProvider.equals(that.aclProvider);
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                connectString,
                sessionTimeout,
                connectionTimeout,
                sessionsPerEnsemble,
                authorizations,
                sasl,
                tls,
                aclProvider,
                canBeReadOnly,
                asyncBatching,
                observers,
                readsFromObservers);
    }

    @Override
    public String toString() {
        return "EnsembleConfig{alias=" + alias + ", connectString=" + connectString + ", sessionTimeout="
                + sessionTimeout
                + ", connectionTimeout=" + connectionTimeout + ", sessionsPerEnsemble=" + sessionsPerEnsemble
                + ", authorizations=" + authorizations + (sasl == null ? "" : ", sasl=" + sasl)
                + (tls == null ? "" : ", tls=" + tls) + ", acl=" + aclProvider
                + (canBeReadOnly ? ", canBeReadOnly=true" : "")
                + (asyncBatching == null ? "" : ", asyncBatching=" + asyncBatching)
                + (observers.isEmpty() ? "" : ", observers=" + observers + ", readsFromObservers=" + readsFromObservers)
                + "}";
    }

    /** One credential: a scheme (such as {@code digest}) and its secret bytes. Prints as {@code scheme:****}. */
    public static final class Auth {
        private final String scheme;
        private final byte[] secret;

        /**
         * A credential; for the {@code digest} scheme the secret is {@code user:password} in UTF-8.
         *
         * @param scheme the authentication scheme, not blank
         * @param secret the secret bytes; copied
         * @throws IllegalArgumentException when either is null, the scheme is blank, or a digest secret has no user
         */
        public Auth(String scheme, byte[] secret) {
            Validation.notNull("authorization scheme", scheme);
            if (scheme.isBlank()) {
                throw new IllegalArgumentException("authorization scheme must not be blank");
            }
            Validation.notNull("authorization bytes for scheme " + scheme, secret);
            if (scheme.equals("digest") && !validDigest(secret)) {
                // The value is a secret: say what is wrong with it, never what it is.
                throw new IllegalArgumentException("authorization for scheme digest must be 'user:password' with a "
                        + "non-blank user (the value is not shown)");
            }
            this.scheme = scheme;
            this.secret = secret.clone();
        }

        /**
         * The authentication scheme, such as {@code digest}.
         *
         * @return the scheme
         */
        public String scheme() {
            return scheme;
        }

        private static boolean validDigest(byte[] secret) {
            String s = new String(secret, StandardCharsets.UTF_8);
            int colon = s.indexOf(':');
            return colon > 0 && !s.substring(0, colon).isBlank();
        }

        /**
         * A copy of the secret bytes.
         *
         * @return the secret; the caller's own copy
         */
        public byte[] secret() {
            return secret.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Auth && ((Auth) o).scheme.equals(scheme) && Arrays.equals(((Auth) o).secret, secret);
        }

        @Override
        public int hashCode() {
            return 31 * scheme.hashCode() + Arrays.hashCode(secret);
        }

        @Override
        public String toString() {
            return scheme + ":****";
        }
    }

    /** Builds an {@link EnsembleConfig}. Each setter rejects a bad value at once, naming the setting and the value. */
    public static final class Builder {
        private ConnectString connectString;
        private Duration sessionTimeout = DEFAULT_SESSION_TIMEOUT;
        private Duration connectionTimeout = DEFAULT_CONNECTION_TIMEOUT;
        private int sessionsPerEnsemble = DEFAULT_SESSIONS_PER_ENSEMBLE;
        private final List<Auth> authorizations = new ArrayList<>();
        private SaslConfig sasl;
        private TlsConfig tls;
        private ACLProvider aclProvider = ZkAcls.open();
        private String alias;
        private boolean canBeReadOnly;
        private BatchingConfig asyncBatching;
        private final List<String> observers = new ArrayList<>();
        private int readsFromObservers;

        private Builder() {}

        /**
         * A standard ZooKeeper connect string, {@code host:port[,host:port...][/chroot]}; every port is required.
         *
         * @param connectString the connect string
         * @return this builder
         * @throws IllegalArgumentException when it is null, malformed or a server lacks its port
         */
        public Builder connectString(String connectString) {
            this.connectString = ConnectString.parse("connectString", connectString);
            return this;
        }

        /**
         * The session timeout to request; the server may clamp it (the negotiated value is reported).
         *
         * @param sessionTimeout between 1 ms and {@code Integer.MAX_VALUE} ms (default
         *     {@link #DEFAULT_SESSION_TIMEOUT})
         * @return this builder
         * @throws IllegalArgumentException when it is null or out of that range
         */
        public Builder sessionTimeout(Duration sessionTimeout) {
            this.sessionTimeout = Validation.positiveMillis("sessionTimeout", sessionTimeout);
            return this;
        }

        /**
         * How long to wait for a connected session, when leasing and in each operation.
         *
         * @param connectionTimeout between 1 ms and {@code Integer.MAX_VALUE} ms (default
         *     {@link #DEFAULT_CONNECTION_TIMEOUT})
         * @return this builder
         * @throws IllegalArgumentException when it is null or out of that range
         */
        public Builder connectionTimeout(Duration connectionTimeout) {
            this.connectionTimeout = Validation.positiveMillis("connectionTimeout", connectionTimeout);
            return this;
        }

        /**
         * How many long-lived sessions the pool keeps for this ensemble; leases spread over them.
         *
         * @param sessionsPerEnsemble at least 1 (default {@link #DEFAULT_SESSIONS_PER_ENSEMBLE})
         * @return this builder
         * @throws IllegalArgumentException when it is less than 1
         */
        public Builder sessionsPerEnsemble(int sessionsPerEnsemble) {
            this.sessionsPerEnsemble = Validation.positive("sessionsPerEnsemble", sessionsPerEnsemble);
            return this;
        }

        /**
         * Adds a credential (ZooKeeper {@code addAuthInfo}) to every session of this ensemble.
         *
         * @param scheme the authentication scheme, such as {@code digest}
         * @param auth the scheme's secret bytes; copied
         * @return this builder
         * @throws IllegalArgumentException as {@link Auth#Auth(String, byte[])}
         */
        public Builder authorization(String scheme, byte[] auth) {
            this.authorizations.add(new Auth(scheme, auth));
            return this;
        }

        /**
         * Adds ZooKeeper digest credentials ({@code addauth digest user:password}) to every session. The server accepts
         * any password: a wrong one is simply another identity, and shows as {@code NOAUTH} on nodes whose ACL names the
         * right one.
         *
         * @param user the user name, not blank and without {@code ':'}
         * @param password the password
         * @return this builder
         * @throws IllegalArgumentException when {@code user} is blank or contains {@code ':'}, or either is null
         */
        public Builder digest(String user, String password) {
            Validation.notNull("digest user", user);
            Validation.notNull("digest password", password);
            if (user.isBlank() || user.contains(":")) {
                throw new IllegalArgumentException("digest user must be non-blank and without ':', was '" + user + "'");
            }
            return authorization("digest", (user + ":" + password).getBytes(StandardCharsets.UTF_8));
        }

        /**
         * SASL authentication for every session (a login module of this ensemble's own, or a named JAAS section).
         *
         * @param sasl the SASL settings
         * @return this builder
         * @throws IllegalArgumentException when {@code sasl} is null
         */
        public Builder sasl(SaslConfig sasl) {
            this.sasl = Validation.notNull("sasl", sasl);
            return this;
        }

        /**
         * TLS to the ensemble's client port (the servers' {@code secureClientPort}).
         *
         * @param tls the TLS settings
         * @return this builder
         * @throws IllegalArgumentException when {@code tls} is null
         */
        public Builder tls(TlsConfig tls) {
            this.tls = Validation.notNull("tls", tls);
            return this;
        }

        /**
         * The ACL of nodes created without an explicit one (default {@link ZkAcls#open()}).
         *
         * @param aclProvider the ACL provider
         * @return this builder
         * @throws IllegalArgumentException when {@code aclProvider} is null
         */
        public Builder aclProvider(ACLProvider aclProvider) {
            this.aclProvider = Validation.notNull("aclProvider", aclProvider);
            return this;
        }

        /**
         * The ensemble's name in metrics and traces ({@link EnsembleConfig#alias()}): 1 to 64 letters, digits,
         * {@code .}, {@code _}, {@code -}, {@code :}, {@code +}, {@code [} or {@code ]}, such as {@code "orders-zk"}.
         * Naming only, not identity: configs that differ only in alias are the same ensemble and share its sessions,
         * which keep the alias of the config that opened them (the first leased). Null restores the default, derived
         * from the servers.
         *
         * @param alias the alias, or null for the default
         * @return this builder
         * @throws IllegalArgumentException when it is longer or has other characters
         */
        public Builder alias(String alias) {
            if (alias != null && !alias.matches("[A-Za-z0-9._:+\\[\\]-]{1,64}")) {
                throw new IllegalArgumentException(
                        "alias must be 1 to 64 letters, digits, '.', '_', '-', ':', '+', '[' or ']', was '" + alias
                                + "'");
            }
            this.alias = alias;
            return this;
        }

        /**
         * Lets the ensemble's sessions connect to a read-only server (ZooKeeper's read-only mode; the servers need
         * {@code readonlymode.enabled=true}) while no majority is reachable. Off by default. When on, during a
         * partition in which this client reaches only a minority of the servers: reads, caches and watches (also
         * those registered during it, armed at once) are served by a read-only server, and may be stale; writes, and
         * {@code ephemeral(...)}, fail at once with a {@link ZkException} of code {@code NOTREADONLY}, never retried;
         * the session reports {@link SessionState#READ_ONLY}; and as soon as a server of the majority answers, the
         * session moves there (a session first opened read-only gets a new id then, and is recovered like any new
         * session: ephemerals re-created, watches re-armed, then {@code RESYNC}).
         *
         * @param canBeReadOnly whether sessions may be read-only
         * @return this builder
         */
        public Builder canBeReadOnly(boolean canBeReadOnly) {
            this.canBeReadOnly = canBeReadOnly;
            return this;
        }

        /**
         * Batches the asynchronous operations of leases on this ensemble's sessions (off by default): see
         * {@link BatchingConfig}. Synchronous calls are not batched.
         *
         * @param batching the batch limits, or null for no batching
         * @return this builder
         */
        public Builder asyncBatching(BatchingConfig batching) {
            this.asyncBatching = batching;
            return this;
        }

        /**
         * Batches asynchronous operations, at most {@code maxOps} per batch and the client's {@code jute.maxbuffer} of
         * request; see {@link #asyncBatching(BatchingConfig)}.
         *
         * @param maxOps {@value BatchingConfig#MIN_OPS} to {@value BatchingConfig#MAX_OPS}
         * @return this builder
         * @throws IllegalArgumentException when {@code maxOps} is out of range
         */
        public Builder asyncBatching(int maxOps) {
            return asyncBatching(BatchingConfig.of(maxOps));
        }

        /**
         * Names the servers of the connect string that are ZooKeeper observers (members with {@code peerType=observer},
         * {@code :observer} in the servers' {@code server.N} lines): non-voting members that apply every commit after
         * the participants and serve reads, so that reads can be moved off the members that vote on writes. The pool
         * then keeps the {@link #sessionsPerEnsemble(int)} sessions (every lease's own session: writes, ephemerals,
         * watches, caches, locks, elections, {@code curator()}) on the other servers only, and
         * {@link #readsFromObservers(int)} more sessions on these only. Each must also be in the connect string, and at
         * least one server of the connect string must not be an observer. Replaces observers named before; none
         * (no arguments) names none. With {@code ZkSessionPool.Builder.followEnsembleChanges} (the default), a
         * membership changed by dynamic reconfiguration is followed by role: the leases' sessions move to its voting
         * members and the read sessions to its observers (to its voting members while it has none); a connect string
         * changed at runtime is still split by the observers named here.
         *
         * @param hostPorts each {@code host:port}, as in the connect string
         * @return this builder
         * @throws IllegalArgumentException when an entry is null or not a {@code host:port}
         */
        public Builder observers(String... hostPorts) {
            Validation.notNull("observers", hostPorts);
            List<String> parsed = new ArrayList<>();
            for (int i = 0; i < hostPorts.length; i++) {
                String entry = Validation.notNull("observers[" + i + "]", hostPorts[i]);
                ConnectString one = ConnectString.parse("observers[" + i + "]", entry);
                if (one.servers().size() != 1 || one.chroot() != null) {
                    throw new IllegalArgumentException(
                            "observers[" + i + "] must be one host:port without chroot, was '" + entry + "'");
                }
                String server = one.servers().get(0);
                if (parsed.stream().noneMatch(server::equalsIgnoreCase)) {
                    parsed.add(server);
                }
            }
            observers.clear();
            observers.addAll(parsed);
            return this;
        }

        /**
         * Keeps {@code sessions} sessions on the {@link #observers(String...)} for plain reads (default 0: none). A
         * lease's {@code getData}, {@code getNode}, {@code exists} and {@code getChildren} (and their asynchronous
         * forms) then go to a connected observer session, with the pool's read-your-writes: the read first waits for
         * that observer to have applied the newest write the pool completed (one {@code sync}, shared by the reads
         * behind it), so a read after a write of this pool sees it even on an observer that lags. Everything else of
         * the lease stays on its own session on a participant: writes, {@code multi}, {@code sync}, ephemerals, watches,
         * caches, locks, elections and {@code curator()}. A read also stays there while the lease's own asynchronous
         * writes are in flight (the lease's order), and when no observer session is connected (observers down: reads
         * fall back, they do not fail); a read whose observer connection is lost while it is in flight is run again on
         * the lease's session. Wherever it runs, a plain read sees every write the pool completed before it was called.
         * An observer that is connected but cut off from its leader holds a read's {@code sync} until it gives up on
         * the leader ({@code syncLimit * tickTime} on the servers) and drops its clients; the read then runs on the
         * lease's session.
         *
         * @param sessions 0 or more; more than 0 needs {@link #observers(String...)}
         * @return this builder
         * @throws IllegalArgumentException when {@code sessions} is negative
         */
        public Builder readsFromObservers(int sessions) {
            if (sessions < 0) {
                throw new IllegalArgumentException("readsFromObservers must be 0 or more, was " + sessions);
            }
            this.readsFromObservers = sessions;
            return this;
        }

        /**
         * Checks the settings together and builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException when the connect string is missing, or the ACL provider grants to the creator
         *     while the config has no identity (the server would refuse every create with {@code INVALIDACL})
         */
        public EnsembleConfig build() {
            if (connectString == null) {
                throw new IllegalArgumentException("connectString must be set");
            }
            checkObservers();
            EnsembleConfig config = new EnsembleConfig(this);
            if (ZkAcls.grantsToCreator(aclProvider) && !config.hasIdentity()) {
                throw new IllegalArgumentException(
                        "aclProvider " + aclProvider + " grants to the creating identity, but "
                                + "this ensemble has none (no digest or other authorization, no sasl, no tls key store): the server "
                                + "would refuse every create with INVALIDACL");
            }
            return config;
        }

        private void checkObservers() {
            if (readsFromObservers > 0 && observers.isEmpty()) {
                throw new IllegalArgumentException("readsFromObservers " + readsFromObservers
                        + " needs observers(...) naming the observer servers of the connect string");
            }
            int observed = 0;
            for (String o : observers) {
                boolean found = false;
                for (String server : connectString.servers()) {
                    if (server.equalsIgnoreCase(o)) {
                        found = true;
                        observed++;
                    }
                }
                if (!found) {
                    throw new IllegalArgumentException("observers names " + o + ", which is not in the connectString "
                            + connectString.servers() + " (list every server there, observers included)");
                }
            }
            if (!observers.isEmpty() && observed >= connectString.servers().size()) {
                throw new IllegalArgumentException(
                        "observers " + observers + " leave no participant in the " + "connectString "
                                + connectString.servers() + ": writes need a server that is not an observer");
            }
        }
    }
}
