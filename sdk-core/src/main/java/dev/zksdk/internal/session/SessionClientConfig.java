package dev.zksdk.internal.session;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.internal.Limits;
import dev.zksdk.security.SaslConfig;
import dev.zksdk.security.TlsConfig;
import org.apache.zookeeper.ClientCnxnSocketNetty;
import org.apache.zookeeper.PromptClientCnxnSocketNIO;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.X509Util;

/**
 * The ZooKeeper client config of one pooled session, built from its {@link EnsembleConfig} alone for everything that
 * concerns identity and transport security.
 *
 * <p>ZooKeeper's own {@code ZKClientConfig} copies JVM-wide system properties ({@code zookeeper.ssl.*},
 * {@code zookeeper.client.secure}, {@code zookeeper.sasl.*}) into every client, so one in-process server or one other
 * library's settings would reach every pool; and overwriting a copied value makes {@code ZKConfig.setProperty} log the
 * old and the new value at DEBUG, passwords included. This subclass therefore never copies those keys: what it does
 * not set, ZooKeeper's built-in default applies. Non-security system properties ({@code jute.maxbuffer},
 * {@code zookeeper.clientCnxnSocket}, ...) are still honoured.
 *
 * <p>A new instance is made for every ZooKeeper handle, so handles never share mutable config.
 */
public final class SessionClientConfig extends ZKClientConfig {

    private final String description;

    private SessionClientConfig(String description) {
        this.description = description;
    }

    /**
     * The client config for a session of {@code ensemble}.
     *
     * @param saslSection the JAAS section serving the ensemble's SASL login, or null when it has no SASL
     */
    public static SessionClientConfig forEnsemble(EnsembleConfig ensemble, String saslSection) {
        TlsConfig tls = ensemble.tls();
        SaslConfig sasl = ensemble.sasl();
        SessionClientConfig c = new SessionClientConfig(
                (tls == null ? "plaintext" : "TLS") + (sasl == null ? "" : ", SASL section " + saslSection));
        boolean netty = false;
        if (tls != null) {
            c.setProperty(SECURE_CLIENT, "true");
            netty = true;
            tls.applyTo(c);
        }
        if (sasl != null) {
            c.setProperty(ENABLE_CLIENT_SASL_KEY, "true");
            c.setProperty(LOGIN_CONTEXT_NAME_KEY, saslSection);
            c.setProperty(ZK_SASL_CLIENT_USERNAME, sasl.serviceName());
            c.setProperty(ZK_SASL_CLIENT_CANONICALIZE_HOSTNAME, Boolean.toString(sasl.canonicalizeHostname()));
            if (sasl.digestMd5()) {
                // ZooKeeper refuses DIGEST-MD5 in FIPS mode (its default), and the config asked for DIGEST-MD5.
                c.setProperty(X509Util.FIPS_MODE_PROPERTY, "false");
            }
            if (sasl.serverPrincipal() != null || c.getProperty(ZOOKEEPER_SERVER_PRINCIPAL) != null) {
                c.setProperty(ZOOKEEPER_SERVER_PRINCIPAL, sasl.serverPrincipal());
            }
            if (!ensemble.authorizations().isEmpty()) {
                // While SASL is in progress, ZooKeeper's NIO socket logs every packet it holds back at DEBUG, and the
                // credentials the pool adds (addauth) are among them, rendered in hex. The Netty socket holds packets
                // back
                // without logging them. (SASL alone stays on NIO, where a refusal is always seen before the server's
                // close.)
                netty = true;
            }
        } else {
            // No SASL unless the ensemble asks for it: a JVM-wide JAAS "Client" section must not give a pooled session
            // an
            // identity its config does not name.
            c.setProperty(ENABLE_CLIENT_SASL_KEY, "false");
        }
        if (netty) {
            c.setProperty(ZOOKEEPER_CLIENT_CNXN_SOCKET, ClientCnxnSocketNetty.class.getName());
        } else if (c.getProperty(ZOOKEEPER_CLIENT_CNXN_SOCKET) == null) {
            // ZooKeeper's NIO socket, without its 100 ms pause after every closed connection (a refused address tried
            // first would cost each new session that much): the host provider has its own backoff.
            c.setProperty(ZOOKEEPER_CLIENT_CNXN_SOCKET, PromptClientCnxnSocketNIO.class.getName());
        }
        // A packet over the socket's limit makes ZooKeeper drop the connection, for every lease on it, and a retry does
        // it
        // again. The socket takes up to Limits.RECEIVE_FACTOR times jute.maxbuffer, so that an oversized answer (the
        // children of
        // a huge node) arrives and fails its own call alone (ZkResponseTooLargeException) instead.
        c.setProperty(JUTE_MAXBUFFER, Integer.toString(Limits.receiveLimit()));
        return c;
    }

    /** Copies only the non-security settings from system properties; see the class comment. */
    @Override
    protected void handleBackwardCompatibility() {
        copySystemProperty(JUTE_MAXBUFFER);
        copySystemProperty(KINIT_COMMAND);
        copySystemProperty(JGSS_NATIVE);
        copySystemProperty(DISABLE_AUTO_WATCH_RESET);
        copySystemProperty(ZOOKEEPER_CLIENT_CNXN_SOCKET);
    }

    private void copySystemProperty(String key) {
        String value = System.getProperty(key);
        if (value != null) {
            setProperty(key, value);
        }
    }

    @Override
    public String toString() {
        return "SessionClientConfig{" + description + "}";
    }
}
