package dev.zksdk.benchmarks;

import dev.zksdk.benchmarks.report.CommandLine;
import dev.zksdk.benchmarks.report.JsonFiles;
import dev.zksdk.benchmarks.report.ReportMain;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.Main;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs a benchmark profile and writes its results, or renders results already written, or hands over to JMH.
 *
 * <pre>
 * java -jar zk-sdk-benchmarks.jar short|full [--server process|embedded|external:host:port,...] [--results DIR]
 *                                           [--readme README.md]
 * java -jar zk-sdk-benchmarks.jar report [--name short] [--results DIR] [--readme README.md]
 * java -jar zk-sdk-benchmarks.jar jmh [JMH's own options, such as -t 4 -prof jfr OverheadBenchmark.sdkGetData]
 * </pre>
 *
 * A profile run writes {@code <name>.json} (JMH's JSON, every run of the profile in one file) and
 * {@code <name>-machine.json} (machine, versions, server settings, load average before and after) to the results
 * directory (default {@code sdk-benchmarks/results} from the repository root, else {@code results}), then the chart
 * and {@code results.md} ({@link ReportMain}).
 */
public final class BenchmarkMain {

    /** The benchmark JVMs' options: a fixed heap, so that heap growth does not show up as noise. */
    static final List<String> FORK_JVM_ARGS = List.of("-Xms1g", "-Xmx1g", "-Djava.net.preferIPv4Stack=true");

    private BenchmarkMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            usage(System.out);
            return;
        }
        switch (args[0]) {
            case "jmh" -> Main.main(Arrays.copyOfRange(args, 1, args.length));
            case "report" -> ReportMain.main(Arrays.copyOfRange(args, 1, args.length));
            default -> runProfile(args);
        }
    }

    private static void runProfile(String[] args) throws IOException, RunnerException {
        Profile profile;
        Map<String, String> options;
        try {
            profile = Profile.named(args[0]);
            options = CommandLine.options(
                    Arrays.copyOfRange(args, 1, args.length),
                    List.of("--server", "--results", "--readme", "--only", "--name", "--threads", "--rounds"));
            if (options.containsKey("--only")) {
                profile = profile.only(options.get("--only"), options.get("--name"));
            }
            if (options.containsKey("--threads")) {
                profile = profile.threads(CommandLine.positiveInt("--threads", options.get("--threads")));
            }
            if (options.containsKey("--rounds")) {
                profile = profile.rounds(CommandLine.positiveInt("--rounds", options.get("--rounds")));
            }
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            usage(System.err);
            System.exit(2);
            return;
        }
        String serverSpec = options.getOrDefault("--server", BenchServer.PROCESS);
        Path results = CommandLine.resultsDirectory(options.get("--results"));
        Files.createDirectories(results);

        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("profile", profile.name());
        machine.put("command", "java -jar sdk-benchmarks/target/zk-sdk-benchmarks.jar " + String.join(" ", args));
        machine.put("machine", MachineInfo.describe());
        // Started once here as well, to ask the server its version and to fail before an hour of runs on a bad spec.
        try (BenchServer probe = BenchServer.start(serverSpec)) {
            machine.put("server", MachineInfo.server(probe));
        }
        machine.put("benchmarkJvmOptions", String.join(" ", FORK_JVM_ARGS));
        List<String> plan = profile.steps().stream().map(Profile.Step::describe).toList();
        machine.put("steps", plan);
        Instant started = Instant.now();
        machine.put("started", started.toString());
        machine.put("loadAverageBefore", MachineInfo.loadAverage());

        List<RunResult> all = new ArrayList<>();
        int n = 0;
        for (Profile.Step step : profile.steps()) {
            System.out.println("### " + profile.name() + " step " + (++n) + "/"
                    + profile.steps().size() + ": " + step.describe());
            all.addAll(
                    step.paired()
                            ? runPaired(step, serverSpec)
                            : new Runner(options(step, serverSpec).build()).run());
        }

        Instant finished = Instant.now();
        machine.put("finished", finished.toString());
        machine.put("durationSeconds", Duration.between(started, finished).toSeconds());
        machine.put("loadAverageAfter", MachineInfo.loadAverage());

        Path json = results.resolve(profile.name() + ".json");
        try (PrintStream out = new PrintStream(Files.newOutputStream(json), true, StandardCharsets.UTF_8)) {
            ResultFormatFactory.getInstance(ResultFormatType.JSON, out).writeOut(all);
        }
        Files.writeString(results.resolve(profile.name() + "-machine.json"), JsonFiles.write(machine));
        System.out.println("### wrote " + json + " (" + all.size() + " results) in "
                + Duration.between(started, finished).toSeconds() + " s");

        List<String> report = new ArrayList<>(List.of("--name", profile.name(), "--results", results.toString()));
        if (options.containsKey("--readme")) {
            report.add("--readme");
            report.add(options.get("--readme"));
        }
        ReportMain.main(report.toArray(new String[0]));
    }

    /**
     * Runs a paired step: its rounds, each one fork of every benchmark of the rotation, the order rotated by one every
     * round. With a server process (the default) every fork of the step uses one server, started here and stopped after
     * the last round. The results come in the order they ran, so a report pairs a round's results by position.
     */
    static List<RunResult> runPaired(Profile.Step step, String serverSpec) throws RunnerException {
        BenchServer shared = serverSpec.equals(BenchServer.PROCESS) ? BenchServer.start(serverSpec) : null;
        String spec = shared == null ? serverSpec : BenchServer.EXTERNAL_PREFIX + shared.connectString();
        try {
            List<RunResult> results = new ArrayList<>();
            List<String> order = new ArrayList<>(step.rotation());
            for (int round = 1; round <= step.rounds(); round++) {
                for (String include : order) {
                    System.out.println("### round " + round + "/" + step.rounds() + ": " + include);
                    results.addAll(new Runner(options(step, include, spec).build()).run());
                }
                Collections.rotate(order, -1);
            }
            return results;
        } finally {
            if (shared != null) {
                shared.close();
            }
        }
    }

    static ChainedOptionsBuilder options(Profile.Step step, String serverSpec) {
        return options(step, step.include(), serverSpec);
    }

    private static ChainedOptionsBuilder options(Profile.Step step, String include, String serverSpec) {
        ChainedOptionsBuilder b = new OptionsBuilder()
                .include(include)
                .threads(step.threads())
                .mode(step.mode())
                .timeUnit(step.unit())
                .warmupIterations(step.warmupIterations())
                .measurementIterations(step.measurementIterations())
                .forks(step.forks())
                .param("server", serverSpec)
                .jvmArgsAppend(FORK_JVM_ARGS.toArray(new String[0]))
                .shouldFailOnError(true);
        step.params().forEach(b::param);
        if (step.mode() != Mode.SingleShotTime) {
            b.warmupTime(step.warmupTime()).measurementTime(step.measurementTime());
        }
        return b;
    }

    private static void usage(PrintStream out) {
        out.println(
                "usage: java -jar zk-sdk-benchmarks.jar short|full [--server process|embedded|external:host:port,...]"
                        + " [--results DIR] [--readme README.md] [--only REGEX [--name NAME]] [--threads N]"
                        + " [--rounds N]");
        out.println("       --only runs the profile's steps whose benchmark pattern contains a match of REGEX (for"
                + " example 'OverheadBenchmark'), with the profile's iterations; the results are named NAME (default"
                + " <profile>-only); --threads keeps only the steps at N threads; --rounds runs N paired rounds of each"
                + " paired step (overhead pairs) instead of the profile's");
        out.println(
                "       java -jar zk-sdk-benchmarks.jar report [--name short] [--results DIR] [--readme README.md]");
        out.println("       java -jar zk-sdk-benchmarks.jar jmh [JMH options]");
    }
}
