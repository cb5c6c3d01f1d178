package dev.zksdk.benchmarks;

import dev.zksdk.testing.FourLetterWords;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ProcessEnsemble;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Version;

/**
 * The ZooKeeper server the benchmarks run against, chosen by a spec:
 * <ul>
 *   <li>{@code process} (default): one standalone server in a separate JVM ({@link ProcessEnsemble}), so that client
 *       and server do not share a heap, a JIT or a garbage collector. Its JVM gets the C2 compiler and a 512 MiB heap
 *       (the fixture's test defaults are tuned for fast start-up instead), and ZooKeeper's production defaults where
 *       they matter here: {@code maxClientCnxns=60} and the default listen backlog;</li>
 *   <li>{@code embedded}: curator-test's in-process server in the benchmark's own JVM;</li>
 *   <li>{@code external:host:port[,host:port...]}: an ensemble someone else runs. The benchmarks write their nodes
 *       under {@link Workload#ROOT} there.</li>
 * </ul>
 * A separate or embedded server is stopped by {@link #close()}; an external one is left alone.
 */
public final class BenchServer implements AutoCloseable {

    public static final String PROCESS = "process";
    public static final String EMBEDDED = "embedded";
    public static final String EXTERNAL_PREFIX = "external:";

    /** Flags appended after the fixture's own: a later flag wins, so the server runs with C2 and a roomier heap. */
    public static final List<String> SERVER_JVM_OPTIONS = List.of("-Xms256m", "-Xmx512m", "-XX:TieredStopAtLevel=4");

    public static final int MAX_CLIENT_CNXNS = 60;

    private final String spec;
    private final String connectString;
    private final AutoCloseable owned;

    private BenchServer(String spec, String connectString, AutoCloseable owned) {
        this.spec = spec;
        this.connectString = connectString;
        this.owned = owned;
    }

    /**
     * Starts (or, for an external one, checks) the server the spec names.
     *
     * @throws IllegalArgumentException if the spec is none of the forms above
     * @throws IllegalStateException if the server does not start or an external one does not answer {@code srvr}
     */
    public static BenchServer start(String spec) {
        if (spec == null) {
            throw new IllegalArgumentException("server must be process, embedded or external:host:port, was null");
        }
        if (spec.equals(PROCESS)) {
            absoluteClassPath();
            ProcessEnsemble.Builder builder = ProcessEnsemble.builder().size(1).maxClientCnxns(MAX_CLIENT_CNXNS);
            SERVER_JVM_OPTIONS.forEach(builder::jvmOption);
            ProcessEnsemble ensemble = builder.start();
            return new BenchServer(spec, ensemble.connectString(), ensemble);
        }
        if (spec.equals(EMBEDDED)) {
            TestingServer server = InProcessEnsembles.startServer(InProcessEnsembles.options()
                    .maxClientCnxns(MAX_CLIENT_CNXNS)
                    .build());
            return new BenchServer(spec, server.getConnectString(), server);
        }
        if (spec.startsWith(EXTERNAL_PREFIX) && spec.length() > EXTERNAL_PREFIX.length()) {
            String connect = spec.substring(EXTERNAL_PREFIX.length());
            if (connect.contains("/")) {
                throw new IllegalArgumentException("server external connect string must not carry a chroot, was '"
                        + connect + "'; the benchmarks keep their nodes under " + Workload.ROOT);
            }
            BenchServer server = new BenchServer(spec, connect, null);
            server.version();
            return server;
        }
        throw new IllegalArgumentException(
                "server must be process, embedded or external:host:port[,host:port...], was '" + spec + "'");
    }

    /**
     * The server process runs in its own directory with this JVM's class path: a relative entry (as in
     * {@code java -jar sdk-benchmarks/target/zk-sdk-benchmarks.jar}) would point nowhere there.
     */
    static synchronized void absoluteClassPath() {
        String classPath = System.getProperty("java.class.path");
        if (classPath == null || classPath.isBlank()) {
            return;
        }
        String absolute = Arrays.stream(classPath.split(File.pathSeparator))
                .map(entry -> entry.isBlank()
                        ? entry
                        : Path.of(entry).toAbsolutePath().toString())
                .collect(Collectors.joining(File.pathSeparator));
        System.setProperty("java.class.path", absolute);
    }

    public String spec() {
        return spec;
    }

    public String connectString() {
        return connectString;
    }

    /** Every server's {@code host:port}, for four-letter words. */
    public List<String> servers() {
        return Arrays.stream(connectString.split(",")).map(String::trim).toList();
    }

    /** The first server's version line from {@code srvr}, such as {@code 3.9.4-7246445e..., built on ...}. */
    public String version() {
        String srvr = FourLetterWords.send(servers().get(0), "srvr");
        return srvr.lines()
                .filter(l -> l.startsWith("Zookeeper version:"))
                .map(l -> l.substring("Zookeeper version:".length()).trim())
                .findFirst()
                .orElseThrow(() ->
                        new IllegalStateException(servers().get(0) + " answered srvr without a version: " + srvr));
    }

    /** The version of the ZooKeeper jar on this JVM's class path (the server's too, unless it is external). */
    public static String classPathVersion() {
        return Version.getFullVersion();
    }

    @Override
    public void close() {
        if (owned == null) {
            return;
        }
        try {
            owned.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("could not stop the " + spec + " server", e);
        }
    }

    @Override
    public String toString() {
        return "BenchServer{" + spec + ", " + connectString + "}";
    }
}
