package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ConnectStringParser;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Raw ZooKeeper handles built on {@link WeightedHostProvider}, against real servers. */
class WeightedHostProviderIT {

    private static final Logger log = LoggerFactory.getLogger(WeightedHostProviderIT.class);
    private static final int SESSION_TIMEOUT_MS = 4_000;
    private static final Pattern SESSION_ID = Pattern.compile("sid=0x([0-9a-f]+)");

    private final List<ZooKeeper> handles = new ArrayList<>();
    private final List<WeightedHostProvider> providers = new ArrayList<>();
    private final List<AutoCloseable> servers = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (ZooKeeper zk : handles) {
            zk.close();
        }
        providers.forEach(WeightedHostProvider::close);
        for (AutoCloseable s : servers) {
            s.close();
        }
    }

    private ZooKeeper open(String connectString, SessionSpread spread, ConnectionBudget budget) throws Exception {
        WeightedHostProvider provider =
                new WeightedHostProvider(new ConnectStringParser(connectString).getServerAddresses(), spread, budget);
        providers.add(provider);
        ZooKeeper zk = new ZooKeeper(connectString, SESSION_TIMEOUT_MS, event -> {}, false, provider, null);
        handles.add(zk);
        return zk;
    }

    private static Set<Long> sessionsOn(InstanceSpec server) throws Exception {
        String cons = FourLetterWordMain.send4LetterWord(LocalServers.LOOPBACK, server.getPort(), "cons");
        Set<Long> ids = new TreeSet<>();
        Matcher m = SESSION_ID.matcher(cons);
        while (m.find()) {
            ids.add(Long.parseUnsignedLong(m.group(1), 16));
        }
        return ids;
    }

    @Test
    void sixHandlesSpreadTwoPerServerUnderMaxClientCnxnsOfTwo() throws Exception {
        TestingCluster cluster = LocalServers.cluster(3, 2);
        servers.add(cluster);
        String connect = cluster.getConnectString();
        SessionSpread spread = new SessionSpread(
                HostsConfig.builder().perServerConnectionBudget(2).build());
        ConnectionBudget budget = new ConnectionBudget();

        long start = System.nanoTime();
        for (int i = 0; i < 6; i++) {
            open(connect, spread, budget);
        }
        await().atMost(Duration.ofSeconds(20))
                .until(() -> handles.stream().allMatch(zk -> zk.getState().isConnected()));
        log.info(
                "6 sessions connected in {} ms",
                Duration.ofNanos(System.nanoTime() - start).toMillis());
        for (ZooKeeper zk : handles) {
            assertThat(zk.exists("/", false)).isNotNull();
        }

        Map<String, Integer> twoEach = new LinkedHashMap<>();
        for (InstanceSpec s : cluster.getInstances()) {
            twoEach.put(s.getConnectString(), 2);
        }
        assertThat(spread.stats().connectionsPerServer()).isEqualTo(twoEach);
        assertThat(budget.snapshot()).isEqualTo(twoEach);
        // a third connection from 127.0.0.1 to any server would have been refused (maxClientCnxns=2) and counted
        assertThat(spread.stats().connectFailures()).isZero();
        Map<Integer, Integer> socketsPerServerPort = new HashMap<>();
        for (ZooKeeper zk : handles) {
            socketsPerServerPort.merge(cluster.findConnectionInstance(zk).getPort(), 1, Integer::sum);
        }
        assertThat(socketsPerServerPort.values()).containsExactly(2, 2, 2);

        // cons itself needs a free connection slot: close one session per server, then ask every server
        Map<String, ZooKeeper> survivorByServer = new HashMap<>();
        for (int i = handles.size() - 1; i >= 0; i--) {
            WeightedHostProvider p = providers.get(i);
            String server = p.currentServer();
            if (survivorByServer.containsKey(server)) {
                handles.remove(i).close();
                providers.remove(i).close();
            } else {
                survivorByServer.put(server, handles.get(i));
            }
        }
        assertThat(budget.snapshot().values()).containsExactly(1, 1, 1);
        for (InstanceSpec s : cluster.getInstances()) {
            long expected = survivorByServer.get(s.getConnectString()).getSessionId();
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(sessionsOn(s)).containsExactly(expected));
        }

        // the returned slots are usable again, by new sessions spread over the servers
        for (int i = 0; i < 3; i++) {
            open(connect, spread, budget);
        }
        await().atMost(Duration.ofSeconds(20))
                .until(() -> handles.stream().allMatch(zk -> zk.getState().isConnected()));
        assertThat(spread.stats().connectionsPerServer()).isEqualTo(twoEach);
        assertThat(spread.stats().connectFailures()).isZero();
    }

    @Test
    void deadAddressInTheConnectStringCostsOneRefusedAttemptAndIsQuarantined() throws Exception {
        TestingServer live = LocalServers.server();
        servers.add(live);
        String dead = LocalServers.LOOPBACK + ":" + LocalServers.deadPort();
        String liveKey = LocalServers.LOOPBACK + ":" + live.getPort();
        String connect = dead + "," + liveKey;
        // a Random that always draws 0 picks the first listed candidate: the dead address, the worst case
        Random firstListed = new Random() {
            @Override
            protected int next(int bits) {
                return 0;
            }
        };
        SessionSpread spread =
                new SessionSpread(HostsConfig.builder().random(firstListed).build());
        ConnectionBudget budget = new ConnectionBudget();

        long start = System.nanoTime();
        ZooKeeper zk = open(connect, spread, budget);
        // ZooKeeper gives each attempt sessionTimeout / servers = 2 s; a stalled dead address would use it all
        await().atMost(Duration.ofMillis(SESSION_TIMEOUT_MS / 2))
                .pollInterval(Duration.ofMillis(10))
                .until(() -> zk.getState().isConnected());
        long connectedMs = Duration.ofNanos(System.nanoTime() - start).toMillis();
        log.info("connected past a dead address in {} ms", connectedMs);

        assertThat(spread.isQuarantined(dead)).isTrue();
        assertThat(spread.stats().connectAttempts()).isEqualTo(2);
        assertThat(spread.stats().connectFailures()).isEqualTo(1);
        assertThat(spread.stats().connectionsPerServer()).containsExactly(Map.entry(liveKey, 1));
        assertThat(providers.get(0).currentServer()).isEqualTo(liveKey);

        // a sibling session skips the quarantined address altogether
        ZooKeeper sibling = open(connect, spread, budget);
        await().atMost(Duration.ofSeconds(5)).until(() -> sibling.getState().isConnected());
        assertThat(spread.stats().connectAttempts()).isEqualTo(3);
        assertThat(spread.stats().connectFailures()).isEqualTo(1);
    }

    @Test
    void membershipChangeMovesSessionsOnlyToTheNewServerAndKeepsThem() throws Exception {
        TestingCluster cluster = LocalServers.cluster(3, 0);
        servers.add(cluster);
        List<String> members = new ArrayList<>();
        for (InstanceSpec s : cluster.getInstances()) {
            members.add(s.getConnectString());
        }
        String before = members.get(0) + "," + members.get(1);
        String after = String.join(",", members);
        SessionSpread spread = new SessionSpread();
        ConnectionBudget budget = new ConnectionBudget();
        for (int i = 0; i < 24; i++) {
            open(before, spread, budget);
        }
        await().atMost(Duration.ofSeconds(20))
                .until(() -> handles.stream().allMatch(zk -> zk.getState().isConnected()));
        Map<ZooKeeper, String> serverBefore = new HashMap<>();
        Map<ZooKeeper, Long> sessionBefore = new HashMap<>();
        for (int i = 0; i < handles.size(); i++) {
            serverBefore.put(handles.get(i), providers.get(i).currentServer());
            sessionBefore.put(handles.get(i), handles.get(i).getSessionId());
        }

        for (ZooKeeper zk : handles) {
            zk.updateServerList(after);
        }

        // a session that moves is disconnected by ZooKeeper and reconnects elsewhere; wait until all settled
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            for (int i = 0; i < handles.size(); i++) {
                if (!handles.get(i).getState().isConnected()
                        || !providers.get(i).isConnected()) {
                    return false;
                }
            }
            return true;
        });
        int moved = 0;
        for (int i = 0; i < handles.size(); i++) {
            ZooKeeper zk = handles.get(i);
            String now = providers.get(i).currentServer();
            if (!now.equals(serverBefore.get(zk))) {
                assertThat(now)
                        .as("a session only moves to the server that joined")
                        .isEqualTo(members.get(2));
                moved++;
            }
            assertThat(zk.getSessionId()).as("moving keeps the session").isEqualTo(sessionBefore.get(zk));
            assertThat(cluster.findConnectionInstance(zk).getConnectString()).isEqualTo(now);
        }
        log.info("{} of 24 sessions moved to the new server (expected share 1/3)", moved);
        assertThat(moved).as("about a third should move, none is impossible").isBetween(1, 16);
        assertThat(spread.stats().connectFailures()).isZero();
    }
}
