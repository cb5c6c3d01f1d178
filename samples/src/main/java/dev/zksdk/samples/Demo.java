package dev.zksdk.samples;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.EphemeralNode;
import dev.zksdk.PoolStats;
import dev.zksdk.RecoveryEvent;
import dev.zksdk.WatchEvent;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkException;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.diagnostics.DiagnosticsReport;
import dev.zksdk.diagnostics.DoctorOptions;
import dev.zksdk.diagnostics.EnsembleDoctor;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.ZkProxy;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;

/**
 * The demo (the README's main command): many concurrent request handlers share one {@link ZkSessionPool} of two
 * long-lived sessions while faults are injected one after another, and a timeline shows what the pool does about
 * each. Against an embedded three-server ensemble (started in this JVM) unless {@code --connect} names one.
 *
 * <p>What it does: registers a service (an {@link EphemeralNode} the pool keeps alive), watches a config node that
 * one handler keeps changing, runs the handlers, then injects each fault in turn: kill the leader (embedded ensemble
 * only), drop every client connection (through a local TCP proxy in front of each server), force a session expiry
 * (the session holding the registration and the watch, ended on the server side). After each it shows how long the
 * sessions took to come back and how requests fared: ok, retried (held or retried by the pool, never by the
 * handlers) and failed. At the end it checks that the registration exists and is owned by the live session, that the
 * watch saw the last config value, that no request failed, that the pool opened no session beyond its own two and
 * one replacement per expiry, and prints the pool's stats and a doctor report.
 *
 * <p>Exit code: 0 when every check held, 1 when one did not, 2 for bad arguments or an ensemble it could not use.
 */
