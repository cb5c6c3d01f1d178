package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.internal.session.HungServerCheck;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.zksdk.security.TlsConfig;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerProcess;
import dev.zksdk.testing.TestPki;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.apache.zookeeper.CreateMode;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Review 15b of issue 15 (hung-server check with the out-of-band srvr probe) with the DEFAULT pool settings (30 s
 * session timeout, 15 s operation timeout, bound 5 s) on five separate-process servers (syncLimit 12 s so an 8 s
 * leader pause keeps the quorum; maxClientCnxns 12). Figures are printed on lines starting {@code R15b}.
 */
class Review15bAdversarialIT {

    static final Duration BOUND = HungServerCheck.bound(
            EnsembleConfig.DEFAULT_SESSION_TIMEOUT,
            OperationPolicy.DEFAULT_OPERATION_TIMEOUT,
            EnsembleConfig.DEFAULT_CONNECTION_TIMEOUT);
    static final int MAX_CNXNS = 12;
    /** Honest margin for a loaded 2-core box (sampler period, reconnect jitter, handshake). */
    static final long MARGIN_MS = 3_000;
    /** One connect attempt to a member still frozen, bounded by the learnt handshake time (a loaded machine). */
    static final long ONE_MORE_ATTEMPT_MS = 2_000;

    static ProcessEnsemble ensemble;
    static final AtomicLong RUN = new AtomicLong();
    static final ProbeLog PROBE_LOG = new ProbeLog();

    @BeforeAll
    static void start() {
        ensemble = ProcessEnsemble.builder()
                .size(5)
                .syncLimit(60)
                .maxClientCnxns(MAX_CNXNS)
                .start();
        Logger logger = (Logger) LoggerFactory.getLogger(HungServerCheck.class);
        logger.setLevel(Level.DEBUG);
        PROBE_LOG.setContext(logger.getLoggerContext());
        PROBE_LOG.start();
        logger.addAppender(PROBE_LOG);
    }

    @AfterAll
    static void stop() {
        Logger logger = (Logger) LoggerFactory.getLogger(HungServerCheck.class);
        logger.detachAppender(PROBE_LOG);
        logger.setLevel(null);
        if (ensemble != null) {
            ensemble.close();
        }
    }

    @BeforeEach
    @AfterEach
    void allAnswering() {
        ensemble.restoreAll(Duration.ofSeconds(60));
        for (ServerProcess s : ensemble.servers()) {
            s.awaitServing(Duration.ofSeconds(60));
        }
        PROBE_LOG.lines.clear();
    }

    /** Lines of HungServerCheck's log (INFO alive, DEBUG kept again, WARN drop). */
    static final class ProbeLog extends AppenderBase<ILoggingEvent> {
        final Queue<String> lines = new ConcurrentLinkedQueue<>();

        @Override
        protected void append(ILoggingEvent e) {
            lines.add(e.getLevel() + " " + e.getFormattedMessage());
        }

        long count(String level, String text) {
            return lines.stream()
                    .filter(l -> l.startsWith(level) && l.contains(text))
                    .count();
        }
    }

    static void print(String line) {
        System.out.println("R15b " + line);
        System.out.flush();
    }

    /** Default settings but the leader's weight (0: the session goes to a follower) and the meters. */
    static ZkSessionPool pool(String name, SimpleMeterRegistry registry, Recorder events) {
        return ZkSessionPool.builder()
                .name(name)
                .connectString(ensemble.connectString())
                .hosts(HostsConfig.builder()
                        .weight(ensemble.leader().address(), 0)
                        .build())
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                .listener(events)
                .build();
    }

    static double count(SimpleMeterRegistry registry, String name) {
        double total = 0;
        for (Meter m : registry.find(name).meters()) {
            for (Measurement x : m.measure()) {
                total += x.getValue();
            }
        }
        return total;
    }

    static SessionStatus status(ZkSessionPool pool) {
        return pool.ensembles().get(0).sessions().get(0);
    }

    static ServerProcess serverAt(String address) {
        return ensemble.servers().stream()
                .filter(s -> s.address().equals(address))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no server " + address));
    }

    static ServerProcess serverOf(ZkSessionPool pool) {
        return serverAt(status(pool).server());
    }

