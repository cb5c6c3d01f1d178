package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Dynamic reconfiguration: sessions follow the ensemble's membership, moving only the share that must move. */
class EnsembleChangeIT {

    /** On the project's own server version and on 3.5.10, the first with dynamic reconfiguration. */
    @ParameterizedTest(name = "ZooKeeper {0}")
    @ValueSource(strings = {"3.9", "3.5.10"})
    void removingAMemberMovesItsSessionsAndAddingItBackTakesAShare(String version) throws Exception {
        int sessions = 24;
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder()
                        .serverVersion(version)
                        .size(3)
                        .reconfigEnabled(true)
                        .jvmOption("-Dzookeeper.skipACL=yes")
                        .start();
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(ensemble.connectString())
                        .sessionTimeout(Duration.ofSeconds(10))
                        .sessionsPerEnsemble(sessions)
                        .hosts(HostsConfig.builder().sessionCreationRate(100).build())
                        .build()) {
            List<ZkLease> leases = new ArrayList<>();
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                ZkLease lease = pool.lease();
                leases.add(lease);
                ids.add(lease.sessionId());
            }
            // A follower leaves: membership changes without an election.
            ServerProcess leader = ensemble.leader();
            ServerProcess third = ensemble.servers().stream()
                    .filter(s -> s != leader)
                    .reduce((a, b) -> b)
                    .orElseThrow();
            List<Integer> staying = new ArrayList<>();
            for (ServerProcess s : ensemble.servers()) {
                if (s != third) {
                    staying.add(s.id());
                }
            }
            String stayingConnect = ensemble.connectString(
                    staying.stream().mapToInt(Integer::intValue).toArray());
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> pool.stats().connectionsPerServer().values().stream()
                                    .mapToInt(Integer::intValue)
                                    .sum()
                            == sessions);
            assertThat(pool.stats().connectionsPerServer().getOrDefault(third.address(), 0))
                    .isPositive();

            String spec = membershipLine(ensemble, third);
            reconfig(stayingConnect, null, String.valueOf(third.id()));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                Map<String, Integer> now = pool.stats().connectionsPerServer();
                return !now.containsKey(third.address())
                        && now.values().stream().mapToInt(Integer::intValue).sum() == sessions;
            });
            // Only the removed member's sessions had to move, and they moved within their sessions.
            for (int i = 0; i < sessions; i++) {
                assertThat(leases.get(i).exists("/")).isNotNull();
                assertThat(leases.get(i).sessionId()).isEqualTo(ids.get(i));
            }

            reconfig(stayingConnect, spec, null);
            // Adding a member moves a fair share (about a third) of the sessions onto it, not all and not none.
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> pool.stats().connectionsPerServer().getOrDefault(third.address(), 0) > 0);
            int onThird = pool.stats().connectionsPerServer().getOrDefault(third.address(), 0);
            assertThat(onThird).isBetween(1, sessions - 1);
            assertThat(pool.stats().sessionsOpened()).isEqualTo(sessions);
            leases.forEach(ZkLease::close);
        }
    }

    @Test
    void removingTheLeaderMovesItsSessionsWithoutExpiringAny() throws Exception {
        int sessions = 12;
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder()
                        .size(3)
                        .reconfigEnabled(true)
                        .jvmOption("-Dzookeeper.skipACL=yes")
                        .start();
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(ensemble.connectString())
                        .sessionTimeout(Duration.ofSeconds(10))
                        .sessionsPerEnsemble(sessions)
                        .hosts(HostsConfig.builder().sessionCreationRate(100).build())
                        .build()) {
            List<ZkLease> leases = new ArrayList<>();
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                ZkLease lease = pool.lease();
                leases.add(lease);
                ids.add(lease.sessionId());
            }
            ServerProcess leader = ensemble.leader();
            List<Integer> staying = new ArrayList<>();
            for (ServerProcess s : ensemble.servers()) {
                if (s != leader) {
                    staying.add(s.id());
                }
            }
            reconfig(
                    ensemble.connectString(
                            staying.stream().mapToInt(Integer::intValue).toArray()),
                    null,
                    String.valueOf(leader.id()));
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                Map<String, Integer> now = pool.stats().connectionsPerServer();
                return !now.containsKey(leader.address())
                        && now.values().stream().mapToInt(Integer::intValue).sum() == sessions;
            });
            for (int i = 0; i < sessions; i++) {
                assertThat(leases.get(i).exists("/")).isNotNull();
                assertThat(leases.get(i).sessionId()).as("session %d", i).isEqualTo(ids.get(i));
            }
            assertThat(pool.stats().sessionsOpened()).isEqualTo(sessions);
            leases.forEach(ZkLease::close);
        }
    }

    /**
     * The members' configs give their client addresses as 127.0.0.1: the pool, given names (each resolving to
     * 127.0.0.1, told apart by port) and a chroot, keeps those names and the chroot after a reconfiguration
     * (CURATOR-578/611), in its list and its stats.
     */
    @Test
    void aMembershipChangeKeepsTheNamesTheUserGaveAndTheChroot() throws Exception {
        try (ProcessEnsemble ensemble = ProcessEnsemble.builder()
                .size(3)
                .reconfigEnabled(true)
                .jvmOption("-Dzookeeper.skipACL=yes")
                .start()) {
            List<String> named = new ArrayList<>();
            for (ServerProcess s : ensemble.servers()) {
                named.add("zk" + s.id() + ".test:" + s.clientPort());
            }
            InetAddress loopback = InetAddress.getByName("127.0.0.1");
            HostsConfig hosts = HostsConfig.builder()
                    .sessionCreationRate(100)
                    .resolver(host -> {
                        if (!host.endsWith(".test")) {
                            throw new UnknownHostException(host);
                        }
                        return new InetAddress[] {loopback};
                    })
                    .build();
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .connectString(String.join(",", named) + "/app")
                    .sessionTimeout(Duration.ofSeconds(10))
                    .sessionsPerEnsemble(3)
                    .hosts(hosts)
                    .build()) {
                ZkLease lease = pool.lease();
                long id = lease.sessionId();
                ServerProcess leader = ensemble.leader();
                ServerProcess leaving = ensemble.servers().stream()
                        .filter(s -> s != leader)
                        .reduce((a, b) -> b)
                        .orElseThrow();
                List<String> staying = new ArrayList<>();
                List<Integer> stayingIds = new ArrayList<>();
                for (ServerProcess s : ensemble.servers()) {
                    if (s != leaving) {
                        staying.add("zk" + s.id() + ".test:" + s.clientPort());
                        stayingIds.add(s.id());
                    }
                }
                reconfig(
                        ensemble.connectString(
                                stayingIds.stream().mapToInt(Integer::intValue).toArray()),
                        null,
                        String.valueOf(leaving.id()));
                // The membership's order is the ensemble's; the names and the chroot are the user's.
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    String current = pool.currentConnectString();
                    return current.endsWith("/app")
                            && Set.of(current.substring(0, current.indexOf('/')).split(","))
                                    .equals(Set.copyOf(staying));
                });
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> pool.stats().connectionsPerServer().values().stream()
                                        .mapToInt(Integer::intValue)
                                        .sum()
                                == 3);
                assertThat(pool.stats().connectionsPerServer().keySet()).allMatch(staying::contains);
                assertThat(lease.exists("/")).isNull(); // the chroot /app, which nobody created
                assertThat(lease.sessionId()).isEqualTo(id);
                lease.close();
            }
        }
    }

    static String membershipLine(ProcessEnsemble ensemble, ServerProcess server) throws Exception {
        String config = server.fourLetter("conf");
        for (String line : config.split("\n")) {
            if (line.startsWith("server." + server.id() + "=")) {
                return line.trim();
            }
        }
        throw new AssertionError("no membership line for server " + server.id() + " in: " + config);
    }

    static void reconfig(String connect, String joining, String leaving) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeperAdmin admin = new ZooKeeperAdmin(connect, 10_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        try {
            assertThat(connected.await(20, TimeUnit.SECONDS)).isTrue();
            // NewConfigNoQuorum: the members of the new configuration were not all synced with the leader yet (a member
            // just started or just added, on a loaded machine); nothing changed, so it is asked again.
            AtomicBoolean lost = new AtomicBoolean();
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(250))
                    .ignoreException(KeeperException.NewConfigNoQuorum.class)
                    .until(() -> {
                        try {
                            admin.reconfigure(joining, leaving, null, -1, null);
                        } catch (KeeperException.ConnectionLossException e) {
                            lost.set(true);
                        }
                        return true;
                    });
            if (lost.get()) {
                // Removing the leader makes it step down, which can cut the connection before the answer arrives; the
                // reconfiguration itself commits. Confirm it from the members' config.
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                    String config = new String(admin.getConfig(false, null), StandardCharsets.UTF_8);
                    return leaving == null
                            ? config.contains(joining.substring(0, joining.indexOf('=')))
                            : !config.contains("server." + leaving + "=");
                });
            }
        } finally {
            admin.close();
        }
    }
}
