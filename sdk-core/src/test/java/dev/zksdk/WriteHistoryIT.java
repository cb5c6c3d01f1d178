package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.SessionLeases;
import dev.zksdk.testing.TxnLogOracle;
import dev.zksdk.testing.TxnLogOracle.OpType;
import dev.zksdk.testing.TxnLogOracle.Txn;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/**
 * Proves the write promise of {@link ZkLease} against the server's own record of what happened: for every write
 * (create, sequential create, setData with and without a version, delete with and without a version, multi),
 * success is reported only when the write was applied exactly once by that call, a definite failure only when it was
 * not applied at all, and otherwise {@link ZkConnectionLossException} with {@code outcomeUnknown()} (applied at most
 * once).
 *
 * <p><b>Faults.</b> {@value #WORKERS} worker threads, each on its own lease and its own session of one pool that
 * reaches the server through a {@link ZkProxy}, write a random mix of every write type on {@value #KEY_COUNT} keys
 * (so they collide with each other). A cutter closes every proxied connection while requests are in flight, in three
 * rounds: at random moments, right after a worker sends a write (0-2 ms), and a little later (2-15 ms, while the
 * server logs and answers). The rounds run at once, each on a server, proxy, pool and rival of its own, and each is
 * matched against its own server's log. A competing raw {@link ZooKeeper} client ("the rival"), connected directly to the server
 * and never cut, writes the same keys all the time: creates, setData, deletes, and deletes immediately followed by a
 * re-create at version 0 (the ABA cases a retried write can be fooled by).
 *
 * <p><b>Oracle.</b> After the run the clients are closed and the server is stopped (which flushes its transaction
 * log; the server fsyncs every write before acknowledging it, so acknowledged or not, everything it accepted is in
 * the log). {@link TxnLogOracle} reads the log with ZooKeeper's own classes: each transaction's zxid, session, and
 * the creates, setData and deletes it applied (failed writes and failed multis are logged too, but marked not
 * applied). Every write carries a payload unique in its round ({@code w<worker>-<n>}, multi ops
 * {@code w<worker>-<n>.<i>}, the rival's {@code r-<n>}), so its effect can be found by its data.
 *
 * <p><b>Matching a call to the log.</b>
 * <ul>
 *   <li>create, sequential create, setData (both forms), multi: the applied transactions that carry the call's
 *       payload. Their number is how often the call was applied. For a reported success there must be exactly one,
 *       of the call's kind and path: a sequential create's path must be the path it returned; a multi's must be one
 *       multi transaction holding every op of the call, and the paths of its creates those the call returned.</li>
 *   <li>delete: a delete record holds only a path, so deletes are matched by order. Each worker has its own session,
 *       used by no one else (checked: the lease's session id is the same before and after the run and differs from
 *       every other worker's; every payload found in a session's transactions belongs to that session's worker), and
 *       runs one call at a time. ZooKeeper applies one session's requests in the order they were sent, across
 *       reconnects (a standalone server has one request pipeline, and a reconnecting session's old connection is
 *       closed before the new one is served), so the session's transactions fall into consecutive blocks, one per
 *       call, in call order. The transactions carrying a payload pin their calls ("anchors"). Their order is
 *       checked on every run, which tests that assumption where it can be seen: a write lost in flight and applied
 *       after a later call's write would show up as an anchor out of order (and fail the test as a bookkeeping
 *       error, not as an SDK lie). The plain delete transactions between two anchors can only come from the delete calls between
 *       those two calls. (After each delete a worker writes its own node, {@code /h/w<worker>}, which nobody else
 *       touches; when that write is applied it is an anchor right after the delete, so most gaps hold a single delete
 *       call. These writes are SDK calls like any other and are checked as such, as type {@code setData(own)}.)
 *       Within such a gap the test searches (dynamic programming) for an order-preserving
 *       assignment of the delete transactions to those delete calls such that: each delete transaction goes to a
 *       call on its path whose version is -1 or the version the deleted node had at that moment (replayed from the
 *       log: the server deletes only a node of that version); each call gets at most one; a call reported OK gets
 *       exactly one; a call reported as a definite failure gets none. A contradiction is reported only when no such
 *       assignment exists, so it is never an artefact of an ambiguous match. It is labelled by the one call of the
 *       gap whose outcome, had it been different, would explain the log (with how often that call must then have
 *       been applied), or as a group when no single call or several could. The deleted incarnation (the create
 *       payload, version and data of the node removed) is printed with each delete, which makes the ABA cases
 *       readable.</li>
 * </ul>
 *
 * <p><b>Outcomes.</b> Reported OK: applied exactly once (as above; a versioned setData must have moved the node from
 * its version v to v+1). A definite failure ({@link ZkNoNodeException},
 * {@link ZkNodeExistsException}, {@link ZkBadVersionException}, any other {@link ZkException} with an application
 * code, {@link ZkUnavailableException}, {@link ZkConnectionLossException} with {@code outcomeUnknown()} false):
 * applied zero times. {@link ZkConnectionLossException} with {@code outcomeUnknown()} true: applied zero or one
 * times, never more. Anything else (for example {@link ZkSessionExpiredException} for a persistent write) is outside
 * the promise and fails the test as an unexpected outcome.
 *
 * <p><b>The test checks itself.</b> The rival's calls (plain ZooKeeper, never cut, every outcome definite) are put
 * through the same matching; any mismatch there is a bug in the test or its oracle and fails the test as such, apart
 * from the SDK's contradictions. So does any transaction of a worker's session that no call of that worker can
 * explain. The test also fails if it did not exercise the faults: too few cuts, too few calls of a kind, too few calls
 * hit by a cut, no outcome reported as unknown.
 */
