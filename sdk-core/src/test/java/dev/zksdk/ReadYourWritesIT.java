package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.QuorumLink;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.ServerConnections;
import dev.zksdk.testing.ServerProcess;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Read-your-writes across the leases of one pool: a lease sees every write this pool completed before the lease was
 * taken, whichever session it lands on.
 *
 * <p>ZooKeeper orders operations per session only. The pool here has two sessions, on two servers of a three-member
 * ensemble: one on a follower whose quorum link to the leader has {@link #LATENCY} added each way
 * ({@link ProcessEnsemble.Builder#proxiedQuorumLink(int)}), so it applies every write about that long after the
 * rest of the ensemble, and one on the other follower. Consecutive leases take the two sessions in turn. Each pair
 * writes on a lease, closes it, takes a lease on the other session and reads: the read must return the write or
 * something newer. A pool that sends the read straight to the lagging follower returns the old value; keeping the
 * promise takes making the lagging session catch up first (such as a {@code sync} when the session has not yet seen
 * the pool's latest write).
 *
 * <p>Most pairs write on the healthy follower and read on the lagging one (the case that can go wrong); one block of
 * {@link #BLOCK} pairs in {@link #REVERSE_EVERY} goes the other way. Each test records every stale read (pair,
 * expected, got, and the session and server of both leases) and fails on any, after checking that it exercised many
 * cross-session pairs and that the follower really lagged (a plain ZooKeeper client reading on it right after a write
 * elsewhere still sees the old value), so that a pass means the pool kept the promise, not that the lag went away.
 */
class ReadYourWritesIT {

    /** The member whose quorum link lags. */
    static final int LAGGING = 1;
    /** Added to each direction of the lagging follower's quorum link. */
    static final Duration LATENCY = Duration.ofMillis(20);
    /** 20 ticks of 200 ms: the lagging follower stays in the quorum with round trips of up to about 4 s. */
    static final int SYNC_LIMIT = 20;

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(15);
    /** Pairs in a row with the same direction. */
    static final int BLOCK = 25;
    /**
     * Every this many blocks, one (the second, so that even a short run has one) writes on the lagging follower and
     * reads on the other: a write there completes only once that follower has applied it, about two latencies later,
     * so these pairs are slow and cannot go stale here.
     */
    static final int REVERSE_EVERY = 10;
    /** A cross-session scenario runs for this long (and at least {@link #MIN_PAIRS} pairs, within 3 budgets). */
    static final Duration BUDGET = Duration.ofSeconds(6);

    static final int MIN_PAIRS = 200;
    static final int MAX_PAIRS = 5_000;
    /** How many pairs reading on the lagging follower after a write on the other session make a scenario count. */
    static final int MIN_LAGGING_READS = 100;

    static ProcessEnsemble ensemble;
    static QuorumLink link;
    static String lagging;
    static String healthy;
    static ZkSessionPool pool;
    static final Map<Long, String> serverOfSession = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() {
        ensemble = ProcessEnsemble.builder()
                .size(3)
                .syncLimit(SYNC_LIMIT)
                .proxiedQuorumLink(LAGGING)
                .start();
        link = ensemble.quorumLink(LAGGING);
        ServerProcess leader = ensemble.leader();
        ServerProcess other = ensemble.servers().stream()
                .filter(s -> s.id() != LAGGING && s.id() != leader.id())
                .findFirst()
                .orElseThrow();
        lagging = ensemble.server(LAGGING).address();
        healthy = other.address();
        // Only these two members in the connect string: the pool spreads its two sessions over them, one each.
        pool = ZkSessionPool.builder()
                .connectString(ensemble.connectString(LAGGING, other.id()))
                .sessionsPerEnsemble(2)
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(15))
                .followEnsembleChanges(false)
                .build();
        try (ZkLease lease = pool.lease()) {
            lease.create("/ryw", new byte[0], CreateMode.PERSISTENT);
        }
        await().atMost(Duration.ofSeconds(30))
                .until(() -> pool.stats().connectionsPerServer().equals(Map.of(lagging, 1, healthy, 1)));
        assertThat(sessionServers().values()).containsExactlyInAnyOrder(lagging, healthy);
        link.latency(LATENCY);
        assertFollowerLags();
    }

    @AfterAll
    static void stop() {
        if (pool != null) {
            pool.close();
        }
        if (ensemble != null) {
            ensemble.close();
        }
    }

    /** {@code getData} on a new lease returns the value {@code setData} on the previous lease wrote, or newer. */
    @Test
    void getDataOnTheNextLeaseSeesTheSetDataOfThePreviousOne() {
        String key = "/ryw/data";
        create(key);
        Run run = crossSession("getData", new Step() {
            @Override
            public void write(ZkLease w, int i) {
                w.setData(key, bytes(i), -1);
            }

            @Override
            public Observation read(ZkLease r, int i) {
                return value(i, r.getData(key));
            }
        });
        assertKept(run);
    }

    /** {@code exists} on a new lease finds the node {@code create} on the previous lease made. */
    @Test
    void existsOnTheNextLeaseSeesTheCreateOfThePreviousOne() {
        String parent = "/ryw/exists";
        create(parent);
        Run run = crossSession("exists", new Step() {
            @Override
            public void write(ZkLease w, int i) {
                w.create(parent + "/n" + i, new byte[0], CreateMode.PERSISTENT);
            }

            @Override
            public Observation read(ZkLease r, int i) {
                Stat stat = r.exists(parent + "/n" + i);
                return new Observation(stat != null, stat == null ? "null" : "a stat");
            }
        });
        assertKept(run);
    }

    /** {@code getChildren} on a new lease lists the child {@code create} on the previous lease made. */
    @Test
    void getChildrenOnTheNextLeaseListsTheCreateOfThePreviousOne() {
        String parent = "/ryw/children";
        create(parent);
        Run run = crossSession("getChildren", new Step() {
            @Override
            public void write(ZkLease w, int i) {
                w.create(parent + "/c" + i, new byte[0], CreateMode.PERSISTENT);
            }

            @Override
            public Observation read(ZkLease r, int i) {
                List<String> children = r.getChildren(parent);
                boolean listed = children.contains("c" + i);
                return new Observation(listed, listed ? "listed" : children.size() + " children without c" + i);
            }
        });
        assertKept(run);
    }

    /** {@code getDataAsync} on a new lease completes with the value written on the previous lease, or newer. */
    @Test
    void getDataAsyncOnTheNextLeaseSeesTheSetDataOfThePreviousOne() {
        String key = "/ryw/async";
        create(key);
        Run run = crossSession("getDataAsync", new Step() {
            @Override
            public void write(ZkLease w, int i) {
                w.setData(key, bytes(i), -1);
            }

            @Override
            public Observation read(ZkLease r, int i) throws Exception {
                return value(i, r.getDataAsync(key).get(30, TimeUnit.SECONDS));
            }
        });
        assertKept(run);
    }

    /**
     * A read right after a write on the same lease sees it (ZooKeeper's per-session order), on both sessions: the
     * baseline, which holds today.
     */
    @Test
    void aReadOnTheSameLeaseSeesItsOwnWrite() {
        String key = "/ryw/same";
        create(key);
        Run run = new Run("same lease");
        long start = System.nanoTime();
        long deadline = start + Duration.ofSeconds(5).toNanos();
        for (int i = 0; i < MAX_PAIRS && (System.nanoTime() < deadline || run.pairs < MIN_PAIRS / 2); i++) {
            try (ZkLease lease = pool.lease()) {
                lease.setData(key, bytes(i), -1);
                Observation seen = value(i, lease.getData(key));
                long session = lease.sessionId();
                run.record(i, session, session, seen);
            }
        }
        run.elapsed = Duration.ofNanos(System.nanoTime() - start);
        System.out.println(run.summary());
        assertThat(run.readsOn.keySet()).as("both sessions were used").containsExactlyInAnyOrder(lagging, healthy);
        assertThat(run.readsOn.get(lagging))
                .as("same-lease pairs on the lagging follower")
                .isGreaterThanOrEqualTo(MIN_PAIRS / 4);
        assertThat(run.stale.size()).as(run.describeStale()).isZero();
    }

    /** One scenario's write and read. */
    interface Step {
        void write(ZkLease w, int i) throws Exception;

        Observation read(ZkLease r, int i) throws Exception;
    }

    record Observation(boolean fresh, String got) {}

    /**
     * Runs write→read pairs until {@link #BUDGET} has passed and at least {@link #MIN_PAIRS} are done (or
     * {@link #MAX_PAIRS}, or three budgets). Each pair writes on a lease on one session, closes it, then reads on a
     * lease taken afterwards on the other session (leases that land on the wrong session are closed unused: see
     * {@link #leaseOn(String)}).
     */
    static Run crossSession(String op, Step step) {
        Run run = new Run(op);
        long start = System.nanoTime();
        long deadline = start + BUDGET.toNanos();
        long hardDeadline = start + BUDGET.multipliedBy(3).toNanos();
        for (int i = 0; i < MAX_PAIRS; i++) {
            long now = System.nanoTime();
            if ((now > deadline && run.pairs >= MIN_PAIRS) || now > hardDeadline) {
                break;
            }
            boolean reverse = (i / BLOCK) % REVERSE_EVERY == 1;
            String writeServer = reverse ? lagging : healthy;
            String readServer = reverse ? healthy : lagging;
            long writeSession;
            try (ZkLease w = leaseOn(writeServer)) {
                step.write(w, i);
                writeSession = w.sessionId();
            } catch (Exception e) {
                throw new AssertionError(op + ": write " + i + " failed", e);
            }
            try (ZkLease r = leaseOn(readServer)) {
                Observation seen;
                try {
                    seen = step.read(r, i);
                } catch (ZkNoNodeException e) {
                    seen = new Observation(false, "NONODE");
                }
                run.record(i, writeSession, r.sessionId(), seen);
            } catch (Exception e) {
                throw new AssertionError(op + ": read " + i + " failed", e);
            }
        }
        run.elapsed = Duration.ofNanos(System.nanoTime() - start);
        System.out.println(run.summary());
        return run;
    }

    /** The checks every cross-session scenario ends with: it exercised the case, the lag was real, no stale read. */
    static void assertKept(Run run) {
        assertThat(run.crossSession)
                .as("%s: pairs whose write and read leases had different sessions", run.op)
                .isGreaterThanOrEqualTo(MIN_PAIRS * 3 / 4);
        assertThat(run.laggingAfterHealthy)
                .as("%s: reads on the lagging follower after a write on the other session", run.op)
                .isGreaterThanOrEqualTo(MIN_LAGGING_READS);
        assertThat(run.readsOn.keySet()).as("%s: servers read on", run.op).containsExactlyInAnyOrder(lagging, healthy);
        assertFollowerLags();
        assertThat(run.stale.size()).as(run.describeStale()).isZero();
    }

    /**
     * A plain ZooKeeper client on the lagging follower reads right after a write on the other server completes: it
     * must see the old value in at least one of five tries, or the setup is not testing anything.
     */
    static void assertFollowerLags() {
        String path = "/ryw-lag-probe";
        try (RawZooKeeper writer = RawZooKeeper.connect(healthy, SESSION_TIMEOUT);
                RawZooKeeper reader = RawZooKeeper.connect(lagging, SESSION_TIMEOUT)) {
            if (writer.zk().exists(path, false) == null) {
                writer.zk().create(path, bytes(-1), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> reader.zk().exists(path, false) != null);
            int stale = 0;
            for (int i = 0; i < 5; i++) {
                Stat written = writer.zk().setData(path, bytes(i), -1);
                Stat seen = new Stat();
                reader.zk().getData(path, false, seen);
                if (seen.getMzxid() < written.getMzxid()) {
                    stale++;
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    Stat now = new Stat();
                    reader.zk().getData(path, false, now);
                    return now.getMzxid() >= written.getMzxid();
                });
            }
            assertThat(stale)
                    .as("plain reads on the lagging follower right after a completed write that were stale")
                    .isPositive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } catch (KeeperException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A lease on the session connected to {@code server}, closing unused the leases that land on the other one (leases
     * take the sessions in turn, so that is at most one).
     */
    static ZkLease leaseOn(String server) {
        for (int attempt = 0; attempt < 4; attempt++) {
            ZkLease lease = pool.lease();
            if (server.equals(serverOf(lease.sessionId()))) {
                return lease;
            }
            lease.close();
        }
        throw new AssertionError(
                "no lease on " + server + " in four tries; sessions: " + sessionServers() + ", " + pool.stats());
    }

    static String serverOf(long sessionId) {
        String server = serverOfSession.get(sessionId);
        if (server == null) {
            serverOfSession.putAll(sessionServers());
            server = serverOfSession.getOrDefault(sessionId, "unknown server");
        }
        return server;
    }

    /** Session id to server, asking both servers ({@code cons}). */
    static Map<Long, String> sessionServers() {
        Map<Long, String> found = new HashMap<>();
        for (String server : List.of(lagging, healthy)) {
            ServerConnections.sessionIds(server).forEach(id -> found.put(id, server));
        }
        return found;
    }

    /** Creates a scenario's node and lets both sessions' servers catch up with it, so that the scenario starts clean. */
    static void create(String path) {
        try (ZkLease lease = pool.lease()) {
            lease.create(path, bytes(-1), CreateMode.PERSISTENT);
        }
        for (int i = 0; i < 2; i++) {
            try (ZkLease lease = pool.lease()) {
                lease.sync(path);
                assertThat(lease.exists(path))
                        .as("%s after a sync on session 0x%s", path, Long.toHexString(lease.sessionId()))
                        .isNotNull();
            }
        }
    }

    static byte[] bytes(int value) {
        return Integer.toString(value).getBytes(StandardCharsets.UTF_8);
    }

    /** Fresh when the value read is the one written by pair {@code i}, or a later one. */
    static Observation value(int i, byte[] data) {
        String got = new String(data, StandardCharsets.UTF_8);
        return new Observation(Integer.parseInt(got) >= i, got);
    }

    /** What a scenario did and every stale read it saw. */
    static final class Run {
        final String op;
        int pairs;
        int crossSession;
        int laggingAfterHealthy;
        final Map<String, Integer> readsOn = new TreeMap<>();
        final List<String> stale = new ArrayList<>();
        int staleLaggingAfterHealthy;
        Duration elapsed = Duration.ZERO;

        Run(String op) {
            this.op = op;
        }

        void record(int i, long writeSession, long readSession, Observation seen) {
            pairs++;
            String writeServer = serverOf(writeSession);
            String readServer = serverOf(readSession);
            boolean cross = writeSession != readSession;
            boolean laggingCase = cross && readServer.equals(lagging) && writeServer.equals(healthy);
            if (cross) {
                crossSession++;
            }
            if (laggingCase) {
                laggingAfterHealthy++;
            }
            readsOn.merge(readServer, 1, Integer::sum);
            if (!seen.fresh()) {
                if (laggingCase) {
                    staleLaggingAfterHealthy++;
                }
                stale.add("pair " + i + ": expected " + i + " or newer, got " + seen.got() + "; write on session 0x"
                        + Long.toHexString(writeSession) + " (" + role(writeServer) + "), read on session 0x"
                        + Long.toHexString(readSession) + " (" + role(readServer) + ")");
            }
        }

        private static String role(String server) {
            return server + (server.equals(lagging) ? " lagging follower" : server.equals(healthy) ? " follower" : "");
        }

        String summary() {
            return op + ": " + pairs + " pairs in " + elapsed.toMillis() + " ms, " + crossSession + " cross-session ("
                    + laggingAfterHealthy
                    + " reading on the lagging follower after a write on the other), reads per server "
                    + readsOn + "; " + stale.size() + " stale (" + staleLaggingAfterHealthy
                    + " of them on the lagging follower"
                    + " after a write on the other)";
        }

        String describeStale() {
            return summary() + "; first stale reads:\n"
                    + stale.stream().limit(20).collect(Collectors.joining("\n"));
        }
    }
}
