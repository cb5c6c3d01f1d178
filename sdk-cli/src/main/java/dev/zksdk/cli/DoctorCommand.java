package dev.zksdk.cli;

import dev.zksdk.diagnostics.AdminServerUse;
import dev.zksdk.diagnostics.DiagnosticsReport;
import dev.zksdk.diagnostics.DoctorOptions;
import dev.zksdk.diagnostics.EnsembleDoctor;
import dev.zksdk.security.TlsConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code zk-sdk doctor --connect <connect string> [options]}: probes every member of a ZooKeeper ensemble with
 * {@link EnsembleDoctor} and prints the report, readable or as one JSON object. Every {@link DoctorOptions} setting
 * has an option; the defaults shown by {@code --help} are {@link DoctorOptions#defaults()}'s.
 *
 * <p>Exit codes: {@link DiagnosticsReport#exitCode()} (0 nothing above INFO, 1 warnings, 2 critical);
 * {@value ZkSdkCli#EX_USAGE} for a usage error (a bad option or value, a malformed connect string, unusable TLS
 * stores), with a message naming the option and the value, before anything is sent.
 */
@Command(
        name = "doctor",
        mixinStandardHelpOptions = true,
        versionProvider = ZkSdkCli.ManifestVersion.class,
        defaultValueProvider = DoctorCommand.Defaults.class,
        sortOptions = false,
        description = {
            "Probes every member of a ZooKeeper ensemble (four-letter words, the AdminServer where they are not"
                    + " whitelisted) and names production problems. Writes nothing and opens no session.",
            "Durations: 500ms, 30s, 1m, 2h, 1d or ISO-8601 (PT2S)."
        },
        exitCodeOnInvalidInput = ZkSdkCli.EX_USAGE,
        exitCodeOnExecutionException = ZkSdkCli.EX_SOFTWARE,
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:nothing above INFO",
            "1:warnings",
            "2:critical findings (a member unreachable, no leader, ...)",
            "64:usage error: bad option or value, malformed connect string, unusable TLS stores (EX_USAGE)",
            "70:the doctor failed unexpectedly (EX_SOFTWARE)"
        })
final class DoctorCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(
            names = {"-c", "--connect"},
            required = true,
            paramLabel = "<host:port,...>",
            description = "The ensemble's connect string (a chroot is ignored).")
    String connect;

    @Option(names = "--json", description = "Print the report as one JSON object.")
    boolean json;

    @Option(
            names = "--timeout",
            paramLabel = "<duration>",
            converter = DurationConverter.class,
            description = "Time for each request to a member: the TCP connect, then the answer (1ms-5m)."
                    + " Default: ${DEFAULT-VALUE}.")
    Duration timeout;

    @Option(
            names = "--session-timeout",
            paramLabel = "<duration>",
            converter = DurationConverter.class,
            description = "The session timeout your clients request, to report it when the servers would clamp it."
                    + " Default: not judged.")
    Duration sessionTimeout;

    @Option(
            names = "--client-address",
            paramLabel = "<address>",
            description = "The address servers see your clients connect from (IP or host name, no port), whose"
                    + " connections count against maxClientCnxns. Default: this host's address on the route to the"
                    + " first server.")
    String clientAddress;

    @Option(
            names = "--connection-budget-ratio",
            paramLabel = "<ratio>",
            description = "Share of maxClientCnxns in use from one address that is reported, in (0, 1]."
                    + " Default: ${DEFAULT-VALUE}.")
    Double connectionBudgetRatio;

    @Option(
            names = "--admin-port",
            paramLabel = "<port>",
            description = "The members' AdminServer port (admin.serverPort). Default: ${DEFAULT-VALUE}.")
    Integer adminPort;

    @Option(
            names = "--admin-server",
            paramLabel = "<use>",
            description = "When the AdminServer is asked: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
    AdminServerUse adminServerUse;

    @Option(
            names = "--max-zxid-lag",
            paramLabel = "<transactions>",
            description = "Transactions a member may trail the leader by. Default: ${DEFAULT-VALUE}.")
    Long maxZxidLag;

    @Option(
            names = "--avg-latency-threshold",
            paramLabel = "<duration>",
            converter = DurationConverter.class,
            description = "Average request latency above which a member is reported. Default: ${DEFAULT-VALUE}.")
    Duration avgLatencyThreshold;

    @Option(
            names = "--max-latency-threshold",
            paramLabel = "<duration>",
            converter = DurationConverter.class,
            description = "Maximum request latency above which a member is reported. Default: ${DEFAULT-VALUE}.")
    Duration maxLatencyThreshold;

    @Option(
            names = "--outstanding-requests-threshold",
            paramLabel = "<requests>",
            description = "Queued requests above which a member is reported. Default: ${DEFAULT-VALUE}.")
    Long outstandingRequestsThreshold;

    @Option(
            names = "--data-size-threshold-bytes",
            paramLabel = "<bytes>",
            description = "Bytes in dataDir plus dataLogDir above which a member is reported."
                    + " Default: ${DEFAULT-VALUE}.")
    Long dataSizeThresholdBytes;

    @Option(
            names = "--tls",
            description = "Probe over TLS (a secureClientPort). Implied by the --tls-* store options; alone, the"
                    + " JVM's default CAs are trusted and no client certificate is sent.")
    boolean tls;

    @Option(
            names = "--tls-trust-store",
            paramLabel = "<file>",
            description = "The CAs that sign the servers' certificates (JKS, PKCS12, PEM or BCFKS).")
    Path trustStore;

    @Option(
            names = "--tls-trust-store-password",
            paramLabel = "<password>",
            arity = "0..1",
            interactive = true,
            description = "Its password; without a value, asked for on the terminal. Default: the environment"
                    + " variable ZKSDK_TLS_TRUST_STORE_PASSWORD.")
    char[] trustStorePassword;

    @Option(
            names = "--tls-trust-store-type",
            paramLabel = "<type>",
            description = "JKS, PKCS12, PEM or BCFKS. Default: from the file name's extension.")
    String trustStoreType;

    @Option(
            names = "--tls-key-store",
            paramLabel = "<file>",
            description = "This client's certificate and key, for servers that require one (ssl.clientAuth=need,"
                    + " ZooKeeper's default).")
    Path keyStore;

    @Option(
            names = "--tls-key-store-password",
            paramLabel = "<password>",
            arity = "0..1",
            interactive = true,
            description = "Its password; without a value, asked for on the terminal. Default: the environment"
                    + " variable ZKSDK_TLS_KEY_STORE_PASSWORD.")
    char[] keyStorePassword;

    @Option(
            names = "--tls-key-store-type",
            paramLabel = "<type>",
            description = "JKS, PKCS12, PEM or BCFKS. Default: from the file name's extension.")
    String keyStoreType;

    @Option(
            names = "--tls-protocols",
            paramLabel = "<protocol>",
            split = ",",
            description = "The TLS protocols to offer, comma-separated, as a pool's TlsConfig.enabledProtocols."
                    + " Default: TLSv1.3 and TLSv1.2, as the pool offers.")
    List<String> tlsProtocols;

    @Option(
            names = "--tls-cipher-suites",
            paramLabel = "<suite>",
            split = ",",
            description = "The cipher suites to offer, comma-separated, as a pool's TlsConfig.cipherSuites."
                    + " Default: the JVM's.")
    List<String> tlsCipherSuites;

    @Option(
            names = "--no-tls-hostname-verification",
            description = "Accept any server certificate the trust store vouches for, whoever it names.")
    boolean noHostnameVerification;

    @Override
    public Integer call() {
        DoctorOptions options = doctorOptions();
        DiagnosticsReport report;
        try {
            report = EnsembleDoctor.probe(connect, options);
        } catch (IllegalArgumentException e) {
            // The doctor checks the connect string before it sends anything.
            throw usageError("--connect", connect, e);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? report.toJson() + "\n" : report.toText());
        out.flush();
        return report.exitCode();
    }

    /**
     * The options given, on top of {@link DoctorOptions#defaults()}.
     *
     * @throws ParameterException naming the option and the value the core refused
     */
    DoctorOptions doctorOptions() {
        DoctorOptions.Builder b = DoctorOptions.builder();
        set("--timeout", timeout, b::timeout);
        set("--session-timeout", sessionTimeout, b::requestedSessionTimeout);
        set("--client-address", clientAddress, b::clientAddress);
        set("--connection-budget-ratio", connectionBudgetRatio, b::connectionBudgetRatio);
        set("--admin-port", adminPort, b::adminPort);
        set("--admin-server", adminServerUse, b::adminServerUse);
        set("--max-zxid-lag", maxZxidLag, b::maxZxidLag);
        set("--avg-latency-threshold", avgLatencyThreshold, b::avgLatencyThreshold);
        set("--max-latency-threshold", maxLatencyThreshold, b::maxLatencyThreshold);
        set("--outstanding-requests-threshold", outstandingRequestsThreshold, b::outstandingRequestsThreshold);
        set("--data-size-threshold-bytes", dataSizeThresholdBytes, b::dataSizeThresholdBytes);
        b.tls(tlsConfig());
        return b.build();
    }

    /** Whether the password option was not typed: its value, if any, came from the environment. */
    private boolean passwordFromEnvironment(String option) {
        return !spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    /** The TLS settings given, or null for plain text; the stores are opened here, before anything is sent. */
    private TlsConfig tlsConfig() {
        // A password from the environment (an exported ZKSDK_TLS_*_PASSWORD) is a default, not a request: it is
        // ignored when its store is not given, and only a password typed as an option needs its store.
        if (keyStore == null && passwordFromEnvironment("--tls-key-store-password")) {
            keyStorePassword = null;
        }
        if (trustStore == null && passwordFromEnvironment("--tls-trust-store-password")) {
            trustStorePassword = null;
        }
        if (keyStore == null && keyStorePassword != null && keyStorePassword.length > 0) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--tls-key-store-password (or ZKSDK_TLS_KEY_STORE_PASSWORD) needs --tls-key-store");
        }
        if (trustStore == null && trustStorePassword != null && trustStorePassword.length > 0) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--tls-trust-store-password (or ZKSDK_TLS_TRUST_STORE_PASSWORD) needs --tls-trust-store");
        }
        if (!tls && keyStore == null && trustStore == null) {
            if (keyStoreType != null
                    || trustStoreType != null
                    || noHostnameVerification
                    || tlsProtocols != null
                    || tlsCipherSuites != null) {
                throw new ParameterException(
                        spec.commandLine(),
                        "--tls-key-store-type, --tls-trust-store-type, --tls-protocols, --tls-cipher-suites and"
                                + " --no-tls-hostname-verification need TLS: add --tls or a store");
            }
            return null;
        }
        TlsConfig.Builder b = TlsConfig.builder().hostnameVerification(!noHostnameVerification);
        if (keyStore != null) {
            set("--tls-key-store", keyStore, path -> b.keyStore(path, keyStorePassword));
        }
        set("--tls-key-store-type", keyStoreType, b::keyStoreType);
        if (trustStore != null) {
            set("--tls-trust-store", trustStore, path -> b.trustStore(path, trustStorePassword));
        }
        set("--tls-trust-store-type", trustStoreType, b::trustStoreType);
        set("--tls-protocols", tlsProtocols, p -> b.enabledProtocols(p.toArray(new String[0])));
        set("--tls-cipher-suites", tlsCipherSuites, c -> b.cipherSuites(c.toArray(new String[0])));
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            // TlsConfig names the store (tls.keyStore or tls.trustStore) and what is wrong, never the password.
            String option = e.getMessage() != null && e.getMessage().startsWith("tls.keyStore")
                    ? "--tls-key-store"
                    : "--tls-trust-store";
            throw usageError(option, option.equals("--tls-key-store") ? keyStore : trustStore, e);
        }
    }

    private <T> void set(String option, T value, Consumer<T> setter) {
        if (value == null) {
            return;
        }
        if (value instanceof List<?> list && list.isEmpty()) {
            throw usageError(option, value, new IllegalArgumentException("give at least one name, comma-separated"));
        }
        try {
            setter.accept(value);
        } catch (IllegalArgumentException e) {
            throw usageError(option, value, e);
        }
    }

    private ParameterException usageError(String option, Object value, IllegalArgumentException e) {
        return new ParameterException(
                spec.commandLine(),
                "Invalid value for option '" + option + "': " + shown(value) + ": " + e.getMessage(),
                e,
                null,
                String.valueOf(value));
    }

    private static String shown(Object value) {
        return value instanceof Duration d ? "'" + DurationConverter.format(d) + "' (" + d + ")" : "'" + value + "'";
    }

    /**
     * The defaults shown by {@code --help}, from {@link DoctorOptions#defaults()}, and the store passwords from the
     * environment (never shown).
     */
    static final class Defaults implements IDefaultValueProvider {
        private static final DoctorOptions DEFAULTS = DoctorOptions.defaults();

        @Override
        public String defaultValue(ArgSpec argument) {
            if (!(argument instanceof OptionSpec option)) {
                return null;
            }
            return switch (option.longestName()) {
                case "--timeout" -> DurationConverter.format(DEFAULTS.timeout());
                case "--connection-budget-ratio" -> Double.toString(DEFAULTS.connectionBudgetRatio());
                case "--admin-port" -> Integer.toString(DEFAULTS.adminPort());
                case "--admin-server" -> DEFAULTS.adminServerUse().name();
                case "--max-zxid-lag" -> Long.toString(DEFAULTS.maxZxidLag());
                case "--avg-latency-threshold" -> DurationConverter.format(DEFAULTS.avgLatencyThreshold());
                case "--max-latency-threshold" -> DurationConverter.format(DEFAULTS.maxLatencyThreshold());
                case "--outstanding-requests-threshold" -> Long.toString(DEFAULTS.outstandingRequestsThreshold());
                case "--data-size-threshold-bytes" -> Long.toString(DEFAULTS.dataSizeThresholdBytes());
                case "--tls-trust-store-password" -> System.getenv("ZKSDK_TLS_TRUST_STORE_PASSWORD");
                case "--tls-key-store-password" -> System.getenv("ZKSDK_TLS_KEY_STORE_PASSWORD");
                default -> null;
            };
        }
    }
}