    static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** Waits until the pool's session is connected to a server not in {@code left}; returns when (nanoTime). */
    static long awaitMovedOff(ZkSessionPool pool, Duration atMost, ServerProcess... left) {
        Set<String> gone = Arrays.stream(left).map(ServerProcess::address).collect(Collectors.toSet());
        await().pollInterval(Duration.ofMillis(20)).atMost(atMost).until(() -> {
            SessionStatus s = status(pool);
            return s.connected() && s.server() != null && !gone.contains(s.server());
        });
        return System.nanoTime();
    }

    /** Writers creating sequential nodes (sync) until closed; counts OK and failures. */
    static final class Writers implements AutoCloseable {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicLong ok = new AtomicLong();
        final Queue<String> failures = new ConcurrentLinkedQueue<>();
        final AtomicLong longestMs = new AtomicLong();
        final List<Thread> threads = new ArrayList<>();

        Writers(ZkSessionPool pool, String parent, int count, String name) {
            for (int t = 0; t < count; t++) {
                ZkLease lease = pool.lease();
                Thread th = new Thread(
                        () -> {
                            try {
                                while (running.get()) {
                                    long start = System.nanoTime();
                                    try {
                                        lease.create(parent + "/n-", new byte[8], CreateMode.PERSISTENT_SEQUENTIAL);
                                        ok.incrementAndGet();
                                    } catch (Throwable e) {
                                        failures.add(ms(System.nanoTime() - start) + " ms " + e);
                                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                                    }
                                    longestMs.accumulateAndGet(ms(System.nanoTime() - start), Math::max);
                                }
                            } finally {
                                lease.close();
                            }
                        },
                        name + "-writer-" + t);
                th.setDaemon(true);
                threads.add(th);
            }
            threads.forEach(Thread::start);
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }
    }

    /** Samples the threads named *-hung-probe: the distinct ones seen. */
    static final class ProbeThreads implements AutoCloseable {
        final Set<Thread> seen = ConcurrentHashMap.newKeySet();
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread sampler = new Thread(
                () -> {
                    while (running.get()) {
                        for (Thread t : Thread.getAllStackTraces().keySet()) {
                            if (t.getName().endsWith("-hung-probe")) {
                                seen.add(t);
                            }
                        }
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
                    }
                },
                "r15b-probe-sampler");

        ProbeThreads() {
            sampler.setDaemon(true);
            sampler.start();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            sampler.join();
        }
    }

    static Set<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    // ------------------------------------------------------------------------------------------------ cases

