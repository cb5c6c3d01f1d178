package dev.zksdk.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.ZkSessionPool;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import javax.crypto.spec.SecretKeySpec;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Security settings: validated when set or built, keyed by content (secrets included), never printed. */
class SecurityConfigTest {

    private static final String STORE_PW = "store-pw-Hd73kq";

    @TempDir
    static Path dir;

    static Path store;

    /** A password-protected PKCS12 store made with the JDK alone (no keytool: this is a fast test). */
    @BeforeAll
    static void makeStore() throws Exception {
        store = dir.resolve("store.p12");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setEntry(
                "k",
                new KeyStore.SecretKeyEntry(new SecretKeySpec(new byte[16], "AES")),
                new KeyStore.PasswordProtection(STORE_PW.toCharArray()));
        try (OutputStream out = Files.newOutputStream(store)) {
            ks.store(out, STORE_PW.toCharArray());
        }
    }

    @Test
    void tlsConfigPrintsPathsButNeverPasswords() {
        TlsConfig tls = TlsConfig.builder()
                .trustStore(store, STORE_PW)
                .keyStore(store, STORE_PW)
                .build();
        assertThat(tls.toString())
                .contains(store.toString())
                .contains("password ****")
                .contains("hostnameVerification=true")
                .doesNotContain(STORE_PW);
        assertThat(tls.hostnameVerification())
                .isEqualTo(TlsConfig.DEFAULT_HOSTNAME_VERIFICATION)
                .isTrue();
        assertThat(TlsConfig.builder().build().toString())
                .contains("keyStore=(none)")
                .contains("trustStore=(JVM default CAs)");
    }

