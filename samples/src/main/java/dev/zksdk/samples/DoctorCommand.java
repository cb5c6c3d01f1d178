package dev.zksdk.samples;

import dev.zksdk.diagnostics.DiagnosticsReport;
import dev.zksdk.diagnostics.DoctorOptions;
import dev.zksdk.diagnostics.EnsembleDoctor;
import java.io.PrintStream;
import java.time.Duration;

/**
 * {@code doctor --connect <connect string> [--json] [--timeout <duration>] [--session-timeout <duration>]}: probes every
 * member of a ZooKeeper ensemble with {@link EnsembleDoctor} and prints the report, readable or as one JSON object.
 *
 * <p>Exit code: 0 when nothing is above INFO, 1 for warnings, 2 when anything is critical
 * ({@link DiagnosticsReport#exitCode()}); also 2 for bad arguments, with a message naming the option and the value on
 * {@code err} and nothing probed. Durations are milliseconds, or a number with {@code ms} or {@code s}.
 */
final class DoctorCommand {

    private DoctorCommand() {}

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("doctor: " + e.getMessage());
            err.println(Main.USAGE);
            return 2;
        }
        DiagnosticsReport report;
        try {
            report = EnsembleDoctor.probe(options.connect, options.doctorOptions);
        } catch (IllegalArgumentException e) {
            // The doctor validates the connect string before it sends anything.
            err.println("doctor: --connect: " + e.getMessage());
            return 2;
        }
        out.print(options.json ? report.toJson() + "\n" : report.toText());
        return report.exitCode();
    }

    static final class Options {
        String connect;
        boolean json;
        DoctorOptions doctorOptions;

        static Options parse(String[] args) {
            Options o = new Options();
            DoctorOptions.Builder doctor = DoctorOptions.builder();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                if (arg.equals("--json")) {
                    o.json = true;
                    continue;
                }
                if (!arg.equals("--connect") && !arg.equals("--timeout") && !arg.equals("--session-timeout")) {
                    throw new IllegalArgumentException("unknown option '" + arg + "'");
                }
                if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                    throw new IllegalArgumentException("option " + arg + " needs a value");
                }
                String value = args[++i];
                switch (arg) {
                    case "--connect":
                        o.connect = value;
                        break;
                    case "--timeout":
                        doctor.timeout(duration(arg, value));
                        break;
                    default:
                        doctor.requestedSessionTimeout(duration(arg, value));
                }
            }
            if (o.connect == null) {
                throw new IllegalArgumentException("--connect <host:port,...> is required");
            }
            o.doctorOptions = doctor.build();
            return o;
        }
    }

    /** {@code 1500}, {@code 1500ms} or {@code 2s}; positive. */
    static Duration duration(String option, String value) {
        String v = value.trim();
        try {
            Duration d;
            if (v.endsWith("ms")) {
                d = Duration.ofMillis(
                        Long.parseLong(v.substring(0, v.length() - 2).trim()));
            } else if (v.endsWith("s")) {
                d = Duration.ofSeconds(
                        Long.parseLong(v.substring(0, v.length() - 1).trim()));
            } else {
                d = Duration.ofMillis(Long.parseLong(v));
            }
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(option + " must be positive, was '" + value + "'");
            }
            return d;
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(
                    option + " must be a duration such as 2000, 2000ms or 2s, was '" + value + "'", e);
        }
    }
}
