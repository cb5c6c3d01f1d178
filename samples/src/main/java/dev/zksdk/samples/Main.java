package dev.zksdk.samples;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * Entry point of the samples jar. Commands: {@code demo} (the default; see {@link Demo}), {@code soak} (see
 * {@link SoakCommand}) and {@code leader} (see {@link FencedLeader}). The process exits with the command's code: {@value #OK} when all is well (and for
 * {@code --help}), {@value #FAILED} for failed checks or violations, {@value #NOT_VERIFIED} when the soak found no
 * violation but could not verify everything, {@value #EX_USAGE} (EX_USAGE of {@code sysexits.h}, as the CLI's doctor)
 * for bad arguments, {@value #EX_UNAVAILABLE} (EX_UNAVAILABLE) for an ensemble the command could not use,
 * {@value #EX_SOFTWARE} (EX_SOFTWARE) when a command failed unexpectedly. The doctor is the CLI's
 * ({@code zk-sdk-cli.jar doctor}, module sdk-cli).
 */
public final class Main {

    /** Every check held (and every history was verified). */
    static final int OK = 0;
    /** A check failed: a violation, printed with the faults before it. */
    static final int FAILED = 1;
    /** No violation found, but part of the history could not be verified (the soak's search limit): not a pass. */
    static final int NOT_VERIFIED = 3;
    /** A usage error: a bad option or value, an unknown command, an unwritable results directory; nothing started. */
    static final int EX_USAGE = 64;
    /** The ensemble could not be used (unreachable, no session within the bound): no verdict. */
    static final int EX_UNAVAILABLE = 69;
    /** The command failed unexpectedly (its stack trace on stderr). */
    static final int EX_SOFTWARE = 70;

    static final String USAGE = String.join(
            "\n",
            "usage: java -jar zk-sdk-samples.jar <command> [options]",
            "commands:",
            "  demo    [--connect <connect string>] [--handlers N] [--seconds N] [--faults kill-leader,drop-connection,"
                    + "expire-session|none]",
            "          a resilient pool under injected faults; embedded 3-server ensemble unless --connect is given",
            "  soak    [--minutes N | --seconds N] [--seed S] [--connect <connect string> | --reconfig] [--results <dir>]"
                    + " [--verbose]",
            "          a chaos soak with a history checker: random, overlapping faults; the run as JSON in <dir>"
                    + " (default soak-results); --reconfig adds removing and re-adding members (dynamic"
                    + " reconfiguration) instead of the slowed quorum link; soak --help lists the options",
            "  leader  a fenced leader surviving a pause: the old leader's writes after the takeover are refused;"
                    + " embedded 3-server ensemble",
            "  help    this text",
            "exit codes: 0 every check held; 1 a check failed (a violation); 3 no violation found but not everything"
                    + " was verified (soak);",
            "            64 usage error; 69 the ensemble could not be used; 70 unexpected failure;"
                    + " 130/143 interrupted (SIGINT/SIGTERM)");

    private Main() {}

    /**
     * Runs the command and exits with its code.
     *
     * @param args the command and its options
     */
    public static void main(String[] args) {
        int code;
        try {
            code = run(args, System.out, System.err);
        } catch (Exception | Error e) {
            e.printStackTrace();
            code = EX_SOFTWARE;
        }
        System.exit(code);
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
                return EX_USAGE;
            case "soak":
                return SoakCommand.run(rest, out, err);
            case "leader":
                return FencedLeader.run(rest, out, err);
            case "help":
            case "--help":
            case "-h":
                out.println(USAGE);
                return 0;
            default:
                err.println("unknown command '" + command + "'");
                err.println(USAGE);
                return EX_USAGE;
        }
    }
}
