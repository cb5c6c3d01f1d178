package dev.zksdk.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.zookeeper.Version;

/**
 * A ZooKeeper ensemble of separate server processes on 127.0.0.1, for tests that need real process faults:
 * {@code kill -9}, SIGSTOP/SIGCONT, restarts, and members that disagree on the server list.
 *
 * <p>Each member is a child JVM running {@code org.apache.zookeeper.server.quorum.QuorumPeerMain} (through
 * {@link ServerLauncher}) with the test classpath, with its own directory (holding {@code zoo.cfg}, the data
 * directory with {@code myid}, and {@code server.log}), client port, quorum port and election port, all found
 * free by binding port 0. Member ids are {@code 1..size}. A one-member ensemble runs standalone.
 *
 * <p>{@link Builder#serverVersion(String)} runs the members on another ZooKeeper release instead: each JVM's
 * class path is then that release's server jars from {@code <serverJarsRoot>/<version>/} (see
 * {@link #serverJarsRoot()}; sdk-core's build copies 3.4.14, 3.5.10, 3.6.4, 3.7.2 and 3.8.4 there), or else from the
 * local Maven repository by their coordinates (see {@link Builder#serverVersion(String)}), plus
 * {@link ServerLauncher}, and {@code zoo.cfg} is written in the dialect that release understands (3.4: no dynamic
 * configuration, no admin server, no {@code reconfigEnabled}).
 *
 * <p>{@link Builder#start()} returns once every member serves and exactly one leads (unless
 * {@link Builder#awaitQuorumOnStart(boolean)} says otherwise); if that does not happen within the start timeout
 * the processes are killed and the failure carries the tail of each member's log.
 *
 * <p>{@link Builder#secureClientPort(TestPki)} gives every member a TLS client port beside its plaintext one
 * ({@link #secureConnectString()}), client certificates required; the members then run ZooKeeper's Netty connection
 * factory, and members of another version get the Netty jars from {@code <serverJarsRoot>/netty/} as well.
 *
 * <p>{@link Builder#proxiedQuorumLink(int)} puts one follower's link to the leader behind proxies the test controls
 * ({@link #quorumLink(int)}), to make that follower lag behind or drop out while it keeps serving its clients.
 *
 * <p>{@link #close()} kills every member and deletes the ensemble's directory (unless
 * {@link Builder#keepFilesOnClose(boolean)}). A JVM shutdown hook kills members of ensembles a crashed test did
 * not close. Methods are thread-safe; lifecycle calls on one member are serialized.
 *
 * <p>Needs the ZooKeeper server's runtime dependencies on the test classpath (curator-test brings them).
 */
public final class ProcessEnsemble implements AutoCloseable {

    /** Members when none is set. */
    public static final int DEFAULT_SIZE = 3;
    /** ZooKeeper's {@code tickTime} when none is set: short, so that elections and session expiry are quick. */
    public static final Duration DEFAULT_TICK_TIME = Duration.ofMillis(200);
    /** {@code initLimit}, in ticks, when none is set. */
    public static final int DEFAULT_INIT_LIMIT = 10;
    /** {@code syncLimit}, in ticks, when none is set. */
    public static final int DEFAULT_SYNC_LIMIT = 5;
    /** Twice the default tick time: ZooKeeper's own lower bound at that tick. */
    public static final Duration DEFAULT_MIN_SESSION_TIMEOUT = Duration.ofMillis(400);
    /** Wide, so that a test's requested session timeout is what it gets unless it sets the bound itself. */
    public static final Duration DEFAULT_MAX_SESSION_TIMEOUT = Duration.ofSeconds(60);

    /** {@code maxClientCnxns} (connections per client IP per server) when none is set: ZooKeeper's own default. */
    public static final int DEFAULT_MAX_CLIENT_CNXNS = 60;
    /** The {@code 4lw.commands.whitelist} when none is set: every command. */
    public static final String DEFAULT_FOUR_LETTER_WORDS = "*";
    /** How long {@link Builder#start()} waits for a quorum when none is set. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);

    /** How often {@link Builder#start()} tries a fresh ensemble when a member with another server list stays out. */
    static final int DRIFTED_START_ATTEMPTS = 3;

    /** Each such attempt's default bound. */
    static final Duration DRIFTED_START_TIMEOUT = Duration.ofSeconds(20);

    /** How long {@link #leader()} waits for an election. */
    public static final Duration DEFAULT_LEADER_TIMEOUT = Duration.ofSeconds(30);
    /**
     * Small heaps, serial GC and C1 only: five servers start in a few seconds on two cores. A member that misses an
     * election round retries within 2 s, not ZooKeeper's 60 s (its notification timeout doubles per round up to that):
     * on a loaded machine a restarted member otherwise sits out a minute before joining.
     */
    public static final List<String> DEFAULT_JVM_OPTIONS = List.of(
            "-Xmx96m",
            "-Xss512k",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-XX:-UsePerfData",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.net.preferIPv4Stack=true",
            "-Dzookeeper.fastleader.maxNotificationInterval=2000");

    /**
     * System property naming the directory that holds one {@code <version>/} directory of server jars per
     * {@link Builder#serverVersion(String) other ZooKeeper version}; see {@link #serverJarsRoot()}.
     */
    public static final String SERVER_JARS_PROPERTY = "zksdk.zkServersDirectory";

    /**
     * JVM options for members of another ZooKeeper version, before {@link Builder#jvmOption(String) the test's own}.
     * 3.4 registers log4j's MBeans at startup unless told not to, which would need log4j on the class path; later
     * versions check the same switch. The servers log through slf4j-simple (to stderr, so into {@code server.log}),
     * at INFO, except per-connection chatter as in the logback configuration of the project's own version.
     */
    static final List<String> OTHER_VERSION_JVM_OPTIONS = List.of(
            "-Dzookeeper.jmx.log4j.disable=true",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
            "-Dorg.slf4j.simpleLogger.showDateTime=true",
            "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
            "-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.NIOServerCnxn=warn",
            "-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.NettyServerCnxn=warn");

    /**
     * The first ZooKeeper release with TLS on the client port ({@code secureClientPort}, the Netty connection factory
     * and the {@code ssl.*} settings): 3.5.5, the first stable 3.5.
     */
    public static final String FIRST_TLS_VERSION = "3.5.5";

    /**
     * The directory under {@link #serverJarsRoot()} holding the Netty jars that members of another ZooKeeper version
     * add to their class path when they have a {@link Builder#secureClientPort(TestPki) TLS client port}: the Netty
     * the project's own ZooKeeper is built with, shared by every version (all are on Netty 4.1).
     */
    public static final String NETTY_JARS_DIRECTORY = "netty";

    private static final String NETTY_SERVER_CNXN_FACTORY = "org.apache.zookeeper.server.NettyServerCnxnFactory";
    private static final String X509_AUTH_PROVIDER = "org.apache.zookeeper.server.auth.X509AuthenticationProvider";

    private static final String LOOPBACK = "127.0.0.1";
    private static final String JETTY_SERVER_CLASS = "org.eclipse.jetty.server.Server";
    private static final String ZK_SERVERS = "zk-servers";

    private final Path directory;
    private final boolean keepFilesOnClose;
    private final boolean ruokEnabled;
    private final Map<Integer, ServerProcess> servers;
    private final QuorumLink quorumLink;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ProcessEnsemble(
            Path directory,
            boolean keepFilesOnClose,
            boolean ruokEnabled,
            Map<Integer, ServerProcess> servers,
            QuorumLink quorumLink) {
        this.directory = directory;
        this.keepFilesOnClose = keepFilesOnClose;
        this.ruokEnabled = ruokEnabled;
        this.servers = servers;
        this.quorumLink = quorumLink;
    }