class WriteHistoryIT {

    static final int WORKERS = 4;
    static final int KEY_COUNT = 3;
    static final String ROOT = "/h";
    static final String SEQ_PARENT = ROOT + "/seq";
    static final List<String> KEYS = List.of(ROOT + "/k0", ROOT + "/k1", ROOT + "/k2");
    static final Duration ROUND = Duration.ofSeconds(12);

    TestingServer server;
    ZkProxy proxy;
    RawZooKeeper rivalClient;

    void start() {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        rivalClient = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
    }

    void stop() throws Exception {
        if (rivalClient != null) {
            rivalClient.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        if (server != null) {
            server.close();
        }
    }

    enum Type {
        CREATE("create"),
        CREATE_SEQUENTIAL("create(seq)"),
        SET_DATA("setData(-1)"),
        SET_DATA_VERSIONED("setData(v)"),
        DELETE("delete(-1)"),
        DELETE_VERSIONED("delete(v)"),
        MULTI("multi"),
        /** setData(-1) on the worker's own node, after each delete: an anchor that isolates the delete (see above). */
        MARK("setData(own)");

        final String label;

        Type(String label) {
            this.label = label;
        }

        boolean isDelete() {
            return this == DELETE || this == DELETE_VERSIONED;
        }
    }

    enum Outcome {
        OK,
        FAILED,
        UNKNOWN,
        UNEXPECTED
    }

    /** How the cutter picks its moments. */
    enum Faults {
        RANDOM_MOMENTS(0, 0),
        RIGHT_AFTER_SEND(0, 2_000),
        WHILE_ANSWERING(2_000, 15_000);

        final long minDelayMicros;
        final long maxDelayMicros;

        Faults(long minDelayMicros, long maxDelayMicros) {
            this.minDelayMicros = minDelayMicros;
            this.maxDelayMicros = maxDelayMicros;
        }

        boolean targeted() {
            return maxDelayMicros > 0;
        }
    }

    /** The multi shapes: each has at least one op with a payload, so its transaction can be found. */
    enum MultiShape {
        /** create k, then setData k. */
        CREATE_THEN_SET,
        /** delete k, then create k again: a replace. */
        REPLACE,
        /** setData k, and a sequential create. */
        SET_AND_SEQUENTIAL
    }

    /** One write call and what it reported. Written by its own thread only, read after that thread is joined. */
    static final class Call {
        final String actor;
        final int index;
        final String id;
        final Type type;
        final String path;
        final int version;
        final MultiShape shape;
        final List<String> payloads = new ArrayList<>();
        Outcome outcome;
        String reported;
        String returnedPath;
        List<String> createdPaths = List.of();
        int cutsDuring;

        Call(String actor, int index, Type type, String path, int version, MultiShape shape) {
            this.actor = actor;
            this.index = index;
            this.id = actor + "-" + index;
            this.type = type;
            this.path = path;
            this.version = version;
            this.shape = shape;
            if (type == Type.MULTI) {
                int withData = shape == MultiShape.REPLACE ? 1 : 2;
                for (int i = 0; i < withData; i++) {
                    payloads.add(id + "." + i);
                }
            } else if (!type.isDelete()) {
                payloads.add(id);
            }
        }

        void finish(Outcome outcome, String reported) {
            this.outcome = outcome;
            this.reported = reported;
        }

        @Override
        public String toString() {
            String what;
            switch (type) {
                case CREATE:
                case CREATE_SEQUENTIAL:
                    what = "create(" + path + ", \"" + id + "\")";
                    break;
                case SET_DATA:
                case SET_DATA_VERSIONED:
                case MARK:
                    what = "setData(" + path + ", \"" + id + "\", v=" + version + ")";
                    break;
                case DELETE:
                case DELETE_VERSIONED:
                    what = "delete(" + path + ", v=" + version + ")";
                    break;
                default:
                    what = "multi " + shape + "(" + path + ", " + payloads + ")";
            }
            return id + " " + what + " reported " + reported + (returnedPath != null ? " -> " + returnedPath : "")
                    + (createdPaths.isEmpty() ? "" : " -> " + createdPaths)
                    + (cutsDuring > 0 ? " [" + cutsDuring + " cut(s)]" : "");
        }
    }

    /** A worker or the rival: its calls in the order it made them. */
    static final class Actor {
        final String name;
        final List<Call> calls = new ArrayList<>();
        long sessionId;

        Actor(String name) {
            this.name = name;
        }

        Call next(Type type, String path, int version, MultiShape shape) {
            Call call = new Call(name, calls.size(), type, path, version, shape);
            calls.add(call);
            return call;
        }
    }

    /** One finding: a label to count by, and the full line. */
    record Finding(String label, String line) {}

    /** Closes every proxied connection at the moments its round asks for. */
    final class Cutter implements Runnable {
        final Faults faults;
        final long deadline;
        final AtomicInteger cuts;
        final BlockingQueue<Boolean> requests = new ArrayBlockingQueue<>(1);

        Cutter(Faults faults, long deadline, AtomicInteger cuts) {
            this.faults = faults;
            this.deadline = deadline;
            this.cuts = cuts;
        }

        /** A worker is about to send a write: cut soon after, unless a cut is already pending. */
        void aboutToSend() {
            if (faults.targeted()) {
                requests.offer(Boolean.TRUE);
            }
        }

        @Override
        public void run() {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            try {
                while (System.nanoTime() < deadline) {
                    if (faults.targeted()) {
                        if (requests.poll(100, TimeUnit.MILLISECONDS) == null) {
                            continue;
                        }
                        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(
                                rnd.nextLong(faults.minDelayMicros, faults.maxDelayMicros + 1)));
                        cut();
                        // Let the sessions reconnect (ZooKeeper's client waits up to 1 s before it does) and make
                        // progress.
                        TimeUnit.MILLISECONDS.sleep(rnd.nextInt(400, 1000));
                        requests.clear();
                    } else {
                        TimeUnit.MILLISECONDS.sleep(rnd.nextInt(300, 1100));
                        cut();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void cut() {
            proxy.closeAllConnections();
            cuts.incrementAndGet();
        }
    }

    /** What one round found: its actors, its cuts, and the matching of its calls against its server's log. */
    record Round(
            Faults faults,
            List<Actor> workers,
            Actor rival,
            int cuts,
            List<Throwable> crashes,
            List<Finding> oracleBugs,
            List<Finding> bookkeeping,
            List<Finding> contradictions,
            String summary) {}

    /**
     * The three rounds run at once, each on a server, proxy, pool and rival of its own (each round's cutter cuts
     * only its own proxy, and each round's calls are matched against its own server's log); the floors that show the
     * faults were exercised are on the three rounds together, as when they ran one after another on one server.
     */
    @Test
    void everyWriteIsReportedAsTheServerAppliedIt() {
        Map<Faults, Round> rounds = new java.util.concurrent.ConcurrentHashMap<>();
        Timings.allCasesAtOnce(List.of(Faults.values()), faults -> {
            WriteHistoryIT own = new WriteHistoryIT();
            own.start();
            try {
                rounds.put(faults, own.round(faults));
            } finally {
                own.stop();
            }
        });
        List<Round> all =
                java.util.Arrays.stream(Faults.values()).map(rounds::get).toList();
        String summary = all.stream().map(Round::summary).collect(Collectors.joining());

        assertThat(all.stream().flatMap(r -> r.crashes().stream()).toList())
                .as("worker, rival or cutter threads crashed")
                .isEmpty();

        List<Finding> oracleBugs =
                all.stream().flatMap(r -> r.oracleBugs().stream()).toList();
        List<Finding> bookkeeping =
                all.stream().flatMap(r -> r.bookkeeping().stream()).toList();
        if (!oracleBugs.isEmpty() || !bookkeeping.isEmpty()) {
            fail("The test's own bookkeeping does not match the log (a bug in the test, not an SDK lie):\n"
                    + lines(oracleBugs) + lines(bookkeeping) + summary);
        }
        List<Finding> contradictions =
                all.stream().flatMap(r -> r.contradictions().stream()).toList();
        List<Call> sdkCalls = all.stream()
                .flatMap(r -> r.workers().stream())
                .flatMap(a -> a.calls.stream())
                .toList();
        List<Call> unexpected =
                sdkCalls.stream().filter(c -> c.outcome == Outcome.UNEXPECTED).toList();

        // The faults must have been exercised, or a pass means nothing.
        assertThat(all.stream().mapToInt(Round::cuts).sum())
                .as("connections cut")
                .isGreaterThanOrEqualTo(25);
        for (Type type : Type.values()) {
            assertThat(sdkCalls.stream().filter(c -> c.type == type).count())
                    .as("%s calls", type.label)
                    .isGreaterThanOrEqualTo(20);
            assertThat(sdkCalls.stream()
                            .filter(c -> c.type == type && c.outcome == Outcome.OK)
                            .count())
                    .as("%s calls reported OK", type.label)
                    .isGreaterThanOrEqualTo(5);
        }
        assertThat(sdkCalls.stream().filter(c -> c.cutsDuring > 0).count())
                .as("calls in flight during a cut")
                .isGreaterThanOrEqualTo(50);
        assertThat(sdkCalls.stream()
                        .filter(c -> c.cutsDuring > 0 && c.outcome == Outcome.OK)
                        .count())
                .as("calls that got through a cut (retried) and reported OK")
                .isGreaterThanOrEqualTo(10);
        assertThat(sdkCalls.stream().filter(c -> c.outcome == Outcome.UNKNOWN).count())
                .as("calls reported unknown")
                .isGreaterThanOrEqualTo(1);
        assertThat(all.stream()
                        .flatMap(r -> r.rival().calls.stream())
                        .filter(c -> c.type.isDelete() && c.outcome == Outcome.OK)
                        .count())
                .as("rival deletes")
                .isGreaterThanOrEqualTo(100);

        if (!contradictions.isEmpty() || !unexpected.isEmpty()) {
            fail(contradictions.size() + " reported outcome(s) contradict the server's transaction log, "
                    + unexpected.size() + " outcome(s) outside the promise\n" + summary + "\nContradictions:\n"
                    + lines(contradictions)
                    + (unexpected.isEmpty()
                            ? ""
                            : "Unexpected outcomes:\n"
                                    + unexpected.stream()
                                            .map(c -> "  " + c + "\n")
                                            .collect(Collectors.joining())));
        }
    }

    /**
     * One round on this instance's server and proxy: the workers write while the cutter cuts as {@code faults}
     * says, for {@link #ROUND}; then the server is stopped and every call is matched against its log.
     */
    Round round(Faults faults) throws Exception {
        List<Throwable> crashes = new CopyOnWriteArrayList<>();
        AtomicInteger cuts = new AtomicInteger();
        List<Actor> workers = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
            workers.add(new Actor("w" + w));
        }
        Actor rival = new Actor("r");
        rival.sessionId = rivalClient.sessionId();
        setUpTree(rival);

        long started = System.nanoTime();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                .connectString(proxy.connectString())
                .sessionsPerEnsemble(WORKERS)
                .sessionTimeout(Duration.ofSeconds(20))
                .connectionTimeout(Duration.ofSeconds(5))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(6))
                        // Cutting connections is the test, not an unhealthy ensemble: keep the breaker out of it.
                        .breakerFailureRateThreshold(100f)
                        .build())
                .build()) {
            List<ZkLease> leases = SessionLeases.oneOnEachSession(pool, WORKERS);
            for (int w = 0; w < WORKERS; w++) {
                workers.get(w).sessionId = leases.get(w).sessionId();
            }
            // Deletes are matched by session and order: each worker must have a session of its own.
            assertThat(workers.stream().map(a -> a.sessionId).distinct().count())
                    .as("one session per worker (sessionsPerEnsemble=%d, one lease each)", WORKERS)
                    .isEqualTo(WORKERS);

            AtomicBoolean rivalRunning = new AtomicBoolean(true);
            Thread rivalThread = new Thread(() -> runRival(rival, rivalRunning, crashes), "rival-" + faults);
            rivalThread.start();
            try {
                // The round starts with every session connected.
                await().atMost(Duration.ofSeconds(30)).until(() -> proxy.clientConnectionCount() >= WORKERS);
                long deadline = System.nanoTime() + ROUND.toNanos();
                Cutter cutter = new Cutter(faults, deadline, cuts);
                Thread cutterThread = new Thread(cutter, "cutter-" + faults);
                List<Thread> threads = new ArrayList<>();
                for (int w = 0; w < WORKERS; w++) {
                    Actor actor = workers.get(w);
                    ZkLease lease = leases.get(w);
                    threads.add(new Thread(
                            () -> runWorker(actor, lease, deadline, cutter, cuts, crashes), actor.name + "-" + faults));
                }
                cutterThread.start();
                threads.forEach(Thread::start);
                for (Thread t : threads) {
                    t.join(ROUND.toMillis() + 60_000);
                    assertThat(t.isAlive())
                            .as("%s finished its round", t.getName())
                            .isFalse();
                }
                cutterThread.join(30_000);
            } finally {
                rivalRunning.set(false);
                rivalThread.join(30_000);
            }
            // The matching of deletes relies on each worker keeping its session for the whole run.
            for (int w = 0; w < WORKERS; w++) {
                assertThat(leases.get(w).sessionId())
                        .as("worker %d kept its session (%s)", w, faults)
                        .isEqualTo(workers.get(w).sessionId);
                leases.get(w).close();
            }
        }
        rivalClient.close();
        // Stopping the server flushes and closes its log (and keeps the data directory until close()).
        server.stop();
        long runMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        TxnLogOracle log = TxnLogOracle.read(server.getTempDirectory());

        List<Actor> everyone = new ArrayList<>(workers);
        everyone.add(rival);
        Map<String, Call> byPayload = new HashMap<>();
        for (Actor actor : everyone) {
            for (Call call : actor.calls) {
                for (String payload : call.payloads) {
                    assertThat(byPayload.put(payload, call))
                            .as("payload %s is unique", payload)
                            .isNull();
                }
            }
        }

        // The rival's history is plain ZooKeeper: if it does not match the log, the test (or its oracle) is wrong.
        List<Finding> oracleBugs = new ArrayList<>();
        checkActor(rival, log, byPayload, oracleBugs, oracleBugs);
        // Transactions of sessions nobody owns would mean the bookkeeping misses a writer.
        Set<Long> known = everyone.stream().map(a -> a.sessionId).collect(Collectors.toSet());
        for (Txn txn : log.txns()) {
            if (txn.applied() && !txn.ops().isEmpty() && !known.contains(txn.sessionId())) {
                oracleBugs.add(new Finding("unknown session", "transaction of a session no actor owns: " + txn));
            }
        }

        List<Finding> contradictions = new ArrayList<>();
        List<Finding> bookkeeping = new ArrayList<>();
        for (Actor worker : workers) {
            checkActor(worker, log, byPayload, contradictions, bookkeeping);
        }
        List<Call> sdkCalls = workers.stream().flatMap(a -> a.calls.stream()).toList();
        Map<Faults, Integer> cutsPerRound = new EnumMap<>(Faults.class);
        cutsPerRound.put(faults, cuts.get());
        String summary = summary(sdkCalls, rival, cutsPerRound, contradictions, log, runMillis);
        System.out.println(summary);
        contradictions.forEach(f -> System.out.println("CONTRADICTION " + faults + " " + f.line()));
        return new Round(faults, workers, rival, cuts.get(), crashes, oracleBugs, bookkeeping, contradictions, summary);
    }

