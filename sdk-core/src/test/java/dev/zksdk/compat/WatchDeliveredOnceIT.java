package dev.zksdk.compat;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.WatchEvent;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.ProcessEnsemble;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.zookeeper.CreateMode;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: a change delivered twice to a node watch. Servers before 3.9 send watch notifications without a zxid
 * ({@code ReplyHeader(-1, -1, 0)} in 3.5 to 3.8's {@code ServerCnxn.process}), so what a watch has been told about its
 * node cannot be moved on from the event's zxid; a later catch-up (a reconnect within the session, or the one-shot
 * arming that takes over from a persistent watch dropped for a server before 3.6) compares the node's stat with that
 * stale record and delivers again a change already delivered as an event. Each server change must reach a watch's
 * listener at most once (a RESYNC is allowed where the mode changed), and none may be lost.
 */
class WatchDeliveredOnceIT {

    static final byte[] V = "v".getBytes(UTF_8);
    /** How long a count must hold to show no late duplicate arrives: recovery passes run at once on a reconnect. */
    static final Duration HOLD = Duration.ofSeconds(3);

    /** Events per watched path, in order. */
    static final class Log {
        final Map<String, List<WatchEvent>> byWatch = new ConcurrentHashMap<>();

        dev.zksdk.WatchListener on(String watch) {
            List<WatchEvent> l = byWatch.computeIfAbsent(watch, k -> new CopyOnWriteArrayList<>());
            return l::add;
        }

        long count(String watch, WatchEvent.Type type) {
            return byWatch.getOrDefault(watch, List.of()).stream()
                    .filter(e -> e.type() == type)
                    .count();
        }

        List<WatchEvent> of(String watch) {
            return new ArrayList<>(byWatch.getOrDefault(watch, List.of()));
        }
    }