public final class Demo {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);
    static final int SESSIONS = 2;
    /** Not above the session timeout: Curator warns when it is, and a lease should not outwait a session. */
    private static final Duration CONNECTION_TIMEOUT = SESSION_TIMEOUT;
    /** How long a fault may take to be noticed by the sessions (a dropped TCP connection is seen at once). */
    private static final Duration NOTICE_TIMEOUT = Duration.ofSeconds(5);

    private static final Duration RECOVERY_TIMEOUT = Duration.ofSeconds(30);

    /** Test seam: runs just before the final checks, with the demo's registration. */
    interface Hooks {
        default void beforeChecks(EphemeralNode registration) {}
    }

    private static final Hooks NO_HOOKS = new Hooks() {};

    private Demo() {}

    static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        return run(args, out, err, NO_HOOKS);
    }

    static int run(String[] args, PrintStream out, PrintStream err, Hooks hooks) throws Exception {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            out.println(Main.USAGE);
            return Main.OK;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("demo: " + e.getMessage());
            err.println(Main.USAGE);
            return Main.EX_USAGE;
        }
        long started = System.nanoTime();
        EmbeddedEnsemble embedded = null;
        String connect = options.connect;
        if (connect == null) {
            out.println(
                    "[demo] starting an embedded 3-server ZooKeeper ensemble in this JVM (pass --connect host:port,..."
                            + " to use yours)");
            embedded = EmbeddedEnsemble.start(3, Duration.ofSeconds(60));
            connect = embedded.connectString();
        }
        try {
            return new Scenario(options, connect, embedded, out, hooks, started).run();
        } catch (ZkException e) {
            out.println("[demo] could not use the ensemble " + connect + ": " + e.getMessage());
            return Main.EX_UNAVAILABLE;
        } finally {
            if (embedded != null) {
                embedded.close();
            }
        }
    }

    /** One run of the demo against one ensemble. */
    private static final class Scenario {
        private final Options options;
        private final String connect;
        private final EnsembleConfig ensemble;
        private final EmbeddedEnsemble embedded;
        private final PrintStream out;
        private final Hooks hooks;
        private final long started;
        private final List<Check> checks = new ArrayList<>();
        /** One proxy per server, in connect-string order, so that the demo can cut every client connection. */
        private final List<ZkProxy> proxies = new ArrayList<>();
        /** Proxy address ({@code 127.0.0.1:port}) to the server behind it, as the connect string names it. */
        private final Map<String, String> targets = new LinkedHashMap<>();

        private Timeline timeline;
        private ZkSessionPool pool;
        private ZkLease admin;
        private Traffic traffic;
        private int expiries;
        private final AtomicReference<String> lastSeen = new AtomicReference<>();
        private final AtomicLong dataEvents = new AtomicLong();
        private final AtomicLong resyncs = new AtomicLong();

        Scenario(
                Options options,
                String connect,
                EmbeddedEnsemble embedded,
                PrintStream out,
                Hooks hooks,
                long started) {
            this.options = options;
            this.connect = connect;
            this.ensemble = EnsembleConfig.of(connect);
            this.embedded = embedded;
            this.out = out;
            this.hooks = hooks;
            this.started = started;
        }

        int run() throws Exception {
            try {
                for (String server : ensemble.servers()) {
                    // zk-sdk-test's proxy takes host:port; an IPv6 host goes without its brackets.
                    ZkProxy proxy =
                            ZkProxy.to(server.startsWith("[") ? server.replaceFirst("^\\[(.*)\\]", "$1") : server);
                    proxies.add(proxy);
                    targets.put(proxy.connectString(), server);
                }
            } catch (RuntimeException e) {
                proxies.forEach(ZkProxy::close);
                throw e;
            }
            timeline = new Timeline(out, started, SESSIONS, this::serverName);
            if (embedded != null) {
                timeline.say("ensemble up: %s", embedded.describe());
            } else {
                timeline.say("ensemble: %s", connect);
            }
            timeline.say(
                    "pool: %d sessions, session timeout %d s, through a local TCP proxy per server so that the demo"
                            + " can cut connections: %s",
                    SESSIONS,
                    SESSION_TIMEOUT.toSeconds(),
                    targets.entrySet().stream()
                            .map(e -> e.getKey() + " -> " + e.getValue())
                            .collect(Collectors.joining(", ")));
            try (ZkSessionPool p = ZkSessionPool.builder()
                    .name("demo")
                    .connectString(
                            String.join(",", targets.keySet()) + (ensemble.chroot() == null ? "" : ensemble.chroot()))
                    .sessionTimeout(SESSION_TIMEOUT)
                    .connectionTimeout(CONNECTION_TIMEOUT)
                    .sessionsPerEnsemble(SESSIONS)
                    .listener(timeline)
                    .build()) {
                pool = p;
                try {
                    runWithPool();
                } finally {
                    if (traffic != null) {
                        traffic.stop();
                    }
                }
            } finally {
                proxies.forEach(ZkProxy::close);
            }
            out.printf(Locale.ROOT, "%nchecks:%n");
            checks.forEach(c -> out.println(c.line()));
            List<Check> failed = checks.stream().filter(c -> !c.held).toList();
            out.printf(
                    Locale.ROOT,
                    "%n[demo] %s in %.1f s%n",
                    failed.isEmpty()
                            ? "all " + checks.size() + " checks held"
                            : failed.size() + " of " + checks.size() + " checks FAILED",
                    timeline.seconds());
            return failed.isEmpty() ? 0 : 1;
        }

        private void runWithPool() throws Exception {
            ExecutorService configReader = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "demo-config-reader");
                t.setDaemon(true);
                return t;
            });
            admin = pool.lease();
            String base = "/zksdk-demo-"
                    + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
            String config = base + "/config";
            admin.create(base, new byte[0], CreateMode.PERSISTENT);
            admin.create(config, "v0".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
            lastSeen.set("v0");
            EphemeralNode registration = admin.ephemeral(
                    base + "/services/demo-1", "http://127.0.0.1:8080".getBytes(StandardCharsets.UTF_8));
            timeline.say("registered %s (ephemeral; the pool re-creates it after an expiry)", registration.path());
            WatchHandle watch = admin.watch(config, event -> {
                if (event.type() == WatchEvent.Type.RESYNC) {
                    resyncs.incrementAndGet();
                } else if (event.type() == WatchEvent.Type.DATA_CHANGED) {
                    dataEvents.incrementAndGet();
                } else {
                    return;
                }
                // Watch listeners run on the pool's event thread and must not block: re-read elsewhere.
                configReader.execute(() -> reread(config));
            });
            timeline.say("watching %s (persistent; re-armed and told to RESYNC after an expiry)", config);

            traffic = new Traffic(pool, config, options.handlers, timeline);
            traffic.start();
            timeline.say(
                    "%d request handlers running: each request takes a lease (free, no connection), reads %s;"
                            + " handler 0 writes it every %d requests. 'retried' = the pool held or retried a request through a fault",
                    options.handlers, config, Traffic.WRITE_EVERY);
            Traffic.Counts before = traffic.counts();
            TimeUnit.SECONDS.sleep(options.seconds);
            timeline.say("steady state: %s", traffic.counts().minus(before));

            List<Fault> faults = options.faults;
            for (int i = 0; i < faults.size(); i++) {
                Fault fault = faults.get(i);
                out.printf(Locale.ROOT, "%n--- fault %d/%d: %s ---%n", i + 1, faults.size(), fault.title());
                if (fault.needsOwnServers() && embedded == null) {
                    timeline.say(
                            "skipped: the demo cannot %s of an ensemble it does not run (--connect)", fault.title());
                    continue;
                }
                Traffic.Counts atFault = traffic.counts();
                switch (fault) {
                    case KILL_LEADER -> killLeader();
                    case DROP_CONNECTION -> dropConnection();
                    case EXPIRE_SESSION -> expireSession();
                    default -> throw new IllegalStateException("no injection for " + fault);
                }
                TimeUnit.SECONDS.sleep(options.seconds);
                timeline.say("since the fault: %s", traffic.counts().minus(atFault));
            }

            out.printf(Locale.ROOT, "%n--- results ---%n");
            traffic.stop();
            Traffic.Counts total = traffic.counts();
            timeline.say("handlers stopped: %s in all", total);
            if (traffic.unknownConfirmed() > 0) {
                timeline.say(
                        "%d write(s) cut in flight were reported 'outcome unknown' (the pool could not prove them applied "
                                + "once); the writer re-read the node and found its value",
                        traffic.unknownConfirmed());
            }
            if (traffic.unknownResent() > 0) {
                timeline.say(
                        "%d write(s) reported 'outcome unknown' were not applied (the writer re-read the node) and were"
                                + " sent again",
                        traffic.unknownResent());
            }
            traffic.failures().forEach(f -> out.println("  failure " + f));
            List<Duration> reconnects = timeline.reconnects();
            timeline.say(
                    "%d reconnects, the longest after %s",
                    reconnects.size(),
                    Timeline.millis(reconnects.stream().max(Duration::compareTo).orElse(Duration.ZERO)));

            String finalValue = "v" + (traffic.lastWritten() + 1);
            admin.setData(config, finalValue.getBytes(StandardCharsets.UTF_8), -1);
            boolean watchSawIt = awaitValue(finalValue, Duration.ofSeconds(10));
            timeline.say(
                    "watch: %d data-change events for %d writes, %d RESYNC (a change made while a session was being"
                            + " replaced has no event: RESYNC stands for it); last value read after an event: %s",
                    dataEvents.get(), traffic.lastWritten() + 1, resyncs.get(), lastSeen.get());

            hooks.beforeChecks(registration);

            long live = admin.sessionId();
            Stat owner = admin.exists(registration.path());
            check(
                    "the registration " + registration.path() + " exists and is owned by the live session 0x"
                            + Long.toHexString(live),
                    registration.isPresent() && owner != null && owner.getEphemeralOwner() == live,
                    owner == null ? "no node" : "owner 0x" + Long.toHexString(owner.getEphemeralOwner()));
            check(
                    "the watch saw the last config value (" + finalValue + ")",
                    watchSawIt,
                    "last seen " + lastSeen.get());
            check("no request failed", total.failed() == 0, total.toString());
            PoolStats stats = pool.stats();
            long expected = SESSIONS + expiries;
            check(
                    "sessions opened: " + stats.sessionsOpened() + " for "
                            + String.format(Locale.ROOT, "%,d", total.total()) + " requests (" + SESSIONS + " + "
                            + expiries + " replacing expired ones): no connection per request",
                    stats.sessionsOpened() == expected && stats.openSessions() == SESSIONS,
                    "expected " + expected + " opened and " + SESSIONS + " open");

            out.printf(
                    Locale.ROOT,
                    "%npool stats: %d open sessions, %d active leases, %d sessions ever opened,"
                            + " connections per server %s%n",
                    stats.openSessions(),
                    stats.activeLeases(),
                    stats.sessionsOpened(),
                    named(stats.connectionsPerServer()));
            DiagnosticsReport report = EnsembleDoctor.probe(
                    connect,
                    DoctorOptions.builder()
                            .requestedSessionTimeout(SESSION_TIMEOUT)
                            .build());
            out.printf(Locale.ROOT, "%ndoctor report:%n%s", indent(report.toText()));
            if (embedded != null) {
                check(
                        "the doctor finds the embedded ensemble healthy again (nothing above INFO)",
                        report.exitCode() == 0,
                        report.toString());
            } else {
                out.println("  (your ensemble's findings are shown, not checked: exit code " + report.exitCode() + ")");
            }

            watch.close();
            registration.close();
            admin.curator().delete().deletingChildrenIfNeeded().forPath(base);
            admin.close();
            configReader.shutdownNow();
            out.println();
        }

        private void killLeader() throws Exception {
            EmbeddedEnsemble.Member leader = embedded.leader(Duration.ofSeconds(10));
            long[] ids = timeline.sessionIds();
            long disruptions = timeline.disruptions();
            long t0 = System.nanoTime();
            timeline.say("killing %s, the leader; the other two elect a new one", leader);
            embedded.kill(leader);
            Duration back = awaitSessionsBack(disruptions, t0);
            EmbeddedEnsemble.Member next = embedded.leader(Duration.ofSeconds(20));
            timeline.say("%s leads now", next);
            boolean same = Arrays.equals(ids, timeline.sessionIds());
            check(
                    "kill the leader: every session connected again and kept its id (nothing to recover)",
                    back != null && same,
                    outcome(back, same));
            timeline.say("restarting %s", leader);
            embedded.restart(leader);
            String mode = embedded.awaitServing(leader, Duration.ofSeconds(30));
            timeline.say("%s serves again (%s)", leader, mode);
        }

        private void dropConnection() throws Exception {
            long[] ids = timeline.sessionIds();
            long disruptions = timeline.disruptions();
            long t0 = System.nanoTime();
            int cut = 0;
            for (ZkProxy proxy : proxies) {
                cut += proxy.clientConnectionCount();
                proxy.closeAllConnections();
            }
            timeline.say(
                    "cut %d client connection(s) at the proxies, as a firewall or NAT reset does; the servers keep the"
                            + " sessions",
                    cut);
            Duration back = awaitSessionsBack(disruptions, t0);
            boolean same = Arrays.equals(ids, timeline.sessionIds());
            check(
                    "drop the connection: every session reconnected and kept its id (nothing to recover)",
                    back != null && same,
                    outcome(back, same));
        }

        private void expireSession() throws Exception {
            long sid = admin.sessionId();
            byte[] password =
                    admin.curator().getZookeeperClient().getZooKeeper().getSessionPasswd();
            int index = timeline.indexOf(sid);
            long resyncsBefore = resyncs.get();
            timeline.say(
                    "expiring session #%d (0x%x, holds the registration and the watch) on the server: a second"
                            + " handle attaches with its id and password and closes it",
                    index, sid);
            ForcedExpiry.expireSession(connect, sid, password, Duration.ofSeconds(15));
            expiries++;
            RecoveryEvent recovery = timeline.awaitRecovery(sid, RECOVERY_TIMEOUT);
            boolean allBack = timeline.awaitAllConnected(RECOVERY_TIMEOUT);
            boolean resynced = awaitAtLeast(resyncs, resyncsBefore + 1, Duration.ofSeconds(10));
            check(
                    "force a session expiry: a new session replaced it, its recovery re-created the registration and"
                            + " re-armed the watch, the watch got RESYNC",
                    recovery != null
                            && recovery.complete()
                            && recovery.ephemeralsRecreated() >= 1
                            && recovery.watchesRearmed() >= 1
                            && allBack
                            && resynced,
                    recovery == null
                            ? "no recovery within " + RECOVERY_TIMEOUT.toSeconds() + " s"
                            : recovery.toString());
        }

        /** Time from the fault until every session is connected again, or null when they were not in time. */
        private Duration awaitSessionsBack(long disruptionsBefore, long faultNanos) throws InterruptedException {
            if (!timeline.awaitDisruption(disruptionsBefore, NOTICE_TIMEOUT)) {
                timeline.say("no session noticed the fault within %d s", NOTICE_TIMEOUT.toSeconds());
            }
            if (!timeline.awaitAllConnected(RECOVERY_TIMEOUT)) {
                timeline.say("sessions still disconnected after %d s", RECOVERY_TIMEOUT.toSeconds());
                return null;
            }
            Duration back = Duration.ofNanos(System.nanoTime() - faultNanos);
            timeline.say("all %d sessions connected again, %s after the fault", SESSIONS, Timeline.millis(back));
            return back;
        }

        private static String outcome(Duration back, boolean same) {
            return (back == null ? "not back in time" : "back after " + Timeline.millis(back))
                    + (same ? ", same session ids" : ", session ids changed");
        }

        /**
         * Reads through the lease that holds the watch. A lease from {@code pool.lease()} may be pinned to the other
         * session, connected to a follower that has not applied the change yet: it can read the value before the one the
         * event announced, and no later event would correct that. On the watch's own session ZooKeeper delivers the event
         * before it shows the new data, so a read after the event sees it.
         */
        private void reread(String config) {
            try {
                lastSeen.set(new String(admin.getData(config), StandardCharsets.UTF_8));
            } catch (ZkException | IllegalStateException e) {
                // The next event re-reads; after the lease's close nothing needs to.
            }
        }

        private boolean awaitValue(String expected, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!expected.equals(lastSeen.get())) {
                if (System.nanoTime() - deadline > 0) {
                    return false;
                }
                TimeUnit.MILLISECONDS.sleep(10);
            }
            return true;
        }

        private static boolean awaitAtLeast(AtomicLong counter, long value, Duration timeout)
                throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (counter.get() < value) {
                if (System.nanoTime() - deadline > 0) {
                    return false;
                }
                TimeUnit.MILLISECONDS.sleep(10);
            }
            return true;
        }

        private void check(String what, boolean held, String detail) {
            checks.add(new Check(what, held, detail));
        }

        /** A connected address, through the proxy, as the server behind it: {@code server 2 (127.0.0.1:p)}. */
        private String serverName(String proxyAddress) {
            if (proxyAddress == null) {
                return "?";
            }
            String target = targets.getOrDefault(proxyAddress, proxyAddress);
            if (embedded != null) {
                return embedded.member(target)
                        .map(EmbeddedEnsemble.Member::toString)
                        .orElse(target);
            }
            return target;
        }

        private Map<String, Integer> named(Map<String, Integer> perProxy) {
            Map<String, Integer> named = new TreeMap<>();
            perProxy.forEach((k, v) -> named.merge(serverName(k), v, Integer::sum));
            return named;
        }

        private static String indent(String text) {
            return text.lines()
                    .map(l -> "  " + l)
                    .reduce(new StringBuilder(), (sb, l) -> sb.append(l).append('\n'), StringBuilder::append)
                    .toString();
        }
    }

    private record Check(String what, boolean held, String detail) {
        String line() {
            return (held ? "  ok    " : "  FAIL  ") + what + (held ? "" : "\n          (" + detail + ")");
        }
    }

    /** The demo's command line. */
    static final class Options {
        String connect;
        int handlers = 32;
        int seconds = 3;
        List<Fault> faults = List.of(Fault.values());

        /**
         * @throws IllegalArgumentException naming the option and the value
         */
        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                if (!Set.of("--connect", "--handlers", "--seconds", "--faults").contains(arg)) {
                    throw new IllegalArgumentException("unknown option '" + arg + "'");
                }
                if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                    throw new IllegalArgumentException("option " + arg + " needs a value");
                }
                String value = args[++i];
                switch (arg) {
                    case "--connect" -> {
                        try {
                            EnsembleConfig.of(value);
                        } catch (IllegalArgumentException e) {
                            throw new IllegalArgumentException("--connect: " + e.getMessage(), e);
                        }
                        o.connect = value;
                    }
                    case "--handlers" -> o.handlers = bounded(arg, value, 1, 1000);
                    case "--seconds" -> o.seconds = bounded(arg, value, 1, 60);
                    default -> o.faults = faults(value);
                }
            }
            return o;
        }

        private static List<Fault> faults(String value) {
            if (value.equals("none")) {
                return List.of();
            }
            Set<Fault> chosen = EnumSet.noneOf(Fault.class);
            for (String name : value.split(",", -1)) {
                chosen.add(Fault.of(name.trim()));
            }
            return List.copyOf(chosen);
        }

        private static int bounded(String option, String value, int min, int max) {
            int n;
            try {
                n = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " must be a whole number, was '" + value + "'", e);
            }
            if (n < min || n > max) {
                throw new IllegalArgumentException(option + " must be between " + min + " and " + max + ", was " + n);
            }
            return n;
        }
    }
}
