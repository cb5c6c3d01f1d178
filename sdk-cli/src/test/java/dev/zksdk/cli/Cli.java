package dev.zksdk.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.OptionSpec;

/** One in-process run of the command line, with what it wrote to stdout and stderr. */
record Cli(int exitCode, String out, String err) {

    static Cli run(String... args) {
        return run(ZkSdkCli.commandLine(), args);
    }

    /**
     * A run of the doctor as if the environment gave these defaults (option name to value), as exported
     * {@code ZKSDK_TLS_*_PASSWORD} variables do; the doctor's other defaults stay.
     */
    static Cli runDoctorWithDefaults(Map<String, String> defaults, String... args) {
        CommandLine cli = ZkSdkCli.commandLine();
        CommandLine doctor = cli.getSubcommands().get("doctor");
        IDefaultValueProvider own = doctor.getDefaultValueProvider();
        doctor.setDefaultValueProvider(
                arg -> arg instanceof OptionSpec option && defaults.containsKey(option.longestName())
                        ? defaults.get(option.longestName())
                        : own == null ? null : own.defaultValue(arg));
        return run(cli, args);
    }

    private static Cli run(CommandLine cli, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Cli(code, out.toString(), err.toString());
    }
}