    /**
     * 3.8.4 (persistent watches, notifications without a zxid): a node watch sees a change, a second node watch its
     * node deleted, a children watch a child created and another deleted. The server restarts (same version, same data): the session
     * reconnects and the pool catches up what its persistent watches missed in the gap, which is nothing. Then one more
     * change each. Every watch must have seen each change exactly once.
     */
    @Test
    void aReconnectWithinTheSessionDeliversNoChangeTwice() throws Exception {
        try (ProcessEnsemble ens = ProcessEnsemble.builder()
                .serverVersion("3.8.4")
                .size(1)
                .extraConfig("snapshot.trust.empty=true")
                .start()) {
            String base = "/once-rc-" + System.nanoTime();
            try (ZkSessionPool p = pool(ens, "once-rc");
                    ZkLease lease = p.lease()) {
                long session = lease.sessionId();
                lease.create(base, V, CreateMode.PERSISTENT);
                String n = lease.create(base + "/n", V, CreateMode.PERSISTENT);
                String d = lease.create(base + "/d", V, CreateMode.PERSISTENT);
                String c = lease.create(base + "/c", V, CreateMode.PERSISTENT);
                lease.create(c + "/k0", V, CreateMode.PERSISTENT);
                Log log = new Log();
                List<WatchHandle> handles = new ArrayList<>();
                handles.add(lease.watch(n, log.on(n)));
                handles.add(lease.watch(d, log.on(d)));
                handles.add(lease.watchChildren(c, log.on(c)));

                lease.setData(n, "1".getBytes(UTF_8), -1);
                lease.delete(d, -1);
                lease.create(c + "/k1", V, CreateMode.PERSISTENT);
                lease.delete(c + "/k0", -1);
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> log.count(n, WatchEvent.Type.DATA_CHANGED) == 1
                                && log.count(d, WatchEvent.Type.DELETED) == 1
                                && log.count(c, WatchEvent.Type.CHILDREN_CHANGED) == 2);

                ens.server(1).restart();
                ens.server(1).awaitServing(Duration.ofSeconds(60));
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> lease.exists(base) != null);
                assertThat(lease.sessionId()).as("same session").isEqualTo(session);

                lease.setData(n, "2".getBytes(UTF_8), -1);
                lease.create(d, V, CreateMode.PERSISTENT);
                lease.create(c + "/k2", V, CreateMode.PERSISTENT);
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> log.count(n, WatchEvent.Type.DATA_CHANGED) >= 2
                                && log.count(d, WatchEvent.Type.CREATED) >= 1
                                && log.count(c, WatchEvent.Type.CHILDREN_CHANGED) >= 3);
                holdThenAssert(
                        log,
                        Map.of(
                                n, Map.of(WatchEvent.Type.DATA_CHANGED, 2L),
                                d, Map.of(WatchEvent.Type.DELETED, 1L, WatchEvent.Type.CREATED, 1L),
                                c, Map.of(WatchEvent.Type.CHILDREN_CHANGED, 3L)));
                for (WatchHandle h : handles) {
                    h.close();
                }
            }
        }
    }

    /**
     * 3.8.4 rolled back to 3.5.10 under three sessions, each with five node watches that saw one change on 3.8 (as in
     * Review18cAdversarialIT's three-session cases), and a children watch that saw a child created and one deleted: the pool drops the persistent watches and arms one-shot ones,
     * catching up what they missed meanwhile, which is nothing. Then one change each, after the move. Every watch must
     * have seen each change exactly once (a RESYNC is allowed: the mode changed).
     */
    @Test
    void theOneShotArmingAfterARollbackDeliversNoChangeTwice() throws Exception {
        try (ProcessEnsemble ens = ProcessEnsemble.builder()
                .serverVersion("3.8.4")
                .size(1)
                .extraConfig("snapshot.trust.empty=true")
                .start()) {
            String base = "/once-rb-" + System.nanoTime();
            try (ZkSessionPool p = pool(ens, "once-rb", 3)) {
                List<ZkLease> leases = new ArrayList<>();
                java.util.Set<Long> sessions = new java.util.HashSet<>();
                for (int i = 0; i < 12 && sessions.size() < 3; i++) {
                    ZkLease l = p.lease();
                    if (sessions.add(l.sessionId())) {
                        leases.add(l);
                    } else {
                        l.close();
                    }
                }
                ZkLease lease = leases.get(0);
                lease.create(base, V, CreateMode.PERSISTENT);
                Log log = new Log();
                List<WatchHandle> handles = new ArrayList<>();
                List<String> nodes = new ArrayList<>();
                for (int i = 0; i < leases.size(); i++) {
                    for (int k = 0; k < 5; k++) {
                        String n = lease.create(base + "/s" + i + "-" + k, V, CreateMode.PERSISTENT);
                        nodes.add(n);
                        handles.add(leases.get(i).watch(n, log.on(n)));
                    }
                }
                String c = lease.create(base + "/c", V, CreateMode.PERSISTENT);
                lease.create(c + "/k0", V, CreateMode.PERSISTENT);
                handles.add(leases.get(leases.size() - 1).watchChildren(c, log.on(c)));
                for (String n : nodes) {
                    lease.setData(n, "before".getBytes(UTF_8), -1);
                }
                lease.create(c + "/k1", V, CreateMode.PERSISTENT);
                lease.delete(c + "/k0", -1);
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> nodes.stream().allMatch(n -> log.count(n, WatchEvent.Type.DATA_CHANGED) == 1)
                                && log.count(c, WatchEvent.Type.CHILDREN_CHANGED) == 2);

                ens.upgrade(1, "3.5.10");
                ens.server(1).awaitServing(Duration.ofSeconds(60));
                for (ZkLease l : leases) {
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> l.exists(base) != null);
                }
                for (String n : nodes) {
                    lease.setData(n, "after".getBytes(UTF_8), -1);
                }
                lease.create(c + "/k2", V, CreateMode.PERSISTENT);
                await().atMost(Duration.ofSeconds(15))
                        .until(() -> nodes.stream().allMatch(n -> log.count(n, WatchEvent.Type.DATA_CHANGED) >= 2)
                                && log.count(c, WatchEvent.Type.CHILDREN_CHANGED) >= 3);
                Map<String, Map<WatchEvent.Type, Long>> expected = new java.util.LinkedHashMap<>();
                for (String n : nodes) {
                    expected.put(n, Map.of(WatchEvent.Type.DATA_CHANGED, 2L));
                }
                expected.put(c, Map.of(WatchEvent.Type.CHILDREN_CHANGED, 3L));
                holdThenAssert(log, expected);
                for (WatchHandle h : handles) {
                    h.close();
                }
                for (ZkLease l : leases) {
                    l.close();
                }
            }
        }
    }

    /** Waits {@link #HOLD} for late deliveries, then asserts each watch saw each kind of change exactly as often. */
    static void holdThenAssert(Log log, Map<String, Map<WatchEvent.Type, Long>> expected) {
        long until = System.nanoTime() + HOLD.toNanos();
        await().atMost(HOLD.multipliedBy(4)).until(() -> System.nanoTime() > until);
        SoftAssertions soft = new SoftAssertions();
        expected.forEach((watch, counts) -> counts.forEach((type, n) -> soft.assertThat(log.count(watch, type))
                .as(watch + ": " + type + " delivered once per change (" + n + " changes): " + log.of(watch))
                .isEqualTo(n)));
        soft.assertAll();
    }

    static ZkSessionPool pool(ProcessEnsemble ens, String name) {
        return pool(ens, name, 1);
    }

    static ZkSessionPool pool(ProcessEnsemble ens, String name, int sessions) {
        return ZkSessionPool.builder()
                .name(name)
                .connectString(ens.connectString())
                .sessionsPerEnsemble(sessions)
                .sessionTimeout(Duration.ofSeconds(40))
                .connectionTimeout(Duration.ofSeconds(15))
                .build();
    }
}
