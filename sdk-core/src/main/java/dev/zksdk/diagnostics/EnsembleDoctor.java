package dev.zksdk.diagnostics;

import dev.zksdk.internal.DaemonThreads;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes every member of a ZooKeeper ensemble and names production problems from what they answer: members that
 * are unreachable, stopped or not serving, a missing or doubled leader, members that disagree on the server list or
 * on settings, even-sized ensembles, per-address connection limits nearly used up, rejected connections, session
 * timeouts the servers will clamp, lagging members, high latency, queued requests, disabled four-letter words and
 * autopurge switched off (see {@link FindingCode}).
 *
 * <p>How it probes: the four-letter words {@code ruok}, {@code srvr}, {@code conf}, {@code mntr}, {@code cons} and
 * {@code wchs} through ZooKeeper's own {@code FourLetterWordMain}, one connection at a time per member and all
 * members in parallel. Words a member does not whitelist are read from its AdminServer (JSON over HTTP) when
 * {@link DoctorOptions#adminServerUse()} allows. Members that appear in a server list but not in the connect string
 * are probed too. Nothing is written, no session is created.
 *
 * <p>Timing: each request may take up to {@link DoctorOptions#timeout()} to connect and as long again to be
 * answered; a member that accepts a connection but does not answer (a stopped process) is not asked again, so a
 * probe usually ends within a few timeouts even when members hang.
 *
 * <p>Thread-safety: the methods are static and share no state; they may be called from any thread. Each call uses
 * its own short-lived daemon threads, all ended before it returns.
 */
public final class EnsembleDoctor {

    private static final Logger log = LoggerFactory.getLogger(EnsembleDoctor.class);
    /** A member's whole probe (six words, AdminServer fallbacks) is bounded by this many timeouts. */
    private static final int TIMEOUTS_PER_MEMBER = 24;

    private EnsembleDoctor() {}

    /**
     * Probes the ensemble with {@link DoctorOptions#defaults()}.
     *
     * @param connectString {@code host:port[,host:port...][/chroot]}; the chroot is ignored
     * @return the report; a member that cannot be reached is a finding, not an exception
     * @throws IllegalArgumentException when the connect string is null, empty or malformed (missing port, port
     *                                  out of range, empty host), before anything is sent
     */
    public static DiagnosticsReport probe(String connectString) {
        return probe(connectString, DoctorOptions.defaults());
    }

    /**
     * Probes the ensemble with the given per-request timeout and otherwise default options.
     *
     * @param connectString {@code host:port[,host:port...][/chroot]}; the chroot is ignored
     * @param timeout the per-request timeout
     * @return the report; a member that cannot be reached is a finding, not an exception
     * @throws IllegalArgumentException when the connect string is malformed or the timeout is null or out of range
     */
    public static DiagnosticsReport probe(String connectString, Duration timeout) {
        ConnectString.parse(connectString);
        return probe(connectString, DoctorOptions.builder().timeout(timeout).build());
    }

    /**
     * Probes the ensemble.
     *
     * @param connectString {@code host:port[,host:port...][/chroot]}; the chroot is ignored
     * @param options the timeout, thresholds and TLS of the probe
     * @return the report; a member that cannot be reached is a finding, not an exception
     * @throws IllegalArgumentException when the connect string is malformed or options is null
     */
    public static DiagnosticsReport probe(String connectString, DoctorOptions options) {
        ConnectString parsed = ConnectString.parse(connectString);
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        Instant startedAt = Instant.now();
        long start = System.nanoTime();
        String clientIp = clientAddress(parsed, options);
        MemberProber prober = new MemberProber(options);

        List<ServerReport> reports = probeAll(prober, parsed.servers(), true, options);
        List<HostAndPort> others = membersOutsideConnectString(reports);
        if (!others.isEmpty()) {
            reports = new ArrayList<>(reports);
            reports.addAll(probeAll(prober, others, false, options));
        }
        List<MemberProbe> probes = reports.stream().map(ServerReport::probe).toList();
        List<Finding> findings = EnsembleAnalysis.analyse(probes, parsed, options, clientIp);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        DiagnosticsReport report =
                new DiagnosticsReport(connectString, startedAt, elapsed, clientIp, reports, findings);
        log.debug("Probed {} in {} ms: {}", connectString, elapsed.toMillis(), report);
        return report;
    }

    private static List<ServerReport> probeAll(
            MemberProber prober, List<HostAndPort> members, boolean inConnectString, DoctorOptions options) {
        ExecutorService pool =
                Executors.newFixedThreadPool(Math.min(members.size(), 32), DaemonThreads.numbered("zk-doctor"));
        try {
            List<Future<ServerReport>> futures = new ArrayList<>();
            for (HostAndPort member : members) {
                futures.add(pool.submit(() -> prober.probe(member, inConnectString)));
            }
            long deadline = System.nanoTime() + options.timeout().toNanos() * TIMEOUTS_PER_MEMBER;
            List<ServerReport> reports = new ArrayList<>();
            for (int i = 0; i < members.size(); i++) {
                reports.add(await(futures.get(i), members.get(i), inConnectString, deadline));
            }
            return reports;
        } finally {
            pool.shutdownNow();
        }
    }

    private static ServerReport await(
            Future<ServerReport> future, HostAndPort member, boolean inConnectString, long deadline) {
        try {
            return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            return unfinished(
                    member, inConnectString, "the probe did not finish in time; the member answers too slowly");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(true);
            return unfinished(member, inConnectString, "the probe was interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            // A parser meeting output it cannot handle must not hide the other members' results.
            log.warn("Probing {} failed", member, cause);
            return unfinished(member, inConnectString, "probing failed: " + cause);
        }
    }

    private static ServerReport unfinished(HostAndPort member, boolean inConnectString, String problem) {
        MemberProbe p = new MemberProbe(member, inConnectString);
        p.problem = problem;
        return new ServerReport(p);
    }

    /**
     * Members named in a server list whose client address is known, that no probed member is (by id or address).
     * The reference list is the leader's when a leader answered, otherwise every list seen.
     */
    private static List<HostAndPort> membersOutsideConnectString(List<ServerReport> reports) {
        Set<Long> probedIds = new LinkedHashSet<>();
        Set<String> probedAddresses = new LinkedHashSet<>();
        for (ServerReport r : reports) {
            probedAddresses.add(r.server());
            if (r.serverId() != null) {
                probedIds.add(r.serverId());
            }
        }
        List<ServerReport> sources =
                reports.stream().filter(r -> "leader".equals(r.mode())).toList();
        if (sources.isEmpty()) {
            sources = reports;
        }
        Set<HostAndPort> others = new LinkedHashSet<>();
        for (ServerReport r : sources) {
            MemberProbe p = r.probe();
            if (p.conf == null) {
                continue;
            }
            for (QuorumMember m : p.conf.members()) {
                HostAndPort client = m.clientEndpoint();
                if (client != null && !probedIds.contains(m.id()) && !probedAddresses.contains(client.toString())) {
                    others.add(client);
                }
            }
        }
        return new ArrayList<>(others);
    }

    /**
     * The IP address servers see this client connect from: the given address resolved, else the local address of
     * the route to the first server (a connected UDP socket sends nothing; it only asks the routing table).
     */
    private static String clientAddress(ConnectString connectString, DoctorOptions options) {
        if (options.clientAddress() != null) {
            try {
                return InetAddress.getByName(options.clientAddress()).getHostAddress();
            } catch (UnknownHostException e) {
                return options.clientAddress();
            }
        }
        for (HostAndPort server : connectString.servers()) {
            try (DatagramSocket socket = new DatagramSocket()) {
                InetAddress target = InetAddress.getByName(server.host());
                if (target.isLoopbackAddress()) {
                    return target instanceof Inet6Address ? "0:0:0:0:0:0:0:1" : "127.0.0.1";
                }
                socket.connect(new InetSocketAddress(target, server.port()));
                InetAddress local = socket.getLocalAddress();
                if (local != null && !local.isAnyLocalAddress()) {
                    return local.getHostAddress();
                }
            } catch (IOException e) {
                log.debug("No route to {} to derive the client address", server, e);
            }
        }
        return null;
    }
}
