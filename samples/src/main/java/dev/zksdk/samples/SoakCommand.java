package dev.zksdk.samples;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.ZkException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code soak} command: a chaos soak with a history checker. Pools with many clients run reads and writes of every
 * kind, ephemerals, watches, caches, a Curator mutex and a leader election while a seeded fault injector kills and
 * restarts members (leader or follower), SIGSTOPs and SIGCONTs them, freezes one member's client proxy or every one
 * below and above the read and session timeouts, cuts every connection, forces session expiries and slows one
 * follower's quorum link (stale reads), often two at once. After each burst of faults it checks, against the server:
 *
 * <ul>
 *   <li>every write's reported outcome ({@link WriteLedger}): ok happened exactly once, failed did not happen, unknown
 *       at most once;
 *   <li>linearizability of registers written with versioned setData ({@link RegisterChecker}), for the reads that
 *       sync first; reads that do not may be stale, but never older than a write their pool completed before the
 *       lease was taken (the SDK's read-your-writes across the leases of one pool);
 *   <li>every live {@code EphemeralNode} exists once, owned by a live session of its pool, and closed ones are gone,
 *       within the recovery bound after the faults ended;
 *   <li>every watch, children watch, cache and tree cache agrees with the server within that bound;
 *   <li>never two lock holders, never two leaders (sampled; each may take a moment to learn it lost its session);
 *   <li>no growth: client threads, open sessions and heap after GC stay flat after warm-up, and no client thread
 *       outlives the pools.
 * </ul>
 *
 * Every violation is printed at once with the faults and session events before it; the run is written as JSON to
 * {@code <results>/soak-<seed>.json}. Exit codes ({@link Main}'s): 0 when nothing was violated and every register
 * segment was verified; 1 when something was violated; 3 when nothing was found violated but some register segments
 * were too long for the checker (the verdict and the report's {@code result} say so, and how many: such a run proves
 * less than it should, so it is no pass); 64 for bad arguments or a results directory it cannot write, before anything
 * starts; 69 for an ensemble it could not use (no verdict). {@code soak --help} lists the options and exits 0. A run
 * ended by SIGTERM or SIGINT writes its report so far with {@code "result": "interrupted"} and stops the servers it
 * started, deleting their directory.
 *
 * <p>The ensemble is {@link ProcessSoakServers}: three ZooKeeper server processes started by the soak (zk-sdk-test's
 * {@code ProcessEnsemble}, on this JVM's class path), with {@code kill -9}, SIGSTOP/SIGCONT and the third member's
 * quorum link behind proxies; unless {@code --connect} names an ensemble, which gets the network faults and expiries
 * only. With {@code --reconfig} the soak's ensemble is started with {@code reconfigEnabled} and without the proxied
 * quorum link ({@link ProcessSoakServers#startForReconfig()}): the slowed link is not drawn, removing the leader or a
 * follower from the configuration and adding it back is; the pools then keep the soak's client proxies as their
 * connect string ({@code followEnsembleChanges} off; following a reconfiguration is covered by sdk-core's
 * {@code EnsembleChangeIT}).
 */
public final class SoakCommand {

    static final Path DEFAULT_RESULTS = Path.of("soak-results");

    private SoakCommand() {}

    static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("soak: " + e.getMessage());
            err.println("soak --help lists the options");
            return Main.EX_USAGE;
        }
        if (options.helpRequested) {
            new CommandLine(new Options()).usage(out);
            return Main.OK;
        }
        try {
            checkWritable(options.results);
        } catch (IOException e) {
            err.println("soak: --results " + options.results + ": cannot write there: " + e);
            return Main.EX_USAGE;
        }
        SoakServers servers;
        if (options.connect == null) {
            out.println("[soak] starting a " + ProcessSoakServers.SIZE + "-member ZooKeeper ensemble of separate server"
                    + " processes" + (options.reconfig ? " with reconfigEnabled" : "")
                    + " (pass --connect host:port,... to use yours)");
            servers = options.reconfig ? ProcessSoakServers.startForReconfig() : ProcessSoakServers.start();
        } else {
            EnsembleConfig config = EnsembleConfig.of(options.connect);
            servers = SoakServers.external(String.join(",", config.servers()), config.servers());
        }
        // SIGTERM and SIGINT end the JVM without the finally below: stop the servers (and delete their directory)
        // from a shutdown hook too. Closing twice is harmless.
        Thread stopServers = new Thread(
                () -> {
                    try {
                        servers.close();
                    } catch (Exception e) {
                        err.println("[soak] could not stop the servers: " + e);
                    }
                },
                "soak-stop-servers");
        Runtime.getRuntime().addShutdownHook(stopServers);
        try {
            return run(options, servers, Soak.Settings.DEFAULT, Soak.NO_HOOKS, out);
        } finally {
            removeHook(stopServers);
            servers.close();
        }
    }

    /** Creates {@code dir} if need be and writes (and deletes) a file there, so that a run never ends unreported. */
    static void checkWritable(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.delete(Files.createTempFile(dir, ".soak-", ".probe"));
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is shutting down: the hook is running or has run.
        }
    }

    /** Runs a soak on {@code servers} (which the caller closes) and returns the exit code. */
    static int run(Options options, SoakServers servers, Soak.Settings settings, Soak.Hooks hooks, PrintStream out)
            throws Exception {
        long started = System.nanoTime();
        SoakRecorder recorder = new SoakRecorder(out, started, options.verbose);
        recorder.say(
                "soak for %s with seed %d: session timeout %d ms, everything must converge within %d s after a burst of"
                        + " faults",
                describe(options.duration),
                options.seed,
                settings.sessionTimeout().toMillis(),
                settings.recoveryBound().toSeconds());
        String chroot = options.connect == null
                ? null
                : EnsembleConfig.of(options.connect).chroot();
        Soak soak = new Soak(options.duration, options.seed, settings, servers, chroot, recorder, hooks);
        // Ended by a signal, the run still leaves its report so far, marked interrupted.
        AtomicBoolean reported = new AtomicBoolean();
        Thread interrupted = new Thread(
                () -> {
                    if (reported.compareAndSet(false, true)) {
                        try {
                            recorder.say("interrupted (SIGTERM or SIGINT): writing the report so far");
                            Path report = writeReport(options, recorder, soak, "interrupted", out);
                            out.printf(Locale.ROOT, "[soak] interrupted; partial report: %s%n", report);
                        } catch (Exception | Error e) {
                            out.println("[soak] interrupted; could not write the report: " + e);
                        }
                        out.flush();
                    }
                },
                "soak-interrupted-report");
        Runtime.getRuntime().addShutdownHook(interrupted);
        try {
            try {
                soak.run();
            } catch (ZkException e) {
                reported.set(true);
                recorder.say("could not use the ensemble %s: %s", servers.connectString(), e.getMessage());
                writeReport(options, recorder, soak, "error: " + e.getMessage(), out);
                return Main.EX_UNAVAILABLE;
            }
            if (!reported.compareAndSet(false, true)) {
                return Main.FAILED; // the JVM is exiting on a signal; its hook wrote the report
            }
        } finally {
            removeHook(interrupted);
        }
        List<SoakRecorder.Violation> violations = recorder.violations();
        double seconds = recorder.now();
        out.printf(Locale.ROOT, "%n--- soak results (seed %d) ---%n", options.seed);
        out.printf(Locale.ROOT, "duration: %.1f s%n", seconds);
        long total = recorder.operationCount();
        out.printf(Locale.ROOT, "operations: %,d%n", total);
        recorder.operations()
                .forEach((kind, outcomes) -> out.printf(
                        Locale.ROOT,
                        "  %-22s %s%n",
                        kind,
                        outcomes.entrySet().stream()
                                .map(e -> String.format(Locale.ROOT, "%,d %s", e.getValue(), e.getKey()))
                                .collect(Collectors.joining(", "))));
        Map<String, Long> faults = recorder.faultsByKind();
        out.printf(
                Locale.ROOT,
                "faults: %d%s%n",
                faults.values().stream().mapToLong(Long::longValue).sum(),
                faults.isEmpty()
                        ? ""
                        : " ("
                                + faults.entrySet().stream()
                                        .map(e -> e.getValue() + " " + e.getKey())
                                        .collect(Collectors.joining(", "))
                                + ")");
        out.printf(Locale.ROOT, "unsynced reads: %s%n", describeStaleness(recorder));
        Map<String, Long> slowed = recorder.rolesOf(ChaosFault.SLOW_QUORUM_LINK.title());
        if (!slowed.isEmpty()) {
            out.printf(
                    Locale.ROOT,
                    "slowed quorum links: %s%n",
                    slowed.entrySet().stream()
                            .map(e -> e.getValue() + " while the member was "
                                    + switch (e.getKey()) {
                                        case "leader" -> "the leader (no effect)";
                                        case "follower" -> "a follower";
                                        default -> "of unknown role";
                                    })
                            .collect(Collectors.joining(", ")));
        }
        if (servers.capabilities().contains(SoakServers.Capability.RECONFIG)) {
            out.printf(Locale.ROOT, "reconfig: %s%n", describeReconfigs(recorder));
        }
        List<SoakRecorder.Audit> audits = recorder.audits();
        double slowest = audits.stream()
                .mapToDouble(SoakRecorder.Audit::convergedAfter)
                .filter(d -> !Double.isNaN(d))
                .max()
                .orElse(Double.NaN);
        out.printf(
                Locale.ROOT,
                "audits: %d; slowest convergence after a burst of faults: %s%n",
                audits.size(),
                Double.isNaN(slowest) ? "n/a" : String.format(Locale.ROOT, "%.1f s", slowest));
        Map<String, Long> byCheck = new TreeMap<>(violations.stream()
                .collect(Collectors.groupingBy(SoakRecorder.Violation::check, Collectors.counting())));
        out.printf(Locale.ROOT, "violations: %d%s%n", violations.size(), byCheck.isEmpty() ? "" : " " + byCheck);
        long unverified = soak.inconclusiveRegisterSegments();
        String result = !violations.isEmpty() ? "fail" : unverified > 0 ? "not verified" : "pass";
        Path report = writeReport(options, recorder, soak, result, out);
        out.printf(
                Locale.ROOT,
                "%n[soak] %s; report: %s%n",
                !violations.isEmpty()
                        ? violations.size() + " VIOLATION(S)"
                        : unverified > 0
                                ? "no violation found; " + unverified
                                        + " register segment(s) not verified (search limit): NOT A PASS"
                                : "no violation",
                report);
        return !violations.isEmpty() ? Main.FAILED : unverified > 0 ? Main.NOT_VERIFIED : Main.OK;
    }

    private static Path writeReport(Options options, SoakRecorder recorder, Soak soak, String result, PrintStream out)
            throws Exception {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("result", result);
        header.put("durationSeconds", recorder.now());
        header.putAll(soak.header());
        header.put("unsyncedReads", staleness(recorder));
        header.put("slowedQuorumLinksByRole", recorder.rolesOf(ChaosFault.SLOW_QUORUM_LINK.title()));
        Path file = options.results.resolve("soak-" + options.seed + ".json").toAbsolutePath();
        recorder.writeJson(file, header);
        Path chart = options.results.resolve("soak-" + options.seed + ".png").toAbsolutePath();
        if (SoakChart.render(recorder, String.format(Locale.ROOT, "soak, seed %d: %s", options.seed, result), chart)) {
            out.printf(Locale.ROOT, "[soak] chart: %s%n", chart);
        }
        return file;
    }

    /**
     * How many reads without sync were answered and how many of those were stale: older than the newest version a
     * write of any pool was told ok before the read began. {@code "not measured"} when no such read was answered.
     */
    static Object staleness(SoakRecorder recorder) {
        Map<String, Long> outcomes = recorder.operations().getOrDefault(SoakWorkload.UNSYNCED_READ, Map.of());
        long stale = outcomes.getOrDefault(SoakWorkload.STALE, 0L);
        long answered = outcomes.getOrDefault("ok", 0L) + stale;
        if (answered == 0) {
            return "not measured";
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("answered", answered);
        m.put("stale", stale);
        m.put("staleShare", (double) stale / answered);
        return m;
    }

    private static String describeStaleness(SoakRecorder recorder) {
        if (!(staleness(recorder) instanceof Map<?, ?> m)) {
            return "staleness not measured (no read without sync was answered)";
        }
        return String.format(
                Locale.ROOT,
                "%,d answered, %,d stale (%.2f%%: older than the newest write told ok before the read began)",
                (Long) m.get("answered"),
                (Long) m.get("stale"),
                100 * (Double) m.get("staleShare"));
    }

    /** How many members were removed and added back, by role, and how many of those reconfigurations completed. */
    private static String describeReconfigs(SoakRecorder recorder) {
        Map<String, Long> byRole = new LinkedHashMap<>();
        long completed = 0;
        long total = 0;
        for (ChaosFault kind : List.of(ChaosFault.RECONFIG_LEADER, ChaosFault.RECONFIG_FOLLOWER)) {
            recorder.rolesOf(kind.title()).forEach((role, n) -> byRole.merge(role, n, Long::sum));
            for (SoakRecorder.FaultRecord f : recorder.faults()) {
                if (f.kind.equals(kind.title())) {
                    total++;
                    completed += Double.isNaN(f.end) ? 0 : 1;
                }
            }
        }
        return String.format(
                Locale.ROOT,
                "%d member(s) removed and added back (%s), %d of them with both changes committed; slow-quorum-link not"
                        + " drawn (no proxied quorum link); the pools kept the client proxies (followEnsembleChanges"
                        + " off; following is covered by sdk-core's EnsembleChangeIT)",
                total,
                byRole.isEmpty()
                        ? "none"
                        : byRole.entrySet().stream()
                                .map(e -> e.getValue() + " " + e.getKey())
                                .collect(Collectors.joining(", ")),
                completed);
    }

    private static String describe(Duration d) {
        return d.toSeconds() % 60 == 0 ? d.toMinutes() + " min" : d.toSeconds() + " s";
    }

    /** The soak's command line, read by picocli; bad values fail with the option and the value named. */
    @Command(
            name = "soak",
            description = {
                "A chaos soak with a history checker: random, overlapping faults on a 3-member ensemble of separate"
                        + " server processes (or yours, with --connect: network faults and expiries only); every"
                        + " reported outcome is checked against the servers."
            },
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {
                "0:every check held, every register segment verified; also --help",
                "1:a check was violated (each violation printed with the faults before it)",
                "3:no violation found, but some register segments were not verified (search limit)",
                "64:usage error: bad option or value, or --results not writable; nothing started",
                "69:the ensemble could not be used; no verdict",
                "70:the soak failed unexpectedly",
                "130/143:interrupted by SIGINT/SIGTERM; the report so far is written, marked interrupted"
            })
    static final class Options {
        @Option(
                names = "--connect",
                paramLabel = "<connect string>",
                description = "soak your ensemble (host:port,...[/chroot]) instead of starting one")
        String connect;

        @Option(names = "--minutes", paramLabel = "N", description = "run for N minutes (1 to 10080; default 10)")
        Long minutes;

        @Option(names = "--seconds", paramLabel = "N", description = "run for N seconds instead (5 to 604800)")
        Long seconds;

        @Option(
                names = "--seed",
                paramLabel = "S",
                description = "seed of the faults and the clients' choices (default: the time); repeat it to replay")
        Long seedGiven;

        @Option(
                names = "--results",
                paramLabel = "<dir>",
                description = "where soak-<seed>.json and .png go (default soak-results); must be writable")
        Path results = DEFAULT_RESULTS;

        @Option(
                names = "--verbose",
                description =
                        "print every session event as it happens (they are always kept for the violations' context)")
        boolean verbose;

        @Option(
                names = "--reconfig",
                description = "remove and re-add members (dynamic reconfiguration) instead of slowing a quorum link;"
                        + " pools keep the soak's proxies (followEnsembleChanges off); not with --connect")
        boolean reconfig;

        @Option(
                names = {"-h", "--help"},
                usageHelp = true,
                description = "print these options and the exit codes, and exit")
        boolean helpRequested;

        Duration duration = Duration.ofMinutes(10);
        long seed;

        /**
         * @throws IllegalArgumentException naming the option and the value
         */
        static Options parse(String[] args) {
            Options o = new Options();
            try {
                new CommandLine(o).parseArgs(args);
            } catch (CommandLine.ParameterException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            if (o.minutes != null && o.seconds != null) {
                throw new IllegalArgumentException("give --minutes or --seconds, not both");
            }
            if (o.minutes != null) {
                o.duration = Duration.ofMinutes(bounded("--minutes", o.minutes, 1, 7 * 24 * 60));
            }
            if (o.seconds != null) {
                o.duration = Duration.ofSeconds(bounded("--seconds", o.seconds, 5, 7 * 24 * 3600));
            }
            if (o.connect != null && o.reconfig) {
                throw new IllegalArgumentException(
                        "--reconfig needs the soak's own ensemble; it cannot be combined with --connect " + o.connect);
            }
            if (o.connect != null) {
                try {
                    EnsembleConfig.of(o.connect);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--connect: " + e.getMessage(), e);
                }
            }
            o.seed = o.seedGiven != null ? o.seedGiven : System.currentTimeMillis();
            return o;
        }

        private static long bounded(String option, long n, long min, long max) {
            if (n < min || n > max) {
                throw new IllegalArgumentException(option + " must be between " + min + " and " + max + ", was " + n);
            }
            return n;
        }
    }
}
