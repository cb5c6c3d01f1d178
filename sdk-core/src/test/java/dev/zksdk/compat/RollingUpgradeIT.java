package dev.zksdk.compat;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EphemeralNode;
import dev.zksdk.SessionState;
import dev.zksdk.WatchEvent;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.ZkUnsupportedException;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerProcess;
import dev.zksdk.testing.TxnLogOracle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * A rolling upgrade of a 3-member ensemble from ZooKeeper 3.4.14 to 3.5.10 (followers first, the leader last; each
 * member keeps its {@code zoo.cfg} and data, as an operator's upgrade does) under a pool that learnt 3.4 before it
 * began.
 *
 * <p>What the pool does: what it learnt holds for its life, so it keeps the 3.4 emulation (persistent parents, plain
 * creates, re-armed one-shot watches) during and after the upgrade; a pool built after the upgrade learns 3.5. That
 * is the safe choice: while the ensemble is mixed, a member on 3.5 forwards its writes to a leader that may still be
 * on 3.4, which does not know a container create; requests 3.4 knows work on every member of either version. A pool
 * built mid-upgrade on a 3.5 member asks the other members of its connect string their version ({@code srvr}) and
 * uses only 3.4's requests while one of them runs 3.4.
 */
class RollingUpgradeIT {

    static final String FROM = "3.4.14";
    static final String TO = "3.5.10";
    static final byte[] V = "v".getBytes(UTF_8);
    /** What a leader logs when it drops a follower's connection (LearnerHandler). */
    static final String GOODBYE = "******* GOODBYE";

    @Test
    void aPoolThatLearnt34KeepsWorkingThroughARollingUpgradeTo35() throws Exception {
        // ZooKeeper's upgrade note for 3.4 -> 3.5: a 3.5 member refuses a data directory with transaction logs but no
        // snapshot ("No snapshot found, but there are log entries", ZOOKEEPER-3056), which a 3.4 member may well have;
        // snapshot.trust.empty lets it start (3.4 ignores the key).
        try (ProcessEnsemble ens = ProcessEnsemble.builder()
                .serverVersion(FROM)
                .size(3)
                .extraConfig("snapshot.trust.empty=true")
                .start()) {
            Recorder events = new Recorder();
            String base = "/upgrade-" + System.nanoTime();
            String ephemeral = base + "/a/b/eph";
            int restarts = 0;
            try (ZkSessionPool pool = ZkSessionPool.builder()
                            .name("rolling-upgrade")
                            .connectString(ens.connectString())
                            .sessionsPerEnsemble(2)
                            .sessionTimeout(Duration.ofSeconds(20))
                            .connectionTimeout(Duration.ofSeconds(10))
                            .listener(events)
                            .build();
                    ZkLease lease = pool.lease();
                    EphemeralNode node = lease.ephemeral(ephemeral, V)) {
                long session = lease.sessionId();
                List<WatchEvent> seen = new CopyOnWriteArrayList<>();
                try (WatchHandle watch = lease.watch(base, seen::add)) {
                    // Followers first, the leader last.
                    List<ServerProcess> order = new ArrayList<>(ens.servers());
                    ServerProcess leader = ens.leader();
                    order.remove(leader);
                    order.add(leader);
                    for (ServerProcess member : order) {
                        ens.upgrade(member.id(), TO);
                        restarts++;
                        member.awaitServing(Duration.ofSeconds(60));
                        ens.awaitQuorum(Duration.ofSeconds(60));
                        assertThat(member.fourLetter("srvr")).contains("Zookeeper version: " + TO);
                        if (restarts == 1) {
                            aPoolBuiltOnThe35MemberWhileTheLeaderIsStill34UsesOnly34Requests(ens, member);
                        }

                        // Writes, reads, an ephemeral with missing parents, and the watch, on the mixed ensemble.
                        byte[] data = ("after-" + member.id()).getBytes(UTF_8);
                        lease.setData(base, data, -1);
                        assertThat(lease.getData(base)).isEqualTo(data);
                        String step = base + "/step-" + member.id() + "/x/eph";
                        try (EphemeralNode more = lease.ephemeral(step, V)) {
                            assertThat(lease.exists(step)).isNotNull();
                            assertThat(more.isPresent()).isTrue();
                        }
                        long changes = restarts;
                        await().atMost(Duration.ofSeconds(20))
                                .until(() -> seen.stream()
                                                .filter(e -> e.type() == WatchEvent.Type.DATA_CHANGED)
                                                .count()
                                        >= changes);
                        // The ephemeral survived: the same session holds it (no expiry, no re-creation).
                        Stat stat = lease.exists(ephemeral);
                        assertThat(stat)
                                .as(ephemeral + " after upgrading member " + member.id())
                                .isNotNull();
                        assertThat(stat.getEphemeralOwner()).isEqualTo(session);
                        assertThat(lease.sessionId()).isEqualTo(session);
                        assertThat(node.isPresent()).isTrue();
                    }
                }
                for (ServerProcess s : ens.servers()) {
                    assertThat(s.fourLetter("srvr")).contains("Zookeeper version: " + TO);
                }
                // The pool keeps what it learnt: parents are still persistent, a container create still fails at
                // once (nothing sent), as on 3.4.
                String after = base + "/after/eph";
                try (EphemeralNode more = lease.ephemeral(after, V)) {
                    assertThat(more.isPresent()).isTrue();
                }
                assertThat(createdAsContainer(ens, base + "/after"))
                        .as("parent created as a container by the pool that learnt 3.4")
                        .isFalse();
                assertThatThrownBy(() -> lease.create(base + "/container", V, CreateMode.CONTAINER))
                        .isInstanceOf(ZkUnsupportedException.class)
                        .hasMessageContaining("3.5");
                assertThat(lease.exists(ephemeral).getEphemeralOwner()).isEqualTo(session);

                // Each restart drops the sessions on that member, the leader's all of them, and a session may be
                // dropped once more by a member still electing; a drop for a request a member did not know would be
                // in its log (checked below).
                long suspended = events.callbacks(SessionState.SUSPENDED).size();
                assertThat(suspended)
                        .as(
                                "SUSPENDED callbacks for %d member restarts under 2 sessions: %s",
                                restarts, events.states())
                        .isLessThanOrEqualTo(2L * 2 * restarts);
                assertThat(events.callbacks(SessionState.LOST))
                        .as("sessions lost")
                        .isEmpty();
            }
            assertThat(ServerLogs.lines(ens, l -> l.contains(ServerLogs.UNKNOWN)))
                    .as("requests a member did not know: only the probe's getAllChildrenNumber (104) of the pool built"
                            + " mid-upgrade, on the 3.5 member")
                    .allMatch(l -> l.endsWith(ServerLogs.UNKNOWN + " 104"))
                    .hasSizeLessThanOrEqualTo(1);

            // A pool built after the upgrade learns 3.5: container parents.
            String fresh = base + "/fresh/eph";
            try (ZkSessionPool pool = ZkSessionPool.builder()
                            .name("after-upgrade")
                            .connectString(ens.connectString())
                            .sessionsPerEnsemble(1)
                            .build();
                    ZkLease lease = pool.lease();
                    EphemeralNode node = lease.ephemeral(fresh, V)) {
                assertThat(node.isPresent()).isTrue();
                assertThat(createdAsContainer(ens, base + "/fresh"))
                        .as("parent created as a container by a pool built after the upgrade")
                        .isTrue();
            }
        }
    }

    /**
     * A pool built in the middle of the upgrade, on a member already on 3.5 while the leader is still on 3.4: that
     * member has {@code /zookeeper/config}, but it forwards every write to the leader, and a 3.4 leader that receives a
     * {@code create2} or a container create drops the forwarding member from the quorum (its LearnerHandler fails on
     * the unknown request), again at every retry. The pool asks the other members their version first and uses only
     * what 3.4 knows: the ephemeral with missing parents and a recipe's create with a Stat work, no follower is
     * dropped, and no member receives a request it does not know but the probe's one on the 3.5 member, which answers
     * it itself.
     */
    static void aPoolBuiltOnThe35MemberWhileTheLeaderIsStill34UsesOnly34Requests(
            ProcessEnsemble ens, ServerProcess follower) throws Exception {
        assertThat(ens.leader().version()).isEqualTo(FROM);
        String base = "/mixed-" + System.nanoTime();
        String path = base + "/a/eph";
        // The connect string names all three, as a user's does; the 3.4 members have weight 0, so the session is
        // on the 3.5 member (they are used only when it is not usable).
        HostsConfig.Builder hosts = HostsConfig.builder();
        Set<String> servers;
        // The leader said goodbye to the follower it lost for the upgrade; any later one is the pool's doing.
        int goodbyes = ServerLogs.lines(ens, l -> l.contains(GOODBYE)).size();
        ens.servers().stream().filter(s -> s != follower).forEach(s -> hosts.weight(s.address(), 0));
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .name("mixed")
                        .connectString(ens.connectString())
                        .sessionsPerEnsemble(1)
                        .sessionTimeout(Duration.ofSeconds(20))
                        .connectionTimeout(Duration.ofSeconds(10))
                        .hosts(hosts.build())
                        .build();
                ZkLease lease = pool.lease();
                EphemeralNode node = lease.ephemeral(path, V)) {
            Stat stat = lease.exists(path);
            assertThat(stat).as(path).isNotNull();
            assertThat(stat.getEphemeralOwner()).isEqualTo(lease.sessionId());
            assertThat(node.isPresent()).isTrue();
            assertThat(createdAsContainer(ens, base + "/a"))
                    .as("parent created as a container while the leader runs 3.4")
                    .isFalse();
            servers = pool.stats().connectionsPerServer().keySet();
            Stat created = new Stat();
            lease.curator().create().storingStatIn(created).forPath(base + "/recipe", V);
            assertThat(created.getCzxid()).isPositive();
        }
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(ServerLogs.lines(ens, l -> l.contains(GOODBYE)))
                .as("followers dropped by the leader since the pool was built")
                .hasSize(goodbyes);
        soft.assertThat(ServerLogs.lines(ens, l -> l.contains(ServerLogs.UNKNOWN)))
                .as("requests a member did not know: at most the probe's getAllChildrenNumber (104), on the 3.5"
                        + " member")
                .allMatch(l -> l.endsWith(ServerLogs.UNKNOWN + " 104"))
                .hasSizeLessThanOrEqualTo(1);
        soft.assertThat(servers).as("the session's server").containsExactly(follower.address());
        soft.assertAll();
    }

    /** Whether {@code path} was created as a container, from the leader's transaction log. */
    static boolean createdAsContainer(ProcessEnsemble ens, String path) {
        Path dataDir = ens.leader().directory().resolve("data");
        return TxnLogOracle.read(dataDir.toFile()).txns().stream()
                .filter(t -> t.applied()
                        && t.ops().stream()
                                .anyMatch(op -> op.type() == TxnLogOracle.OpType.CREATE
                                        && op.path().equals(path)))
                .map(t -> t.opCode() == ZooDefs.OpCode.createContainer)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no create of " + path + " in the leader's transaction log"));
    }
}