    @Test
    void tlsStoresAreOpenedWhenBuiltAndErrorsNameTheStoreNotThePassword() throws Exception {
        assertThatThrownBy(() ->
                        TlsConfig.builder().trustStore(store, "wrong-pw-Xa91").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(
                        "tls.trustStore '" + store + "' cannot be used with the given password and type")
                .hasMessageNotContaining("wrong-pw-Xa91");
        assertThatThrownBy(() ->
                        TlsConfig.builder().keyStore(store, "wrong-pw-Xa91").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("tls.keyStore '" + store + "' cannot be used")
                .hasMessageNotContaining("wrong-pw-Xa91");
        assertThatThrownBy(() -> TlsConfig.builder().keyStore(dir.resolve("missing.p12"), "x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tls.keyStore '" + dir.resolve("missing.p12") + "' is not a readable file");
        Path noExtension = Files.copy(store, dir.resolve("store.bin"));
        assertThatThrownBy(() ->
                        TlsConfig.builder().trustStore(noExtension, STORE_PW).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("its type cannot be told from the file name; set tls.trustStoreType");
        assertThat(TlsConfig.builder()
                        .trustStore(noExtension, STORE_PW)
                        .trustStoreType("pkcs12")
                        .build()
                        .trustStoreType())
                .isEqualTo("PKCS12");
        assertThatThrownBy(() -> TlsConfig.builder().trustStoreType("p7b"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tls.trustStoreType must be JKS, PKCS12, PEM or BCFKS, was 'p7b'");
        assertThatThrownBy(() -> TlsConfig.builder().enabledProtocols("TLSv1.3,TLSv1.2"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tls.enabledProtocols");
    }

    @Test
    void saslConfigPrintsOptionNamesButNoValues() {
        SaslConfig digest = SaslConfig.digest("alice", "sasl-pw-Jq82");
        assertThat(digest.toString())
                .contains("DigestLoginModule")
                .contains("password=****")
                .contains("username=****")
                .doesNotContain("sasl-pw-Jq82")
                .doesNotContain("alice");
        assertThat(digest.digestMd5()).isTrue();
        SaslConfig kerberos = SaslConfig.builder()
                .loginModule("com.sun.security.auth.module.Krb5LoginModule")
                .option("keyTab", "/etc/zk.keytab")
                .option("principal", "svc@EXAMPLE")
                .build();
        assertThat(kerberos.digestMd5()).isFalse();
        assertThat(SaslConfig.jaasSection("Client").toString()).contains("jaasSection=Client");
        assertThatThrownBy(() -> SaslConfig.builder()
                        .jaasSection("Client")
                        .loginModule("a.B")
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not both");
        assertThatThrownBy(() -> SaslConfig.builder().build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("set a loginModule");
        assertThatThrownBy(() -> SaslConfig.builder().loginModule("not a class"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("sasl loginModule must be a class name, was 'not a class'");
    }

    @Test
    void everySecuritySettingIsPartOfTheEnsemblesKey() {
        EnsembleConfig base = EnsembleConfig.of("127.0.0.1:2181");
        TlsConfig tls = TlsConfig.builder().trustStore(store, STORE_PW).build();
        EnsembleConfig a = base.toBuilder()
                .digest("alice", "pw-one-xx")
                .sasl(SaslConfig.digest("u", "sasl-one"))
                .tls(tls)
                .aclProvider(ZkAcls.creatorAll())
                .build();
        EnsembleConfig same = base.toBuilder()
                .digest("alice", "pw-one-xx")
                .sasl(SaslConfig.digest("u", "sasl-one"))
                .tls(TlsConfig.builder().trustStore(store, STORE_PW).build())
                .aclProvider(ZkAcls.creatorAll())
                .build();
        assertThat(a)
                .isEqualTo(same)
                .hasSameHashCodeAs(same)
                .isEqualTo(a.toBuilder().build());
        assertThat(a)
                .isNotEqualTo(
                        a.toBuilder().sasl(SaslConfig.digest("u", "sasl-two")).build())
                .isNotEqualTo(a.toBuilder()
                        .tls(tls.toBuilder().hostnameVerification(false).build())
                        .build())
                .isNotEqualTo(
                        a.toBuilder().aclProvider(ZkAcls.creatorAllWorldRead()).build())
                .isNotEqualTo(base.toBuilder()
                        .digest("alice", "pw-two-xx")
                        .sasl(SaslConfig.digest("u", "sasl-one"))
                        .tls(tls)
                        .aclProvider(ZkAcls.creatorAll())
                        .build());
        assertThat(a.toString())
                .doesNotContain("pw-one-xx")
                .doesNotContain("sasl-one")
                .doesNotContain(STORE_PW)
                .contains("digest:****")
                .contains("acl=creatorAll");
    }

    @Test
    void digestCredentialsAreCheckedWithoutShowingThem() {
        assertThatThrownBy(() -> EnsembleConfig.builder()
                        .authorization("digest", "no-colon-secret".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("authorization for scheme digest must be 'user:password' with a non-blank user "
                        + "(the value is not shown)");
        assertThatThrownBy(() -> EnsembleConfig.builder().digest("ali:ce", "pw"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("digest user must be non-blank and without ':', was 'ali:ce'");
        assertThatThrownBy(() -> EnsembleConfig.builder().digest("alice", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("digest password must not be null");
    }

    @Test
    void creatorAclNeedsAnIdentity() {
        assertThatThrownBy(() -> ZkSessionPool.builder()
                        .connectString("127.0.0.1:2181")
                        .aclProvider(ZkAcls.creatorAll())
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("INVALIDACL");
        assertThat(EnsembleConfig.builder()
                        .connectString("127.0.0.1:2181")
                        .digest("a", "b")
                        .aclProvider(ZkAcls.creatorAll())
                        .build()
                        .hasIdentity())
                .isTrue();
        assertThat(EnsembleConfig.builder()
                        .connectString("127.0.0.1:2181")
                        .tls(TlsConfig.builder().keyStore(store, STORE_PW).build())
                        .aclProvider(ZkAcls.creatorAll())
                        .build()
                        .hasIdentity())
                .isTrue();
        assertThat(EnsembleConfig.of("127.0.0.1:2181").aclProvider()).isEqualTo(ZkAcls.open());
    }

    @Test
    void aclProvidersAreValuesThatNeverPrintADigestHash() {
        ACL carol = ZkAcls.digest("carol", "acl-pw-Pw83", ZooDefs.Perms.READ | ZooDefs.Perms.WRITE);
        assertThat(carol.getId().getId()).startsWith("carol:").doesNotContain("acl-pw-Pw83");
        assertThat(ZkAcls.of(List.of(carol))).isEqualTo(ZkAcls.of(List.of(carol)));
        String printed = ZkAcls.of(List.of(carol, new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE)))
                .toString();
        assertThat(printed).isEqualTo("[rw@digest:carol:****, r@world:anyone]");
        assertThat(printed).doesNotContain(carol.getId().getId().substring("carol:".length()));
        assertThat(ZkAcls.grantsToCreator(ZkAcls.creatorAll())).isTrue();
        assertThat(ZkAcls.grantsToCreator(ZkAcls.open())).isFalse();
        assertThatThrownBy(() -> ZkAcls.of(List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ZkAcls.digest("carol", "pw", 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("perms must be a non-empty sum of ZooDefs.Perms, was 0");
    }
}
