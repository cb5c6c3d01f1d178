package dev.zksdk.samples;

import dev.zksdk.EphemeralNode;
import dev.zksdk.NodeData;
import dev.zksdk.WatchEvent;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkBadVersionException;
import dev.zksdk.ZkConnectionLossException;
import dev.zksdk.ZkException;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkNodeExistsException;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.cache.CachedNode;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.cache.ZkTreeCache;
import dev.zksdk.hosts.BudgetedZooKeeper;
import dev.zksdk.samples.RegisterChecker.Op;
import dev.zksdk.samples.RegisterChecker.Outcome;
import dev.zksdk.samples.RegisterChecker.State;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Collectors;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * The soak's clients, spread over its pools, each on its own thread and seeded random generator, and what they
 * record for the checks:
 *
 * <ul>
 *   <li><b>register clients</b> read (sync, then getData) and compare-and-set (exists, then versioned setData) a few
 *       registers; their per-key histories go to the {@link RegisterChecker}. They also read without sync, which a
 *       lagging follower may answer with an old value: such a read is left out of the linearizability check, but must
 *       see every write its pool completed before the lease was taken (the SDK's read-your-writes across leases);
 *   <li><b>ledger writers</b> create unique nodes, create sequential nodes, delete nodes they created, run multis of
 *       two creates, and setData (unversioned) a node of their own that every pool watches and caches; the outcomes go
 *       to the {@link WriteLedger};
 *   <li>an <b>ephemeral churner</b> registers {@link EphemeralNode}s (plain and sequential) and closes them, keeping
 *       at least one live once it made one;
 *   <li><b>watchers</b>: a {@link WatchHandle} and a {@link ZkCache} per pool on every ledger writer's node, and a
 *       children watch and a {@link ZkTreeCache} per pool on the ephemerals' directory;
 *   <li><b>lock contenders</b> take a Curator {@link InterProcessMutex} in turn, and <b>candidates</b> run a Curator
 *       {@link LeaderLatch}, each on the {@code curator()} of its own lease; a sampler counts holders and leaders.
 * </ul>
 *
 * <p>Every client but the candidates (whose latches wait on their own) runs under a shared gate that {@link #pause()}
 * closes, so that an audit sees the server and the pools at rest and cuts the histories into short segments.
 * Thread-safe.
 */
final class SoakWorkload {

    static final int REGISTERS = 3;
    /** The operation kind of a register read without sync. */
    static final String UNSYNCED_READ = "read-register-unsynced";
    /** The outcome of such a read that returned a version older than the newest write told ok before it began. */
    static final String STALE = "ok-stale";

    static final int REGISTER_CLIENTS = 4;
    static final int LEDGER_WRITERS = 3;
    static final int MAX_EPHEMERALS = 6;
    static final int CONTENDERS = 3;
    /** A client's pause between calls, as if it did other work; keeps two cores from saturating. */
    static final Duration THINK = Duration.ofMillis(15);
    /** How long a lock holder keeps the lock at most. */
    static final Duration HOLD = Duration.ofMillis(50);
    /**
     * How long two holders (or two leaders) may overlap before it counts, for a session timeout of {@code
     * sessionTimeout}: a holder learns that its session was disconnected or expired only once its client notices that
     * the server went silent, which the SDK bounds by ZooKeeper's read timeout (two thirds of the session timeout) for
     * an idle session and by the hung-server bound (at least 2 s) with requests waiting; then through an event, which
     * takes a moment to arrive, and the sampler's period. So the larger of the two plus 1 s. (A grace of 2 s flat, the
     * hung-server bound itself, raced it: a session expired on the servers while its own server was frozen was left at
     * 2,002 ms of silence, and the overlap of its leader with the new one was judged at 2,000 ms, CI 2026-12-07.)
     */
    static Duration overlapGrace(Duration sessionTimeout) {
        Duration readTimeout = sessionTimeout.multipliedBy(2).dividedBy(3);
        Duration noticed = readTimeout.compareTo(Duration.ofSeconds(2)) > 0 ? readTimeout : Duration.ofSeconds(2);
        return noticed.plusSeconds(1);
    }
    /** How long a watcher keeps trying to re-read a node after an event, and how long it pauses between tries. */
    static final Duration REREAD_PATIENCE = Duration.ofSeconds(30);

    static final Duration REREAD_PAUSE = Duration.ofMillis(200);
    /** How often the sampler looks at lock holders and leaders. */
    static final Duration SAMPLE_EVERY = Duration.ofMillis(50);

    private final Duration overlapGrace;
    private final List<ZkSessionPool> pools;
    private final List<SessionTracker> trackers;
    private final String base;
    private final long seed;
    private final SoakRecorder recorder;
    private final WriteLedger ledger = new WriteLedger();
    private volatile RegisterChecker checker = new RegisterChecker();
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock(true);
    private final AtomicBoolean running = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicInteger opIds = new AtomicInteger();

    // Registers: the segment of history since the last audit, and the state it started from.
    private final Map<String, List<Op>> histories = new ConcurrentHashMap<>();
    private final Map<String, State> segmentStart = new ConcurrentHashMap<>();
    /** Per register operation of the current segments: when, on which session and server, at which zxids. */
    private final Map<Integer, String> traces = new ConcurrentHashMap<>();

    private volatile long inconclusiveSegments;
    /** The floors of the registers' reads without sync. */
    private final ReadFloors floors;

    // Ledger: the current epoch directory; counters' versions when first written.
    private volatile int epoch;
    private final Map<String, Integer> counterStart = new ConcurrentHashMap<>();

    // Ephemerals: live handles by registration name, with their pool; closed and failed registration names.
    private final Map<String, Registration> live = new ConcurrentHashMap<>();
    private final Set<String> closed = ConcurrentHashMap.newKeySet();
    private final Map<String, String> failedRegistrations = new ConcurrentHashMap<>();

    // Watches and caches, per watched path and pool.
    private final Map<String, AtomicReferenceArray<String>> lastSeenByWatch = new ConcurrentHashMap<>();
    private final List<ZkCache> caches = new ArrayList<>();
    private final List<WatchHandle> watches = new ArrayList<>();
    private final List<ZkLease> watchLeases = new ArrayList<>();
    private final List<ExecutorService> rereaders = new ArrayList<>();
    // The ephemerals' directory: what each pool's children watch last read, and each pool's tree cache.
    private final AtomicReferenceArray<List<String>> lastChildrenSeen;
    private final List<ZkTreeCache> treeCaches = new ArrayList<>();
    private final List<WatchHandle> childrenWatches = new ArrayList<>();

    // Locks and leaders.
    private final List<Contender> contenders = new ArrayList<>();
    private final List<Candidate> candidates = new ArrayList<>();
    private final AtomicLong lockAcquisitions = new AtomicLong();
    private long overlapSince;
    private long leadersOverlapSince;

    private ZkLease admin;

    record Registration(EphemeralNode node, int pool, String name) {}

    SoakWorkload(
            List<ZkSessionPool> pools,
            List<SessionTracker> trackers,
            String base,
            long seed,
            SoakRecorder recorder,
            Duration sessionTimeout) {
        this.overlapGrace = overlapGrace(sessionTimeout);
        this.pools = pools;
        this.trackers = trackers;
        this.base = base;
        this.seed = seed;
        this.recorder = recorder;
        this.lastChildrenSeen = new AtomicReferenceArray<>(pools.size());
        this.floors = new ReadFloors(pools.size());
    }

    String registerPath(int k) {
        return base + "/registers/r" + k;
    }

    String watchedPath(int writer) {
        return base + "/watched/w" + writer;
    }

    private String epochPath(int e) {
        return base + "/ledger/e" + e;
    }

    private String ephemeralDir() {
        return base + "/ephemerals";
    }

    /** Creates the soak's nodes, arms the watches and caches, and starts every client. */
    void start() throws Exception {
        admin = pools.get(0).lease();
        admin.create(base, new byte[0], CreateMode.PERSISTENT);
        for (String dir : List.of("/registers", "/watched", "/ledger", "/ephemerals", "/locks", "/leader")) {
            admin.create(base + dir, new byte[0], CreateMode.PERSISTENT);
        }
        for (int k = 0; k < REGISTERS; k++) {
            admin.create(registerPath(k), bytes("init"), CreateMode.PERSISTENT);
            histories.put(registerPath(k), Collections.synchronizedList(new ArrayList<>()));
            segmentStart.put(registerPath(k), new State("init", 0));
            floors.initial(registerPath(k), "init", 0);
        }
        admin.create(epochPath(0), new byte[0], CreateMode.PERSISTENT);
        for (int w = 0; w < LEDGER_WRITERS; w++) {
            String path = watchedPath(w);
            admin.create(path, bytes("w" + w + "-0"), CreateMode.PERSISTENT);
            counterStart.put(path, 0);
            lastSeenByWatch.put(path, new AtomicReferenceArray<>(pools.size()));
        }
        for (int p = 0; p < pools.size(); p++) {
            int pool = p;
            ExecutorService rereader = Executors.newSingleThreadExecutor(r -> daemon(r, "soak-client-reread-" + pool));
            rereaders.add(rereader);
            ZkLease lease = pools.get(p).lease();
            watchLeases.add(lease);
            for (int w = 0; w < LEDGER_WRITERS; w++) {
                String path = watchedPath(w);
                watches.add(lease.watch(path, event -> {
                    if (event.type() == WatchEvent.Type.DATA_CHANGED
                            || event.type() == WatchEvent.Type.RESYNC
                            || event.type() == WatchEvent.Type.CREATED) {
                        // Listeners must not block: re-read on the pool's re-reader, through the watch's own lease.
                        rereader.execute(() -> reread(lease, path, pool));
                    }
                }));
                rereader.execute(() -> reread(lease, path, pool));
                caches.add(lease.cache(path));
            }
            childrenWatches.add(lease.watchChildren(ephemeralDir(), event -> {
                if (event.type() == WatchEvent.Type.CHILDREN_CHANGED || event.type() == WatchEvent.Type.RESYNC) {
                    rereader.execute(() -> rereadChildren(lease, pool));
                }
            }));
            rereader.execute(() -> rereadChildren(lease, pool));
            treeCaches.add(lease.treeCache(ephemeralDir()));
        }
        running.set(true);
        for (int c = 0; c < REGISTER_CLIENTS; c++) {
            int client = c;
            spawn("soak-client-register-" + c, () -> registerClient(client));
        }
        for (int w = 0; w < LEDGER_WRITERS; w++) {
            int writer = w;
            spawn("soak-client-writer-" + w, () -> ledgerWriter(writer));
        }
        spawn("soak-client-ephemerals", this::ephemeralChurner);
        for (int c = 0; c < CONTENDERS; c++) {
            ZkLease lease = pools.get(c % pools.size()).lease();
            Contender contender = new Contender("contender-" + c, c % pools.size(), lease);
            contenders.add(contender);
            spawn("soak-client-lock-" + c, contender::run);
            Candidate candidate =
                    new Candidate("candidate-" + c, pools.get(c % pools.size()).lease());
            candidates.add(candidate);
            candidate.latch.start();
        }
        spawn("soak-client-sampler", this::sampler);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private void spawn(String name, Runnable body) {
        Thread t = daemon(
                () -> {
                    try {
                        body.run();
                    } catch (RuntimeException e) {
                        recorder.violation("client threads", name + " died: " + e + " at " + where(e));
                    }
                },
                name);
        threads.add(t);
        t.start();
    }

    /** The first frames of a stack, for a message. */
    private static String where(Throwable e) {
        return Arrays.stream(e.getStackTrace())
                .limit(12)
                .map(StackTraceElement::toString)
                .collect(Collectors.joining(" < "));
    }

    private Random random(String client) {
        return new Random(seed * 31 + client.hashCode());
    }

    private boolean think(Random random) {
        try {
            TimeUnit.MILLISECONDS.sleep(THINK.toMillis() / 2 + random.nextInt((int) THINK.toMillis()));
            return running.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private ZkSessionPool pool(Random random) {
        return pools.get(random.nextInt(pools.size()));
    }

    /** The outcome a call's exception reports: unknown when it says so, otherwise a definite failure. */
    static Outcome outcomeOf(ZkException e) {
        return e instanceof ZkConnectionLossException loss && loss.outcomeUnknown() ? Outcome.UNKNOWN : Outcome.FAILED;
    }

    private static String name(Outcome o) {
        return o.name().toLowerCase(Locale.ROOT);
    }

    // ---------------------------------------------------------------- registers

    private void registerClient(int index) {
        String client = "register-" + index;
        Random random = random(client);
        int n = 0;
        while (think(random)) {
            gate.readLock().lock();
            int pool = random.nextInt(pools.size());
            String path = registerPath(random.nextInt(REGISTERS));
            int roll = random.nextInt(6);
            // Taken before the lease: the writes of this pool the lease must see, and the newest of any pool.
            int floor = floors.floor(path, pool);
            int newest = floors.newest(path);
            try (ZkLease lease = pools.get(pool).lease()) {
                if (roll < 2) {
                    readRegister(lease, path, client);
                } else if (roll < 3) {
                    readUnsynced(lease, path, pool, floor, newest);
                } else {
                    casRegister(lease, path, pool, client, client + "-" + n++);
                }
            } catch (ZkException e) {
                // pool.lease() fails fast while the ensemble is known unreachable: nothing was sent.
                recorder.operation("lease", "failed");
            } finally {
                gate.readLock().unlock();
            }
        }
    }

    private void readRegister(ZkLease lease, String path, String client) {
        long invoked = System.nanoTime();
        try {
            // A plain read may come from a follower behind the leader (ZooKeeper reads are sequentially consistent):
            // sync first, so that the read reflects every write completed before it began.
            lease.sync(path);
            String synced = where(lease);
            NodeData node = lease.getNode(path);
            long completed = System.nanoTime();
            Op op = Op.read(opIds.incrementAndGet(), client, invoked, completed, text(node.data()), node.version());
            traces.put(
                    op.id(),
                    String.format(
                            Locale.ROOT,
                            "%.3f-%.3f s; after the sync %s; the read: mzxid 0x%x, then %s",
                            recorder.at(invoked),
                            recorder.at(completed),
                            synced,
                            node.stat().getMzxid(),
                            where(lease)));
            histories.get(path).add(op);
            recorder.operation("read-register", "ok");
        } catch (ZkException e) {
            recorder.operation("read-register", "failed");
        }
    }

    /**
     * Where {@code lease}'s session is, for a violation's report: its id, the server its handle holds, and the zxid of
     * the handle's newest reply (of this lease's call or a later one on the same session, so an upper bound of what
     * the call's server had applied when it answered).
     */
    private static String where(ZkLease lease) {
        try {
            ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
            if (zk instanceof BudgetedZooKeeper budgeted) {
                return String.format(
                        Locale.ROOT,
                        "session 0x%x on %s, handle's last zxid 0x%x",
                        zk.getSessionId(),
                        budgeted.weightedHostProvider().currentServer(),
                        budgeted.lastZxid());
            }
            return String.format(Locale.ROOT, "session 0x%x", zk.getSessionId());
        } catch (Exception e) {
            return "session not known (" + e.getClass().getSimpleName() + ")";
        }
    }

    /**
     * A read without sync: a member behind the leader may answer it with an old value, so it is not part of the
     * linearizable history; but it must not be older than {@code floor}, the newest write of its pool completed before
     * its lease was taken. One older than {@code newest} (another pool's write, completed before) is counted as
     * {@code ok-stale}: the slowed quorum link at work.
     */
    private void readUnsynced(ZkLease lease, String path, int pool, int floor, int newest) {
        try {
            NodeData node = lease.getNode(path);
            recorder.operation(UNSYNCED_READ, node.version() < newest ? STALE : "ok");
            String problem = floors.read(path, pool, lease.sessionId(), floor, text(node.data()), node.version());
            if (problem != null) {
                recorder.violation("read-your-writes", problem);
            }
        } catch (ZkException e) {
            recorder.operation(UNSYNCED_READ, "failed");
        }
    }

    private void casRegister(ZkLease lease, String path, int pool, String client, String value) {
        Stat before;
        try {
            before = lease.exists(path);
            recorder.operation("exists", "ok");
        } catch (ZkException e) {
            recorder.operation("exists", "failed");
            return;
        }
        int expected = before.getVersion();
        long invoked = System.nanoTime();
        Outcome outcome;
        int version = -1;
        Stat written = null;
        boolean badVersion = false;
        // Announced before it is sent: a read without sync may see it before the call returns.
        floors.sending(path, value, expected + 1);
        try {
            written = lease.setData(path, bytes(value), expected);
            version = written.getVersion();
            outcome = Outcome.OK;
            floors.written(path, pool, version);
        } catch (ZkBadVersionException e) {
            outcome = Outcome.FAILED;
            badVersion = true;
        } catch (ZkException e) {
            outcome = outcomeOf(e);
        }
        floors.sent(path, value, expected + 1, outcome);
        if (outcome == Outcome.FAILED && !badVersion) {
            // Provably not applied, without a server verdict on the version: left out of the history, so that its
            // value must never be seen.
            recorder.operation("setData-versioned", "failed");
            return;
        }
        long completed = System.nanoTime();
        Op op = Op.write(opIds.incrementAndGet(), client, invoked, completed, expected, value, outcome, version);
        traces.put(
                op.id(),
                String.format(
                        Locale.ROOT,
                        "%.3f-%.3f s; %s%s",
                        recorder.at(invoked),
                        recorder.at(completed),
                        written == null ? "" : "mzxid 0x" + Long.toHexString(written.getMzxid()) + ", then ",
                        where(lease)));
        histories.get(path).add(op);
        recorder.operation("setData-versioned", name(outcome));
    }

    // ---------------------------------------------------------------- ledger

    private void ledgerWriter(int index) {
        String client = "writer-" + index;
        Random random = random(client);
        List<String> mine = new ArrayList<>();
        int myEpoch = -1;
        int n = 0;
        while (think(random)) {
            gate.readLock().lock();
            try (ZkLease lease = pool(random).lease()) {
                int e = epoch;
                if (e != myEpoch) {
                    mine.clear();
                    myEpoch = e;
                }
                String dir = epochPath(e);
                int roll = random.nextInt(100);
                String id = index + "-" + n++;
                if (roll < 30) {
                    create(lease, e, dir, "c-" + id, client, mine);
                } else if (roll < 50) {
                    sequential(lease, e, dir, "s-" + id + "-", client);
                } else if (roll < 65 && !mine.isEmpty()) {
                    delete(lease, e, dir, mine.remove(random.nextInt(mine.size())), client);
                } else if (roll < 80) {
                    multi(lease, e, dir, "m-" + id, client);
                } else {
                    setWatched(lease, index, client + "-" + id);
                }
            } catch (ZkException e) {
                recorder.operation("lease", "failed");
            } finally {
                gate.readLock().unlock();
            }
        }
    }

    /** Runs one write and returns its outcome as the SDK reported it. */
    private static Outcome attempt(Runnable write) {
        try {
            write.run();
            return Outcome.OK;
        } catch (ZkException ex) {
            return outcomeOf(ex);
        }
    }

    /** Records a ledger write of epoch {@code e} and counts it. */
    private void record(int e, String kind, WriteLedger.Entry entry) {
        ledger.record(e, entry);
        recorder.operation(kind, name(entry.outcome()));
    }

    private void create(ZkLease lease, int e, String dir, String name, String client, List<String> mine) {
        Outcome outcome = attempt(() -> lease.create(dir + "/" + name, bytes(client), CreateMode.PERSISTENT));
        if (outcome == Outcome.OK) {
            mine.add(name);
        }
        record(e, "create", new WriteLedger.Entry(WriteLedger.Kind.CREATE, name, null, outcome, client));
    }

    private void sequential(ZkLease lease, int e, String dir, String prefix, String client) {
        String[] made = new String[1];
        Outcome outcome = attempt(() -> {
            String path = lease.create(dir + "/" + prefix, bytes(client), CreateMode.PERSISTENT_SEQUENTIAL);
            made[0] = path.substring(path.lastIndexOf('/') + 1);
        });
        record(
                e,
                "create-sequential",
                new WriteLedger.Entry(WriteLedger.Kind.SEQUENTIAL, prefix, made[0], outcome, client));
    }

    private void delete(ZkLease lease, int e, String dir, String name, String client) {
        Outcome outcome = attempt(() -> lease.delete(dir + "/" + name, -1));
        record(e, "delete", new WriteLedger.Entry(WriteLedger.Kind.DELETE, name, null, outcome, client));
    }

    private void multi(ZkLease lease, int e, String dir, String name, String client) {
        Outcome outcome = attempt(() -> lease.multi(List.of(
                org.apache.zookeeper.Op.create(
                        dir + "/" + name + "-a", bytes(client), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                org.apache.zookeeper.Op.create(
                        dir + "/" + name + "-b", bytes(client), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT))));
        record(e, "multi", new WriteLedger.Entry(WriteLedger.Kind.MULTI, name + "-a", name + "-b", outcome, client));
    }

    private void setWatched(ZkLease lease, int writer, String value) {
        String path = watchedPath(writer);
        Outcome outcome = attempt(() -> lease.setData(path, bytes(value), -1));
        ledger.recordSetData(path, outcome);
        recorder.operation("setData-unversioned", name(outcome));
    }

    // ---------------------------------------------------------------- ephemerals

    private void ephemeralChurner() {
        Random random = random("ephemerals");
        int n = 0;
        while (think(random)) {
            gate.readLock().lock();
            try {
                if (live.size() < MAX_EPHEMERALS && (live.isEmpty() || random.nextInt(3) > 0)) {
                    int pool = random.nextInt(pools.size());
                    boolean sequential = random.nextInt(3) == 0;
                    String name = (sequential ? "q-" : "r-") + n++ + (sequential ? "-" : "");
                    try (ZkLease lease = pools.get(pool).lease()) {
                        EphemeralNode node = lease.ephemeral(
                                ephemeralDir() + "/" + name,
                                bytes(name),
                                sequential ? CreateMode.EPHEMERAL_SEQUENTIAL : CreateMode.EPHEMERAL);
                        live.put(name, new Registration(node, pool, name));
                        recorder.operation("ephemeral-register", "ok");
                    } catch (ZkException e) {
                        Outcome outcome = outcomeOf(e);
                        failedRegistrations.put(
                                name,
                                e.getClass().getSimpleName()
                                        + (outcome == Outcome.UNKNOWN ? " (outcome unknown)" : ""));
                        recorder.operation("ephemeral-register", name(outcome));
                    }
                } else if (live.size() > 1) {
                    // One registration always stays live once made: every audit has one to check (a run that
                    // happened to close its last one before the final audit checked none).
                    List<String> names = new ArrayList<>(live.keySet());
                    names.sort(null);
                    Registration r = live.remove(names.get(random.nextInt(names.size())));
                    closed.add(r.name());
                    try {
                        r.node().close();
                        recorder.operation("ephemeral-close", "ok");
                    } catch (ZkException e) {
                        recorder.operation("ephemeral-close", name(outcomeOf(e)));
                    }
                }
            } finally {
                gate.readLock().unlock();
            }
        }
    }

    // ---------------------------------------------------------------- watches

    /** Re-reads a watched node after an event, as an application does (see {@link #untilRead}). */
    private void reread(ZkLease lease, String path, int pool) {
        AtomicReferenceArray<String> seen = lastSeenByWatch.get(path);
        untilRead(() -> seen.set(pool, text(lease.getData(path))), () -> seen.get(pool) == null);
    }

    /** Re-reads the ephemerals' directory after a children event. */
    private void rereadChildren(ZkLease lease, int pool) {
        untilRead(
                () -> {
                    List<String> children = new ArrayList<>(lease.getChildren(ephemeralDir()));
                    children.sort(null);
                    lastChildrenSeen.set(pool, List.copyOf(children));
                },
                () -> lastChildrenSeen.get(pool) == null);
    }

    /**
     * Runs {@code read}; a read that fails under a fault is tried again for a while, since the event that asked for it
     * will not come again. After close nothing needs reading, unless nothing was ever read.
     */
    private void untilRead(Runnable read, java.util.function.BooleanSupplier neverRead) {
        long deadline = System.nanoTime() + REREAD_PATIENCE.toNanos();
        while (running.get() || neverRead.getAsBoolean()) {
            try {
                read.run();
                return;
            } catch (ZkException e) {
                if (System.nanoTime() - deadline > 0) {
                    return;
                }
                try {
                    TimeUnit.MILLISECONDS.sleep(REREAD_PAUSE.toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            } catch (IllegalStateException closed) {
                return;
            }
        }
    }

    // ---------------------------------------------------------------- locks and leaders

    /** Takes the mutex in turn; counts as a holder only while its session has not been disrupted since it took it. */
    private final class Contender {
        final String name;
        final int pool;
        final ZkLease lease;
        final InterProcessMutex mutex;
        volatile long heldSince;
        volatile long sessionId;
        volatile long disruptionsAtAcquire = -1;

        Contender(String name, int pool, ZkLease lease) {
            this.name = name;
            this.pool = pool;
            this.lease = lease;
            this.mutex = new InterProcessMutex(lease.curator(), base + "/locks/mutex");
        }

        void run() {
            Random random = random(name);
            while (think(random)) {
                boolean acquired = false;
                // Under the gate too, so that an audit's growth sample sees the pools at rest.
                gate.readLock().lock();
                try {
                    long sid = lease.sessionId();
                    long disruptions = trackers.get(pool).disruptionsOf(sid);
                    if (!mutex.acquire(HOLD.toMillis() * CONTENDERS * 4, TimeUnit.MILLISECONDS)) {
                        continue;
                    }
                    acquired = true;
                    sessionId = sid;
                    disruptionsAtAcquire = disruptions;
                    heldSince = System.nanoTime();
                    lockAcquisitions.incrementAndGet();
                    recorder.operation("mutex-acquire", "ok");
                    TimeUnit.MILLISECONDS.sleep(1 + random.nextInt((int) HOLD.toMillis()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (Exception e) {
                    recorder.operation("mutex-acquire", "failed");
                } finally {
                    disruptionsAtAcquire = -1;
                    if (acquired) {
                        try {
                            mutex.release();
                        } catch (Exception e) {
                            // Lost with the session: the server removed the lock node, or will.
                        }
                    }
                    gate.readLock().unlock();
                }
            }
        }

        /** Holds the lock as far as it can know: took it, and its session has stayed connected, undisturbed, since. */
        boolean validHolder() {
            long at = disruptionsAtAcquire;
            return at != -1 && trackers.get(pool).disruptionsOf(sessionId) == at;
        }
    }

    /** A leader-election candidate. */
    private final class Candidate {
        final String name;
        final ZkLease lease;
        final LeaderLatch latch;

        Candidate(String name, ZkLease lease) {
            this.name = name;
            this.lease = lease;
            this.latch = new LeaderLatch(lease.curator(), base + "/leader", name);
        }
    }

    private void sampler() {
        while (running.get()) {
            try {
                TimeUnit.MILLISECONDS.sleep(SAMPLE_EVERY.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            List<String> holders = contenders.stream()
                    .filter(Contender::validHolder)
                    .map(c -> c.name)
                    .toList();
            List<String> leaders = candidates.stream()
                    .filter(c -> c.latch.hasLeadership())
                    .map(c -> c.name)
                    .toList();
            long now = System.nanoTime();
            overlapSince = judge("mutual exclusion", "lock holders", holders, overlapSince, now);
            leadersOverlapSince = judge("single leader", "leaders", leaders, leadersOverlapSince, now);
        }
    }

    /** Reports a violation when {@code who} has held more than one name for longer than the grace. */
    private long judge(String check, String what, List<String> who, long since, long now) {
        if (who.size() <= 1) {
            return 0;
        }
        if (since == 0) {
            return now;
        }
        if (since != -1 && now - since > overlapGrace.toNanos()) {
            recorder.violation(
                    check,
                    String.format(
                            Locale.ROOT,
                            "%d %s at once for over %d ms, each on a connected session it has not lost since: %s",
                            who.size(),
                            what,
                            overlapGrace.toMillis(),
                            who));
            // One report per overlap.
            return -1;
        }
        return since;
    }

    long lockAcquisitions() {
        return lockAcquisitions.get();
    }

    // ---------------------------------------------------------------- audit

    /** Closes the gate: returns once no gated client is inside a call (each call ends by its operation timeout). */
    void pause() {
        gate.writeLock().lock();
    }

    void resume() {
        gate.writeLock().unlock();
    }

    /**
     * Checks, while paused, every register's history since the last audit, and every ledger write of the current epoch
     * and the watched nodes' versions; then starts a new epoch. Reports through the recorder; returns the number of
     * problems found.
     */
    int auditWrites(ZkLease lease) {
        // Everything is read before anything is changed, so that a read failing under a lingering fault can be retried
        // without losing a history. The clients are paused: a value and its version, read apart, still agree.
        Map<String, State> registers = new LinkedHashMap<>();
        Map<String, long[]> readTimes = new HashMap<>();
        for (int k = 0; k < REGISTERS; k++) {
            String path = registerPath(k);
            lease.sync(path);
            long invoked = System.nanoTime();
            String value = text(lease.getData(path));
            int version = lease.exists(path).getVersion();
            readTimes.put(path, new long[] {invoked, System.nanoTime()});
            registers.put(path, new State(value, version));
        }
        int e = epoch;
        List<String> children = lease.getChildren(epochPath(e));
        Map<String, Integer> counters = new HashMap<>();
        for (int w = 0; w < LEDGER_WRITERS; w++) {
            counters.put(watchedPath(w), lease.exists(watchedPath(w)).getVersion());
        }
        try {
            lease.create(epochPath(e + 1), new byte[0], CreateMode.PERSISTENT);
        } catch (ZkNodeExistsException ex) {
            // Made by an earlier attempt of this audit whose answer was lost.
        }

        int problems = 0;
        for (Map.Entry<String, State> register : registers.entrySet()) {
            String path = register.getKey();
            long[] times = readTimes.get(path);
            List<Op> history;
            synchronized (histories.get(path)) {
                history = new ArrayList<>(histories.get(path));
                histories.get(path).clear();
            }
            State now = register.getValue();
            history.add(Op.read(opIds.incrementAndGet(), "auditor", times[0], times[1], now.value(), now.version()));
            RegisterChecker.Result result = checker.check(segmentStart.get(path), history);
            Map<Integer, String> traced = new HashMap<>();
            for (Op op : history) {
                String trace = traces.remove(op.id());
                if (trace != null && result.violation() && result.involved().contains(op)) {
                    traced.put(op.id(), trace);
                }
            }
            if (result.violation()) {
                problems++;
                StringBuilder where = new StringBuilder(result.explanation());
                for (Op op : result.involved()) {
                    where.append("; #").append(op.id()).append(": ").append(traced.getOrDefault(op.id(), "auditor"));
                }
                recorder.violation("linearizability of " + path, where.toString());
            } else if (!result.conclusive()) {
                inconclusiveSegments++;
                recorder.say("register %s: %s", path, result.explanation());
            }
            segmentStart.put(path, now);
        }
        for (String p : floors.verifyReads()) {
            problems++;
            recorder.violation("reads without sync", p);
        }
        for (String p : ledger.verifyEpoch(e, new HashSet<>(children))) {
            problems++;
            recorder.violation("write outcomes", p);
        }
        for (Map.Entry<String, Integer> counter : counters.entrySet()) {
            String p = ledger.verifyCounter(counter.getKey(), counterStart.get(counter.getKey()), counter.getValue());
            if (p != null) {
                problems++;
                recorder.violation("write outcomes", p);
            }
        }
        epoch = e + 1;
        return problems;
    }

    /**
     * Removes the directory of the epoch the last {@link #auditWrites} checked: one delete per node, seconds for a long
     * epoch on a loaded machine, so it is done after the audit has measured convergence, not within it.
     */
    void removeAuditedEpoch(ZkLease lease) {
        String audited = epochPath(epoch - 1);
        try {
            lease.curator().delete().deletingChildrenIfNeeded().forPath(audited);
        } catch (Exception ex) {
            recorder.say("could not remove the audited %s: %s", audited, ex);
        }
    }

    /**
     * What is wrong with the ephemerals now: a live registration missing, twice, or owned by a session that is not a
     * live one of its pool; a closed one (or a failed registration) still there. Empty when all is as it should be.
     */
    List<String> ephemeralProblems(ZkLease lease) {
        List<String> problems = new ArrayList<>();
        List<String> children = lease.getChildren(ephemeralDir());
        Map<String, List<String>> byRegistration = new HashMap<>();
        for (String child : children) {
            byRegistration
                    .computeIfAbsent(registrationOf(child), k -> new ArrayList<>())
                    .add(child);
        }
        for (Registration r : live.values()) {
            List<String> nodes = byRegistration.getOrDefault(r.name(), List.of());
            if (nodes.isEmpty()) {
                problems.add("live " + r.name() + " (pool " + r.pool() + ") is missing on the server");
                continue;
            }
            if (nodes.size() > 1) {
                problems.add("live " + r.name() + " exists " + nodes.size() + " times: " + nodes);
            }
            String current = r.node().path();
            String node = nodes.get(0);
            if (!current.endsWith("/" + node)) {
                problems.add("live " + r.name() + " is at " + node + " on the server, the handle says " + current);
            }
            Stat stat = lease.exists(ephemeralDir() + "/" + node);
            if (stat != null && !trackers.get(r.pool()).isLiveAndConnected(stat.getEphemeralOwner())) {
                problems.add(String.format(
                        Locale.ROOT,
                        "live %s is owned by 0x%x, not a live session of its pool (%s)",
                        r.name(),
                        stat.getEphemeralOwner(),
                        trackers.get(r.pool()).describe()));
            }
        }
        for (String name : closed) {
            if (byRegistration.containsKey(name)) {
                problems.add("closed " + name + " is still on the server: " + byRegistration.get(name));
            }
        }
        for (Map.Entry<String, String> failed : failedRegistrations.entrySet()) {
            if (byRegistration.containsKey(failed.getKey())) {
                problems.add("registration " + failed.getKey() + " failed with " + failed.getValue()
                        + ", yet its node is on the server, owned by nobody's handle: "
                        + byRegistration.get(failed.getKey()));
            }
        }
        for (String registration : byRegistration.keySet()) {
            if (!live.containsKey(registration)
                    && !closed.contains(registration)
                    && !failedRegistrations.containsKey(registration)) {
                problems.add("node(s) of no registration: " + byRegistration.get(registration));
            }
        }
        return problems;
    }

    /** {@code r-3} for {@code r-3}; {@code q-4-} for {@code q-4-0000000012} (after any protection prefix). */
    private static String registrationOf(String child) {
        String name = WriteLedger.unprotected(child);
        return name.startsWith("q-") ? name.substring(0, name.lastIndexOf('-') + 1) : name;
    }

    /** What the watches and caches disagree with the server on now; empty when every one has converged. */
    List<String> watchProblems(ZkLease lease) {
        List<String> problems = new ArrayList<>();
        Map<String, String> server = new LinkedHashMap<>();
        Map<String, Integer> versions = new HashMap<>();
        for (int w = 0; w < LEDGER_WRITERS; w++) {
            String path = watchedPath(w);
            server.put(path, text(lease.getData(path)));
            versions.put(path, lease.exists(path).getVersion());
        }
        for (Map.Entry<String, String> e : server.entrySet()) {
            AtomicReferenceArray<String> seen = lastSeenByWatch.get(e.getKey());
            for (int p = 0; p < seen.length(); p++) {
                if (!e.getValue().equals(seen.get(p))) {
                    problems.add("the watch of pool " + p + " on " + e.getKey() + " last led to " + seen.get(p)
                            + ", the server has " + e.getValue());
                }
            }
        }
        List<String> children = new ArrayList<>(lease.getChildren(ephemeralDir()));
        children.sort(null);
        for (int p = 0; p < lastChildrenSeen.length(); p++) {
            if (!children.equals(lastChildrenSeen.get(p))) {
                problems.add("the children watch of pool " + p + " on " + ephemeralDir() + " last led to "
                        + lastChildrenSeen.get(p) + ", the server has " + children);
            }
        }
        for (ZkTreeCache tree : treeCaches) {
            try {
                List<String> cached = tree.getChildren(ephemeralDir());
                if (!children.equals(cached)) {
                    problems.add(
                            "a tree cache of " + ephemeralDir() + " lists " + cached + ", the server has " + children);
                }
            } catch (ZkException e) {
                problems.add("a tree cache of " + ephemeralDir() + " cannot read: " + e.getMessage());
            }
        }
        for (ZkCache cache : caches) {
            String path = cache.path();
            try {
                CachedNode node = cache.get();
                if (node == null || node.version() != versions.get(path)) {
                    problems.add("a cache of " + path + " serves "
                            + (node == null ? "no node" : text(node.data()) + "@v" + node.version())
                            + ", the server has " + server.get(path) + "@v" + versions.get(path));
                }
            } catch (ZkException e) {
                problems.add("a cache of " + path + " cannot read: " + e.getMessage());
            }
        }
        return problems;
    }

    /**
     * Forgets the closed and failed registrations the last {@link #ephemeralProblems} found gone, so that a long run
     * does not keep them all: should one of their nodes come back, it is a node of no registration, still reported.
     */
    void forgetSettledEphemerals() {
        closed.clear();
        failedRegistrations.clear();
    }

    /** How many registrations are live now. */
    int liveEphemerals() {
        return live.size();
    }

    /** The live registrations by name, as the soak believes them to be (a test closes one behind its back). */
    Map<String, Registration> liveRegistrations() {
        return Collections.unmodifiableMap(live);
    }

    /** The children watches of the ephemerals' directory, one per pool (a test closes them behind the soak's back). */
    List<WatchHandle> childrenWatches() {
        return Collections.unmodifiableList(childrenWatches);
    }

    /** The directory of the current epoch's ledger writes, audited at the next audit (a test deletes one of them). */
    String currentEpochPath() {
        return epochPath(epoch);
    }

    /** The read-your-writes floors the register clients keep (a test raises one behind the soak's back). */
    ReadFloors floors() {
        return floors;
    }

    /**
     * One read of {@code path} without sync on {@code lease}, taken as one of {@code pool}'s, counted and checked as a
     * register client's is, with the floors as they are now (a test's seam).
     */
    void readUnsyncedNow(ZkLease lease, String path, int pool) {
        readUnsynced(lease, path, pool, floors.floor(path, pool), floors.newest(path));
    }

    /** Checks the register segments from now on with {@code checker} (a test gives one a tiny search limit). */
    void checkRegistersWith(RegisterChecker checker) {
        this.checker = checker;
    }

    /** How many register segments were too long to check. */
    long inconclusiveSegments() {
        return inconclusiveSegments;
    }

    /** Stops every client and closes what they hold; the pools stay open. */
    void stop() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
        }
        for (Candidate c : candidates) {
            try {
                c.latch.close();
            } catch (Exception e) {
                // Closing a latch whose session is gone is fine: the node went with it.
            }
            c.lease.close();
        }
        contenders.forEach(c -> c.lease.close());
        caches.forEach(ZkCache::close);
        treeCaches.forEach(ZkTreeCache::close);
        watches.forEach(WatchHandle::close);
        childrenWatches.forEach(WatchHandle::close);
        live.values().forEach(r -> r.node().close());
        live.clear();
        rereaders.forEach(ExecutorService::shutdownNow);
        watchLeases.forEach(ZkLease::close);
    }

    /** Removes the soak's nodes and closes the admin lease. */
    void cleanUp() {
        try {
            admin.curator().delete().deletingChildrenIfNeeded().forPath(base);
        } catch (Exception e) {
            recorder.say("could not remove %s: %s", base, e);
        }
        admin.close();
    }

    ZkLease admin() {
        return admin;
    }
}
