/**
 * Security settings of an ensemble: {@link dev.zksdk.security.TlsConfig} (TLS to the client port),
 * {@link dev.zksdk.security.SaslConfig} (SASL, per ensemble instead of JVM-wide JAAS), and
 * {@link dev.zksdk.security.ZkAcls} (ACLs for creates). Digest credentials are set on
 * {@link dev.zksdk.EnsembleConfig.Builder#digest(String, String)}.
 *
 * <p>Every setting here is part of the ensemble's identity in the pool: sessions are shared only between equal
 * configs, secrets included. No secret is ever printed: {@code toString()} shows {@code ****}.
 */
package dev.zksdk.security;
