package dev.zksdk.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Key stores for TLS tests, made with the JDK's {@code keytool} in a temporary directory: self-signed EC
 * certificates for a server (subject alternative name {@code IP:127.0.0.1}), for a server whose certificate names
 * another host only ({@code DNS:zk.invalid}, for hostname verification), and for a client
 * ({@code CN=zk-sdk-client}); plus trust stores: the client's trusts both server certificates, the server's trusts
 * the client's. All stores are PKCS12 with random passwords, new for every JVM, so that tests can look for them.
 *
 * <p>{@link #shared()} makes one set per JVM (the nine keytool commands run in one child JVM, {@code KeytoolBatch}:
 * about 2 s); the directory is deleted on exit.
 */
public final class TestPki {

    private static TestPki shared;

    private final Path directory;
    private final Path serverKeyStore;
    private final String serverKeyStorePassword;
    private final Path wrongNameServerKeyStore;
    private final Path serverTrustStore;
    private final String serverTrustStorePassword;
    private final Path clientKeyStore;
    private final String clientKeyStorePassword;
    private final Path clientTrustStore;
    private final String clientTrustStorePassword;

    private TestPki(Path directory) {
        this.directory = directory;
        this.serverKeyStore = directory.resolve("server.p12");
        this.serverKeyStorePassword = randomPassword("srv-ks-");
        this.wrongNameServerKeyStore = directory.resolve("server-wrong-name.p12");
        this.serverTrustStore = directory.resolve("server-trust.p12");
        this.serverTrustStorePassword = randomPassword("srv-ts-");
        this.clientKeyStore = directory.resolve("client.p12");
        this.clientKeyStorePassword = randomPassword("cli-ks-");
        this.clientTrustStore = directory.resolve("client-trust.p12");
        this.clientTrustStorePassword = randomPassword("cli-ts-");
    }

