package dev.zksdk.benchmarks;

import dev.zksdk.testing.ProcessEnsemble;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/** What the results were measured on: the machine, the JDK and the versions of everything in the path. */
public final class MachineInfo {

    private MachineInfo() {}

    /** The machine and software as a JSON-ready map, read now. */
    public static Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        firstValue(Path.of("/proc/cpuinfo"), "model name").ifPresent(v -> m.put("cpu", v));
        firstValue(Path.of("/proc/meminfo"), "MemTotal")
                .map(MachineInfo::gibibytes)
                .ifPresent(v -> m.put("memory", v));
        m.put(
                "os",
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"));
        m.put(
                "jdk",
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + " ("
                        + System.getProperty("java.vendor") + ")");
        m.put("zookeeperClient", BenchServer.classPathVersion());
        m.put("curator", mavenVersion("org.apache.curator", "curator-framework"));
        m.put("zkSdk", mavenVersion("dev.zksdk", "zk-sdk-core"));
        m.put("jmh", mavenVersion("org.openjdk.jmh", "jmh-core"));
        m.put(
                "kernelListenCounters",
                ServerCounters.listenOverflows().isPresent()
                        ? "readable (" + ServerCounters.NETSTAT + ", whole network namespace)"
                        : "not readable here: listen overflows are reported as 0");
        return m;
    }

    /** {@code /proc/meminfo}'s {@code 24684084 kB} as {@code 23.5 GiB}; anything else as it is. */
    static String gibibytes(String meminfo) {
        String[] parts = meminfo.trim().split("\\s+");
        if (parts.length == 2 && parts[1].equals("kB")) {
            try {
                return String.format(Locale.ROOT, "%.1f GiB", Long.parseLong(parts[0]) / 1024.0 / 1024.0);
            } catch (NumberFormatException e) {
                return meminfo;
            }
        }
        return meminfo;
    }

    /** The 1, 5 and 15 minute load averages, or "unknown": other work on the machine shows here. */
    public static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static Optional<String> firstValue(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals(key)) {
                    return Optional.of(line.substring(colon + 1).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** A library's version from the {@code pom.properties} Maven packs into its jar (kept by the shaded jar). */
    static String mavenVersion(String groupId, String artifactId) {
        String resource = "/META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
        try (InputStream in = MachineInfo.class.getResourceAsStream(resource)) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The server settings the results depend on. */
    public static Map<String, Object> server(BenchServer server) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("spec", server.spec());
        m.put("version", server.version());
        if (server.spec().equals(BenchServer.PROCESS)) {
            m.put(
                    "process",
                    "standalone QuorumPeerMain servers, each in its own JVM on 127.0.0.1: one per benchmark run, three"
                            + " for ScaleBenchmark and ScaleMemoryBenchmark");
            List<String> jvm = new ArrayList<>(ProcessEnsemble.DEFAULT_JVM_OPTIONS);
            jvm.addAll(BenchServer.SERVER_JVM_OPTIONS);
            m.put("jvmOptions", effective(jvm));
        }
        if (!server.spec().startsWith(BenchServer.EXTERNAL_PREFIX)) {
            m.put("maxClientCnxns", BenchServer.MAX_CLIENT_CNXNS);
            m.put("clientPortListenBacklog", "ZooKeeper's default (the JDK's 50)");
            m.put(
                    "forceSync",
                    server.spec().equals(BenchServer.PROCESS) ? "no (throw-away data)" : "curator-test default");
        }
        return m;
    }

    /**
     * The flags a JVM given {@code options} in order runs with: of flags setting the same thing ({@code -Xmx…},
     * {@code -Xms…}, {@code -Xss…}, {@code -XX:Name=…}, {@code -XX:±Name}, {@code -Dname=…}) only the last, which is
     * the one that takes effect, in its place.
     */
    static List<String> effective(List<String> options) {
        java.util.LinkedHashMap<String, String> byKey = new java.util.LinkedHashMap<>();
        for (String o : options) {
            String key = flagKey(o);
            byKey.remove(key);
            byKey.put(key, o);
        }
        return List.copyOf(byKey.values());
    }

    private static String flagKey(String option) {
        for (String prefix : List.of("-Xmx", "-Xms", "-Xss")) {
            if (option.startsWith(prefix)) {
                return prefix;
            }
        }
        if (option.startsWith("-XX:+") || option.startsWith("-XX:-")) {
            return "-XX:" + option.substring(5);
        }
        int eq = option.indexOf('=');
        return eq > 0 && (option.startsWith("-XX:") || option.startsWith("-D")) ? option.substring(0, eq) : option;
    }
}
