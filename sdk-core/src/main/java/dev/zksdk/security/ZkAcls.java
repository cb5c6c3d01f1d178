package dev.zksdk.security;

import dev.zksdk.internal.Validation;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

/**
 * ACL providers for an ensemble's creates (the SDK's own, its ephemerals and parent containers, and every Curator
 * recipe run through {@code lease.curator()}), and ACL entries for digest users.
 *
 * <p>The providers returned here are values: equal when they hand out the same ACL, so two configs with the same
 * policy share sessions. They print the permissions and schemes of their entries, never a digest's hash.
 *
 * <p>{@link #creatorAll()} ({@code auth} scheme) grants everything to whoever created the node, by every identity
 * the creating session has (digest users, SASL principal, TLS certificate); the server refuses it with
 * {@code INVALIDACL} on a session without an identity, so an ensemble config with it and no credentials is refused
 * when built.
 */
public final class ZkAcls {

    private static final ACLProvider OPEN = new FixedAcl("open", ZooDefs.Ids.OPEN_ACL_UNSAFE);
    private static final ACLProvider CREATOR_ALL = new FixedAcl("creatorAll", ZooDefs.Ids.CREATOR_ALL_ACL);
    private static final ACLProvider CREATOR_ALL_WORLD_READ =
            new FixedAcl("creatorAllWorldRead", concat(ZooDefs.Ids.CREATOR_ALL_ACL, ZooDefs.Ids.READ_ACL_UNSAFE));

    private ZkAcls() {}

    /**
     * Anyone may do anything ({@code world:anyone}, all permissions): ZooKeeper's usual default.
     *
     * @return the provider of {@code OPEN_ACL_UNSAFE}
     */
    public static ACLProvider open() {
        return OPEN;
    }

    /**
     * Only the creating identity may do anything to the node. Needs a session with an identity.
     *
     * @return the provider of {@code CREATOR_ALL_ACL}
     */
    public static ACLProvider creatorAll() {
        return CREATOR_ALL;
    }

    /**
     * The creating identity may do anything; everyone may read. Needs a session with an identity.
     *
     * @return the provider of {@code CREATOR_ALL_ACL} plus {@code READ_ACL_UNSAFE}
     */
    public static ACLProvider creatorAllWorldRead() {
        return CREATOR_ALL_WORLD_READ;
    }

    /**
     * The same ACL for every node.
     *
     * @param acl the entries, not empty; copied
     * @return a provider that hands out this ACL for every path
     * @throws IllegalArgumentException when {@code acl} is null or empty, or an entry or its id is null
     */
    public static ACLProvider of(List<ACL> acl) {
        Validation.notNull("acl", acl);
        if (acl.isEmpty()) {
            throw new IllegalArgumentException("acl must not be empty (the server refuses a node nobody may access)");
        }
        for (int i = 0; i < acl.size(); i++) {
            Validation.notNull("acl[" + i + "]", acl.get(i));
            Validation.notNull("acl[" + i + "] id", acl.get(i).getId());
        }
        return new FixedAcl(null, acl);
    }

    /**
     * An ACL entry for a digest user: the id is {@code user:base64(sha1(user:password))}, as the server computes it
     * for a session that added {@code digest user:password}. {@code perms} is a sum of {@link ZooDefs.Perms}.
     *
     * @param user the user name, not blank and without {@code ':'}
     * @param password the password; only its hash goes into the entry
     * @param perms the permissions, a non-empty sum of {@link ZooDefs.Perms}
     * @return the ACL entry
     * @throws IllegalArgumentException when {@code user} is blank or contains {@code ':'}, either is null, or
     *     {@code perms} is empty or has unknown bits
     */
    public static ACL digest(String user, String password, int perms) {
        Validation.notNull("digest user", user);
        Validation.notNull("digest password", password);
        if (user.isBlank() || user.contains(":")) {
            throw new IllegalArgumentException("digest user must be non-blank and without ':', was '" + user + "'");
        }
        if (perms <= 0 || (perms & ~ZooDefs.Perms.ALL) != 0) {
            throw new IllegalArgumentException("perms must be a non-empty sum of ZooDefs.Perms, was " + perms);
        }
        try {
            return new ACL(perms, new Id("digest", DigestAuthenticationProvider.generateDigest(user + ":" + password)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA1, which ZooKeeper's digest scheme needs", e);
        }
    }

    /**
     * Whether the provider's default ACL names the creator ({@code auth} scheme), which needs an identity.
     *
     * @param provider the provider to look at
     * @return true when an entry of its default ACL has the {@code auth} scheme
     */
    public static boolean grantsToCreator(ACLProvider provider) {
        for (ACL a : provider.getDefaultAcl()) {
            if (a.getId() != null && "auth".equals(a.getId().getScheme())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Renders an ACL for logs and messages: permissions and ids, with digest hashes masked.
     *
     * @param acl the entries
     * @return such as {@code [ALL@auth:, r@world:anyone]}; a digest shows as {@code digest:user:****}
     */
    public static String describe(List<ACL> acl) {
        List<String> parts = new ArrayList<>();
        for (ACL a : acl) {
            Id id = a.getId();
            String who = id == null
                    ? "?"
                    : "digest".equals(id.getScheme())
                            ? "digest:" + maskedDigest(id.getId())
                            : id.getScheme() + ":" + id.getId();
            parts.add(perms(a.getPerms()) + "@" + who);
        }
        return parts.toString();
    }

    private static String maskedDigest(String id) {
        int colon = id == null ? -1 : id.indexOf(':');
        return colon < 0 ? "****" : id.substring(0, colon) + ":****";
    }

    private static String perms(int perms) {
        if (perms == ZooDefs.Perms.ALL) {
            return "ALL";
        }
        StringBuilder s = new StringBuilder();
        s.append((perms & ZooDefs.Perms.READ) != 0 ? "r" : "");
        s.append((perms & ZooDefs.Perms.WRITE) != 0 ? "w" : "");
        s.append((perms & ZooDefs.Perms.CREATE) != 0 ? "c" : "");
        s.append((perms & ZooDefs.Perms.DELETE) != 0 ? "d" : "");
        s.append((perms & ZooDefs.Perms.ADMIN) != 0 ? "a" : "");
        return s.toString();
    }

    private static List<ACL> concat(List<ACL> a, List<ACL> b) {
        List<ACL> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** The same ACL for every path. */
    private static final class FixedAcl implements ACLProvider {
        private final String name;
        private final List<ACL> acl;

        FixedAcl(String name, List<ACL> acl) {
            this.name = name;
            // ZooKeeper's sync create calls acl.contains(null), which List.copyOf's lists refuse with an NPE.
            this.acl = Collections.unmodifiableList(new ArrayList<>(acl));
        }

        @Override
        public List<ACL> getDefaultAcl() {
            return acl;
        }

        @Override
        public List<ACL> getAclForPath(String path) {
            return acl;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FixedAcl && ((FixedAcl) o).acl.equals(acl);
        }

        @Override
        public int hashCode() {
            return acl.hashCode();
        }

        @Override
        public String toString() {
            return name != null ? name : describe(acl);
        }
    }
}