    /**
     * Starts an ensemble's configuration: {@value #DEFAULT_SIZE} members of the test class path's ZooKeeper.
     *
     * @return a builder with every setting at its default
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The ZooKeeper version on the test class path, which members run unless told otherwise: {@code 3.9.4}.
     *
     * @return the version without qualifier, {@code major.minor.patch}
     */
    public static String ownServerVersion() {
        String version = Version.getVersion();
        int qualifier = version.indexOf('-');
        return qualifier < 0 ? version : version.substring(0, qualifier);
    }

    /**
     * Where the server jars of {@link Builder#serverVersion(String) other ZooKeeper versions} are looked up, one
     * {@code <version>/} directory each: the {@value #SERVER_JARS_PROPERTY} system property if set (sdk-core's build sets it to the
     * {@code target/zk-servers} it fills); otherwise {@code zk-servers} beside the directory or jar that holds these
     * classes if that exists; otherwise {@code target/zk-servers} in the working directory.
     *
     * @return the absolute directory (it may not exist)
     */
    public static Path serverJarsRoot() {
        String configured = System.getProperty(SERVER_JARS_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath();
        }
        Path besideTestClasses = launcherLocation().getParent().resolve(ZK_SERVERS);
        if (Files.isDirectory(besideTestClasses)) {
            return besideTestClasses;
        }
        return Path.of("target", ZK_SERVERS).toAbsolutePath();
    }

