package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.junit.jupiter.api.Test;

/** The lagging follower of {@link ProcessEnsemble.Builder#proxiedQuorumLink(int)}, with plain ZooKeeper clients. */
class QuorumLinkIT {

    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(10);
    /** 20 ticks of 200 ms: a follower stays in the quorum with round trips of up to about 4 s on its link. */
    private static final int SYNC_LIMIT = 20;

    private static final Duration LATENCY = Duration.ofMillis(300);

    /**
     * With latency on its quorum link, a follower serves the value from before a write that has already completed
     * through the leader (the other follower made the quorum), then catches up; with the link frozen it does the
     * same until unfrozen. Its client never notices: the follower stays in the quorum throughout.
     */
    @Test
    void followerBehindASlowOrFrozenLinkServesTheOldValueAfterAWriteCompletesThenCatchesUp() throws Exception {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder()
                .size(3)
                .syncLimit(SYNC_LIMIT)
                .proxiedQuorumLink(1)
                .start()) {
            ServerProcess follower = ensemble.server(1);
            QuorumLink link = ensemble.quorumLink(1);
            ServerProcess leader = ensemble.leader();
            assertThat(follower.mode()).contains("follower");
            assertThat(link.proxyTo(leader.id()).clientConnectionCount())
                    .as("the follower reaches the leader through the proxy")
                    .isEqualTo(1);
            assertThat(link.connectionCount()).isEqualTo(1);

            try (RawZooKeeper writer = RawZooKeeper.connect(leader.address(), SESSION_TIMEOUT);
                    RawZooKeeper reader = RawZooKeeper.connect(follower.address(), SESSION_TIMEOUT)) {
                writer.zk().create("/lag", bytes(0), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                await().atMost(Duration.ofSeconds(10)).until(() -> value(reader) == 0);

                link.latency(LATENCY);
                assertThat(link.proxyTo(leader.id()).latency()).isEqualTo(LATENCY);
                for (int i = 1; i <= 5; i++) {
                    writer.zk().setData("/lag", bytes(i), -1);
                    assertThat(value(reader))
                            .as("read on the follower right after write %d completed", i)
                            .isEqualTo(i - 1);
                    int written = i;
                    await().atMost(Duration.ofSeconds(10)).until(() -> value(reader) == written);
                }

                link.latency(Duration.ZERO);
                link.freeze();
                writer.zk().setData("/lag", bytes(6), -1);
                assertThat(value(reader))
                        .as("read on the follower while its link is frozen")
                        .isEqualTo(5);
                link.unfreeze();
                await().atMost(Duration.ofSeconds(10)).until(() -> value(reader) == 6);

                assertThat(reader.states())
                        .as("the follower never dropped its client")
                        .containsExactly(KeeperState.SyncConnected);
                assertThat(follower.mode()).contains("follower");
                assertThat(ensemble.leader()).isSameAs(leader);
            }
        }
    }

    /**
     * The proxied member follows whichever member it is. At a fresh start the highest id usually wins the
     * election; {@link ProcessEnsemble.Builder#start()} then restarts it so that another member leads. Its writes
     * go through its link.
     */
    @Test
    void proxiedMemberFollowsEvenWhenItIsTheHighestId() throws Exception {
        try (ProcessEnsemble ensemble =
                ProcessEnsemble.builder().size(3).proxiedQuorumLink(3).start()) {
            ServerProcess member = ensemble.server(3);
            long starts = Files.readAllLines(member.logFile(), StandardCharsets.ISO_8859_1).stream()
                    .filter(l -> l.startsWith("=== starting server 3"))
                    .count();
            System.out.println("server 3 was started " + starts + " time(s)");

            assertThat(member.mode()).contains("follower");
            assertThat(ensemble.leader().id()).isNotEqualTo(3);
            assertThat(ensemble.quorumLink(3).connectionCount()).isEqualTo(1);
            try (RawZooKeeper client = RawZooKeeper.connect(member.address(), SESSION_TIMEOUT)) {
                client.zk().create("/through-link", bytes(1), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertThat(client.zk().getData("/through-link", false, null)).isEqualTo(bytes(1));
            }
        }
    }

    private static byte[] bytes(int value) {
        return Integer.toString(value).getBytes(StandardCharsets.UTF_8);
    }

    private static int value(RawZooKeeper client) throws Exception {
        return Integer.parseInt(new String(client.zk().getData("/lag", false, null), StandardCharsets.UTF_8));
    }
}