    /**
     * The key stores of this JVM, made on first use.
     *
     * @return the JVM's key stores
     * @throws IllegalStateException when keytool fails
     */
    public static synchronized TestPki shared() {
        if (shared == null) {
            try {
                Path dir = Files.createTempDirectory("zksdk-pki");
                TestPki pki = new TestPki(dir);
                pki.generate();
                Runtime.getRuntime().addShutdownHook(new Thread(pki::deleteQuietly));
                shared = pki;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return shared;
    }

    private void generate() {
        Path serverCert = directory.resolve("server.crt");
        Path wrongNameCert = directory.resolve("server-wrong-name.crt");
        Path clientCert = directory.resolve("client.crt");
        List<List<String>> commands = new ArrayList<>();
        // The server's wrong-name store uses the server's password so the server can switch between the two.
        commands.add(keyPair(serverKeyStore, serverKeyStorePassword, "CN=zk-sdk-server", "IP:127.0.0.1"));
        commands.add(
                keyPair(wrongNameServerKeyStore, serverKeyStorePassword, "CN=zk-sdk-wrong-name", "DNS:zk.invalid"));
        commands.add(keyPair(clientKeyStore, clientKeyStorePassword, "CN=zk-sdk-client", null));
        commands.add(export(serverKeyStore, serverKeyStorePassword, serverCert));
        commands.add(export(wrongNameServerKeyStore, serverKeyStorePassword, wrongNameCert));
        commands.add(export(clientKeyStore, clientKeyStorePassword, clientCert));
        commands.add(trust(clientTrustStore, clientTrustStorePassword, "server", serverCert));
        commands.add(trust(clientTrustStore, clientTrustStorePassword, "server-wrong-name", wrongNameCert));
        commands.add(trust(serverTrustStore, serverTrustStorePassword, "client", clientCert));
        if (!keytoolInOneJvm(commands)) {
            commands.forEach(TestPki::keytool);
        }
    }

    private static List<String> keyPair(Path store, String password, String dname, String san) {
        List<String> args = new ArrayList<>(List.of(
                "-genkeypair",
                "-alias",
                "key",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-sigalg",
                "SHA256withECDSA",
                "-validity",
                "2",
                "-dname",
                dname,
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                password,
                "-keypass",
                password));
        if (san != null) {
            args.addAll(List.of("-ext", "SAN=" + san));
        }
        return args;
    }

    private static List<String> export(Path store, String password, Path cert) {
        return List.of(
                "-exportcert",
                "-rfc",
                "-alias",
                "key",
                "-keystore",
                store.toString(),
                "-storepass",
                password,
                "-file",
                cert.toString());
    }

    private static List<String> trust(Path store, String password, String alias, Path cert) {
        return List.of(
                "-importcert",
                "-noprompt",
                "-alias",
                alias,
                "-file",
                cert.toString(),
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                password);
    }

    /**
     * Runs every command in one child JVM ({@code KeytoolBatch}) instead of one keytool JVM each.
     *
     * @return false when that JVM's JDK has no keytool class to call (then each command runs as the keytool program)
     * @throws IllegalStateException when a command fails
     */
    private static boolean keytoolInOneJvm(List<List<String>> commands) {
        StringBuilder input = new StringBuilder();
        for (List<String> command : commands) {
            input.append(String.join(String.valueOf(KeytoolBatch.SEPARATOR), command))
                    .append('\n');
        }
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-exports",
                "java.base/sun.security.tools.keytool=ALL-UNNAMED",
                "-cp",
                codeSource().toString(),
                KeytoolBatch.class.getName());
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            try (var stdin = p.getOutputStream()) {
                stdin.write(input.toString().getBytes(StandardCharsets.UTF_8));
            }
            byte[] output = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(
                        "keytool commands did not end within 60 s: " + new String(output, StandardCharsets.UTF_8));
            }
            if (p.exitValue() == KeytoolBatch.NO_KEYTOOL_CLASS) {
                return false;
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("keytool failed (exit status " + p.exitValue() + "): "
                        + new String(output, StandardCharsets.UTF_8));
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("could not run keytool", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running keytool", e);
        }
    }

    /** The directory or jar this fixture was loaded from: zk-sdk-test's classes or its jar. */
    private static Path codeSource() {
        var codeSource = KeytoolBatch.class.getProtectionDomain().getCodeSource();
        if (codeSource == null || codeSource.getLocation() == null) {
            throw new IllegalStateException(
                    "cannot tell where " + KeytoolBatch.class.getName() + " was loaded from (no code source)");
        }
        try {
            return Path.of(codeSource.getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new IllegalStateException(
                    "cannot tell where " + KeytoolBatch.class.getName() + " was loaded from: "
                            + codeSource.getLocation(),
                    e);
        }
    }

    private static void keytool(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(args);
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] output = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(
                        "keytool " + args.get(0) + " failed: " + new String(output, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not run keytool", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running keytool", e);
        }
    }

    private static String randomPassword(String prefix) {
        SecureRandom random = new SecureRandom();
        StringBuilder s = new StringBuilder(prefix);
        String alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        for (int i = 0; i < 20; i++) {
            s.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return s.toString();
    }

    private void deleteQuietly() {
        try (var files = Files.list(directory)) {
            files.forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort at JVM exit
        }
        directory.toFile().delete();
    }

    /**
     * The server's key store: {@code CN=zk-sdk-server}, {@code IP:127.0.0.1}.
     *
     * @return the PKCS12 file
     */
    public Path serverKeyStore() {
        return serverKeyStore;
    }

    /**
     * The password of the server's key stores (this one and the wrong-name one), random per JVM.
     *
     * @return the password
     */
    public String serverKeyStorePassword() {
        return serverKeyStorePassword;
    }

    /**
     * A server key store whose certificate names only {@code DNS:zk.invalid}; same password as the server's.
     *
     * @return the PKCS12 file
     */
    public Path wrongNameServerKeyStore() {
        return wrongNameServerKeyStore;
    }

    /**
     * Trusts the client's certificate.
     *
     * @return the PKCS12 file
     */
    public Path serverTrustStore() {
        return serverTrustStore;
    }

    /**
     * The password of the server's trust store, random per JVM.
     *
     * @return the password
     */
    public String serverTrustStorePassword() {
        return serverTrustStorePassword;
    }

    /**
     * The client's key store: {@code CN=zk-sdk-client}.
     *
     * @return the PKCS12 file
     */
    public Path clientKeyStore() {
        return clientKeyStore;
    }

    /**
     * The password of the client's key store, random per JVM.
     *
     * @return the password
     */
    public String clientKeyStorePassword() {
        return clientKeyStorePassword;
    }

    /**
     * Trusts both server certificates.
     *
     * @return the PKCS12 file
     */
    public Path clientTrustStore() {
        return clientTrustStore;
    }

    /**
     * The password of the client's trust store, random per JVM.
     *
     * @return the password
     */
    public String clientTrustStorePassword() {
        return clientTrustStorePassword;
    }
}