    /** The directory or jar {@link ServerLauncher} was loaded from: zk-sdk-test's classes or its jar. */
    private static Path launcherLocation() {
        var codeSource = ServerLauncher.class.getProtectionDomain().getCodeSource();
        if (codeSource == null || codeSource.getLocation() == null) {
            throw new IllegalStateException(
                    "cannot tell where " + ServerLauncher.class.getName() + " was loaded from (no code source)");
        }
        try {
            return Path.of(codeSource.getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new IllegalStateException(
                    "cannot tell where " + ServerLauncher.class.getName() + " was loaded from: "
                            + codeSource.getLocation(),
                    e);
        }
    }

    /**
     * Connect string of every member, in id order: {@code 127.0.0.1:p1,127.0.0.1:p2,...}.
     *
     * @return the plaintext connect string of all members
     */
    public String connectString() {
        return servers.values().stream().map(ServerProcess::address).collect(Collectors.joining(","));
    }

    /**
     * Connect string of the given members, in the given order.
     *
     * @param ids member ids, at least one
     * @return the plaintext connect string of those members
     * @throws IllegalArgumentException if no id is given or an id is not a member
     */
    public String connectString(int... ids) {
        if (ids == null || ids.length == 0) {
            throw new IllegalArgumentException("ids must name at least one member, was " + Arrays.toString(ids));
        }
        return Arrays.stream(ids)
                .mapToObj(this::server)
                .map(ServerProcess::address)
                .collect(Collectors.joining(","));
    }

    /**
     * Connect string of every member's TLS client port, in id order: {@code 127.0.0.1:s1,127.0.0.1:s2,...}. A pool
     * connects there with a {@code TlsConfig} holding the client key and trust stores of the {@link TestPki} the
     * ensemble was built with.
     *
     * @return the TLS connect string of all members
     * @throws IllegalStateException if the ensemble was built without {@link Builder#secureClientPort(TestPki)}
     */
    public String secureConnectString() {
        return servers.values().stream().map(ServerProcess::secureAddress).collect(Collectors.joining(","));
    }

    /**
     * The member with this {@code myid}.
     *
     * @param id the member's id, {@code 1..size()}
     * @return the member
     * @throws IllegalArgumentException if there is no such member
     */
    public ServerProcess server(int id) {
        ServerProcess server = servers.get(id);
        if (server == null) {
            throw new IllegalArgumentException("id must be a member id " + servers.keySet() + ", was " + id);
        }
        return server;
    }

    /**
     * The proxies between member {@code id} and the other members' quorum ports, as set up by
     * {@link Builder#proxiedQuorumLink(int)}.
     *
     * @param id the member built with {@link Builder#proxiedQuorumLink(int)}
     * @return the proxies of its quorum link
     * @throws IllegalArgumentException if the ensemble was not built with a proxied quorum link for {@code id}
     */
    public QuorumLink quorumLink(int id) {
        if (quorumLink == null || quorumLink.member() != id) {
            throw new IllegalArgumentException("id must be the member built with proxiedQuorumLink ("
                    + (quorumLink == null ? "none" : Integer.toString(quorumLink.member())) + "), was " + id);
        }
        return quorumLink;
    }

    /**
     * All members in id order.
     *
     * @return an unmodifiable list of the members, running or not
     */
    public List<ServerProcess> servers() {
        return List.copyOf(servers.values());
    }

    /**
     * The number of members, running or not.
     *
     * @return the ensemble's size
     */
    public int size() {
        return servers.size();
    }

    /**
     * The ensemble's directory, holding one {@code server-<id>} directory per member.
     *
     * @return the directory, deleted on {@link #close()} unless kept
     */
    public Path directory() {
        return directory;
    }

    /**
     * The current leader (the standalone server of a one-member ensemble), waiting up to
     * {@link #DEFAULT_LEADER_TIMEOUT} for an election to end.
     *
     * @return the member that leads
     * @throws IllegalStateException if no single leader emerges in time
     */
    public ServerProcess leader() {
        return leader(DEFAULT_LEADER_TIMEOUT);
    }

    /**
     * The current leader, asking each running, non-suspended member {@code srvr}, waiting up to {@code timeout}
     * until exactly one says {@code Mode: leader} (or {@code standalone}).
     *
     * @param timeout how long to wait for an election to end, positive
     * @return the member that leads
     * @throws IllegalStateException if no single leader emerges in time, with every member's state
     */
    public ServerProcess leader(Duration timeout) {
        Polling.requirePositive("timeout", timeout);
        ServerProcess[] found = new ServerProcess[1];
        boolean ok = Polling.until(timeout, () -> {
            List<ServerProcess> leaders =
                    responsive().stream().filter(s -> isLeading(s.mode())).toList();
            found[0] = leaders.size() == 1 ? leaders.get(0) : null;
            return found[0] != null;
        });
        if (!ok) {
            throw new IllegalStateException("no single leader after " + timeout + ": " + describe());
        }
        return found[0];
    }

    /**
     * Waits until every running, non-suspended member answers {@code ruok} with {@code imok} (when the whitelist
     * allows {@code ruok}) and reports a mode in {@code srvr}, and exactly one of them leads.
     *
     * @param timeout how long to wait, positive
     * @throws IllegalStateException on timeout, with every member's state and the tail of the log of each
     *     member that is not serving
     */
    public void awaitQuorum(Duration timeout) {
        Polling.requirePositive("timeout", timeout);
        if (!Polling.until(timeout, this::hasQuorum)) {
            StringBuilder message = new StringBuilder("no quorum after ")
                    .append(timeout)
                    .append(": ")
                    .append(describe());
            for (ServerProcess server : responsive()) {
                if (!server.isServing()) {
                    message.append('\n').append(server.logTail(40));
                }
            }
            throw new IllegalStateException(message.toString());
        }
    }

    /**
     * Undoes what a test did to the members: resumes every suspended one (SIGCONT), restarts every one that is not
     * running (all at once, each on a thread of its own), then waits for a quorum, as {@link #awaitQuorum}. For a
     * {@code @BeforeEach} of a class whose cases share one ensemble.
     *
     * @param timeout how long to wait for the quorum, positive
     * @throws IllegalStateException if a restart fails (the first failure, the others suppressed) or on timeout
     */
    public void restoreAll(Duration timeout) {
        Polling.requirePositive("timeout", timeout);
        List<Thread> restarts = new ArrayList<>();
        List<RuntimeException> failures = new CopyOnWriteArrayList<>();
        for (ServerProcess server : servers()) {
            if (server.isSuspended()) {
                server.sigcont();
            }
            if (!server.isAlive()) {
                Thread t = new Thread(
                        () -> {
                            try {
                                server.restart();
                            } catch (RuntimeException e) {
                                failures.add(e);
                            }
                        },
                        "restart-" + server.address());
                t.start();
                restarts.add(t);
            }
        }
        for (Thread t : restarts) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while members restarted", e);
            }
        }
        if (!failures.isEmpty()) {
            IllegalStateException error = new IllegalStateException("a member did not restart", failures.get(0));
            failures.subList(1, failures.size()).forEach(error::addSuppressed);
            throw error;
        }
        awaitQuorum(timeout);
    }

    /**
     * One step of a rolling upgrade: stops member {@code id} (SIGTERM, as {@link ServerProcess#stop()}) and starts it
     * again on ZooKeeper {@code version}'s jars, with the same {@code zoo.cfg}, data directory and ports, as an
     * operator who swaps a member's binaries does. The {@code zoo.cfg} stays in the dialect the member was started
     * with (a 3.4 one is read by 3.5 as it is: static server lines, reconfig off). Returns once the process is
     * launched, not once it serves: see {@link ServerProcess#awaitServing(Duration)} and {@link #awaitQuorum}.
     *
     * <p>Only between releases of {@link Builder#serverVersion(String) other versions} (found as that builder finds
     * them): the member must not run the test class path's own ZooKeeper, nor may {@code version} be that one.
     *
     * @param id the member, 1 to {@link #size()}
     * @param version the release to run, {@code major.minor.patch}, whose jars are under {@link #serverJarsRoot()}
     * @throws IllegalArgumentException if {@code id} is no member, {@code version} is not a release of another
     *     version, the member runs the project's own version, or it has a TLS port and {@code version} has no TLS
     * @throws IllegalStateException if the version's jars are missing
     */
    public void upgrade(int id, String version) {
        ServerProcess member = server(id);
        String own = ownServerVersion();
        if (member.version().equals(own)) {
            throw new IllegalArgumentException("upgrade(" + id + ", " + version + "): member " + id + " runs the test"
                    + " class path's own ZooKeeper " + own + "; only members of another serverVersion can change it");
        }
        Builder other = builder().serverVersion(version);
        if (other.serverVersion == null) {
            throw new IllegalArgumentException("upgrade(" + id + ", " + version + "): " + version
                    + " is the test class path's own ZooKeeper; only other versions can be swapped in");
        }
        boolean secure = member.secureClientPort() > 0;
        if (secure && !ConfigDialect.of(version).tls()) {
            throw new IllegalArgumentException("upgrade(" + id + ", " + version + "): member " + id + " has a"
                    + " secureClientPort, and " + version + " has no TLS (needs " + FIRST_TLS_VERSION + ")");
        }
        List<String> classPath = new ArrayList<>(other.checkOtherVersion());
        if (secure) {
            classPath.addAll(classPath.size() - 1, other.nettyJars());
        }
        List<String> command = new ArrayList<>(member.command());
        int cp = command.indexOf("-cp");
        command.set(cp + 1, String.join(File.pathSeparator, classPath));
        member.stop();
        member.runAs(version, command);
        member.start();
    }

    /** Kills every member (SIGKILL) and deletes the directory unless asked to keep it. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        servers.values().forEach(ServerProcess::destroyForcibly);
        servers.values().forEach(ServerProcess::awaitExitAfterDestroy);
        if (quorumLink != null) {
            quorumLink.close();
        }
        if (!keepFilesOnClose) {
            deleteRecursively(directory);
        }
    }

    @Override
    public String toString() {
        return "ProcessEnsemble" + servers.values();
    }

    /**
     * Makes sure the member with a proxied quorum link follows: if it leads, it is restarted once (the others
     * elect a leader among themselves meanwhile, and it rejoins them as a follower, through its proxies).
     */
    private void ensureProxiedMemberFollows(Duration timeout) {
        ServerProcess proxied = server(quorumLink.member());
        if (leader(timeout) != proxied) {
            return;
        }
        proxied.stop();
        awaitQuorum(timeout);
        proxied.start();
        awaitQuorum(timeout);
        if (leader(timeout) == proxied) {
            throw new IllegalStateException("server " + proxied.id() + " leads again after a restart: " + describe());
        }
    }

    private boolean hasQuorum() {
        List<ServerProcess> live = responsive();
        if (live.isEmpty()) {
            return false;
        }
        int leaders = 0;
        for (ServerProcess server : live) {
            Optional<String> mode = server.mode();
            if (mode.isEmpty() || (ruokEnabled && !answersImok(server))) {
                return false;
            }
            if (isLeading(mode)) {
                leaders++;
            }
        }
        return leaders == 1;
    }

    private static boolean answersImok(ServerProcess server) {
        try {
            return server.fourLetter("ruok").trim().equals("imok");
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    private static boolean isLeading(Optional<String> mode) {
        return mode.filter(m -> m.equals("leader") || m.equals("standalone")).isPresent();
    }

    private List<ServerProcess> responsive() {
        return servers.values().stream()
                .filter(s -> s.isAlive() && !s.isSuspended())
                .toList();
    }

    private String describe() {
        return servers.values().stream()
                .map(s -> s + " srvr=" + (s.isSuspended() ? "(suspended)" : s.describeSrvr()))
                .collect(Collectors.joining("; ", "[", "]"));
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete " + root, e);
        }
    }

    /**
     * Settings of a {@link ProcessEnsemble}. Every setter rejects a bad value at once with an
     * {@link IllegalArgumentException} naming the setting and the value; {@link #start()} checks combinations.
     */
    public static final class Builder {

        private int size = DEFAULT_SIZE;
        private Duration tickTime = DEFAULT_TICK_TIME;
        private int initLimit = DEFAULT_INIT_LIMIT;
        private int syncLimit = DEFAULT_SYNC_LIMIT;
        private Duration minSessionTimeout = DEFAULT_MIN_SESSION_TIMEOUT;
        private Duration maxSessionTimeout = DEFAULT_MAX_SESSION_TIMEOUT;
        private int maxClientCnxns = DEFAULT_MAX_CLIENT_CNXNS;
        private String fourLetterWords = DEFAULT_FOUR_LETTER_WORDS;
        private boolean adminServer;
        private boolean reconfigEnabled;
        private Integer clientPortListenBacklog;
        private final Map<String, String> extraConfig = new LinkedHashMap<>();
        private final Map<Integer, Map<String, String>> extraConfigById = new TreeMap<>();
        private final Map<Integer, List<Integer>> serverListOverrides = new TreeMap<>();
        private final List<String> jvmOptions = new ArrayList<>(DEFAULT_JVM_OPTIONS);
        private Duration startTimeout = DEFAULT_START_TIMEOUT;
        private boolean startTimeoutGiven;
        private boolean awaitQuorumOnStart = true;
        private Path baseDirectory;
        private boolean keepFilesOnClose;
        private long watchedParentPid = ProcessHandle.current().pid();
        private Integer proxiedQuorumLink;
        /** Members that observe (non-voting): {@code :observer} in every server line, {@code peerType=observer}. */
        private final Set<Integer> observers = new TreeSet<>();
        /** null: the test class path's own ZooKeeper. */
        private String serverVersion;
        /** null: no TLS client port. */
        private TestPki tls;

        private Builder() {}

        /**
         * Number of members, 1 to 9; default {@value #DEFAULT_SIZE}. One member runs standalone.
         *
         * @param size the number of members
         * @return this builder
         */
        public Builder size(int size) {
            if (size < 1 || size > 9) {
                throw new IllegalArgumentException("size must be between 1 and 9, was " + size);
            }
            this.size = size;
            return this;
        }

        /**
         * ZooKeeper's {@code tickTime}, whole milliseconds; default 200 ms.
         *
         * @param tickTime the tick, whole milliseconds
         * @return this builder
         */
        public Builder tickTime(Duration tickTime) {
            requireMillis("tickTime", tickTime);
            this.tickTime = tickTime;
            return this;
        }

        /**
         * {@code initLimit} in ticks; default {@value #DEFAULT_INIT_LIMIT}.
         *
         * @param ticks at least 1
         * @return this builder
         */
        public Builder initLimit(int ticks) {
            if (ticks < 1) {
                throw new IllegalArgumentException("initLimit must be at least 1 tick, was " + ticks);
            }
            this.initLimit = ticks;
            return this;
        }

        /**
         * {@code syncLimit} in ticks; default {@value #DEFAULT_SYNC_LIMIT}.
         *
         * @param ticks at least 1
         * @return this builder
         */
        public Builder syncLimit(int ticks) {
            if (ticks < 1) {
                throw new IllegalArgumentException("syncLimit must be at least 1 tick, was " + ticks);
            }
            this.syncLimit = ticks;
            return this;
        }

        /**
         * The server's lower clamp on a client's requested session timeout; default 400 ms.
         *
         * @param timeout whole milliseconds, at most the max session timeout
         * @return this builder
         */
        public Builder minSessionTimeout(Duration timeout) {
            requireMillis("minSessionTimeout", timeout);
            this.minSessionTimeout = timeout;
            return this;
        }

        /**
         * The server's upper clamp on a client's requested session timeout; default 60 s.
         *
         * @param timeout whole milliseconds, at least the min session timeout
         * @return this builder
         */
        public Builder maxSessionTimeout(Duration timeout) {
            requireMillis("maxSessionTimeout", timeout);
            this.maxSessionTimeout = timeout;
            return this;
        }

        /**
         * Connections per client IP per server; 0 means unlimited; default {@value #DEFAULT_MAX_CLIENT_CNXNS}.
         *
         * @param max connections, 0 or more
         * @return this builder
         */
        public Builder maxClientCnxns(int max) {
            if (max < 0) {
                throw new IllegalArgumentException("maxClientCnxns must be 0 (unlimited) or more, was " + max);
            }
            this.maxClientCnxns = max;
            return this;
        }

        /**
         * The {@code 4lw.commands.whitelist}; default {@code *} (all). ZooKeeper always allows {@code srvr}.
         * With a list that leaves out {@code ruok}, quorum checks rely on {@code srvr} alone.
         *
         * @param commands {@code *} or four-letter commands, at least one
         * @return this builder
         */
        public Builder fourLetterWordWhitelist(String... commands) {
            if (commands == null || commands.length == 0) {
                throw new IllegalArgumentException(
                        "fourLetterWordWhitelist must name at least one command, was " + Arrays.toString(commands));
            }
            for (String command : commands) {
                if (command == null || !(command.equals("*") || command.matches("[a-z]{4}"))) {
                    throw new IllegalArgumentException(
                            "fourLetterWordWhitelist entries must be '*' or four lower-case letters, was " + command);
                }
            }
            this.fourLetterWords = String.join(",", commands);
            return this;
        }

        /**
         * Whether each member runs ZooKeeper's HTTP admin server (on its own free port); default off. Needs Jetty
         * on the test classpath.
         *
         * @param enabled true to run the admin server
         * @return this builder
         * @throws IllegalStateException when enabling it and Jetty is not on the classpath
         */
        public Builder adminServer(boolean enabled) {
            if (enabled && !jettyPresent()) {
                throw new IllegalStateException("adminServer(true) needs Jetty (" + JETTY_SERVER_CLASS
                        + ", from org.eclipse.jetty:jetty-server and jetty-servlet) on the test classpath;"
                        + " it is not there");
            }
            this.adminServer = enabled;
            return this;
        }

        /**
         * ZooKeeper's {@code reconfigEnabled}; default off.
         *
         * @param enabled true to allow dynamic reconfiguration
         * @return this builder
         */
        public Builder reconfigEnabled(boolean enabled) {
            this.reconfigEnabled = enabled;
            return this;
        }

        /**
         * The client port's listen backlog ({@code clientPortListenBacklog}); default ZooKeeper's own.
         *
         * @param backlog at least 1
         * @return this builder
         */
        public Builder clientPortListenBacklog(int backlog) {
            if (backlog < 1) {
                throw new IllegalArgumentException("clientPortListenBacklog must be at least 1, was " + backlog);
            }
            this.clientPortListenBacklog = backlog;
            return this;
        }

        /**
         * An extra {@code key=value} line for every member's {@code zoo.cfg}; it wins over the builder's own
         * line with the same key.
         *
         * @param line a {@code key=value} line
         * @return this builder
         */
        public Builder extraConfig(String line) {
            Map.Entry<String, String> entry = parseLine("extraConfig", line);
            extraConfig.put(entry.getKey(), entry.getValue());
            return this;
        }

        /**
         * An extra {@code key=value} line for one member; it wins over every other line with the same key.
         *
         * @param id the member's id
         * @param line a {@code key=value} line
         * @return this builder
         */
        public Builder extraConfig(int id, String line) {
            Map.Entry<String, String> entry = parseLine("extraConfig", line);
            requireId("extraConfig id", id);
            extraConfigById.computeIfAbsent(id, k -> new LinkedHashMap<>()).put(entry.getKey(), entry.getValue());
            return this;
        }

        /**
         * Gives member {@code id} a different server list than the others (config drift). The list must contain
         * {@code id}; it may name ids beyond the ensemble's size, which become servers that never run (their ports
         * are reserved but nothing listens). Such a member joins only when the first election goes its way, so
         * {@link #start()} then tries up to three fresh ensembles, each within the start timeout (20 s unless set).
         *
         * @param id the member whose list differs
         * @param memberIds the ids its {@code zoo.cfg} names, {@code id} among them, each 1-255
         * @return this builder
         */
        public Builder serverListOverride(int id, List<Integer> memberIds) {
            requireId("serverListOverride id", id);
            if (memberIds == null || memberIds.isEmpty()) {
                throw new IllegalArgumentException("serverListOverride memberIds must not be empty, was " + memberIds);
            }
            Set<Integer> distinct = new TreeSet<>();
            for (Integer member : memberIds) {
                if (member == null || member < 1 || member > 255) {
                    throw new IllegalArgumentException(
                            "serverListOverride memberIds must be ids 1-255, was " + memberIds);
                }
                distinct.add(member);
            }
            if (!distinct.contains(id)) {
                throw new IllegalArgumentException(
                        "serverListOverride memberIds must contain the member itself (" + id + "), was " + memberIds);
            }
            serverListOverrides.put(id, List.copyOf(distinct));
            return this;
        }

        /**
         * Routes member {@code id}'s quorum link through proxies: its {@code zoo.cfg} names, for every other
         * member, a {@link ZkProxy} port in front of that member's quorum port, so whatever it exchanges with the
         * leader goes through proxies that {@link ProcessEnsemble#quorumLink(int)} hands out (leader election and
         * the other members' own config are untouched). {@link #start()} makes sure {@code id} follows (a leader
         * would not use the link): should it win the first election it is restarted once, after the others have
         * elected a leader. Only one member can have a proxied link; it needs at least two members and a start
         * that awaits the quorum.
         *
         * <p>A lagging or frozen follower stays in the quorum for {@code syncLimit * tickTime}; raise
         * {@link #syncLimit(int)} for round trips that long.
         *
         * @param id the member whose quorum link is proxied
         * @return this builder
         */
        public Builder proxiedQuorumLink(int id) {
            requireId("proxiedQuorumLink id", id);
            this.proxiedQuorumLink = id;
            return this;
        }

        /**
         * Makes members {@code ids} observers: non-voting members that learn every commit from the leader and serve
         * clients, but take no part in elections or quorums. Every member's {@code zoo.cfg} names them with the
         * {@code observer} role in their server line ({@code server.N=host:quorum:election:observer;client}, or
         * {@code host:quorum:election:observer} for 3.4), and each observer's own config says
         * {@code peerType=observer}, as ZooKeeper's {@code QuorumPeerConfig} needs. At least one member must stay a
         * participant; a majority of the participants makes the quorum. An observer can also be
         * {@link #proxiedQuorumLink(int)}: its link to the leader is then behind proxies, to make it lag.
         *
         * @param ids member ids, each 1-9, not all members
         * @return this builder
         */
        public Builder observers(int... ids) {
            if (ids == null || ids.length == 0) {
                throw new IllegalArgumentException("observers ids must not be empty, was " + Arrays.toString(ids));
            }
            observers.clear();
            for (int id : ids) {
                requireId("observers id", id);
                observers.add(id);
            }
            return this;
        }

        /**
         * The ZooKeeper release every member runs, such as {@code "3.4.14"}; null (the default), the test class
         * path's own version ({@link ProcessEnsemble#ownServerVersion()}) or its {@code major.minor} mean the
         * members run on the test class path, as without this setting. Any other version runs on the jars in
         * {@code <serverJarsRoot>/<version>/} ({@link ProcessEnsemble#serverJarsRoot()}) plus
         * {@link ServerLauncher}, with {@link ProcessEnsemble#OTHER_VERSION_JVM_OPTIONS} and a {@code zoo.cfg} in
         * that version's dialect: 3.4 gets {@code server.N=host:quorumPort:electionPort} lines and no
         * {@code reconfigEnabled} or {@code admin.*} keys. {@link #start()} rejects settings the version lacks
         * ({@link #adminServer(boolean)} for any other version, {@link #reconfigEnabled(boolean)} before 3.5,
         * {@link #clientPortListenBacklog(int)} before 3.6, {@link #secureClientPort(TestPki)} before
         * {@value ProcessEnsemble#FIRST_TLS_VERSION}).
         *
         * <p>When {@code <serverJarsRoot>/<version>/} does not hold the release's {@code zookeeper} jar (as in a
         * project using zk-sdk-test, where nothing copies jars there), the members run on the jars in the local
         * Maven repository ({@code maven.repo.local}, else {@code ~/.m2/repository}), found by their coordinates:
         * {@code org.apache.zookeeper:zookeeper:<version>}, from 3.5 {@code org.apache.zookeeper:zookeeper-jute},
         * slf4j-api with slf4j-simple, and from 3.6 metrics-core and snappy-java, in the versions that release
         * line's pom declares; a TLS port adds the Netty jars of the test class path. They cannot be dependencies
         * of the test (a build holds one {@code zookeeper} version): fetch them with {@code mvn dependency:get}, or
         * copy them with maven-dependency-plugin's {@code copy} goal into a directory named by
         * {@value ProcessEnsemble#SERVER_JARS_PROPERTY}, as the README's zk-sdk-test section shows. If any is missing, {@link #start()} fails at once, before starting
         * anything, with an {@link IllegalStateException} naming each missing artifact's coordinates and the
         * {@code mvn dependency:get} commands and {@code artifactItem}s that provide them.
         *
         * @param version a release such as {@code 3.4.14}, or null for the test class path's own
         * @return this builder
         * @throws IllegalArgumentException if the version is not {@code major.minor.patch} (or the own
         *     {@code major.minor}) or older than 3.4
         */
        public Builder serverVersion(String version) {
            if (version == null || isOwnVersion(version)) {
                this.serverVersion = null;
                return this;
            }
            if (!version.matches("[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}")) {
                throw new IllegalArgumentException(
                        "serverVersion must be a ZooKeeper release such as 3.4.14, was '" + version + "'");
            }
            if (ConfigDialect.compare(version, "3.4") < 0) {
                throw new IllegalArgumentException("serverVersion must be 3.4 or later, was " + version);
            }
            this.serverVersion = version;
            return this;
        }

        /**
         * Gives every member a TLS client port ({@code secureClientPort}, a free port on 127.0.0.1) beside its
         * plaintext one, serving {@code pki}'s server key store, requiring client certificates that {@code pki}'s
         * server trust store trusts ({@code ssl.clientAuth=need}) and mapping them to {@code x509} identities, as
         * {@link SecureServer} does. {@link ProcessEnsemble#secureConnectString()} and
         * {@link ServerProcess#secureAddress()} say where it is.
         *
         * <p>A TLS port needs ZooKeeper's Netty connection factory, so the members run it for both ports
         * ({@code serverCnxnFactory}); the settings are {@code zoo.cfg} lines, which every release since
         * {@value #FIRST_TLS_VERSION} turns into its {@code zookeeper.*} system properties (so the store passwords
         * stay off the members' command lines). Members of another {@link #serverVersion(String)} add the Netty jars
         * in {@code <serverJarsRoot>/}{@value #NETTY_JARS_DIRECTORY}{@code /} to their class path, only with this
         * setting. {@link #start()} refuses it for a server version before {@value #FIRST_TLS_VERSION}, which has
         * no TLS.
         *
         * @param pki the key and trust stores the members serve and trust
         * @return this builder
         * @throws IllegalArgumentException if {@code pki} is null
         */
        public Builder secureClientPort(TestPki pki) {
            if (pki == null) {
                throw new IllegalArgumentException(
                        "secureClientPort needs the TestPki whose server stores the members use, was null");
            }
            this.tls = pki;
            return this;
        }

        /**
         * An extra option for every member's JVM, after the defaults ({@link #DEFAULT_JVM_OPTIONS}).
         *
         * @param option a JVM option, starting with {@code -}
         * @return this builder
         */
        public Builder jvmOption(String option) {
            if (option == null || !option.startsWith("-")) {
                throw new IllegalArgumentException("jvmOption must start with '-', was " + option);
            }
            jvmOptions.add(option);
            return this;
        }

        /**
         * How long {@link #start()} waits for a quorum; default 60 s.
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder startTimeout(Duration timeout) {
            Polling.requirePositive("startTimeout", timeout);
            this.startTimeout = timeout;
            this.startTimeoutGiven = true;
            return this;
        }

        /**
         * Whether {@link #start()} waits for a quorum; default true. Turn it off for ensembles that are meant to
         * have none.
         *
         * @param await false to return as soon as the processes are launched
         * @return this builder
         */
        public Builder awaitQuorumOnStart(boolean await) {
            this.awaitQuorumOnStart = await;
            return this;
        }

        /**
         * Where the ensemble's directory is created; default the system temp directory.
         *
         * @param directory an existing directory
         * @return this builder
         */
        public Builder baseDirectory(Path directory) {
            if (directory == null || !Files.isDirectory(directory)) {
                throw new IllegalArgumentException("baseDirectory must be an existing directory, was " + directory);
            }
            this.baseDirectory = directory;
            return this;
        }

        /**
         * Whether {@link ProcessEnsemble#close()} keeps configs, data and logs for inspection; default false.
         *
         * @param keep true to keep the files
         * @return this builder
         */
        public Builder keepFilesOnClose(boolean keep) {
            this.keepFilesOnClose = keep;
            return this;
        }

        /** The process whose exit makes the servers halt; this JVM unless a test of that very behaviour says. */
        Builder watchedParentPid(long pid) {
            this.watchedParentPid = pid;
            return this;
        }

        /**
         * Writes every member's files and starts the processes.
         *
         * @return the running ensemble; close it to kill the members
         * @throws IllegalArgumentException if the settings contradict each other
         * @throws IllegalStateException if the ensemble does not reach a quorum within the start timeout (the
         *     processes are then killed)
         * @throws UncheckedIOException if files cannot be written or processes cannot be launched
         */
        public ProcessEnsemble start() {
            if (minSessionTimeout.compareTo(maxSessionTimeout) > 0) {
                throw new IllegalArgumentException("minSessionTimeout (" + minSessionTimeout
                        + ") must not exceed maxSessionTimeout (" + maxSessionTimeout + ")");
            }
            for (int id : extraConfigById.keySet()) {
                requireMember("extraConfig id", id);
            }
            for (int id : serverListOverrides.keySet()) {
                requireMember("serverListOverride id", id);
            }
            for (int id : observers) {
                requireMember("observers id", id);
            }
            if (!observers.isEmpty() && observers.size() >= size) {
                throw new IllegalArgumentException("observers must leave at least one participant, were " + observers
                        + " of " + size + " members");
            }
            List<String> serverClassPath = serverVersion == null ? null : checkOtherVersion();
            if (proxiedQuorumLink != null) {
                requireMember("proxiedQuorumLink id", proxiedQuorumLink);
                if (size < 2) {
                    throw new IllegalArgumentException(
                            "proxiedQuorumLink needs at least two members, size was " + size);
                }
                if (!awaitQuorumOnStart) {
                    throw new IllegalArgumentException(
                            "proxiedQuorumLink needs awaitQuorumOnStart(true): start()" + " must see who leads");
                }
            }
            // A member with another server list joins only if the first election goes its way; otherwise it stays
            // out for good ("Oracle indicates not to follow") and the ensemble never has every member serving. A
            // fresh ensemble (new ports, new files) is tried then, each attempt bounded by the start timeout (20 s by
            // default for such an ensemble: the others elect within seconds).
            boolean drifted = !serverListOverrides.isEmpty() && awaitQuorumOnStart;
            int attempts = drifted ? DRIFTED_START_ATTEMPTS : 1;
            Duration timeout = drifted && !startTimeoutGiven ? DRIFTED_START_TIMEOUT : startTimeout;
            for (int attempt = 1; ; attempt++) {
                try {
                    return startOnce(serverClassPath, timeout);
                } catch (IllegalStateException e) {
                    if (attempt >= attempts) {
                        throw e;
                    }
                    System.err.println("ProcessEnsemble: a member with another server list was left out of the first"
                            + " election (attempt " + attempt + " of " + attempts + "); starting a fresh ensemble");
                }
            }
        }

        private ProcessEnsemble startOnce(List<String> serverClassPath, Duration timeout) {
            ProcessEnsemble ensemble;
            try {
                ensemble = create(serverClassPath);
            } catch (IOException e) {
                throw new UncheckedIOException("could not prepare the ensemble's files", e);
            }
            try {
                ensemble.servers().forEach(ServerProcess::start);
                if (awaitQuorumOnStart) {
                    ensemble.awaitQuorum(timeout);
                }
                if (proxiedQuorumLink != null) {
                    ensemble.ensureProxiedMemberFollows(timeout);
                }
                return ensemble;
            } catch (RuntimeException e) {
                ensemble.close();
                throw e;
            }
        }

        /**
         * Checks the settings against what {@link #serverVersion} supports, then finds its jars.
         *
         * @return the members' class path: the version's jars, then where {@link ServerLauncher} lives
         */
        private List<String> checkOtherVersion() {
            ConfigDialect dialect = ConfigDialect.of(serverVersion);
            if (adminServer) {
                throw new IllegalArgumentException("adminServer(true) needs the project's own ZooKeeper version ("
                        + ownServerVersion() + "): the jars of serverVersion " + serverVersion
                        + " include no Jetty");
            }
            if (reconfigEnabled && !dialect.dynamicConfig()) {
                throw new IllegalArgumentException(
                        "reconfigEnabled(true) needs ZooKeeper 3.5 or later, serverVersion was " + serverVersion);
            }
            if (clientPortListenBacklog != null && !dialect.listenBacklog()) {
                throw new IllegalArgumentException("clientPortListenBacklog needs ZooKeeper 3.6 or later,"
                        + " serverVersion was " + serverVersion);
            }
            if (tls != null && !dialect.tls()) {
                throw new IllegalArgumentException("secureClientPort needs ZooKeeper " + FIRST_TLS_VERSION
                        + " or later (the first release with TLS to the client port), serverVersion was "
                        + serverVersion + ", which has no TLS");
            }
            Path jars = serverJarsRoot().resolve(serverVersion);
            String zookeeperJar = "zookeeper-" + serverVersion + ".jar";
            List<String> classPath = new ArrayList<>();
            if (!Files.isRegularFile(jars.resolve(zookeeperJar))) {
                // Not copied anywhere (a project of zk-sdk-test's users): the local Maven repository, by coordinates.
                classPath.addAll(ServerJars.find(serverVersion, jars));
                if (tls != null) {
                    classPath.addAll(nettyJars());
                }
                classPath.add(launcherLocation().toString());
                return classPath;
            }
            try (Stream<Path> files = Files.list(jars)) {
                files.filter(f -> f.getFileName().toString().endsWith(".jar"))
                        .map(f -> f.toAbsolutePath().toString())
                        .sorted()
                        .forEach(classPath::add);
            } catch (IOException e) {
                throw new UncheckedIOException("could not list the ZooKeeper " + serverVersion + " jars in " + jars, e);
            }
            if (tls != null) {
                classPath.addAll(nettyJars());
            }
            classPath.add(launcherLocation().toString());
            return classPath;
        }

        /** The jars of {@value ProcessEnsemble#NETTY_JARS_DIRECTORY}{@code /}, for a TLS port on another version. */
        private List<String> nettyJars() {
            Path dir = serverJarsRoot().resolve(NETTY_JARS_DIRECTORY);
            List<String> jars = new ArrayList<>();
            if (Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.list(dir)) {
                    files.filter(f -> f.getFileName().toString().endsWith(".jar"))
                            .map(f -> f.toAbsolutePath().toString())
                            .sorted()
                            .forEach(jars::add);
                } catch (IOException e) {
                    throw new UncheckedIOException("could not list the Netty jars in " + dir, e);
                }
            }
            if (jars.stream().noneMatch(Builder::isNettyHandler)) {
                // Not copied: the Netty of the test class path's own ZooKeeper, which is what would be copied.
                jars.clear();
                for (String entry : System.getProperty("java.class.path", "").split(java.io.File.pathSeparator)) {
                    String name = Path.of(entry).getFileName() == null
                            ? ""
                            : Path.of(entry).getFileName().toString();
                    if (name.startsWith("netty-") && name.endsWith(".jar")) {
                        jars.add(Path.of(entry).toAbsolutePath().toString());
                    }
                }
            }
            if (jars.stream().noneMatch(Builder::isNettyHandler)) {
                throw new IllegalStateException("secureClientPort with serverVersion " + serverVersion
                        + " needs the Netty jars in " + dir + " (no netty-handler jar there). sdk-core's build copies"
                        + " them (maven-dependency-plugin execution copy-zk-servers, phase generate-test-resources:"
                        + " run mvn generate-test-resources -pl sdk-core)");
            }
            return jars;
        }

        private static boolean isNettyHandler(String jar) {
            return Path.of(jar).getFileName().toString().startsWith("netty-handler-");
        }

        private static boolean isOwnVersion(String version) {
            String own = ownServerVersion();
            boolean majorMinor = version.indexOf('.') > 0 && version.indexOf('.') == version.lastIndexOf('.');
            return version.equals(own) || (majorMinor && own.startsWith(version + "."));
        }

        private ProcessEnsemble create(List<String> serverClassPath) throws IOException {
            Path root = baseDirectory == null
                    ? Files.createTempDirectory("zk-ensemble-")
                    : Files.createTempDirectory(baseDirectory, "zk-ensemble-");
            try {
                return create(root, serverClassPath);
            } catch (IOException | RuntimeException e) {
                deleteRecursively(root);
                throw e;
            }
        }

        private ProcessEnsemble create(Path root, List<String> serverClassPath) throws IOException {
            Set<Integer> allIds = new TreeSet<>();
            for (int id = 1; id <= size; id++) {
                allIds.add(id);
            }
            serverListOverrides.values().forEach(allIds::addAll);
            boolean standalone = size == 1 && serverListOverrides.isEmpty();
            List<Integer> members = IntStream.rangeClosed(1, size).boxed().toList();
            Map<Integer, Ports> ports;
            QuorumLink link = null;
            // Every socket stays bound until all ports are chosen and the proxies have bound theirs, so no two roles
            // get the same port.
            List<ServerSocket> held = new ArrayList<>();
            try {
                ports = allocatePorts(allIds, held);
                if (proxiedQuorumLink != null) {
                    Map<Integer, String> quorumAddresses = new TreeMap<>();
                    for (int member : members) {
                        if (member != proxiedQuorumLink) {
                            quorumAddresses.put(
                                    member, LOOPBACK + ":" + ports.get(member).quorum());
                        }
                    }
                    link = QuorumLink.open(proxiedQuorumLink, quorumAddresses);
                }
            } finally {
                for (ServerSocket socket : held) {
                    socket.close();
                }
            }
            try {
                return create(root, ports, members, standalone, link, serverClassPath);
            } catch (IOException | RuntimeException e) {
                if (link != null) {
                    link.close();
                }
                throw e;
            }
        }

        /** @param serverClassPath the members' class path for another version, or null for the test class path */
        private ProcessEnsemble create(
                Path root,
                Map<Integer, Ports> ports,
                List<Integer> members,
                boolean standalone,
                QuorumLink link,
                List<String> serverClassPath)
                throws IOException {
            ConfigDialect dialect = ConfigDialect.of(serverVersion);
            String version = serverVersion == null ? ownServerVersion() : serverVersion;
            Map<Integer, ServerProcess> servers = new LinkedHashMap<>();
            for (int id : members) {
                Path dir = Files.createDirectories(root.resolve("server-" + id));
                Path dataDir = Files.createDirectories(dir.resolve("data"));
                Files.writeString(dataDir.resolve("myid"), Integer.toString(id) + "\n", StandardCharsets.US_ASCII);

                Map<String, String> config = config(
                        id,
                        dataDir,
                        ports,
                        members,
                        standalone,
                        link != null && link.member() == id ? link : null,
                        dialect);
                Path configFile = dir.resolve("zoo.cfg");
                Files.writeString(
                        configFile,
                        config.entrySet().stream()
                                .map(e -> e.getKey() + "=" + e.getValue())
                                .collect(Collectors.joining("\n", "", "\n")),
                        StandardCharsets.UTF_8);

                List<String> command = new ArrayList<>();
                command.add(javaBinary());
                if (serverClassPath == null) {
                    Path logbackFile = dir.resolve("logback.xml");
                    Files.writeString(logbackFile, SERVER_LOGBACK, StandardCharsets.UTF_8);
                    command.addAll(jvmOptions);
                    command.add("-Dlogback.configurationFile=" + logbackFile);
                    command.add("-cp");
                    command.add(testClassPath());
                } else {
                    command.addAll(OTHER_VERSION_JVM_OPTIONS);
                    command.addAll(jvmOptions);
                    command.add("-cp");
                    command.add(String.join(File.pathSeparator, serverClassPath));
                }
                command.add(ServerLauncher.class.getName());
                command.add(Long.toString(watchedParentPid));
                command.add(configFile.toString());

                Ports p = ports.get(id);
                servers.put(
                        id,
                        new ServerProcess(
                                id,
                                version,
                                p.client(),
                                tls != null ? p.secureClient() : -1,
                                adminServer ? p.admin() : -1,
                                dir,
                                configFile,
                                dir.resolve("server.log"),
                                command));
            }
            return new ProcessEnsemble(root, keepFilesOnClose, ruokAllowed(), servers, link);
        }

        /**
         * @param link this member's proxied quorum link, or null: the other members' quorum ports are direct
         * @param dialect which keys and server-line syntax the members' ZooKeeper version understands
         */
        private Map<String, String> config(
                int id,
                Path dataDir,
                Map<Integer, Ports> ports,
                List<Integer> members,
                boolean standalone,
                QuorumLink link,
                ConfigDialect dialect) {
            Ports own = ports.get(id);
            Map<String, String> config = new LinkedHashMap<>();
            config.put("tickTime", Long.toString(tickTime.toMillis()));
            config.put("initLimit", Integer.toString(initLimit));
            config.put("syncLimit", Integer.toString(syncLimit));
            config.put("dataDir", dataDir.toAbsolutePath().toString());
            config.put("clientPortAddress", LOOPBACK);
            config.put("clientPort", Integer.toString(own.client()));
            config.put("minSessionTimeout", Long.toString(minSessionTimeout.toMillis()));
            config.put("maxSessionTimeout", Long.toString(maxSessionTimeout.toMillis()));
            config.put("maxClientCnxns", Integer.toString(maxClientCnxns));
            if (clientPortListenBacklog != null) {
                config.put("clientPortListenBacklog", Integer.toString(clientPortListenBacklog));
            }
            if (tls != null) {
                putTlsConfig(config, own.secureClient(), dialect);
            }
            // 3.4 knows the whitelist since 3.4.10.
            config.put("4lw.commands.whitelist", fourLetterWords);
            if (dialect.adminServer()) {
                config.put("admin.enableServer", Boolean.toString(adminServer));
            }
            if (adminServer) {
                config.put("admin.serverAddress", LOOPBACK);
                config.put("admin.serverPort", Integer.toString(own.admin()));
            }
            if (dialect.dynamicConfig()) {
                config.put("reconfigEnabled", Boolean.toString(reconfigEnabled));
            }
            // Throw-away data: fsync on every write only slows tests down on a shared disk.
            config.put("forceSync", "no");
            if (!standalone) {
                for (int member : serverListOverrides.getOrDefault(id, members)) {
                    Ports p = ports.get(member);
                    int quorumPort = link != null && link.proxies().containsKey(member)
                            ? link.proxyTo(member).port()
                            : p.quorum();
                    String role = observers.contains(member) ? "observer" : "participant";
                    // Before 3.5 a server line has no client address (each member's clientPort says it), and names a
                    // role only for an observer.
                    config.put(
                            "server." + member,
                            dialect.dynamicConfig()
                                    ? LOOPBACK + ":" + quorumPort + ":" + p.election() + ":" + role + ";" + LOOPBACK
                                            + ":" + p.client()
                                    : LOOPBACK + ":" + quorumPort + ":" + p.election()
                                            + (observers.contains(member) ? ":observer" : ""));
                }
                if (observers.contains(id)) {
                    config.put("peerType", "observer");
                }
            }
            config.putAll(extraConfig);
            config.putAll(extraConfigById.getOrDefault(id, Map.of()));
            return config;
        }

        /**
         * The TLS client port and its settings, as {@link SecureServer} sets them. Keys ZooKeeper's config parser does
         * not know itself become {@code zookeeper.<key>} system properties in the server (every release since
         * {@value ProcessEnsemble#FIRST_TLS_VERSION}), which is where the connection factory, the TLS settings and
         * the auth providers are read from.
         */
        private void putTlsConfig(Map<String, String> config, int securePort, ConfigDialect dialect) {
            config.put("secureClientPortAddress", LOOPBACK);
            config.put("secureClientPort", Integer.toString(securePort));
            config.put("serverCnxnFactory", NETTY_SERVER_CNXN_FACTORY);
            // 3.5.5 knows JKS and PEM stores only; the JDK's JKS key store reads PKCS12 files as well.
            String storeType = dialect.pkcs12() ? "PKCS12" : "JKS";
            config.put(
                    "ssl.keyStore.location",
                    tls.serverKeyStore().toAbsolutePath().toString());
            config.put("ssl.keyStore.password", tls.serverKeyStorePassword());
            config.put("ssl.keyStore.type", storeType);
            config.put(
                    "ssl.trustStore.location",
                    tls.serverTrustStore().toAbsolutePath().toString());
            config.put("ssl.trustStore.password", tls.serverTrustStorePassword());
            config.put("ssl.trustStore.type", storeType);
            config.put("ssl.clientAuth", "need");
            // The Netty factory closes a TLS connection whose certificate no x509 provider can turn into an identity.
            config.put("authProvider.x509", X509_AUTH_PROVIDER);
        }

        /** Chooses every port, leaving each one bound in {@code held} for the caller to release. */
        private Map<Integer, Ports> allocatePorts(Set<Integer> ids, List<ServerSocket> held) throws IOException {
            Map<Integer, Ports> ports = new TreeMap<>();
            for (int id : ids) {
                ports.put(
                        id,
                        new Ports(
                                freePort(held),
                                tls != null && id <= size ? freePort(held) : -1,
                                freePort(held),
                                freePort(held),
                                adminServer && id <= size ? freePort(held) : -1));
            }
            return ports;
        }

        private static int freePort(List<ServerSocket> held) throws IOException {
            ServerSocket socket = FreePorts.bind(InetAddress.getByName(LOOPBACK));
            held.add(socket);
            return socket.getLocalPort();
        }

        private boolean ruokAllowed() {
            return Arrays.stream(fourLetterWords.split(",")).anyMatch(c -> c.equals("*") || c.equals("ruok"));
        }

        private void requireId(String setting, int id) {
            if (id < 1 || id > 9) {
                throw new IllegalArgumentException(setting + " must be a member id 1-9, was " + id);
            }
        }

        private void requireMember(String setting, int id) {
            if (id > size) {
                throw new IllegalArgumentException(setting + " must be a member id 1-" + size + ", was " + id);
            }
        }

        private static void requireMillis(String setting, Duration value) {
            Polling.requirePositive(setting, value);
            if (value.toMillis() == 0 || !value.equals(Duration.ofMillis(value.toMillis()))) {
                throw new IllegalArgumentException(setting + " must be whole milliseconds, was " + value);
            }
        }

        private static Map.Entry<String, String> parseLine(String setting, String line) {
            int eq = line == null ? -1 : line.indexOf('=');
            if (eq <= 0 || line.substring(0, eq).isBlank()) {
                throw new IllegalArgumentException(setting + " must be a key=value line, was " + line);
            }
            return Map.entry(
                    line.substring(0, eq).trim(), line.substring(eq + 1).trim());
        }

        private static boolean jettyPresent() {
            try {
                Class.forName(JETTY_SERVER_CLASS, false, ProcessEnsemble.class.getClassLoader());
                return true;
            } catch (ClassNotFoundException e) {
                return false;
            }
        }

        private static String javaBinary() {
            return Path.of(System.getProperty("java.home"), "bin", "java").toString();
        }

        /**
         * The test JVM's class path and module path, flattened: a test run on the module path (a module with a
         * {@code module-info}) still gives the servers every jar they need.
         */
        private static String testClassPath() {
            Set<String> entries = new LinkedHashSet<>();
            for (String property : List.of("java.class.path", "jdk.module.path")) {
                String value = System.getProperty(property);
                if (value != null && !value.isBlank()) {
                    // Absolute: the servers run in their own directories, where a relative entry points nowhere.
                    Arrays.stream(value.split(File.pathSeparator))
                            .filter(s -> !s.isBlank())
                            .map(s -> new File(s).getAbsolutePath())
                            .forEach(entries::add);
                }
            }
            return String.join(File.pathSeparator, entries);
        }
    }

    private record Ports(int client, int secureClient, int quorum, int election, int admin) {}

    /**
     * What a ZooKeeper version's {@code zoo.cfg} can say.
     *
     * @param dynamicConfig {@code server.N=host:quorum:election:role;clientHost:clientPort} lines and
     *     {@code reconfigEnabled} (3.5+)
     * @param adminServer the {@code admin.*} keys (3.5+)
     * @param listenBacklog {@code clientPortListenBacklog} (3.6+)
     * @param tls {@code secureClientPort} with the Netty factory and the {@code ssl.*} settings (3.5.5+)
     * @param pkcs12 {@code ssl.*.type=PKCS12} (3.5.6+)
     */
    private record ConfigDialect(
            boolean dynamicConfig, boolean adminServer, boolean listenBacklog, boolean tls, boolean pkcs12) {

        /** @param version a {@code major.minor.patch} version, or null for the test class path's own */
        static ConfigDialect of(String version) {
            if (version == null) {
                return new ConfigDialect(true, true, true, true, true);
            }
            return new ConfigDialect(
                    compare(version, "3.5") >= 0,
                    compare(version, "3.5") >= 0,
                    compare(version, "3.6") >= 0,
                    compare(version, FIRST_TLS_VERSION) >= 0,
                    compare(version, "3.5.6") >= 0);
        }

        /** Compares dotted versions number by number, the shorter one padded with zeros: 3.4.14 &lt; 3.5. */
        static int compare(String a, String b) {
            String[] x = a.split("\\.");
            String[] y = b.split("\\.");
            for (int i = 0; i < Math.max(x.length, y.length); i++) {
                int c = Integer.compare(
                        i < x.length ? Integer.parseInt(x[i]) : 0, i < y.length ? Integer.parseInt(y[i]) : 0);
                if (c != 0) {
                    return c;
                }
            }
            return 0;
        }
    }

    /** Server logs at INFO, except per-connection chatter that the fixtures' own polling would flood. */
    private static final String SERVER_LOGBACK = """
            <configuration>
              <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                <encoder>
                  <pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n</pattern>
                </encoder>
              </appender>
              <logger name="org.apache.zookeeper.server.NIOServerCnxn" level="WARN"/>
              <logger name="org.apache.zookeeper.server.NettyServerCnxn" level="WARN"/>
              <root level="INFO">
                <appender-ref ref="OUT"/>
              </root>
            </configuration>
            """;
}