    private void setUpTree(Actor rival) throws Exception {
        ZooKeeper zk = rivalClient.zk();
        List<String> paths = new ArrayList<>(List.of(ROOT, SEQ_PARENT));
        for (int w = 0; w < WORKERS; w++) {
            paths.add(markPath("w" + w));
        }
        for (String path : paths) {
            Call call = rival.next(Type.CREATE, path, -1, null);
            call.returnedPath = zk.create(path, bytes(call.id), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            call.finish(Outcome.OK, "OK");
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The SDK workers

    private static final Type[] WORKER_MIX = {
        Type.CREATE,
        Type.CREATE,
        Type.CREATE,
        Type.CREATE_SEQUENTIAL,
        Type.CREATE_SEQUENTIAL,
        Type.SET_DATA,
        Type.SET_DATA,
        Type.SET_DATA,
        Type.SET_DATA_VERSIONED,
        Type.SET_DATA_VERSIONED,
        Type.SET_DATA_VERSIONED,
        Type.DELETE,
        Type.DELETE,
        Type.DELETE,
        Type.DELETE_VERSIONED,
        Type.DELETE_VERSIONED,
        Type.DELETE_VERSIONED,
        Type.MULTI,
        Type.MULTI,
        Type.MULTI
    };

    private void runWorker(
            Actor actor, ZkLease lease, long deadline, Cutter cutter, AtomicInteger cuts, List<Throwable> crashes) {
        try {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            while (System.nanoTime() < deadline) {
                Type type = WORKER_MIX[rnd.nextInt(WORKER_MIX.length)];
                String key = KEYS.get(rnd.nextInt(KEYS.size()));
                int version = -1;
                if (type == Type.SET_DATA_VERSIONED || type == Type.DELETE_VERSIONED) {
                    version = versionToUse(lease, key, rnd);
                }
                MultiShape shape =
                        type == Type.MULTI ? MultiShape.values()[rnd.nextInt(MultiShape.values().length)] : null;
                String path = type == Type.CREATE_SEQUENTIAL ? SEQ_PARENT + "/n-" : key;
                Call call = actor.next(type, path, version, shape);
                if (rnd.nextInt(3) == 0) {
                    cutter.aboutToSend();
                }
                int cutsBefore = cuts.get();
                write(lease, call);
                call.cutsDuring = cuts.get() - cutsBefore;
                if (type.isDelete()) {
                    Call mark = actor.next(Type.MARK, markPath(actor.name), -1, null);
                    cutsBefore = cuts.get();
                    write(lease, mark);
                    mark.cutsDuring = cuts.get() - cutsBefore;
                }
            }
        } catch (Throwable t) {
            crashes.add(t);
        }
    }

    /** The worker's own node, written by no one else. */
    private static String markPath(String worker) {
        return ROOT + "/" + worker;
    }

    /** The node's current version, or 0 (the version of a re-created node: the ABA case) now and then. */
    private static int versionToUse(ZkLease lease, String key, ThreadLocalRandom rnd) {
        if (rnd.nextInt(4) == 0) {
            return 0;
        }
        try {
            Stat stat = lease.exists(key);
            return stat == null ? 0 : stat.getVersion();
        } catch (ZkException e) {
            return 0;
        }
    }

    private static void write(ZkLease lease, Call call) {
        try {
            switch (call.type) {
                case CREATE:
                    call.returnedPath = lease.create(call.path, bytes(call.id), CreateMode.PERSISTENT);
                    break;
                case CREATE_SEQUENTIAL:
                    call.returnedPath = lease.create(call.path, bytes(call.id), CreateMode.PERSISTENT_SEQUENTIAL);
                    break;
                case SET_DATA:
                case SET_DATA_VERSIONED:
                case MARK:
                    lease.setData(call.path, bytes(call.id), call.version);
                    break;
                case DELETE:
                case DELETE_VERSIONED:
                    lease.delete(call.path, call.version);
                    break;
                default:
                    List<OpResult> results = lease.multi(multiOps(call));
                    call.createdPaths = results.stream()
                            .filter(r -> r instanceof OpResult.CreateResult)
                            .map(r -> ((OpResult.CreateResult) r).getPath())
                            .toList();
            }
            call.finish(Outcome.OK, "OK");
        } catch (ZkConnectionLossException e) {
            call.finish(
                    e.outcomeUnknown() ? Outcome.UNKNOWN : Outcome.FAILED,
                    e.outcomeUnknown() ? "UNKNOWN" : e.code() + "(not applied)");
        } catch (ZkUnavailableException e) {
            call.finish(Outcome.FAILED, "UNAVAILABLE");
        } catch (ZkSessionExpiredException | ZkInterruptedException e) {
            call.finish(Outcome.UNEXPECTED, e.getClass().getSimpleName() + ": " + e.getMessage());
        } catch (ZkException e) {
            if (CONNECTION_CODES.contains(e.code())) {
                // A connection-level code must come as ZkConnectionLossException or ZkUnavailableException.
                call.finish(Outcome.UNEXPECTED, e.getClass().getSimpleName() + " " + e.code() + ": " + e.getMessage());
            } else {
                call.finish(Outcome.FAILED, e.code().name());
            }
        } catch (RuntimeException e) {
            call.finish(Outcome.UNEXPECTED, e.toString());
        }
    }

    private static final Set<Code> CONNECTION_CODES =
            Set.of(Code.CONNECTIONLOSS, Code.OPERATIONTIMEOUT, Code.SESSIONEXPIRED, Code.SESSIONMOVED);

    private static List<Op> multiOps(Call call) {
        List<Op> ops = new ArrayList<>();
        switch (call.shape) {
            case CREATE_THEN_SET:
                ops.add(Op.create(
                        call.path, bytes(call.payloads.get(0)), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
                ops.add(Op.setData(call.path, bytes(call.payloads.get(1)), -1));
                break;
            case REPLACE:
                ops.add(Op.delete(call.path, -1));
                ops.add(Op.create(
                        call.path, bytes(call.payloads.get(0)), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
                break;
            default:
                ops.add(Op.setData(call.path, bytes(call.payloads.get(0)), -1));
                ops.add(Op.create(
                        SEQ_PARENT + "/m-",
                        bytes(call.payloads.get(1)),
                        ZooDefs.Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT_SEQUENTIAL));
        }
        return ops;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The rival: a plain ZooKeeper client on the server's own port, never cut

    private static final Type[] RIVAL_MIX = {
        Type.CREATE,
        Type.CREATE,
        Type.CREATE,
        Type.SET_DATA,
        Type.SET_DATA,
        Type.SET_DATA_VERSIONED,
        Type.SET_DATA_VERSIONED,
        Type.DELETE,
        Type.DELETE,
        Type.DELETE_VERSIONED,
        Type.DELETE_VERSIONED
    };

    private void runRival(Actor rival, AtomicBoolean running, List<Throwable> crashes) {
        ZooKeeper zk = rivalClient.zk();
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        try {
            while (running.get()) {
                String key = KEYS.get(rnd.nextInt(KEYS.size()));
                if (rnd.nextInt(4) == 0) {
                    // ABA: delete and re-create at once, so a retried write meets a new node at version 0.
                    rivalWrite(zk, rival.next(Type.DELETE, key, -1, null));
                    rivalWrite(zk, rival.next(Type.CREATE, key, -1, null));
                } else {
                    Type type = RIVAL_MIX[rnd.nextInt(RIVAL_MIX.length)];
                    int version = -1;
                    if (type == Type.SET_DATA_VERSIONED || type == Type.DELETE_VERSIONED) {
                        Stat stat = zk.exists(key, false);
                        version = stat == null ? 0 : stat.getVersion();
                    }
                    rivalWrite(zk, rival.next(type, key, version, null));
                }
                LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(rnd.nextLong(200, 1500)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            crashes.add(t);
        }
    }

    private static void rivalWrite(ZooKeeper zk, Call call) throws InterruptedException {
        try {
            switch (call.type) {
                case CREATE:
                    call.returnedPath =
                            zk.create(call.path, bytes(call.id), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    break;
                case SET_DATA:
                case SET_DATA_VERSIONED:
                    zk.setData(call.path, bytes(call.id), call.version);
                    break;
                case DELETE:
                case DELETE_VERSIONED:
                    zk.delete(call.path, call.version);
                    break;
                default:
                    throw new IllegalStateException("the rival does not " + call.type);
            }
            call.finish(Outcome.OK, "OK");
        } catch (KeeperException e) {
            boolean lost = e.code() == Code.CONNECTIONLOSS
                    || e.code() == Code.OPERATIONTIMEOUT
                    || e.code() == Code.SESSIONEXPIRED;
            call.finish(lost ? Outcome.UNKNOWN : Outcome.FAILED, e.code().name());
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Checking one actor's history against the log

    /**
     * Payload writes by their payloads; deletes by order within the actor's session (see the class javadoc). SDK lies
     * go to {@code contradictions}; what cannot be an SDK lie (a transaction of the actor's session no call of it can
     * explain, or a payload of this actor in another session) goes to {@code bookkeeping}.
     */
    private static void checkActor(
            Actor actor,
            TxnLogOracle log,
            Map<String, Call> byPayload,
            List<Finding> contradictions,
            List<Finding> bookkeeping) {
        for (Call call : actor.calls) {
            if (!call.type.isDelete()) {
                checkPayloadCall(call, log, actor, contradictions, bookkeeping);
            }
        }
        // The actor's session, in zxid order: anchors (its payload transactions) and the plain deletes between them.
        int lastAnchor = -1;
        List<Txn> gapDeletes = new ArrayList<>();
        for (Txn txn : log.txns()) {
            if (txn.sessionId() != actor.sessionId
                    || !txn.applied()
                    || txn.ops().isEmpty()) {
                continue;
            }
            Call owner = null;
            for (TxnLogOracle.Op op : txn.ops()) {
                Call c = op.payload() == null ? null : byPayload.get(op.payload());
                if (c != null) {
                    owner = c;
                    break;
                }
            }
            if (owner != null) {
                if (!owner.actor.equals(actor.name)) {
                    bookkeeping.add(new Finding(
                            "foreign payload",
                            "session 0x" + Long.toHexString(actor.sessionId) + " of " + actor.name
                                    + " applied a write of " + owner.actor + ": " + txn));
                    continue;
                }
                if (owner.index < lastAnchor) {
                    bookkeeping.add(new Finding(
                            "order",
                            actor.name + ": " + owner.id + " was applied after a write of a later"
                                    + " call (" + actor.name + "-" + lastAnchor
                                    + "); deletes of this session cannot be matched by order: "
                                    + txn));
                    continue;
                }
                checkDeleteGap(actor, lastAnchor, owner.index, gapDeletes, contradictions);
                gapDeletes.clear();
                lastAnchor = owner.index;
            } else if (!txn.multi() && txn.ops().size() == 1 && txn.ops().get(0).type() == OpType.DELETE) {
                gapDeletes.add(txn);
            } else {
                bookkeeping.add(new Finding(
                        "unexplained",
                        "a transaction of " + actor.name + "'s session that none of its calls explains: " + txn));
            }
        }
        checkDeleteGap(actor, lastAnchor, actor.calls.size(), gapDeletes, contradictions);
    }

    private static void checkPayloadCall(
            Call call, TxnLogOracle log, Actor actor, List<Finding> contradictions, List<Finding> bookkeeping) {
        TreeMap<Long, Txn> applied = new TreeMap<>();
        for (String payload : call.payloads) {
            for (Txn txn : log.appliedWithPayload(payload)) {
                applied.put(txn.zxid(), txn);
            }
        }
        for (Txn txn : applied.values()) {
            if (txn.sessionId() != actor.sessionId) {
                bookkeeping.add(new Finding(
                        "foreign session",
                        call.id + " applied by session 0x"
                                + Long.toHexString(txn.sessionId()) + ", not its actor's 0x"
                                + Long.toHexString(actor.sessionId) + ": "
                                + txn));
            }
        }
        int times = applied.size();
        String shown = times == 0 ? "not applied" : "applied " + times + "x: " + applied.values();
        if (times > 1) {
            contradictions.add(new Finding(
                    call.type.label + " reported " + label(call) + ", applied " + times + "x",
                    call + "; log: " + shown));
            return;
        }
        if (call.outcome == Outcome.OK && times == 0) {
            contradictions.add(new Finding(call.type.label + " reported OK, not applied", call + "; log: " + shown));
            return;
        }
        if (call.outcome == Outcome.FAILED && times == 1) {
            contradictions.add(new Finding(
                    call.type.label + " reported " + call.reported + ", applied once", call + "; log: " + shown));
            return;
        }
        if (call.outcome != Outcome.OK || times == 0) {
            return;
        }
        // Reported OK and applied once: it must have been this call's write, as the call describes it.
        Txn txn = applied.firstEntry().getValue();
        String mismatch = null;
        switch (call.type) {
            case CREATE:
            case CREATE_SEQUENTIAL:
                TxnLogOracle.Op create = txn.ops().get(0);
                if (txn.multi() || create.type() != OpType.CREATE) {
                    mismatch = "not a create";
                } else if (!create.path().equals(call.returnedPath)) {
                    mismatch = "created " + create.path() + ", returned " + call.returnedPath;
                }
                break;
            case SET_DATA:
            case SET_DATA_VERSIONED:
            case MARK:
                TxnLogOracle.Op set = txn.ops().get(0);
                if (txn.multi() || set.type() != OpType.SET_DATA || !set.path().equals(call.path)) {
                    mismatch = "not a setData of " + call.path;
                } else if (call.version >= 0 && set.version() != call.version + 1) {
                    mismatch = "the node went to v" + set.version() + ", not v" + (call.version + 1);
                }
                break;
            default:
                List<String> inTxn =
                        txn.ops().stream().map(TxnLogOracle.Op::payload).toList();
                List<String> createdInLog = txn.ops().stream()
                        .filter(op -> op.type() == OpType.CREATE)
                        .map(TxnLogOracle.Op::path)
                        .toList();
                if (!txn.multi() || !inTxn.containsAll(call.payloads)) {
                    mismatch = "not one multi with all of its ops";
                } else if (!createdInLog.equals(call.createdPaths)) {
                    mismatch = "created " + createdInLog + ", returned " + call.createdPaths;
                }
        }
        if (mismatch != null) {
            contradictions.add(new Finding(
                    call.type.label + " reported OK, applied otherwise", call + "; log: " + mismatch + ": " + shown));
        }
    }

    /**
     * The delete calls strictly between calls {@code after} and {@code before} of the actor, and the plain delete
     * transactions its session applied between their anchors: is there an order-preserving assignment that agrees with
     * every reported outcome?
     */
    private static void checkDeleteGap(
            Actor actor, int after, int before, List<Txn> deletes, List<Finding> contradictions) {
        List<Call> calls = actor.calls.subList(after + 1, Math.max(after + 1, before)).stream()
                .filter(c -> c.type.isDelete())
                .toList();
        if (calls.isEmpty() && deletes.isEmpty()) {
            return;
        }
        if (feasible(calls, deletes, -1, 0)) {
            return;
        }
        // No assignment fits. Label it by the one call whose outcome, if it were another, would explain the log (and
        // how often that call would then have been applied); when several could, the gap is labelled as a group.
        int m = deletes.size();
        List<Call> culprits = new ArrayList<>();
        List<String> appliedAs = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            List<String> counts = new ArrayList<>();
            for (int x = 0; x <= m; x++) {
                if (feasible(calls, deletes, i, x)) {
                    counts.add(x == 0 ? "0x" : x == 1 ? "once" : x + "x");
                }
            }
            if (!counts.isEmpty()) {
                culprits.add(calls.get(i));
                appliedAs.add(String.join(" or ", counts));
            }
        }
        String txns = deletes.isEmpty() ? "no delete" : deletes.toString();
        String label;
        String blame;
        if (culprits.size() == 1) {
            Call call = culprits.get(0);
            label = call.type.label + " reported " + label(call) + ", applied " + appliedAs.get(0);
            blame = calls.size() == 1
                    ? ""
                    : " (explained only if " + call.id + " was applied " + appliedAs.get(0) + ")";
        } else if (calls.isEmpty()) {
            label = "delete applied by no delete call";
            blame = "";
        } else {
            label = "deletes reported "
                    + calls.stream().map(WriteHistoryIT::label).toList() + ", " + m
                    + " applied (no single call explains it)";
            blame = culprits.isEmpty()
                    ? ""
                    : " (explained if one of "
                            + culprits.stream().map(c -> c.id).toList() + " was applied " + appliedAs + ")";
        }
        String between = (after < 0 ? "start" : actor.name + "-" + after) + " .. "
                + (before >= actor.calls.size() ? "end" : actor.name + "-" + before);
        contradictions.add(new Finding(
                label,
                calls.stream().map(Call::toString).collect(Collectors.joining("; "))
                        + (calls.isEmpty() ? "(no delete call)" : "") + "; log, session 0x"
                        + Long.toHexString(actor.sessionId)
                        + " between " + between + ": " + txns + blame));
    }

    /**
     * Whether the delete transactions can be assigned, in order, to the delete calls (in order): each transaction to a
     * call it {@linkplain #matches matches}; a call reported OK gets one, a definite failure none, an unknown outcome
     * at most one; except call {@code relaxed} (-1: none), which gets exactly {@code relaxedCount}.
     */
    private static boolean feasible(List<Call> calls, List<Txn> deletes, int relaxed, int relaxedCount) {
        int k = calls.size();
        int m = deletes.size();
        // ok[i][j]: calls i.. and deletes j.. can be assigned.
        boolean[][] ok = new boolean[k + 1][m + 1];
        ok[k][m] = true;
        for (int i = k - 1; i >= 0; i--) {
            Call call = calls.get(i);
            int min = i == relaxed ? relaxedCount : call.outcome == Outcome.OK ? 1 : 0;
            int max = i == relaxed ? relaxedCount : call.outcome == Outcome.FAILED ? 0 : 1;
            for (int j = m; j >= 0; j--) {
                for (int c = min; c <= max && j + c <= m && !ok[i][j]; c++) {
                    boolean all = true;
                    for (int d = j; d < j + c && all; d++) {
                        all = matches(call, deletes.get(d));
                    }
                    ok[i][j] = all && ok[i + 1][j + c];
                }
            }
        }
        return ok[0][0];
    }

    /** Whether the delete call could have made this delete: same path, and any version or the deleted node's. */
    private static boolean matches(Call call, Txn delete) {
        TxnLogOracle.Op op = delete.ops().get(0);
        return op.path().equals(call.path) && (call.version == -1 || call.version == op.version());
    }

    private static String label(Call call) {
        return call.outcome == Outcome.OK || call.outcome == Outcome.UNKNOWN ? call.outcome.name() : call.reported;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Reporting

    private static String summary(
            List<Call> sdkCalls,
            Actor rival,
            Map<Faults, Integer> cutsPerRound,
            List<Finding> contradictions,
            TxnLogOracle log,
            long runMillis) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(
                "WriteHistoryIT: %d SDK write calls by %d workers, %d rival calls, %d transactions in "
                        + "the log, %d ms; cuts per round %s%n",
                sdkCalls.size(), WORKERS, rival.calls.size(), log.txns().size(), runMillis, cutsPerRound));
        out.append(String.format("  %-12s %6s %6s %8s %8s %s%n", "type", "calls", "OK", "unknown", "cut", "failures"));
        for (Type type : Type.values()) {
            List<Call> calls = sdkCalls.stream().filter(c -> c.type == type).toList();
            Map<String, Long> failures = calls.stream()
                    .filter(c -> c.outcome == Outcome.FAILED || c.outcome == Outcome.UNEXPECTED)
                    .collect(Collectors.groupingBy(
                            c -> c.reported.length() > 40 ? c.reported.substring(0, 40) : c.reported,
                            TreeMap::new,
                            Collectors.counting()));
            out.append(String.format(
                    "  %-12s %6d %6d %8d %8d %s%n",
                    type.label,
                    calls.size(),
                    calls.stream().filter(c -> c.outcome == Outcome.OK).count(),
                    calls.stream().filter(c -> c.outcome == Outcome.UNKNOWN).count(),
                    calls.stream().filter(c -> c.cutsDuring > 0).count(),
                    failures));
        }
        Map<String, Long> byLabel = contradictions.stream()
                .collect(Collectors.groupingBy(Finding::label, LinkedHashMap::new, Collectors.counting()));
        out.append("  contradictions: ").append(contradictions.size()).append('\n');
        byLabel.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()))
                .forEach(e -> out.append(String.format("    %4d  %s%n", e.getValue(), e.getKey())));
        return out.toString();
    }

    private static String lines(List<Finding> findings) {
        return findings.stream().map(f -> "  " + f.line() + "\n").collect(Collectors.joining());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
