package dev.zksdk.samples;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * Entry point of the samples jar. Commands: {@code demo} (the default; see {@link Demo}) and {@code soak} (see
 * {@link SoakCommand}). The process exits with the command's code: 0 when all is well, 1 for failed checks or
 * violations, 2 for bad arguments or an ensemble the command could not use. The doctor is the CLI's
 * ({@code zk-sdk-cli.jar doctor}, module sdk-cli).
 */
public final class Main {

    static final String USAGE = String.join(
            "\n",
            "usage: java -jar zk-sdk-samples.jar <command> [options]",
            "commands:",
            "  demo    [--connect <connect string>] [--handlers N] [--seconds N] [--faults kill-leader,drop-connection,"
                    + "expire-session|none]",
            "          a resilient pool under injected faults; embedded 3-server ensemble unless --connect is given",
            "  soak    [--minutes N | --seconds N] [--seed S] [--connect <connect string> | --reconfig] [--results <dir>]"
                    + " [--verbose]",
            "          a chaos soak with a history checker: random, overlapping faults; exit 0 when no check was"
                    + " violated, 1 otherwise; the run as JSON in <dir> (default soak-results); --reconfig adds"
                    + " removing and re-adding members (dynamic reconfiguration) instead of the slowed quorum link",
            "  help    this text");

    private Main() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command and returns its exit code; {@code out} gets results, {@code err} gets usage errors. */
    static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        boolean implicitDemo = args.length == 0 || (args[0].startsWith("--") && !args[0].equals("--help"));
        String command = implicitDemo ? "demo" : args[0];
        String[] rest = implicitDemo ? args : Arrays.copyOfRange(args, 1, args.length);
        switch (command) {
            case "demo":
                return Demo.run(rest, out, err);
            case "doctor":
                err.println("the doctor is in the CLI now: java -jar sdk-cli/target/zk-sdk-cli.jar doctor --help");
                return 2;
            case "soak":
                return SoakCommand.run(rest, out, err);
            case "help":
            case "--help":
            case "-h":
                out.println(USAGE);
                return 0;
            default:
                err.println("unknown command '" + command + "'");
                err.println(USAGE);
                return 2;
        }
    }
}
