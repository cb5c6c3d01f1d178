package dev.zksdk.spring.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.ForcedExpiry;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.RawZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/**
 * A registration the service announces (an owned ephemeral) that is missing on the server and cannot be re-created
 * turns health DOWN, with a reason saying so, until it exists again: a readiness probe then takes the instance out.
 */
class MissingEphemeralHealthIT {

    @Test
    void anOwnedEphemeralThatCannotBeRecreatedTurnsHealthDownUntilItExistsAgain() throws Exception {
        try (TestingServer server = InProcessEnsembles.startServer();
                RawZooKeeper observer = RawZooKeeper.connect(server.getConnectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .sessionTimeout(Duration.ofSeconds(4))
                        .build();
                ZkLease lease = pool.lease()) {
            observer.zk().create("/locked", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            lease.ephemeral("/locked/member", new byte[] {1});
            ZkSessionPoolHealthIndicator indicator = new ZkSessionPoolHealthIndicator(pool);
            assertThat(indicator.health(true).getStatus()).isEqualTo(Status.UP);

            observer.zk()
                    .setACL(
                            "/locked",
                            new ArrayList<>(List.of(new ACL(Perms.READ | Perms.ADMIN, ZooDefs.Ids.ANYONE_ID_UNSAFE))),
                            -1);
            ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
            long old = zk.getSessionId();
            ForcedExpiry.expireSession(server.getConnectString(), old, zk.getSessionPasswd());

            // DOWN for the missing registration itself, not just while the session was being replaced.
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                Health h = indicator.health(true);
                return h.getStatus().equals(Status.DOWN)
                        && String.valueOf(h.getDetails().get("reason")).contains("missing");
            });
            assertThat(lease.sessionId()).isNotEqualTo(old);

            observer.zk().setACL("/locked", ZooDefs.Ids.OPEN_ACL_UNSAFE, -1);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> indicator.health(true).getStatus().equals(Status.UP));
            assertThat(observer.zk().exists("/locked/member", false).getEphemeralOwner())
                    .isEqualTo(lease.sessionId());
        }
    }
}
