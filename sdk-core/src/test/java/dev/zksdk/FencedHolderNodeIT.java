package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zksdk.FencedLeadershipIT.Events;
import dev.zksdk.testing.InProcessEnsembles;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fence rests on the holder's own node as well as on the epoch version: a token whose holder node is gone is
 * refused even when the epoch node was recreated to the token's version, and a holder whose node is deleted while it
 * holds loses its turn at once (the recipes do not watch their own node).
 */
class FencedHolderNodeIT {

    static final byte[] V = "v".getBytes(StandardCharsets.UTF_8);
    /** A watch event on a live session arrives in milliseconds; generous for a loaded machine. */
    static final Duration LOSS_BOUND = Duration.ofSeconds(5);

    TestingServer server;
    ZkSessionPool pool;
    ZkSessionPool other;

    @BeforeEach
    void start() throws Exception {
        server = InProcessEnsembles.startServer();
        pool = FencedLeadershipIT.pool(server.getConnectString());
        other = FencedLeadershipIT.pool(server.getConnectString());
        try (ZkLease l = other.lease()) {
            l.create("/data", V, CreateMode.PERSISTENT);
        }
    }

    @AfterEach
    void stop() throws Exception {
        pool.close();
        other.close();
        server.close();
    }

    @Test
    void anEpochNodeRecreatedToTheFormerHoldersVersionDoesNotLetItsWritesLand() {
        ZkLease first = pool.lease();
        ZkLeadership a = first.leaderElection("/elections/r", new Events());
        await().atMost(Duration.ofSeconds(10)).until(a::isLeader);
        FencingToken old = a.token();
        assertThat(old.holderNode()).startsWith("/elections/r/");
        assertThat(first.exists(old.holderNode())).isNotNull();

        ZkLease second = other.lease();
        ZkLeadership b = second.leaderElection("/elections/r", new Events());
        a.close(); // A lost at the ZooKeeper level: its node is gone
        await().atMost(Duration.ofSeconds(10)).until(b::isLeader);
        assertThat(second.exists(old.holderNode())).isNull();

        // An operator deletes the epoch node and brings a new one to A's version while B holds.
        second.delete("/elections/r-epoch", -1);
        second.create("/elections/r-epoch", new byte[0], CreateMode.PERSISTENT);
        for (int i = 0; i < old.epochVersion(); i++) {
            second.setData("/elections/r-epoch", V, -1);
        }
        assertThat(second.exists("/elections/r-epoch").getVersion()).isEqualTo(old.epochVersion());
        assertThat(b.isLeader()).isTrue();

        Throwable refused = catchThrowable(() -> first.fenced(old).create("/data/stale", V, CreateMode.PERSISTENT));
        assertThat(refused).isInstanceOf(ZkFencedException.class);
        ZkFencedException fenced = (ZkFencedException) refused;
        assertThat(fenced.code()).isEqualTo(KeeperException.Code.NONODE);
        assertThat(fenced.path()).isEqualTo("/data/stale");
        assertThat(fenced.token()).isEqualTo(old);
        assertThat(fenced.getMessage()).contains(old.holderNode());
        Throwable refusedAsync = catchThrowable(() -> first.fenced(old)
                .setDataAsync("/data", "stale".getBytes(StandardCharsets.UTF_8), -1)
                .join());
        assertThat(refusedAsync).hasCauseInstanceOf(ZkFencedException.class);
        // Nothing of either write is on the server.
        assertThat(second.exists("/data/stale")).isNull();
        assertThat(second.getData("/data")).isEqualTo(V);
    }

    @Test
    void aLeaderWhoseNodeIsDeletedLosesItsTurnAtOnceAndEntersAgain() {
        ZkLease lease = pool.lease();
        Events events = new Events();
        ZkLeadership a = lease.leaderElection("/elections/d", events);
        await().atMost(Duration.ofSeconds(10)).until(a::isLeader);
        FencingToken t = a.token();
        ZkLease operator = other.lease();
        ZkLeadership b = operator.leaderElection("/elections/d", new Events());

        operator.delete(t.holderNode(), -1);

        await().atMost(LOSS_BOUND).until(() -> !a.isLeader());
        assertThat(a.token()).isNull();
        await().atMost(LOSS_BOUND)
                .until(() -> events.seen.equals(List.of("elected " + t.value(), "lost " + t.value() + " CONNECTED")));
        assertThat(catchThrowable(() -> lease.fenced(t).create("/data/stale", V, CreateMode.PERSISTENT)))
                .isInstanceOf(ZkFencedException.class);
        assertThat(operator.exists("/data/stale")).isNull();

        // The other participant takes over; the deleted one entered again with a new node and wins once B leaves.
        await().atMost(Duration.ofSeconds(10)).until(b::isLeader);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> operator.getChildren("/elections/d").size() == 2);
        b.close();
        await().atMost(Duration.ofSeconds(10)).until(a::isLeader);
        FencingToken again = a.token();
        assertThat(again.holderNode()).isNotEqualTo(t.holderNode());
        assertThat(again.isNewerThan(t)).isTrue();
        assertThat(events.seen).hasSize(3).last().isEqualTo("elected " + again.value());
    }

    @Test
    void aLockHolderWhoseNodeIsDeletedLosesItsTurnAtOnce() {
        ZkLease lease = pool.lease();
        Events events = new Events();
        ZkLock lock = lease.lock("/locks/d", events);
        FencingToken t = lock.acquire(Duration.ofSeconds(10));
        assertThat(t).isNotNull();
        ZkLease operator = other.lease();

        operator.delete(t.holderNode(), -1);

        await().atMost(LOSS_BOUND).until(() -> !lock.isHeld());
        assertThat(lock.token()).isNull();
        await().atMost(LOSS_BOUND)
                .until(() -> events.seen.equals(List.of("elected " + t.value(), "lost " + t.value() + " CONNECTED")));
        assertThat(catchThrowable(() -> lease.fenced(t).setData("/data", "stale".getBytes(StandardCharsets.UTF_8), -1)))
                .isInstanceOf(ZkFencedException.class);
        assertThat(operator.getData("/data")).isEqualTo(V);

        // Another client can take the lock; the former holder's release cleans up without error.
        ZkLock next = operator.lock("/locks/d");
        FencingToken newer = next.acquire(Duration.ofSeconds(10));
        assertThat(newer).isNotNull();
        assertThat(newer.isNewerThan(t)).isTrue();
        lock.release();
        assertThat(next.isHeld()).isTrue();
        next.release();
    }
}