    /**
     * Ten pools with the defaults, every session on a follower with a writer, the LEADER SIGSTOPped 8 s (followers
     * alive, syncLimit 12 s): no drop at all, no disconnect, same session ids, no failed write (8 s is within the 15 s
     * operation timeout). Counts the probes (threads seen, and verdicts logged).
     */
    @Test
    void tenDefaultPoolsLeaderPaused8sNoDrop() throws Exception {
        int n = 10;
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        List<Recorder> events = new ArrayList<>();
        List<ZkSessionPool> pools = new ArrayList<>();
        List<Writers> writers = new ArrayList<>();
        String parent = "/r15b-ten-" + RUN.incrementAndGet() + "-" + System.nanoTime();
        ServerProcess leader = ensemble.leader();
        try (ProbeThreads probes = new ProbeThreads()) {
            for (int i = 0; i < n; i++) {
                Recorder r = new Recorder();
                events.add(r);
                pools.add(pool("r15b-ten-" + i, registry, r));
            }
            try (ZkLease l = pools.get(0).lease()) {
                l.create(parent, new byte[0], CreateMode.PERSISTENT);
            }
            List<Long> ids = new ArrayList<>();
            List<String> servers = new ArrayList<>();
            for (ZkSessionPool p : pools) {
                try (ZkLease l = p.lease()) {
                    l.exists("/");
                }
                ids.add(status(p).sessionId());
                servers.add(status(p).server());
            }
            for (int i = 0; i < n; i++) {
                writers.add(new Writers(pools.get(i), parent, i == 0 ? 4 : 1, "r15b-ten-" + i));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> writers.stream().allMatch(w -> w.ok.get() >= 10));
            leader.sigstop();
            long stopped = System.nanoTime();
            await().pollDelay(Duration.ofSeconds(8))
                    .atMost(Duration.ofSeconds(9))
                    .until(() -> true);
            leader.sigcont();
            long resumed = System.nanoTime();
            List<Long> before = writers.stream().map(w -> w.ok.get()).toList();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (int i = 0; i < n; i++) {
                    if (writers.get(i).ok.get() < before.get(i) + 3) {
                        return false;
                    }
                }
                return true;
            });
            long recovered = System.nanoTime();
            for (Writers w : writers) {
                w.close();
            }
            double drops = count(registry, MetricNames.HOSTS_HUNG_DROPS);
            List<String> failures =
                    writers.stream().flatMap(w -> w.failures.stream()).toList();
            long longest =
                    writers.stream().mapToLong(w -> w.longestMs.get()).max().orElse(-1);
            List<Long> idsAfter = pools.stream().map(p -> status(p).sessionId()).toList();
            List<String> serversAfter =
                    pools.stream().map(p -> status(p).server()).toList();
            long suspended =
                    events.stream().filter(r -> r.saw(SessionState.SUSPENDED)).count();
            long alive = PROBE_LOG.count("INFO", "alive but silent");
            long aliveAgain = PROBE_LOG.count("DEBUG", "alive to srvr: kept");
            long warns = PROBE_LOG.count("WARN", "");
            print("ten: bound " + BOUND.toMillis() + " ms; leader " + leader + " paused " + ms(resumed - stopped)
                    + " ms; recovered " + ms(recovered - resumed) + " ms after resume");
            print("ten: servers before " + servers + " after " + serversAfter);
            print("ten: hung drops " + drops + "; pools that saw SUSPENDED " + suspended + "; failed writes "
                    + failures.size() + "; longest write " + longest + " ms");
            print("ten: probe threads seen " + probes.seen.size() + "; verdicts ALIVE logged: first per connection "
                    + alive + ", repeated " + aliveAgain + "; WARN " + warns);
            failures.stream().limit(10).forEach(f -> print("ten:   failed " + f));
            PROBE_LOG.lines.stream().limit(30).forEach(l -> print("ten:   log " + l));
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(drops).as("no drop for a leader pause").isZero();
            soft.assertThat(suspended).as("no disconnect").isZero();
            soft.assertThat(failures).as("no failed write").isEmpty();
            soft.assertThat(idsAfter).as("same session ids").isEqualTo(ids);
            soft.assertThat(serversAfter).as("same servers").isEqualTo(servers);
            soft.assertThat(alive).as("probes answered").isGreaterThanOrEqualTo(1);
            soft.assertThat(probes.seen.size())
                    .as("at most one probe per session per half bound: 8 s pause / 2.5 s = at most ~3 each")
                    .isLessThanOrEqualTo(n * 4);
            soft.assertAll();
        } finally {
            if (leader.isSuspended()) {
                leader.sigcont();
            }
            for (Writers w : writers) {
                w.close();
            }
            pools.forEach(ZkSessionPool::close);
        }
    }

    /** Defaults: the session's follower SIGSTOPped with a writer waiting: left at the 5 s bound, same session id. */
    @Test
    void defaultFollowerStoppedIsLeftAtTheBound() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Recorder events = new Recorder();
        String parent = "/r15b-follower-" + RUN.incrementAndGet() + "-" + System.nanoTime();
        ServerProcess victim = null;
        try (ZkSessionPool pool = pool("r15b-follower", registry, events)) {
            try (ZkLease l = pool.lease()) {
                l.create(parent, new byte[0], CreateMode.PERSISTENT);
            }
            long id = status(pool).sessionId();
            victim = serverOf(pool);
            try (Writers w = new Writers(pool, parent, 2, "r15b-follower")) {
                await().atMost(Duration.ofSeconds(30)).until(() -> w.ok.get() >= 10);
                victim.sigstop();
                long stopped = System.nanoTime();
                long moved = awaitMovedOff(pool, Duration.ofSeconds(25), victim);
                long okAtMove = w.ok.get();
                await().atMost(Duration.ofSeconds(20)).until(() -> w.ok.get() >= okAtMove + 3);
                w.close();
                double drops = count(registry, MetricNames.HOSTS_HUNG_DROPS);
                print("follower: bound " + BOUND.toMillis() + " ms; " + victim + " stopped; session 0x"
                        + Long.toHexString(id) + " back on " + status(pool).server() + " as 0x"
                        + Long.toHexString(status(pool).sessionId()) + " after " + ms(moved - stopped)
                        + " ms; drops " + drops + "; failures " + w.failures.size() + "; longest write "
                        + w.longestMs.get() + " ms");
                w.failures.stream().limit(5).forEach(f -> print("follower:   failed " + f));
                PROBE_LOG.lines.forEach(l -> print("follower:   log " + l));
                SoftAssertions soft = new SoftAssertions();
                soft.assertThat(status(pool).sessionId()).as("same session id").isEqualTo(id);
                soft.assertThat(ms(moved - stopped))
                        .as("left at the bound (not ZooKeeper's 20 s read timeout)")
                        .isBetween(BOUND.toMillis() - 200, BOUND.toMillis() + MARGIN_MS);
                soft.assertThat(drops).as("one drop").isEqualTo(1.0);
                soft.assertThat(events.saw(SessionState.LOST))
                        .as("session not lost")
                        .isFalse();
                soft.assertAll();
            }
        } finally {
            if (victim != null && victim.isSuspended()) {
                victim.sigcont();
            }
        }
    }

    /**
     * The follower at its maxClientCnxns limit from this IP (the pool's session plus raw sessions), then the leader
     * paused 8 s: the probe's connection is closed by the server at accept; that is a live process, so the follower
     * must be kept (no drop, no disconnect, no failed write).
     */
    @Test
    void followerAtMaxClientCnxnsKeptDuringALeaderPause() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Recorder events = new Recorder();
        String parent = "/r15b-full-" + RUN.incrementAndGet() + "-" + System.nanoTime();
        ServerProcess leader = ensemble.leader();
        List<RawZooKeeper> raws = new ArrayList<>();
        try (ZkSessionPool pool = pool("r15b-full", registry, events)) {
            try (ZkLease l = pool.lease()) {
                l.create(parent, new byte[0], CreateMode.PERSISTENT);
            }
            long id = status(pool).sessionId();
            ServerProcess follower = serverOf(pool);
            for (int i = 0; i < MAX_CNXNS - 1; i++) {
                raws.add(RawZooKeeper.connect(ensemble.connectString(follower.id()), Duration.ofSeconds(30)));
            }
            int extraRead;
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", follower.clientPort()), 2_000);
                s.setSoTimeout(3_000);
                InputStream in = s.getInputStream();
                extraRead = in.read();
            } catch (java.io.IOException e) {
                extraRead = -2; // reset or broken pipe at connect: the server cut it at accept
            }
            print("full: " + follower + " holds the pool's session and " + raws.size()
                    + " raw sessions; one more connection read " + extraRead + " (-1 closed, -2 reset)");
            assertThat(extraRead)
                    .as("the follower is at its limit: a further connection is closed")
                    .isLessThan(0);
            try (Writers w = new Writers(pool, parent, 2, "r15b-full")) {
                await().atMost(Duration.ofSeconds(30)).until(() -> w.ok.get() >= 10);
                leader.sigstop();
                long stopped = System.nanoTime();
                await().pollDelay(Duration.ofSeconds(8))
                        .atMost(Duration.ofSeconds(9))
                        .until(() -> true);
                leader.sigcont();
                long resumed = System.nanoTime();
                long okAtResume = w.ok.get();
                await().atMost(Duration.ofSeconds(30)).until(() -> w.ok.get() >= okAtResume + 3);
                w.close();
                double drops = count(registry, MetricNames.HOSTS_HUNG_DROPS);
                print("full: leader paused " + ms(resumed - stopped) + " ms; session on "
                        + status(pool).server()
                        + " (was " + follower.address() + "); drops " + drops + "; SUSPENDED "
                        + events.saw(SessionState.SUSPENDED) + "; failures " + w.failures.size()
                        + "; longest write " + w.longestMs.get() + " ms");
                w.failures.stream().limit(5).forEach(f -> print("full:   failed " + f));
                PROBE_LOG.lines.forEach(l -> print("full:   log " + l));
                SoftAssertions soft = new SoftAssertions();
                soft.assertThat(drops)
                        .as("follower at its limit is alive: kept")
                        .isZero();
                soft.assertThat(status(pool).server()).isEqualTo(follower.address());
                soft.assertThat(status(pool).sessionId()).isEqualTo(id);
                soft.assertThat(events.saw(SessionState.SUSPENDED))
                        .as("no disconnect")
                        .isFalse();
                soft.assertThat(w.failures).as("no failed write").isEmpty();
                soft.assertThat(PROBE_LOG.count("INFO", "alive but silent"))
                        .as("the refused probe counted as alive")
                        .isGreaterThanOrEqualTo(1);
                soft.assertAll();
            }
        } finally {
            if (leader.isSuspended()) {
                leader.sigcont();
            }
            raws.forEach(RawZooKeeper::close);
        }
    }

    /** kill -9 of the session's follower together with a SIGSTOP of another follower: resumes on a third, same id. */
    @Test
    void kill9OfTheServerAndSigstopOfAnother() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Recorder events = new Recorder();
        String parent = "/r15b-kill-" + RUN.incrementAndGet() + "-" + System.nanoTime();
        ServerProcess leader = ensemble.leader();
        try (ZkSessionPool pool = pool("r15b-kill", registry, events)) {
            try (ZkLease l = pool.lease()) {
                l.create(parent, new byte[0], CreateMode.PERSISTENT);
            }
            long id = status(pool).sessionId();
            ServerProcess killed = serverOf(pool);
            ServerProcess stopped = ensemble.servers().stream()
                    .filter(s -> s != killed && s.id() != leader.id())
                    .findFirst()
                    .orElseThrow();
            try (Writers w = new Writers(pool, parent, 2, "r15b-kill")) {
                await().atMost(Duration.ofSeconds(30)).until(() -> w.ok.get() >= 10);
                stopped.sigstop();
                killed.kill9();
                long t0 = System.nanoTime();
                long moved = awaitMovedOff(pool, Duration.ofSeconds(30), killed, stopped);
                long okAtMove = w.ok.get();
                await().atMost(Duration.ofSeconds(20)).until(() -> w.ok.get() >= okAtMove + 3);
                long writing = System.nanoTime();
                w.close();
                double drops = count(registry, MetricNames.HOSTS_HUNG_DROPS);
                print("kill: " + killed + " kill -9, " + stopped + " SIGSTOP; back on "
                        + status(pool).server()
                        + " after " + ms(moved - t0) + " ms, writing again after " + ms(writing - t0)
                        + " ms; id same " + (status(pool).sessionId() == id) + "; hung drops " + drops
                        + "; failures " + w.failures.size() + "; longest write " + w.longestMs.get() + " ms");
                w.failures.stream().limit(5).forEach(f -> print("kill:   failed " + f));
                PROBE_LOG.lines.forEach(l -> print("kill:   log " + l));
                SoftAssertions soft = new SoftAssertions();
                soft.assertThat(status(pool).sessionId()).as("same session id").isEqualTo(id);
                soft.assertThat(ms(moved - t0))
                        .as("back within the bound plus a connect-attempt bound and margin")
                        .isLessThanOrEqualTo(BOUND.toMillis() + MARGIN_MS);
                soft.assertThat(drops).as("at most one hung drop").isLessThanOrEqualTo(1.0);
                soft.assertThat(w.longestMs.get())
                        .as("every write ended by its 15 s operation timeout")
                        .isLessThanOrEqualTo(OperationPolicy.DEFAULT_OPERATION_TIMEOUT.toMillis() + MARGIN_MS);
                soft.assertAll();
            }
        }
    }

    /**
     * Two followers frozen one after the other (the first stays frozen): the session is left at the bound each
     * time, one drop per connection, same id, never back to the frozen one.
     */
    @Test
    void twoMembersFrozenOneAfterTheOther() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Recorder events = new Recorder();
        String parent = "/r15b-two-" + RUN.incrementAndGet() + "-" + System.nanoTime();
        try (ZkSessionPool pool = pool("r15b-two", registry, events)) {
            try (ZkLease l = pool.lease()) {
                l.create(parent, new byte[0], CreateMode.PERSISTENT);
            }
            long id = status(pool).sessionId();
            ServerProcess first = serverOf(pool);
            try (Writers w = new Writers(pool, parent, 2, "r15b-two")) {
                await().atMost(Duration.ofSeconds(30)).until(() -> w.ok.get() >= 10);
                first.sigstop();
                long t1 = System.nanoTime();
                long moved1 = awaitMovedOff(pool, Duration.ofSeconds(25), first);
                ServerProcess second = serverOf(pool);
                long ok1 = w.ok.get();
                await().atMost(Duration.ofSeconds(20)).until(() -> w.ok.get() >= ok1 + 3);
                second.sigstop();
                long t2 = System.nanoTime();
                long moved2 = awaitMovedOff(pool, Duration.ofSeconds(25), first, second);
                long ok2 = w.ok.get();
                await().atMost(Duration.ofSeconds(20)).until(() -> w.ok.get() >= ok2 + 3);
                w.close();
                double drops = count(registry, MetricNames.HOSTS_HUNG_DROPS);
                print("two: " + first + " frozen, left after " + ms(moved1 - t1) + " ms for " + second
                        + ", frozen, left after " + ms(moved2 - t2) + " ms for "
                        + status(pool).server()
                        + "; id same " + (status(pool).sessionId() == id) + "; drops " + drops + "; failures "
                        + w.failures.size() + "; longest write " + w.longestMs.get() + " ms");
                PROBE_LOG.lines.forEach(l -> print("two:   log " + l));
                SoftAssertions soft = new SoftAssertions();
                soft.assertThat(status(pool).sessionId()).isEqualTo(id);
                soft.assertThat(ms(moved1 - t1)).isLessThanOrEqualTo(BOUND.toMillis() + MARGIN_MS);
                // By the second drop the first frozen member may be out of its quarantine (it failed to connect
                // seconds earlier), so the session may try it once more, an attempt bounded by the learnt handshake
                // time, before a live member: seen in CI at 8,224 ms. Still far under ZooKeeper's 20 s read timeout.
                soft.assertThat(ms(moved2 - t2))
                        .isLessThanOrEqualTo(BOUND.toMillis() + MARGIN_MS + ONE_MORE_ATTEMPT_MS);
                soft.assertThat(drops).as("one drop per connection").isEqualTo(2.0);
                soft.assertAll();
            }
        } finally {
            ensemble.servers().stream().filter(ServerProcess::isSuspended).forEach(ServerProcess::sigcont);
        }
    }

    /**
     * A follower SIGSTOPped while ~1 MB getData answers are arriving (4 readers): reads end with the full data, the
     * session is left once, at about the bound after the last byte.
     */
    @Test
    void stoppedWhileHugeAnswersArrive() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Recorder events = new Recorder();
        String path = "/r15b-huge-" + RUN.incrementAndGet() + "-" + System.nanoTime();
        int size = 1_000_000;
        ServerProcess victim = null;
        try (ZkSessionPool pool = pool("r15b-huge", registry, events)) {
            try (ZkLease l = pool.lease()) {
                l.create(path, new byte[size], CreateMode.PERSISTENT);
            }
            long id = status(pool).sessionId();
            victim = serverOf(pool);
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong ok = new AtomicLong();
            Queue<String> bad = new ConcurrentLinkedQueue<>();
            AtomicLong longest = new AtomicLong();
            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                ZkLease lease = pool.lease();
                Thread th = new Thread(
                        () -> {
                            try {
                                while (running.get()) {
                                    long s = System.nanoTime();
                                    try {
                                        byte[] d = lease.getData(path);
                                        if (d.length != size) {
                                            bad.add("wrong size " + d.length);
                                        } else {
                                            ok.incrementAndGet();
                                        }
                                    } catch (Throwable e) {
                                        bad.add(ms(System.nanoTime() - s) + " ms " + e);
                                    }
                                    longest.accumulateAndGet(ms(System.nanoTime() - s), Math::max);
                                }
                            } finally {
                                lease.close();
                            }
                        },
                        "r15b-huge-reader-" + t);
                th.setDaemon(true);
                readers.add(th);
            }
            readers.forEach(Thread::start);
            await().atMost(Duration.ofSeconds(30)).until(() -> ok.get() >= 20);
            victim.sigstop();
            long stopped = System.nanoTime();
            long moved = awaitMovedOff(pool, Duration.ofSeconds(25), victim);
            long okAtMove = ok.get();
            await().atMost(Duration.ofSeconds(20)).until(() -> ok.get() >= okAtMove + 8);
            running.set(false);
            for (Thread th : readers) {
                th.join(30_000);
            }
            double drops = count(registry, MetricNames.HOSTS_HUNG_DROPS);
            print("huge: " + victim + " stopped during 1 MB reads; left after " + ms(moved - stopped) + " ms; id same "
                    + (status(pool).sessionId() == id) + "; drops " + drops + "; reads OK " + ok.get() + ", not OK "
                    + bad.size() + "; longest read " + longest.get() + " ms");
            bad.stream().limit(5).forEach(b -> print("huge:   " + b));
            PROBE_LOG.lines.forEach(l -> print("huge:   log " + l));
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(status(pool).sessionId()).isEqualTo(id);
            soft.assertThat(ms(moved - stopped)).isLessThanOrEqualTo(BOUND.toMillis() + MARGIN_MS);
            soft.assertThat(drops).isEqualTo(1.0);
            soft.assertThat(bad)
                    .as("reads retried on the new server, full size")
                    .isEmpty();
            soft.assertAll();
        } finally {
            if (victim != null && victim.isSuspended()) {
                victim.sigcont();
            }
        }
    }

    /**
     * The pool closed while its probe of a SIGSTOPped follower is in flight: close ends in bounded time and no
     * thread of the pool (nor a probe) is left behind; thread names compared before / after.
     */
    @Test
    void closeWhileAProbeIsInFlight() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Recorder events = new Recorder();
        String parent = "/r15b-close-" + RUN.incrementAndGet() + "-" + System.nanoTime();
        Set<String> before = threadNames();
        ServerProcess victim = null;
        ZkSessionPool pool = pool("r15b-close", registry, events);
        Writers w = null;
        try {
            try (ZkLease l = pool.lease()) {
                l.create(parent, new byte[0], CreateMode.PERSISTENT);
            }
            victim = serverOf(pool);
            w = new Writers(pool, parent, 1, "r15b-close");
            Writers writers = w;
            await().atMost(Duration.ofSeconds(30)).until(() -> writers.ok.get() >= 5);
            victim.sigstop();
            long stopped = System.nanoTime();
            await().pollInterval(Duration.ofMillis(10))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> threadNames().stream().anyMatch(n -> n.endsWith("-hung-probe")));
            long probeSeen = System.nanoTime();
            long c0 = System.nanoTime();
            pool.close();
            long closed = System.nanoTime();
            Set<String> right = threadNames();
            right.removeAll(before);
            w.close();
            await().pollDelay(Duration.ofSeconds(3))
                    .atMost(Duration.ofSeconds(4))
                    .until(() -> true);
            Set<String> later = threadNames();
            later.removeAll(before);
            print("close: probe seen " + ms(probeSeen - stopped) + " ms after the SIGSTOP; close took "
                    + ms(closed - c0) + " ms; new threads right after close " + right + "; 3 s later " + later);
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(ms(closed - c0))
                    .as("close bounded (about twice closeTimeout)")
                    .isLessThan(6_000);
            // A callback thread may still be delivering what was queued before close (the sessions' CLOSED events:
            // close does not wait for listeners, one may be what closes the pool): it must be gone 3 s later, below.
            soft.assertThat(right.stream()
                            .filter(n -> (n.contains("r15b-close") && !n.contains("-writer-"))
                                    && !n.endsWith("-hung-probe")
                                    && !n.contains("-callbacks-")))
                    .as("no thread of the pool but the probe and a callback thread left right after close()")
                    .isEmpty();
            soft.assertThat(later.stream().filter(n -> n.contains("r15b-close") || n.endsWith("-hung-probe")))
                    .as("no thread of the pool or probe left 3 s after close() (the probe's 2.5 s timeout)")
                    .isEmpty();
            soft.assertAll();
        } finally {
            pool.close();
            if (w != null) {
                w.close();
            }
            if (victim != null && victim.isSuspended()) {
                victim.sigcont();
            }
        }
    }

    /**
     * Over TLS (defaults otherwise), the pool closed while its probe of a SIGSTOPped follower is in flight: the README
     * says ZooKeeper's srvr client blocks in the TLS handshake of a stopped server. Is the probe thread left behind
     * after close(), beyond twice its timeout, until the server resumes?
     */
    @Test
    void closeWhileATlsProbeIsBlockedInTheHandshake() throws Exception {
        TestPki pki = TestPki.shared();
        try (ProcessEnsemble tls = ProcessEnsemble.builder()
                .size(3)
                .syncLimit(60)
                .secureClientPort(pki)
                .start()) {
            Set<String> before = threadNames();
            ZkSessionPool pool = ZkSessionPool.builder()
                    .name("r15b-tlsclose")
                    .connectString(tls.secureConnectString())
                    .hosts(HostsConfig.builder()
                            .weight(tls.leader().secureAddress(), 0)
                            .build())
                    .tls(TlsConfig.builder()
                            .trustStore(pki.clientTrustStore(), pki.clientTrustStorePassword())
                            .keyStore(pki.clientKeyStore(), pki.clientKeyStorePassword())
                            .build())
                    .build();
            String parent = "/r15b-tlsclose-" + System.nanoTime();
            ServerProcess victim = null;
            Writers w = null;
            try {
                try (ZkLease l = pool.lease()) {
                    l.create(parent, new byte[0], CreateMode.PERSISTENT);
                }
                String server = status(pool).server();
                victim = tls.servers().stream()
                        .filter(s -> s.secureAddress().equals(server))
                        .findFirst()
                        .orElseThrow();
                w = new Writers(pool, parent, 1, "r15b-tlsclose");
                Writers writers = w;
                await().atMost(Duration.ofSeconds(30)).until(() -> writers.ok.get() >= 5);
                victim.sigstop();
                long stopped = System.nanoTime();
                await().pollInterval(Duration.ofMillis(10))
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> threadNames().stream().anyMatch(n -> n.endsWith("-hung-probe")));
                long probeSeen = System.nanoTime();
                long c0 = System.nanoTime();
                pool.close();
                long closed = System.nanoTime();
                w.close();
                await().pollDelay(Duration.ofSeconds(7))
                        .atMost(Duration.ofSeconds(8))
                        .until(() -> true);
                Set<String> later = threadNames();
                later.removeAll(before);
                victim.sigcont();
                long resumed = System.nanoTime();
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> threadNames().stream().noneMatch(n -> n.startsWith("r15b-tlsclose")));
                long gone = System.nanoTime();
                print("tlsclose: probe seen " + ms(probeSeen - stopped) + " ms after the SIGSTOP; close took "
                        + ms(closed - c0) + " ms; new threads 7 s after close (twice the probe timeout is 5 s) "
                        + later + "; gone " + ms(gone - resumed) + " ms after SIGCONT");
                assertThat(later.stream().filter(n -> n.startsWith("r15b-tlsclose")))
                        .as("no thread of the closed pool (nor its probe) 7 s after close()")
                        .isEmpty();
            } finally {
                pool.close();
                if (w != null) {
                    w.close();
                }
                if (victim != null && victim.isSuspended()) {
                    victim.sigcont();
                }
            }
        }
    }

    /**
     * Root cause of the defect above: a 60 s session (read timeout 40 s, ZooKeeper pings after 19 s of idle send) with
     * a 10 s operation timeout: the bound is still 5 s, so the session must be back on another member by about 5 s.
     */
    @Test
    void followerStoppedWithALongSessionTimeout() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Recorder events = new Recorder();
        String parent = "/r15b-long-" + RUN.incrementAndGet() + "-" + System.nanoTime();
        Duration session = Duration.ofSeconds(60);
        Duration operation = Duration.ofSeconds(10);
        Duration bound = HungServerCheck.bound(session, operation, EnsembleConfig.DEFAULT_CONNECTION_TIMEOUT);
        ServerProcess victim = null;
        try (ZkSessionPool pool = ZkSessionPool.builder()
                .name("r15b-long")
                .connectString(ensemble.connectString())
                .sessionTimeout(session)
                .operationPolicy(
                        OperationPolicy.builder().operationTimeout(operation).build())
                .hosts(HostsConfig.builder()
                        .weight(ensemble.leader().address(), 0)
                        .build())
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry))
                .listener(events)
                .build()) {
            try (ZkLease l = pool.lease()) {
                l.create(parent, new byte[0], CreateMode.PERSISTENT);
            }
            long id = status(pool).sessionId();
            victim = serverOf(pool);
            try (Writers w = new Writers(pool, parent, 2, "r15b-long")) {
                await().atMost(Duration.ofSeconds(30)).until(() -> w.ok.get() >= 10);
                victim.sigstop();
                long stopped = System.nanoTime();
                long moved = awaitMovedOff(pool, Duration.ofSeconds(45), victim);
                w.close();
                print("long: bound " + bound.toMillis() + " ms, negotiated "
                        + status(pool).negotiatedTimeout()
                        + "; back on " + status(pool).server() + " after " + ms(moved - stopped) + " ms; id same "
                        + (status(pool).sessionId() == id) + "; drops " + count(registry, MetricNames.HOSTS_HUNG_DROPS)
                        + "; longest write " + w.longestMs.get() + " ms; failures " + w.failures);
                PROBE_LOG.lines.forEach(l -> print("long:   log " + l));
                assertThat(ms(moved - stopped)).isLessThanOrEqualTo(bound.toMillis() + MARGIN_MS);
            }
        } finally {
            if (victim != null && victim.isSuspended()) {
                victim.sigcont();
            }
        }
    }
}
