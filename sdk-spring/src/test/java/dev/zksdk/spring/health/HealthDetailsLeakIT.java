package dev.zksdk.spring.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.SecretScan;
import java.util.UUID;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/** The health indicator's details say what an operator needs and never a credential or a session password. */
class HealthDetailsLeakIT {

    @Test
    void healthDetailsCarryTheSessionButNoSecret() throws Exception {
        String password = "hp-" + UUID.randomUUID();
        try (TestingServer server = InProcessEnsembles.startServer();
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(server.getConnectString())
                        .digest("dora", password)
                        .build()) {
            ZkLease lease = pool.lease();
            ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
            Health health = new ZkSessionPoolHealthIndicator(pool).health(true);
            String text = health.toString() + " " + health.getDetails();

            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(text).contains(Long.toHexString(lease.sessionId()));
            SecretScan scan = new SecretScan()
                    .secret("digest password", password)
                    .secret("digest credential", "dora:" + password)
                    .secret("session password", zk.getSessionPasswd())
                    .check("health details", text);
            assertThat(scan.leaks()).isEmpty();
            lease.close();
        }
    }
}
