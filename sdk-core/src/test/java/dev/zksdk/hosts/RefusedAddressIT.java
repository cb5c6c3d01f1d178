package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.LogCapture;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * A fresh pool whose connect string starts with an address where nothing listens (a member that is down: the
 * connection is refused at once) goes on to the next server without ZooKeeper's NIO pause: {@code ClientCnxnSocketNIO}
 * sleeps 100 ms after closing every connection, so each new session that tried the refused address first paid 100 ms
 * (the connect benchmark's p90 with a refused address, for the SDK as for plain ZooKeeper). The pools' handles use
 * {@code PromptClientCnxnSocketNIO}, which ends that pause; the host provider keeps its own backoff after a whole round
 * of failed servers.
 */
class RefusedAddressIT {

    static final int POOLS = 5;

    @Test
    void aRefusedAddressTriedFirstCostsNoPauseBeforeTheNextServer() throws Exception {
        int dead;
        try (ServerSocket s = new ServerSocket(0)) {
            dead = s.getLocalPort(); // closed again: nothing listens there
        }
        String deadKey = "127.0.0.1:" + dead;
        TestingServer server = InProcessEnsembles.startServer();
        try (server) {
            String live = "127.0.0.1:" + server.getPort();
            List<Long> gaps = new ArrayList<>();
            for (int i = 0; i < POOLS; i++) {
                try (LogCapture log = LogCapture.atDebug();
                        ZkSessionPool pool = ZkSessionPool.builder()
                                .name("refused-" + i)
                                .connectString(deadKey + "," + live)
                                .sessionTimeout(Duration.ofSeconds(30))
                                .connectionTimeout(Duration.ofSeconds(20))
                                // A clock of its own keeps the quarantine the pool's: every pool meets the dead
                                // address first (by weight), as a process's first pool does.
                                .hosts(HostsConfig.builder()
                                        .nanoClock(System::nanoTime)
                                        .weight(deadKey, HostsConfig.MAX_WEIGHT)
                                        .build())
                                .build();
                        ZkLease lease = pool.lease()) {
                    lease.exists("/");
                    long deadAt = log.firstLoggedAt(l -> l.contains("Attempt on " + deadKey + " ("));
                    long liveAt = log.firstLoggedAt(l -> l.contains("Attempt on " + live + " ("));
                    assertThat(liveAt).as("pool %d reached the live server", i).isPositive();
                    if (deadAt < 0 || deadAt > liveAt) {
                        continue; // the live server came first (1 time in 10,001): nothing to measure
                    }
                    gaps.add(liveAt - deadAt);
                }
            }
            System.out.println("FIGURES refused address first: ms from its attempt to the next server's " + gaps);
            assertThat(gaps).as("pools that tried the refused address first").isNotEmpty();
            // ZooKeeper's pause makes every gap 100 ms or more; without it, a gap is a refused connect and a pick.
            assertThat(gaps).as("gaps (ms)").anyMatch(g -> g < 100);
        }
    }
}
