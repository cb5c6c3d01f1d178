package dev.zksdk.benchmarks;

import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.SourceBoundClientCnxnSocket;
import org.apache.zookeeper.client.ZKClientConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A reconnect storm from a fleet: {@code hosts} simulated hosts, each a client JVM whose connections leave from a
 * loopback address of its own (127.0.0.2, 127.0.0.3, ...), so that the server's per-address {@code maxClientCnxns}
 * ({@value #MAX_CLIENT_CNXNS}) applies to each as to a machine of its own, against one server in a separate process
 * with ZooKeeper's default listen backlog, killed ({@code kill -9}) and started again on the same port.
 *
 * <p>Each host runs {@code workers} workers that each need ZooKeeper (see {@link FleetHost}): with {@code client=zookeeper}
 * or {@code curator} each worker opens a client of its own, as the incidents' applications did, and the server turns
 * away every one past {@value #MAX_CLIENT_CNXNS} from a host; with {@code client=sdk} the host's workers share one pool
 * of {@code sdkSessions} sessions (within the pool's default per-server connection budget, 50), each holding a lease.
 *
 * <p>Before each measured storm every host arms (the sessions it holds are this storm's), the server is killed and every
 * armed session is seen disconnected (untimed). The measured invocation launches the server's JVM again and waits until
 * every host holds as many sessions as before the kill; the primary score is that whole time, server start-up included.
 * {@link FleetCounters} tells what became of the sessions held before (back with their own session, expired, or
 * displaced by a worker the server had turned away) and what the server and the kernel turned away meanwhile.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
@Threads(1)
@Fork(1)
public class FleetStormBenchmark {

    static final int MAX_CLIENT_CNXNS = 60;
    static final int SESSION_TIMEOUT_MILLIS = 30_000;
    private static final Duration WAIT = Duration.ofSeconds(120);
    /**
     * How long a storm waits for every host to hold its sessions again. A server restarting can leave connections
     * accepted and never answered (ZOOKEEPER-5051) that still count against {@code maxClientCnxns}: a host over its
     * limit may then never get its seats back, and the storm is recorded as cut ({@link FleetCounters#hostsShort}).
     */
    static final Duration STORM_WAIT = Duration.ofSeconds(30);

    private static final List<String> HOST_JVM_OPTIONS = List.of("-Xmx256m", "-Xss512k", "-XX:+UseSerialGC");

    @Param({FleetHost.SDK, FleetHost.ZOOKEEPER, FleetHost.CURATOR})
    public String client;

    @Param({"4"})
    public int hosts;

    /** Workers per host; with 4 hosts, a fleet of 1,000. */
    @Param({"250"})
    public int workers;

    /** The sessions of each host's pool ({@code client=sdk}). */
    @Param({"50"})
    public int sdkSessions;

    /** Accepted because the profile runner passes it to every benchmark; this one always starts its own server. */
    @Param({BenchServer.PROCESS})
    public String server;

    private ProcessEnsemble ensemble;
    private ServerProcess serverProcess;
    private final List<Host> fleet = new ArrayList<>();
    /** The counters of the storm just timed, for {@link #afterStorm()}. */
    private FleetCounters lastCounters;

    /** One simulated host's JVM and the lines it answers. */
    private static final class Host {
        final String source;
        final Process process;
        final BufferedWriter in;
        final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
        final Path log;

        Host(String source, Process process, Path log) {
            this.source = source;
            this.process = process;
            this.log = log;
            this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
            Thread reader = new Thread(this::read, "fleet-host-" + source);
            reader.setDaemon(true);
            reader.start();
        }

        private void read() {
            try (BufferedReader out =
                    new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith(FleetHost.PREFIX)) {
                        answers.add(line.substring(FleetHost.PREFIX.length()));
                    }
                }
            } catch (IOException e) {
                answers.add("ERROR " + e);
            }
            answers.add("ERROR the host's JVM ended");
        }

        void send(String command) {
            try {
                in.write(command);
                in.newLine();
                in.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("could not send " + command + " to host " + source, e);
            }
        }

        /**
         * The host's {@code BACK}, or its {@code SHORT} when it was not back by {@code giveUpAt} ({@link System#nanoTime()}).
         */
        String awaitBack(long giveUpAt) throws InterruptedException {
            String line = answers.poll(Math.max(0, giveUpAt - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                send("GIVEUP");
                line = answers.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
            if (line == null || !(line.startsWith("BACK") || line.startsWith("SHORT"))) {
                throw new IllegalStateException("host " + source + " answered "
                        + (line == null ? "nothing" : "'" + line + "'") + " where BACK or SHORT was expected; its log: "
                        + log);
            }
            return line;
        }

        /** The next answer, which must start with {@code expected}. */
        String await(String expected) throws InterruptedException {
            String line = answers.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            if (line == null || !line.startsWith(expected)) {
                String status = "";
                if (line == null && process.isAlive()) {
                    send("STATUS");
                    String answer = answers.poll(10, TimeUnit.SECONDS);
                    status = answer == null ? " (no status)" : " (" + answer + ")";
                }
                throw new IllegalStateException("host " + source + " answered "
                        + (line == null ? "nothing within " + WAIT : "'" + line + "'") + " where " + expected
                        + " was expected" + status + "; its log: " + log);
            }
            return line;
        }
    }

    @Setup(Level.Trial)
    public void start() throws IOException, InterruptedException {
        if (!server.equals(BenchServer.PROCESS)) {
            System.err.println("FleetStormBenchmark starts its own server in a separate process (it kills and restarts"
                    + " it); server=" + server + " does not apply to it");
        }
        if (hosts < 1 || hosts > 200 || workers < 1 || sdkSessions < 1) {
            throw new IllegalArgumentException("hosts must be 1 to 200 and workers and sdkSessions at least 1, were "
                    + hosts + ", " + workers + ", " + sdkSessions);
        }
        BenchServer.absoluteClassPath();
        ProcessEnsemble.Builder builder = ProcessEnsemble.builder().size(1).maxClientCnxns(MAX_CLIENT_CNXNS);
        BenchServer.SERVER_JVM_OPTIONS.forEach(builder::jvmOption);
        ensemble = builder.start();
        serverProcess = ensemble.server(1);
        int expect = client.equals(FleetHost.SDK) ? sdkSessions : Math.min(workers, MAX_CLIENT_CNXNS);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int h = 0; h < hosts; h++) {
            String source = "127.0.0." + (2 + h);
            Path log = Files.createTempFile("zksdk-fleet-" + client + "-" + source + "-", ".log");
            List<String> command = new ArrayList<>();
            command.add(java);
            command.addAll(HOST_JVM_OPTIONS);
            command.add("-D" + ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET + "="
                    + SourceBoundClientCnxnSocket.class.getName());
            command.add("-D" + SourceBoundClientCnxnSocket.SOURCE_ADDRESS_PROPERTY + "=" + source);
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(FleetHost.class.getName());
            command.add(client);
            command.add(ensemble.connectString());
            command.add(Integer.toString(workers));
            command.add(Integer.toString(sdkSessions));
            command.add(Integer.toString(expect));
            command.add(Integer.toString(SESSION_TIMEOUT_MILLIS));
            Process process = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.to(log.toFile()))
                    .start();
            fleet.add(new Host(source, process, log));
        }
        for (Host host : fleet) {
            host.await("READY");
        }
    }

    @Setup(Level.Invocation)
    public void killServer() throws InterruptedException {
        for (Host host : fleet) {
            host.send("ARM");
        }
        for (Host host : fleet) {
            host.await("ARMED");
        }
        serverProcess.kill9();
        for (Host host : fleet) {
            host.await("DOWN");
        }
    }

    @Benchmark
    public long restartFleetToAllBack(FleetCounters counters) throws InterruptedException {
        OptionalLong overflowsBefore = ServerCounters.listenOverflows();
        OptionalLong dropsBefore = ServerCounters.listenDrops();
        long launched = System.nanoTime();
        serverProcess.restart();
        long allBack = launched;
        List<Long> times = new ArrayList<>();
        int same = 0;
        int expired = 0;
        int displaced = 0;
        int fresh = 0;
        long giveUpAt = launched + STORM_WAIT.toNanos();
        int cut = 0;
        for (Host host : fleet) {
            String[] back = host.awaitBack(giveUpAt).split(" ");
            cut += back[0].equals("SHORT") ? 1 : 0;
            allBack = Math.max(allBack, Long.parseLong(back[1]));
            same += Integer.parseInt(back[2]);
            expired += Integer.parseInt(back[3]);
            displaced += Integer.parseInt(back[4]);
            fresh += Integer.parseInt(back[5]);
            if (back.length > 6 && !back[6].isEmpty()) {
                for (String t : back[6].split(",")) {
                    times.add(Long.parseLong(t));
                }
            }
        }
        OptionalLong overflowsAfter = ServerCounters.listenOverflows();
        OptionalLong dropsAfter = ServerCounters.listenDrops();
        counters.hostsShort = cut;
        counters.record(
                launched,
                times.stream().mapToLong(Long::longValue).toArray(),
                same + expired + displaced,
                same,
                expired,
                displaced,
                fresh);
        // Read after the timed part (afterStorm): mntr costs a connection and, while a host is over its limit, retries.
        lastCounters = counters;
        boolean read = overflowsBefore.isPresent()
                && overflowsAfter.isPresent()
                && dropsBefore.isPresent()
                && dropsAfter.isPresent();
        counters.kernelCountersUnread = read ? 0 : 1;
        if (read) {
            counters.listenOverflows = overflowsAfter.getAsLong() - overflowsBefore.getAsLong();
            counters.listenDrops = dropsAfter.getAsLong() - dropsBefore.getAsLong();
        }
        return TimeUnit.NANOSECONDS.toMillis(allBack - launched);
    }

    /** The server's rejections since its restart, read once the storm is timed. */
    @TearDown(Level.Invocation)
    public void afterStorm() {
        FleetCounters counters = lastCounters;
        lastCounters = null;
        if (counters == null) {
            return;
        }
        try {
            counters.serverRejected = ServerCounters.connectionsRejected(List.of(serverProcess.address()));
        } catch (IllegalStateException | NumberFormatException e) {
            counters.rejectionsUnread = 1;
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
        try {
            for (Host host : fleet) {
                if (host.process.isAlive()) {
                    host.send("STOP");
                }
            }
            for (Host host : fleet) {
                if (!host.process.waitFor(30, TimeUnit.SECONDS)) {
                    host.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    System.err.println(
                            "host " + host.source + " did not stop within 30 s; killed; its log: " + host.log);
                } else {
                    Files.deleteIfExists(host.log);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            System.err.println("could not stop the fleet cleanly: " + e);
        } finally {
            fleet.clear();
            if (ensemble != null) {
                ensemble.close();
            }
        }
    }
}
