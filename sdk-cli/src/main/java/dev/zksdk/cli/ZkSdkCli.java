package dev.zksdk.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code zk-sdk} command: {@code zk-sdk doctor --connect zk1:2181,...} and {@code zk-sdk help <command>};
 * {@code --help} and {@code --version} on every command.
 *
 * <p>Exit codes: a command's own (the doctor's 0 ok, 1 warnings, 2 critical); {@value #EX_USAGE} (EX_USAGE of
 * {@code sysexits.h}) for a usage error (an unknown option, a bad value, no command), with a message naming the
 * option and the value on stderr and nothing done; {@value #EX_SOFTWARE} (EX_SOFTWARE) when a command fails
 * unexpectedly. {@code --help} and {@code --version} exit 0.
 */
@Command(
        name = "zk-sdk",
        mixinStandardHelpOptions = true,
        versionProvider = ZkSdkCli.ManifestVersion.class,
        description = "Tools for ZooKeeper ensembles, from zk-sdk.",
        subcommands = {DoctorCommand.class, HelpCommand.class},
        exitCodeOnInvalidInput = ZkSdkCli.EX_USAGE,
        exitCodeOnExecutionException = ZkSdkCli.EX_SOFTWARE,
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:--help, --version; a command's own codes (see zk-sdk help <command>)",
            "64:usage error: no command, unknown option or bad value (EX_USAGE)",
            "70:the command failed unexpectedly (EX_SOFTWARE)"
        })
public final class ZkSdkCli implements Callable<Integer> {

    /** Usage error: {@code EX_USAGE} of {@code sysexits.h}, apart from every command's own codes. */
    public static final int EX_USAGE = 64;
    /** The command failed unexpectedly: {@code EX_SOFTWARE} of {@code sysexits.h}. */
    public static final int EX_SOFTWARE = 70;

    @Spec
    CommandSpec spec;

    /** Picocli creates the command; see {@link #commandLine()}. */
    public ZkSdkCli() {}

    /**
     * Runs the command line and exits the JVM with its code.
     *
     * @param args the command and its options, as typed: {@code doctor --connect zk1:2181}
     */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The command line, ready to {@link CommandLine#execute(String...) execute}: usage errors of every command exit
     * with {@link #EX_USAGE} (each command's {@code exitCodeOnInvalidInput}, also for values a command refuses when it
     * runs), unexpected failures with {@link #EX_SOFTWARE} (each command's {@code exitCodeOnExecutionException}) and
     * their stack trace on stderr.
     *
     * @return a new command line for {@code zk-sdk} and its subcommands
     */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new ZkSdkCli());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli;
    }

    /** No command given: the usage, on stderr, as a usage error; nothing is started. */
    @Override
    public Integer call() {
        CommandLine cli = spec.commandLine();
        cli.getErr().println("zk-sdk: a command is required");
        cli.usage(cli.getErr());
        cli.getErr().flush();
        return EX_USAGE;
    }

    /** {@code zk-sdk <version>}, the {@code Implementation-Version} of the jar this class was loaded from. */
    static final class ManifestVersion implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = ZkSdkCli.class.getPackage().getImplementationVersion();
            return new String[] {
                "zk-sdk "
                        + (version == null
                                ? "(version unknown: not run from its jar, no Implementation-Version)"
                                : version),
                "JVM: ${java.version} (${java.vendor} ${java.vm.name} ${java.vm.version})"
            };
        }
    }
}
