package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.SessionStatus;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.QuorumLink;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ServerConnections;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Review 23o: reads from observers (issue 23 item 1) attacked as a user. One separate-process ensemble of three
 * participants and one observer; the observer's quorum link goes through proxies ({@link QuorumLink}, to make it lag)
 * and the pool reaches the observer's client port through a {@link ZkProxy} (to cut the pool's observer sessions off
 * while the observer itself keeps running). What each call returned is checked against what the pool had completed (a
 * history of write-completed / read-result pairs, handed from a writer thread to a reader thread on another lease).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class Review23oAdversarialIT {

    static final int OBSERVER = ObserverEnsemble.OBSERVER;
    static final int SYNC_LIMIT = 20;
    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(8);
    static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(8);

    static ProcessEnsemble ensemble;
    static QuorumLink link;
    static String observerDirect;
    static ZkProxy observerProxy;
    static List<String> participants;

    static ObserverEnsemble fixture;

    @BeforeAll
    static void start() {
        fixture = ObserverEnsemble.start(SYNC_LIMIT);
        ensemble = fixture.ensemble;
        link = fixture.link;
        observerDirect = fixture.observerDirect;
        observerProxy = fixture.proxy;
        participants = fixture.participants;
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @AfterEach
    void heal() {
        fixture.heal();
    }

    static String connectString() {
        return String.join(",", participants) + "," + observerProxy.connectString();
    }

    static ZkSessionPool pool(int sessions, int readers) {
        return pool(sessions, readers, OperationPolicy.defaults());
    }

    static ZkSessionPool pool(int sessions, int readers, OperationPolicy policy) {
        ZkSessionPool pool = ZkSessionPool.builder()
                .operationPolicy(policy)
                .connectString(connectString())
                .observers(observerProxy.connectString())
                .sessionsPerEnsemble(sessions)
                .readsFromObservers(readers)
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(CONNECTION_TIMEOUT)
                .build();
        pool.lease().close(); // the ensemble's sessions start with the first lease
        return pool;
    }

    static EnsembleStatus status(ZkSessionPool pool) {
        return pool.ensembles().get(0);
    }

    static void awaitRoles(ZkSessionPool pool, int participantSessions, int observerSessions) {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> status(pool).connectedSessions(SessionStatus.Role.PARTICIPANT) == participantSessions
                        && status(pool).connectedSessions(SessionStatus.Role.OBSERVER) == observerSessions);
    }

    static byte[] bytes(int i) {
        return ("v" + i).getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] b) {
        return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
    }

    /** Packets the observer received on connections of sessions other than {@code exclude}, from its {@code cons}. */
    static long receivedOnObserver(Set<Long> exclude) {
        String cons = ensemble.server(OBSERVER).fourLetter("cons");
        long sum = 0;
        for (String line : cons.split("\n")) {
            Matcher sid = Pattern.compile("sid=0x([0-9a-f]+)").matcher(line);
            Matcher rec = Pattern.compile("recved=(\\d+)").matcher(line);
            if (sid.find() && rec.find()) {
                if (!exclude.contains(Long.parseUnsignedLong(sid.group(1), 16))) {
                    sum += Long.parseLong(rec.group(1));
                }
            }
        }
        return sum;
    }

    /** One write the writer thread completed, handed to the reader thread, and what it must read. */
    record Step(int i, String kind, String path, String expect) {}

    /**
     * Read-your-writes across threads and leases, with the observer lagging (150 ms each way on its quorum link): a
     * writer thread on one lease does sync and async setData, create, delete, multi and async delete; once each returns
     * it hands it to a reader thread holding another lease (taken before the writes), which reads with sync and async
     * getData/getNode/exists/getChildren; every read must reflect the write. A plain client on the observer reading at
     * the same moment shows the lag is real, and the observer's received-packet count shows the reads went there.
     */
    @Test
    @Order(1)
    void readYourWritesAcrossThreadsAndLeasesWhileTheObserverLags() throws Exception {
        String root = "/r23/h";
        int steps = 18;
        try (ZkSessionPool pool = pool(2, 2);
                RawZooKeeper raw = RawZooKeeper.connect(observerDirect, SESSION_TIMEOUT)) {
            awaitRoles(pool, 2, 2);
            try (ZkLease setup = pool.lease()) {
                setup.create("/r23", new byte[0], CreateMode.PERSISTENT);
                setup.create(root, new byte[0], CreateMode.PERSISTENT);
                setup.create(root + "/a", bytes(-1), CreateMode.PERSISTENT);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> raw.zk().exists(root + "/a", false) != null);
            BlockingQueue<Step> handoff = new LinkedBlockingQueue<>();
            BlockingQueue<Integer> readDone = new LinkedBlockingQueue<>();
            List<String> wrong = new CopyOnWriteArrayList<>();
            List<String> history = new CopyOnWriteArrayList<>();
            ExecutorService readerThread = Executors.newSingleThreadExecutor();
            long receivedBefore = receivedOnObserver(Set.of(raw.sessionId()));
            link.latency(Duration.ofMillis(150));
            int rawStale = 0;
            try (ZkLease readerLease = pool.lease();
                    ZkLease writer = pool.lease()) {
                Future<?> reader = readerThread.submit(() -> {
                    for (int n = 0; n < steps; n++) {
                        Step s = handoff.poll(60, TimeUnit.SECONDS);
                        String got = readFor(readerLease, s, root);
                        history.add(s + " -> " + got);
                        if (!got.equals(s.expect())) {
                            wrong.add(s + " read " + got);
                        }
                        readDone.add(s.i());
                    }
                    return null;
                });
                for (int i = 0; i < steps; i++) {
                    Step s;
                    switch (i % 6) {
                        case 0 -> {
                            writer.setData(root + "/a", bytes(i), -1);
                            s = new Step(i, "setData", root + "/a", "v" + i);
                        }
                        case 1 -> {
                            writer.setDataAsync(root + "/a", bytes(i), -1).get(30, TimeUnit.SECONDS);
                            s = new Step(i, "setDataAsync", root + "/a", "v" + i);
                        }
                        case 2 -> {
                            writer.create(root + "/c" + i, bytes(i), CreateMode.PERSISTENT);
                            s = new Step(i, "create", root + "/c" + i, "present");
                        }
                        case 3 -> {
                            writer.delete(root + "/c" + (i - 1), -1);
                            s = new Step(i, "delete", root + "/c" + (i - 1), "absent");
                        }
                        case 4 -> {
                            writer.multi(List.of(
                                    Op.create(
                                            root + "/c" + i,
                                            bytes(i),
                                            ZooDefs.Ids.OPEN_ACL_UNSAFE,
                                            CreateMode.PERSISTENT),
                                    Op.setData(root + "/a", bytes(i), -1)));
                            s = new Step(i, "multi", root + "/a", "v" + i + "+c" + i);
                        }
                        default -> {
                            writer.deleteAsync(root + "/c" + (i - 1), -1).get(30, TimeUnit.SECONDS);
                            s = new Step(i, "deleteAsync", root + "/c" + (i - 1), "absent");
                        }
                    }
                    if (raw.zk().exists(root + "/a", false).getMzxid()
                            < writer.exists(root + "/a").getMzxid()) {
                        rawStale++;
                    }
                    handoff.add(s);
                    // the next write only once this one's read is done: each read is checked against the state
                    // right after the write it was handed
                    assertThat(readDone.poll(60, TimeUnit.SECONDS)).isEqualTo(i);
                }
                reader.get(120, TimeUnit.SECONDS);
            } finally {
                link.latency(Duration.ZERO);
                readerThread.shutdownNow();
            }
            long served = receivedOnObserver(Set.of(raw.sessionId())) - receivedBefore;
            System.out.println("Review23o history:\n  " + String.join("\n  ", history));
            System.out.printf(
                    "Review23o: raw observer client stale after %d of %d writes; observer received %d packets on the"
                            + " pool's sessions%n",
                    rawStale, steps, served);
            assertThat(wrong)
                    .as("reads on another lease and thread that missed a completed write")
                    .isEmpty();
            assertThat(served)
                    .as("packets the observer received from the pool's read sessions during %d reads", steps)
                    .isGreaterThanOrEqualTo(steps);
        }
    }

    /** The reader's view of what step {@code s} wrote, with a mix of sync and async reads. */
    private static String readFor(ZkLease lease, Step s, String root) throws Exception {
        boolean async = s.i() % 2 == 1;
        switch (s.kind()) {
            case "setData", "setDataAsync" -> {
                return async
                        ? str(lease.getDataAsync(s.path()).get(30, TimeUnit.SECONDS))
                        : str(lease.getNode(s.path()).data());
            }
            case "create" -> {
                String name = s.path().substring(root.length() + 1);
                List<String> children =
                        async ? lease.getChildrenAsync(root).get(30, TimeUnit.SECONDS) : lease.getChildren(root);
                Stat stat = async ? lease.existsAsync(s.path()).get(30, TimeUnit.SECONDS) : lease.exists(s.path());
                return children.contains(name) && stat != null ? "present" : "children " + children + " stat " + stat;
            }
            case "delete", "deleteAsync" -> {
                String name = s.path().substring(root.length() + 1);
                List<String> children =
                        async ? lease.getChildrenAsync(root).get(30, TimeUnit.SECONDS) : lease.getChildren(root);
                Stat stat = async ? lease.existsAsync(s.path()).get(30, TimeUnit.SECONDS) : lease.exists(s.path());
                String data;
                try {
                    data = str(lease.getData(s.path()));
                } catch (ZkNoNodeException e) {
                    data = "NoNode";
                }
                return !children.contains(name) && stat == null && data.equals("NoNode")
                        ? "absent"
                        : "children " + children + " stat " + stat + " data " + data;
            }
            default -> {
                String a = async
                        ? str(lease.getDataAsync(s.path()).get(30, TimeUnit.SECONDS))
                        : str(lease.getData(s.path()));
                Stat c = lease.exists(root + "/c" + s.i());
                return a + (c != null ? "+c" + s.i() : "+no c" + s.i());
            }
        }
    }

    /**
     * Writes made through the lease's other surfaces (an owned ephemeral created and closed, a lock acquired) are
     * writes of this pool too: another lease's plain read right after must see them, though it goes to
     * a lagging observer. Also: the lock's node and the ephemeral belong to the lease's participant session, and no
     * watch of the lock, the ephemeral, a watchChildren or a treeCache lands on the observer.
     */
    @Test
    @Order(2)
    void ephemeralAndLockWritesAreSeenByReadsAndStayOffTheObserver() throws Exception {
        List<String> stale = new ArrayList<>();
        List<WatchEvent> events = new CopyOnWriteArrayList<>();
        try (ZkSessionPool pool = pool(1, 1);
                RawZooKeeper participant = RawZooKeeper.connect(participants.get(0), SESSION_TIMEOUT)) {
            awaitRoles(pool, 1, 1);
            try (ZkLease setup = pool.lease()) {
                setup.create("/r23e", new byte[0], CreateMode.PERSISTENT);
                setup.create("/r23e/locks", new byte[0], CreateMode.PERSISTENT);
            }
            link.latency(Duration.ofMillis(200));
            try (ZkLease owner = pool.lease();
                    ZkLease reader = pool.lease()) {
                long ownerSession = owner.sessionId();
                for (int round = 0; round < 3; round++) {
                    String path = "/r23e/eph" + round;
                    EphemeralNode node = owner.ephemeral(path, bytes(round));
                    if (reader.exists(path) == null) {
                        stale.add("round " + round + ": ephemeral created, reader's exists returned null");
                    }
                    assertThat(participant.zk().exists(path, false).getEphemeralOwner())
                            .isEqualTo(ownerSession);
                    node.close();
                    if (reader.exists(path) != null) {
                        stale.add("round " + round + ": ephemeral closed, reader's exists still returned a Stat");
                    }
                    String lockPath = "/r23e/locks/l" + round;
                    ZkLock lock = owner.lock(lockPath);
                    lock.acquire(Duration.ofSeconds(20));
                    List<String> held = participant.zk().getChildren(lockPath, false);
                    assertThat(held).hasSize(1);
                    assertThat(participant
                                    .zk()
                                    .exists(lockPath + "/" + held.get(0), false)
                                    .getEphemeralOwner())
                            .as("the lock node's owner")
                            .isEqualTo(ownerSession);
                    List<String> seen = reader.getChildren(lockPath);
                    if (!seen.equals(held)) {
                        stale.add("round " + round + ": lock acquired (" + held + "), reader's getChildren " + seen);
                    }
                    lock.release();
                    lock.close();
                }
                try (WatchHandle w = owner.watchChildren("/r23e", events::add);
                        var tree = owner.treeCache("/r23e");
                        ZkLock lock = owner.lock("/r23e/locks/held")) {
                    lock.acquire(Duration.ofSeconds(20));
                    owner.create("/r23e/child", new byte[0], CreateMode.PERSISTENT);
                    await().atMost(Duration.ofSeconds(20))
                            .until(() -> events.stream().anyMatch(e -> e.type() == WatchEvent.Type.CHILDREN_CHANGED));
                    assertThat(ServerConnections.watchCount(observerDirect))
                            .as("watches on the observer")
                            .isZero();
                    assertThat(tree).isNotNull();
                }
            } finally {
                link.latency(Duration.ZERO);
            }
        }
        assertThat(stale)
                .as("reads that missed the pool's own ephemeral/lock writes")
                .isEmpty();
    }

    /**
     * A lock released, a leadership closed are writes of the pool (their node deleted): another lease's plain read
     * right after release()/close() returned must not still list the node, though the read goes to an observer lagging 200 ms each way. The
     * reader looked at the holders once while the lock was held (so its observer session had caught up to the pool's
     * newest tracked write, the acquire's).
     */
    @Test
    @Order(2)
    void lockReleaseAndLeadershipCloseAreSeenByTheNextRead() {
        List<String> stale = new ArrayList<>();
        try (ZkSessionPool pool = pool(1, 1)) {
            awaitRoles(pool, 1, 1);
            try (ZkLease setup = pool.lease()) {
                setup.create("/r23l", new byte[0], CreateMode.PERSISTENT);
            }
            link.latency(Duration.ofMillis(200));
            try (ZkLease owner = pool.lease();
                    ZkLease reader = pool.lease()) {
                for (int round = 0; round < 3; round++) {
                    String lockPath = "/r23l/l" + round;
                    try (ZkLock lock = owner.lock(lockPath)) {
                        lock.acquire(Duration.ofSeconds(20));
                        // another thread looks at the holders (the observer catches up to the acquire here)
                        assertThat(reader.getChildren(lockPath)).hasSize(1);
                        lock.release();
                        // release() returned: the lock's node is gone; the next read of the pool must not list it
                        List<String> after = reader.getChildren(lockPath);
                        if (!after.isEmpty()) {
                            stale.add("round " + round + ": lock released, reader's getChildren still " + after);
                        }
                    }
                }
                owner.create("/r23l/leader", new byte[0], CreateMode.PERSISTENT);
                ZkLeadership leadership = owner.leaderElection("/r23l/leader", new LeadershipListener() {});
                await().atMost(Duration.ofSeconds(20)).until(leadership::isLeader);
                assertThat(reader.getChildren("/r23l/leader")).hasSize(1);
                leadership.close();
                List<String> afterClose = reader.getChildren("/r23l/leader");
                if (!afterClose.isEmpty()) {
                    stale.add("leadership closed, reader's getChildren still " + afterClose);
                }
            } finally {
                link.latency(Duration.ZERO);
            }
        }
        System.out.println("Review23o lock/leadership: " + stale);
        assertThat(stale)
                .as("reads after a lock release or a leadership close that still list its node")
                .isEmpty();
    }

    /**
     * A lease's reads must not go back in time (ZooKeeper's per-session guarantee, which a lease without observers has
     * from its one session): an outside client writes a counter every few ms on a participant, the observer lags 300
     * ms each way, and the lease keeps reading. The pool's observer session is cut off at the proxy (the observer
     * itself keeps running), so reads fall back to the lease's session on a participant, which is up to date; then the
     * observer session connects again to the still-lagging observer. Also: per-role counts while it is cut off.
     */
    @Test
    @Order(3)
    void leaseReadsNeverGoBackwardsAcrossObserverFallback() throws Exception {
        String path = "/r23m";
        AtomicBoolean writing = new AtomicBoolean(true);
        List<int[]> reads = new ArrayList<>();
        List<String> backwards = new ArrayList<>();
        try (ZkSessionPool pool = pool(1, 1);
                RawZooKeeper outside = RawZooKeeper.connect(participants.get(1), SESSION_TIMEOUT)) {
            awaitRoles(pool, 1, 1);
            outside.zk().create(path, bytes(0), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            Thread writer = new Thread(() -> {
                while (writing.get()) {
                    try {
                        outside.zk().setData(path, new byte[0], -1);
                        java.util.concurrent.locks.LockSupport.parkNanos(3_000_000);
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            link.latency(Duration.ofMillis(300));
            writer.start();
            try (ZkLease lease = pool.lease()) {
                int phase = 0;
                Supplier<Integer> read = () -> lease.exists(path).getVersion();
                long end = System.nanoTime() + Duration.ofSeconds(1).toNanos();
                while (System.nanoTime() < end) {
                    reads.add(new int[] {phase, read.get()});
                }
                observerProxy.freeze();
                observerProxy.closeAllConnections();
                phase = 1;
                long cutAt = System.nanoTime();
                while (status(pool).connectedSessions(SessionStatus.Role.OBSERVER) != 0) {
                    reads.add(new int[] {phase, read.get()});
                    assertThat(System.nanoTime() - cutAt)
                            .isLessThan(Duration.ofSeconds(30).toNanos());
                }
                EnsembleStatus down = status(pool);
                assertThat(down.connectedSessions(SessionStatus.Role.PARTICIPANT))
                        .isEqualTo(1);
                assertThat(down.sessions().stream()
                                .filter(s -> s.role() == SessionStatus.Role.OBSERVER)
                                .count())
                        .isEqualTo(1);
                end = System.nanoTime() + Duration.ofMillis(500).toNanos();
                while (System.nanoTime() < end) {
                    reads.add(new int[] {phase, read.get()});
                }
                observerProxy.unfreeze();
                phase = 2;
                long healAt = System.nanoTime();
                while (status(pool).connectedSessions(SessionStatus.Role.OBSERVER) != 1) {
                    reads.add(new int[] {phase, read.get()});
                    assertThat(System.nanoTime() - healAt)
                            .isLessThan(Duration.ofSeconds(60).toNanos());
                }
                phase = 3;
                // 3 s: with the lease's floor each read here syncs through the slowed link first (~0.7 s a read)
                end = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                while (System.nanoTime() < end) {
                    reads.add(new int[] {phase, read.get()});
                }
            } finally {
                writing.set(false);
                writer.join(10_000);
                link.latency(Duration.ZERO);
            }
        }
        int max = -1;
        int[] maxAt = null;
        for (int n = 0; n < reads.size(); n++) {
            int[] r = reads.get(n);
            if (r[1] < max && backwards.size() < 5) {
                backwards.add("read #" + n + " (phase " + r[0] + ") version " + r[1] + " after version " + max
                        + " (phase " + maxAt[0] + ")");
            }
            if (r[1] > max) {
                max = r[1];
                maxAt = r;
            }
        }
        long perPhase0 = reads.stream().filter(r -> r[0] == 0).count();
        long perPhase1 = reads.stream().filter(r -> r[0] == 1).count();
        long perPhase3 = reads.stream().filter(r -> r[0] == 3).count();
        System.out.printf(
                "Review23o monotonic: %d reads (observer %d, cut %d, back %d), newest version %d, backwards: %s%n",
                reads.size(), perPhase0, perPhase1, perPhase3, max, backwards);
        assertThat(backwards).as("reads of one lease that went back in time").isEmpty();
    }

    /**
     * Close of the pool while observer reads are in flight on a silent (frozen) observer connection: the reads end,
     * with a value or an error, soon after close, and close itself is bounded.
     */
    @Test
    @Order(4)
    void closeDuringInFlightObserverReadsEndsThem() throws Exception {
        String path = "/r23c";
        ZkSessionPool pool = pool(1, 1);
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
            awaitRoles(pool, 1, 1);
            ZkLease lease = pool.lease();
            lease.create(path, bytes(1), CreateMode.PERSISTENT);
            assertThat(lease.getData(path)).isEqualTo(bytes(1));
            observerProxy.freeze();
            CompletableFuture<byte[]> async = lease.getDataAsync(path);
            Future<String> sync = thread.submit(() -> str(lease.getData(path)));
            // both are on the silent observer connection now (or waiting to be)
            await().pollDelay(Duration.ofMillis(300))
                    .atMost(Duration.ofSeconds(1))
                    .until(() -> true);
            assertThat(async).as("read held by the frozen observer connection").isNotDone();
            long t0 = System.nanoTime();
            pool.close();
            long closeMs = (System.nanoTime() - t0) / 1_000_000;
            String asyncOutcome;
            try {
                asyncOutcome = str(async.get(5, TimeUnit.SECONDS));
            } catch (java.util.concurrent.ExecutionException e) {
                asyncOutcome = e.getCause().getClass().getSimpleName();
            }
            String syncOutcome;
            try {
                syncOutcome = sync.get(5, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                syncOutcome = e.getCause().getClass().getSimpleName();
            }
            long endMs = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf(
                    "Review23o close: close took %d ms, reads ended %d ms after close began: async %s, sync %s%n",
                    closeMs, endMs, asyncOutcome, syncOutcome);
            assertThat(Duration.ofMillis(closeMs))
                    .isLessThan(pool.closeTimeout().plusSeconds(5));
        } finally {
            observerProxy.unfreeze();
            pool.close();
            thread.shutdownNow();
        }
    }

    /**
     * A silent observer connection (frozen, not closed): a read sent there must still succeed with the newest value,
     * within the session timeout (the client notices the dead connection after two thirds of it).
     */
    @Test
    @Order(5)
    void readOnASilentObserverConnectionStillSucceeds() throws Exception {
        String path = "/r23s";
        try (ZkSessionPool pool = pool(1, 1);
                ZkLease lease = pool.lease()) {
            awaitRoles(pool, 1, 1);
            lease.create(path, bytes(1), CreateMode.PERSISTENT);
            assertThat(lease.getData(path)).isEqualTo(bytes(1));
            observerProxy.freeze();
            lease.setData(path, bytes(2), -1);
            long t0 = System.nanoTime();
            byte[] got = lease.getData(path);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("Review23o silent observer: read took %d ms, returned %s%n", ms, str(got));
            assertThat(got).isEqualTo(bytes(2));
            assertThat(Duration.ofMillis(ms)).isLessThan(SESSION_TIMEOUT.plusSeconds(4));
            observerProxy.unfreeze();
            awaitRoles(pool, 1, 1);
            assertThat(lease.getData(path)).isEqualTo(bytes(2));
        }
    }

    /**
     * Bad and odd configuration: observers not in the connect string, every server an observer, readsFromObservers
     * without observers (refused, naming the setting and value); more observer sessions than observers (all on the one
     * observer, reads right); updateConnectString dropping the observer, then adding it back (reads stay right).
     */
    @Test
    @Order(6)
    void oddConfigurationsAndConnectStringUpdates() throws Exception {
        String all = connectString();
        assertThatThrownBy(() -> ZkSessionPool.builder()
                        .connectString(String.join(",", participants))
                        .observers("127.0.0.1:1")
                        .readsFromObservers(1)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("observers")
                .hasMessageContaining("127.0.0.1:1");
        assertThatThrownBy(() -> ZkSessionPool.builder()
                        .connectString(observerProxy.connectString())
                        .observers(observerProxy.connectString())
                        .readsFromObservers(1)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("observers");
        assertThatThrownBy(() -> ZkSessionPool.builder()
                        .connectString(all)
                        .readsFromObservers(1)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("readsFromObservers");
        String path = "/r23u";
        try (ZkSessionPool pool = pool(1, 3);
                ZkLease lease = pool.lease()) {
            awaitRoles(pool, 1, 3);
            assertThat(pool.stats().openSessions()).isEqualTo(4);
            lease.create(path, bytes(0), CreateMode.PERSISTENT);
            for (int i = 1; i <= 5; i++) {
                lease.setData(path, bytes(i), -1);
                assertThat(lease.getData(path)).isEqualTo(bytes(i));
            }
            awaitRoles(pool, 1, 3);
        }
    }

    /**
     * updateConnectString to the participants only (the observer taken out, as when it is decommissioned): reads stay
     * right, and the pool's sessions leave the server that is no longer in its connect string, as ZooKeeper's own
     * client does for a server dropped from its list.
     */
    @Test
    @Order(7)
    void updateConnectStringWithoutTheObserverMovesTheReadSessionsOff() {
        String path = "/r23v";
        try (ZkSessionPool pool = pool(1, 2);
                ZkLease lease = pool.lease()) {
            awaitRoles(pool, 1, 2);
            lease.create(path, bytes(0), CreateMode.PERSISTENT);
            pool.updateConnectString(String.join(",", participants));
            for (int i = 1; i <= 5; i++) {
                lease.setData(path, bytes(i), -1);
                assertThat(lease.getData(path)).isEqualTo(bytes(i));
            }
            try {
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> !pool.stats().connectionsPerServer().containsKey(observerProxy.connectString()));
            } finally {
                System.out.printf(
                        "Review23o after updateConnectString(%s): currentConnectString %s, connectionsPerServer %s,"
                                + " observer sessions connected %d%n",
                        String.join(",", participants),
                        pool.currentConnectString(),
                        pool.stats().connectionsPerServer(),
                        status(pool).connectedSessions(SessionStatus.Role.OBSERVER));
            }
            pool.updateConnectString(connectString());
            lease.setData(path, bytes(6), -1);
            assertThat(lease.getData(path)).isEqualTo(bytes(6));
        }
    }

    /**
     * The observer stopped with SIGSTOP (alive to TCP, silent): "reads never fail because observers are down", so with
     * a 3 s operation timeout (shorter than the 5.3 s the client takes to give up on a silent connection) every read
     * must still succeed, from the lease's healthy participant session.
     */
    @Test
    @Order(8)
    void readsSucceedWithinTheOperationTimeoutWhileTheObserverIsSigstopped() {
        String path = "/r23p";
        List<String> outcomes = new ArrayList<>();
        try (ZkSessionPool pool = pool(
                        1,
                        1,
                        OperationPolicy.builder()
                                .operationTimeout(Duration.ofSeconds(3))
                                .build());
                ZkLease lease = pool.lease()) {
            awaitRoles(pool, 1, 1);
            lease.create(path, bytes(0), CreateMode.PERSISTENT);
            assertThat(lease.getData(path)).isEqualTo(bytes(0));
            ensemble.server(OBSERVER).sigstop();
            try {
                for (int i = 1; i <= 3; i++) {
                    lease.setData(path, bytes(i), -1);
                    long t0 = System.nanoTime();
                    String got;
                    try {
                        got = str(lease.getData(path));
                    } catch (ZkException e) {
                        got = e.getClass().getSimpleName() + ": " + e.getMessage();
                    }
                    outcomes.add("read " + i + " after " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + got);
                }
            } finally {
                ensemble.server(OBSERVER).sigcont();
            }
            System.out.println("Review23o SIGSTOP: " + outcomes);
            assertThat(outcomes).allMatch(o -> o.endsWith(": v" + o.charAt(5)));
            ensemble.server(OBSERVER).awaitServing(Duration.ofSeconds(60));
        }
    }

    /**
     * Four threads, each on its own lease, write their own node and read every thread's node, while the observer is
     * killed with kill -9 and restarted: no read fails, and each read of another thread's node returns at least the
     * value that thread had completed before the read was called (the history is checked pair by pair).
     */
    @Test
    @Order(9)
    void concurrentWriteReadHistoryAcrossThreadsThroughObserverKillAndRestart() throws Exception {
        int threads = 4;
        java.util.concurrent.atomic.AtomicIntegerArray completed =
                new java.util.concurrent.atomic.AtomicIntegerArray(threads);
        AtomicBoolean running = new AtomicBoolean(true);
        List<String> wrong = new CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        ExecutorService workers = Executors.newFixedThreadPool(threads);
        try (ZkSessionPool pool = pool(2, 1)) {
            awaitRoles(pool, 2, 1);
            try (ZkLease setup = pool.lease()) {
                setup.create("/r23k", new byte[0], CreateMode.PERSISTENT);
                for (int t = 0; t < threads; t++) {
                    setup.create("/r23k/t" + t, bytes(0), CreateMode.PERSISTENT);
                }
            }
            link.latency(Duration.ofMillis(50));
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int me = t;
                futures.add(workers.submit(() -> {
                    int i = 0;
                    while (running.get()) {
                        i++;
                        try (ZkLease lease = pool.lease()) {
                            if (i % 2 == 0) {
                                lease.setData("/r23k/t" + me, bytes(i), -1);
                            } else {
                                lease.setDataAsync("/r23k/t" + me, bytes(i), -1).get(30, TimeUnit.SECONDS);
                            }
                            completed.set(me, i);
                            for (int other = 0; other < threads; other++) {
                                int floor = completed.get(other);
                                String got;
                                try {
                                    got = str(
                                            i % 3 == 0
                                                    ? lease.getDataAsync("/r23k/t" + other)
                                                            .get(30, TimeUnit.SECONDS)
                                                    : lease.getData("/r23k/t" + other));
                                } catch (Exception e) {
                                    wrong.add("thread " + me + " read of t" + other + " failed: " + e);
                                    continue;
                                }
                                reads.incrementAndGet();
                                if (Integer.parseInt(got.substring(1)) < floor) {
                                    wrong.add("thread " + me + " read t" + other + "=" + got + " after v" + floor
                                            + " completed");
                                }
                            }
                        }
                    }
                    return null;
                }));
            }
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> reads.get() > 200);
                ensemble.server(OBSERVER).kill9();
                int atKill = reads.get();
                await().atMost(Duration.ofSeconds(20)).until(() -> reads.get() > atKill + 200);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> status(pool).connectedSessions(SessionStatus.Role.OBSERVER) == 0);
                ensemble.server(OBSERVER).restart();
                ensemble.server(OBSERVER).awaitServing(Duration.ofSeconds(60));
                awaitRoles(pool, 2, 1);
                int atBack = reads.get();
                await().atMost(Duration.ofSeconds(20)).until(() -> reads.get() > atBack + 200);
            } finally {
                running.set(false);
                link.latency(Duration.ZERO);
                for (Future<?> f : futures) {
                    f.get(60, TimeUnit.SECONDS);
                }
                workers.shutdownNow();
            }
            System.out.printf("Review23o concurrent kill -9: %d reads, wrong %s%n", reads.get(), wrong);
            assertThat(wrong).isEmpty();
        }
    }

    /**
     * The other ways a lease writes, each after the reader's observer session caught up with the pool's newest tracked
     * write: a fenced setData under a held lock, and a write through the lease's {@code curator()}. The reader's next plain read (on the observer, lagging 200 ms each way) must see
     * each; the curator() one is printed only (the README does not say whether an escape-hatch write counts).
     */
    @Test
    @Order(10)
    void fencedAndCuratorWritesSeenByTheNextRead() throws Exception {
        List<String> stale = new ArrayList<>();
        String curatorOutcome;
        try (ZkSessionPool pool = pool(1, 1)) {
            awaitRoles(pool, 1, 1);
            try (ZkLease setup = pool.lease()) {
                setup.create("/r23f", new byte[0], CreateMode.PERSISTENT);
                setup.create("/r23f/data", bytes(0), CreateMode.PERSISTENT);
            }
            link.latency(Duration.ofMillis(200));
            try (ZkLease owner = pool.lease();
                    ZkLease reader = pool.lease()) {
                try (ZkLock lock = owner.lock("/r23f/lock")) {
                    lock.acquire(Duration.ofSeconds(20));
                    assertThat(reader.getData("/r23f/data")).isEqualTo(bytes(0));
                    owner.fenced(lock.token()).setData("/r23f/data", bytes(1), -1);
                    String got = str(reader.getData("/r23f/data"));
                    if (!got.equals("v1")) {
                        stale.add("fenced setData v1 completed, reader got " + got);
                    }
                    lock.release();
                }
                assertThat(reader.getData("/r23f/data")).isEqualTo(bytes(1));
                owner.curator().setData().forPath("/r23f/data", bytes(2));
                curatorOutcome = str(reader.getData("/r23f/data"));
            } finally {
                link.latency(Duration.ZERO);
            }
        }
        System.out.printf(
                "Review23o other surfaces: stale %s; read after curator() setData v2: %s%n", stale, curatorOutcome);
        assertThat(stale).as("reads that missed a fenced write").isEmpty();
    }

    /**
     * The participant holding the lease's session killed with kill -9 while reads are served by a lagging observer:
     * the session moves to another participant, and every write completed there is seen by the next read (on the
     * observer or on the lease's session), none fails.
     */
    @Test
    @Order(11)
    void readYourWritesWhileTheLeaseSessionMovesToAnotherParticipant() {
        String path = "/r23x";
        List<String> outcomes = new ArrayList<>();
        int killed = -1;
        try (ZkSessionPool pool = pool(1, 1);
                ZkLease lease = pool.lease()) {
            awaitRoles(pool, 1, 1);
            lease.create(path, bytes(0), CreateMode.PERSISTENT);
            long session = lease.sessionId();
            for (int id = 1; id <= 3; id++) {
                if (ServerConnections.sessionIds(ensemble.server(id).address()).contains(session)) {
                    killed = id;
                }
            }
            assertThat(killed).as("the participant holding the lease's session").isPositive();
            link.latency(Duration.ofMillis(100));
            ensemble.server(killed).kill9();
            for (int i = 1; i <= 10; i++) {
                try {
                    lease.setData(path, bytes(i), -1);
                    String got = str(
                            i % 2 == 0
                                    ? lease.getData(path)
                                    : lease.getDataAsync(path).join());
                    if (!got.equals("v" + i)) {
                        outcomes.add("write v" + i + " read " + got);
                    }
                } catch (RuntimeException e) {
                    outcomes.add("pair " + i + " failed: " + e);
                }
            }
            assertThat(lease.sessionId()).as("same session, moved").isEqualTo(session);
        } finally {
            link.latency(Duration.ZERO);
            if (killed > 0) {
                ensemble.server(killed).restart();
                ensemble.server(killed).awaitServing(Duration.ofSeconds(60));
            }
        }
        System.out.println("Review23o session moved: " + outcomes);
        assertThat(outcomes).isEmpty();
    }
}
