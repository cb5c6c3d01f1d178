package dev.zksdk.benchmarks;

import dev.zksdk.testing.ServerConnections;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The counters that say whether a server turned clients away: ZooKeeper's own count of connections it rejected
 * ({@code mntr zk_connection_rejected}: over {@code maxClientCnxns}, or throttled) and the kernel's count of
 * connections dropped because a listen queue was full ({@code TcpExt: ListenOverflows} and {@code ListenDrops} in
 * {@code /proc/net/netstat}).
 *
 * <p>The kernel's counters cover the whole network namespace, every listening socket in it, not only the benchmark's
 * server; they are absent where {@code /proc/net/netstat} cannot be read.
 */
public final class ServerCounters {

    static final Path NETSTAT = Path.of("/proc/net/netstat");
    private static final Duration RETRY_FOR = Duration.ofSeconds(20);
    /** A refused {@code mntr} is itself a rejected connection: counted so that results can say how many were ours. */
    private static final AtomicLong PROBES_REFUSED = new AtomicLong();

    private ServerCounters() {}

    /**
     * The sum of {@code zk_connection_rejected} over the servers. A server whose connection slots are all taken
     * refuses the {@code mntr} connection too; that is retried for a while, as a monitoring agent would.
     *
     * @throws IllegalStateException if a server does not answer within 20 s
     */
    public static long connectionsRejected(List<String> servers) {
        long sum = 0;
        for (String server : servers) {
            sum += mntrWithRetry(server, "zk_connection_rejected");
        }
        return sum;
    }

    private static long mntrWithRetry(String server, String key) {
        long deadline = System.nanoTime() + RETRY_FOR.toNanos();
        String last = "no answer";
        long pause = 20;
        while (System.nanoTime() - deadline < 0) {
            try {
                // A server over its connection limit accepts the probe's connection and closes it unanswered.
                String value = ServerConnections.mntr(server).get(key);
                if (value != null) {
                    return Long.parseLong(value);
                }
                last = "an answer without " + key;
            } catch (UncheckedIOException | IllegalStateException e) {
                last = e.toString();
            }
            PROBES_REFUSED.incrementAndGet();
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while asking " + server + " for " + key, e);
            }
            pause = Math.min(pause * 2, 1000);
        }
        throw new IllegalStateException(
                server + " did not answer mntr with " + key + " within " + RETRY_FOR + "; last: " + last);
    }

    /** How many {@code mntr} probes of this JVM failed and were retried; each may have added one rejection. */
    public static long probesRefused() {
        return PROBES_REFUSED.get();
    }

    /** {@code TcpExt: ListenOverflows}, or empty when the kernel's counters cannot be read. */
    public static OptionalLong listenOverflows() {
        return tcpExt("ListenOverflows");
    }

    /** {@code TcpExt: ListenDrops}, or empty when the kernel's counters cannot be read. */
    public static OptionalLong listenDrops() {
        return tcpExt("ListenDrops");
    }

    static OptionalLong tcpExt(String key) {
        if (!Files.isReadable(NETSTAT)) {
            return OptionalLong.empty();
        }
        try {
            return parseTcpExt(Files.readAllLines(NETSTAT), key);
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }

    /** The file holds pairs of lines: {@code TcpExt: name name ...} then {@code TcpExt: value value ...}. */
    static OptionalLong parseTcpExt(List<String> lines, String key) {
        for (int i = 0; i + 1 < lines.size(); i++) {
            String names = lines.get(i);
            String values = lines.get(i + 1);
            if (!names.startsWith("TcpExt:") || !values.startsWith("TcpExt:")) {
                continue;
            }
            String[] n = names.trim().split("\\s+");
            String[] v = values.trim().split("\\s+");
            for (int k = 1; k < n.length && k < v.length; k++) {
                if (n[k].equals(key)) {
                    try {
                        return OptionalLong.of(Long.parseLong(v[k]));
                    } catch (NumberFormatException e) {
                        return OptionalLong.empty();
                    }
                }
            }
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }
}
