package dev.zksdk.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One ZooKeeper server of a {@link ProcessEnsemble}, running in its own JVM so that tests can kill it with
 * SIGKILL, freeze it with SIGSTOP, and restart it.
 *
 * <p>Configuration, data directory and ports stay the same across {@link #restart()}; so does the log file, to
 * which every start appends. Lifecycle methods are synchronized; queries ({@link #fourLetter(String)},
 * {@link #mode()}) can be called from any thread at any time.
 *
 * <p>Every process started here is destroyed by a JVM shutdown hook if the test run ends without closing its
 * ensemble, and halts itself if the test JVM dies without running hooks (see {@link ServerLauncher}).
 */
public final class ServerProcess {

    /** How long {@link #stop()} lets a server shut down after SIGTERM before killing it. */
    public static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(() -> RUNNING.forEach(Process::destroyForcibly), "zk-server-process-reaper"));
    }

    private final int id;
    /** Changes only while the process is down ({@link ProcessEnsemble#upgrade(int, String)}). */
    private volatile String version;

    private final int clientPort;
    private final int secureClientPort;
    private final int adminPort;
    private final Path directory;
    private final Path configFile;
    private final Path logFile;
    private volatile List<String> command;

    private volatile Process process;
    private volatile boolean suspended;

    ServerProcess(
            int id,
            String version,
            int clientPort,
            int secureClientPort,
            int adminPort,
            Path directory,
            Path configFile,
            Path logFile,
            List<String> command) {
        this.id = id;
        this.version = version;
        this.clientPort = clientPort;
        this.secureClientPort = secureClientPort;
        this.adminPort = adminPort;
        this.directory = directory;
        this.configFile = configFile;
        this.logFile = logFile;
        this.command = List.copyOf(command);
    }

    /**
     * The server's {@code myid}, 1-based.
     *
     * @return the id
     */
    public int id() {
        return id;
    }

    /**
     * The ZooKeeper release this server runs, {@code major.minor.patch}: the ensemble's
     * {@link ProcessEnsemble.Builder#serverVersion(String)}, or the test class path's own
     * ({@link ProcessEnsemble#ownServerVersion()}); after {@link ProcessEnsemble#upgrade(int, String)}, the release it
     * was started on there.
     *
     * @return the version
     */
    public String version() {
        return version;
    }

    /**
     * The plaintext client port on 127.0.0.1; it stays the same across restarts.
     *
     * @return the port
     */
    public int clientPort() {
        return clientPort;
    }

    /**
     * The TLS client port ({@code secureClientPort}), or -1 when the ensemble was built without
     * {@link ProcessEnsemble.Builder#secureClientPort(TestPki)}.
     *
     * @return the port, or -1
     */
    public int secureClientPort() {
        return secureClientPort;
    }

    /**
     * The admin server's HTTP port, or -1 when the ensemble was built without an admin server.
     *
     * @return the port, or -1
     */
    public int adminPort() {
        return adminPort;
    }

    /**
     * The client address, {@code 127.0.0.1:<clientPort>}.
     *
     * @return {@code host:port}
     */
    public String address() {
        return "127.0.0.1:" + clientPort;
    }

    /**
     * The TLS client address, {@code 127.0.0.1:<secureClientPort>}.
     *
     * @return {@code host:port}
     * @throws IllegalStateException if the ensemble was built without
     *     {@link ProcessEnsemble.Builder#secureClientPort(TestPki)}
     */
    public String secureAddress() {
        if (secureClientPort < 0) {
            throw new IllegalStateException("server " + id + " has no TLS client port: the ensemble was built without"
                    + " secureClientPort(TestPki)");
        }
        return "127.0.0.1:" + secureClientPort;
    }

    /**
     * The server's own directory: {@code zoo.cfg}, {@code data/}, {@code server.log}.
     *
     * @return the directory
     */
    public Path directory() {
        return directory;
    }

    /**
     * The server's {@code zoo.cfg}; a test may edit it before a {@linkplain #restart() restart}.
     *
     * @return the file
     */
    public Path configFile() {
        return configFile;
    }

    /**
     * Where the server's stdout and stderr go; kept across restarts.
     *
     * @return the file, {@code server.log} in {@link #directory()}
     */
    public Path logFile() {
        return logFile;
    }

    /**
     * The pid of the current (or, once it has exited, the last) server process.
     *
     * @return the process id
     * @throws IllegalStateException if the server was never started
     */
    public long pid() {
        return current().pid();
    }

    /**
     * Whether the process exists; a process stopped with SIGSTOP is alive.
     *
     * @return true while the process exists
     */
    public boolean isAlive() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /**
     * Whether the process is alive but stopped with {@link #sigstop()}.
     *
     * @return true between {@link #sigstop()} and {@link #sigcont()}
     */
    public boolean isSuspended() {
        return suspended && isAlive();
    }

    /**
     * Kills the server with SIGKILL and waits until the process has exited. Does nothing if it is not running.
     *
     * @throws IllegalStateException if the process does not exit
     */
    public synchronized void kill9() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroyForcibly();
        awaitExit(p, STOP_GRACE);
    }

    /**
     * Stops the server with SIGTERM (letting it shut down cleanly) and waits until it has exited, killing it if
     * it takes longer than {@link #STOP_GRACE}. A suspended server is continued so that it can act on SIGTERM.
     * Does nothing if it is not running.
     */
    public synchronized void stop() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroy();
        if (suspended) {
            signal("CONT");
        }
        try {
            if (!p.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                awaitExit(p, STOP_GRACE);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping server " + id, e);
        }
        exited(p);
    }

    /**
     * Freezes the process with SIGSTOP: its sockets stay open and the kernel still accepts connections, but
     * nothing answers. Like a long GC pause or a hung host.
     *
     * @throws IllegalStateException if the server is not running or the signal cannot be sent
     */
    public synchronized void sigstop() {
        requireAlive("sigstop");
        signal("STOP");
        // kill returns once the signal is sent; wait until the kernel shows the process stopped, so a probe sent
        // right after this returns cannot still be answered.
        awaitProcState(true);
        suspended = true;
    }

    /**
     * Resumes a process frozen with {@link #sigstop()}.
     *
     * @throws IllegalStateException if the server is not running or the signal cannot be sent
     */
    public synchronized void sigcont() {
        requireAlive("sigcont");
        signal("CONT");
        awaitProcState(false);
        suspended = false;
    }

    /**
     * Starts the server again with the same configuration, data directory and ports; stops it first (SIGTERM) if
     * it is still running. Returns once the process is launched, not once it serves: see
     * {@link #awaitServing(Duration)}.
     */
    public synchronized void restart() {
        stop();
        start();
    }

    /**
     * Sends a four-letter word with {@link FourLetterWords#DEFAULT_TIMEOUT}.
     *
     * @param command the four-letter word, such as {@code srvr}
     * @return the server's answer
     * @throws UncheckedIOException if the server does not answer in time
     */
    public String fourLetter(String command) {
        return FourLetterWords.send(address(), command);
    }

    /**
     * Sends a four-letter word.
     *
     * @param command the four-letter word, such as {@code srvr}
     * @param timeout how long to wait for the answer
     * @return the server's answer
     * @throws UncheckedIOException if the server does not answer in time
     */
    public String fourLetter(String command, Duration timeout) {
        return FourLetterWords.send(address(), command, timeout);
    }

    /**
     * The server's role as {@code srvr} reports it ({@code leader}, {@code follower}, {@code observer},
     * {@code standalone}); empty when the server does not answer or is not serving requests.
     *
     * @return the mode, or empty
     */
    public Optional<String> mode() {
        if (!isAlive()) {
            return Optional.empty();
        }
        try {
            return parseMode(fourLetter("srvr"));
        } catch (UncheckedIOException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether {@code srvr} answers with a mode, that is, the server serves client requests.
     *
     * @return true when the server serves client requests
     */
    public boolean isServing() {
        return mode().isPresent();
    }

    /**
     * Waits until {@code srvr} answers and does not say the server is not serving requests.
     *
     * @param timeout how long to wait, positive
     * @throws IllegalStateException on timeout, with the tail of the server's log
     */
    public void awaitServing(Duration timeout) {
        Polling.requirePositive("timeout", timeout);
        if (!Polling.until(timeout, this::isServing)) {
            throw new IllegalStateException("server " + id + " (" + address() + ", alive=" + isAlive()
                    + ") is not serving after " + timeout + "; last srvr: " + describeSrvr() + "\n"
                    + logTail(40));
        }
    }

    /**
     * The last {@code lines} lines of the server's log, labelled with the file name, for failure messages.
     *
     * @param lines how many lines to show
     * @return the file name and its last lines
     */
    public String logTail(int lines) {
        StringBuilder out = new StringBuilder("--- tail of ").append(logFile).append(" ---\n");
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.ISO_8859_1);
            all.subList(Math.max(0, all.size() - lines), all.size())
                    .forEach(l -> out.append(l).append('\n'));
        } catch (IOException e) {
            out.append("(unreadable: ").append(e).append(")\n");
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return "server " + id + " " + address()
                + (secureClientPort < 0 ? "" : " (TLS " + secureClientPort + ")")
                + (version.equals(ProcessEnsemble.ownServerVersion()) ? "" : " (" + version + ")")
                + (isAlive() ? (suspended ? " (stopped)" : "") : " (not running)");
    }

    /**
     * The command line the server is started with.
     *
     * @return the command, unmodifiable
     */
    List<String> command() {
        return command;
    }

    /** Runs another release from the next {@link #start()} on; the server must not be running. */
    synchronized void runAs(String newVersion, List<String> newCommand) {
        if (isAlive()) {
            throw new IllegalStateException(
                    "server " + id + " is running (pid " + process.pid() + "): stop it before it runs another version");
        }
        this.version = newVersion;
        this.command = List.copyOf(newCommand);
    }

    synchronized void start() {
        if (isAlive()) {
            throw new IllegalStateException("server " + id + " is already running (pid " + process.pid() + ")");
        }
        try {
            Files.writeString(
                    logFile,
                    "=== starting server " + id + " at " + Instant.now() + " ===\n",
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            Process started = new ProcessBuilder(command)
                    .directory(directory.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
            started.getOutputStream().close();
            RUNNING.add(started);
            started.onExit().thenRun(() -> RUNNING.remove(started));
            process = started;
            suspended = false;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start server " + id + " with " + command, e);
        }
    }

    /** Kills without waiting; used when closing a whole ensemble so that all members go down in parallel. */
    void destroyForcibly() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
        }
    }

    void awaitExitAfterDestroy() {
        Process p = process;
        if (p != null) {
            awaitExit(p, STOP_GRACE);
        }
    }

    String describeSrvr() {
        if (!isAlive()) {
            return "(process not running)";
        }
        try {
            return fourLetter("srvr").replace('\n', ' ').trim();
        } catch (UncheckedIOException e) {
            return "(" + e.getMessage() + ")";
        }
    }

    static Optional<String> parseMode(String srvr) {
        return srvr.lines()
                .filter(l -> l.startsWith("Mode: "))
                .map(l -> l.substring("Mode: ".length()).trim())
                .findFirst();
    }

    private Process current() {
        Process p = process;
        if (p == null) {
            throw new IllegalStateException("server " + id + " was never started");
        }
        return p;
    }

    private void requireAlive(String operation) {
        if (!isAlive()) {
            throw new IllegalStateException(operation + ": server " + id + " is not running");
        }
    }

    /** Waits until /proc says the process is (or is no longer) stopped; returns at once where /proc is absent. */
    private void awaitProcState(boolean stopped) {
        Path stat = Path.of("/proc", Long.toString(current().pid()), "stat");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            String text;
            try {
                text = Files.readString(stat);
            } catch (IOException e) {
                return;
            }
            // Field 3, after the parenthesised command name: T (stopped) or t (tracing stop).
            String state = text.substring(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3);
            if (state.equalsIgnoreCase("T") == stopped) {
                return;
            }
            LockSupport.parkNanos(1_000_000);
        }
        throw new IllegalStateException("process " + current().pid() + " did not " + (stopped ? "stop" : "resume")
                + " within 10 s of the signal");
    }

    private void signal(String signal) {
        long pid = current().pid();
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                    .redirectErrorStream(true)
                    .start();
            String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + pid + " failed: " + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not run kill -" + signal + " " + pid, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending SIG" + signal + " to " + pid, e);
        }
    }

    private void awaitExit(Process p, Duration timeout) {
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException(
                        "server " + id + " (pid " + p.pid() + ") did not exit within " + timeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for server " + id + " to exit", e);
        }
        exited(p);
    }

    private void exited(Process p) {
        RUNNING.remove(p);
        suspended = false;
    }
}
