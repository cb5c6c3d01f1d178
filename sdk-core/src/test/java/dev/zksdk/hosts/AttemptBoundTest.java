package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * How {@link WeightedHostProvider} bounds each connection attempt, against a handle stand-in that records what the
 * provider sets and reports how long the attempt has been silent. No network, no real time.
 */
class AttemptBoundTest {

    static final int SESSION_MS = 30_000;

    /** What ZooKeeper's send thread would show the provider. */
    static final class Handle implements WeightedHostProvider.AttemptControl {
        final List<Integer> bounds = new ArrayList<>();
        int pausesSkipped;
        long silentMs;
        int negotiated;

        @Override
        public void connectTimeout(int millis) {
            bounds.add(millis);
        }

        @Override
        public void skipClientPause() {
            pausesSkipped++;
        }

        @Override
        public long millisSinceLastSend() {
            return silentMs;
        }

        @Override
        public int negotiatedSessionTimeout() {
            return negotiated;
        }

        @Override
        public boolean dropConnection() {
            return true;
        }

        int last() {
            return bounds.get(bounds.size() - 1);
        }
    }

    final HandshakeTimes handshakes = new HandshakeTimes();
    final Handle handle = new Handle();

    WeightedHostProvider provider(HostsConfig.Builder config, String... servers) {
        List<InetSocketAddress> list = new ArrayList<>();
        for (String s : servers) {
            list.add(InetSocketAddress.createUnresolved("127.0.0.1", Integer.parseInt(s)));
        }
        HostsConfig c = config.random(new Random(7)).sleeper(nanos -> {}).build();
        WeightedHostProvider p =
                new WeightedHostProvider(list, new SessionSpread(c), new ConnectionBudget(), SESSION_MS, handshakes);
        p.expectBinding();
        p.bind(handle);
        return p;
    }

    /**
     * A rebalance move (one session of the process at a time, to a server just found serving) starts its attempt at
     * once: ZooKeeper's pause of up to a second would hold the session's requests, and a pool closed meanwhile has its
     * close wait out that pause. A connection that was lost keeps the pause (it spreads a herd).
     */
    @Test
    void aRebalanceMoveStartsItsAttemptAtOnceAndALostConnectionKeepsZooKeepersPause() {
        handle.negotiated = SESSION_MS;
        WeightedHostProvider p = provider(HostsConfig.builder(), "21001", "21002");
        int first = p.next(1000).getPort();
        p.onConnected();
        int other = first == 21001 ? 21002 : 21001;
        assertThat(p.rebalanceTo("127.0.0.1:" + other)).isTrue();
        assertThat(p.next(1000).getPort()).as("the move's target").isEqualTo(other);
        assertThat(handle.pausesSkipped).as("the move's attempt").isEqualTo(1);
        p.onConnected();
        p.next(1000); // the connection lost: no move
        assertThat(handle.pausesSkipped).as("after a lost connection").isEqualTo(1);
    }

    @Test
    void beforeAnyHandshakeAnAttemptGetsTheFloorAndSizeSaysSo() {
        WeightedHostProvider p = provider(HostsConfig.builder(), "21001", "21002", "21003");
        assertThat(p.size()).as("30 s / 500 ms").isEqualTo(60);
        p.next(1000);
        assertThat(handle.last()).isEqualTo(500);
    }

    @Test
    void theBoundIsEightTimesTheSlowestRecentHandshakeWithThatServer() {
        handshakes.record("127.0.0.1:21001", Duration.ofMillis(20).toNanos());
        handshakes.record("127.0.0.1:21001", Duration.ofMillis(150).toNanos());
        handshakes.record("127.0.0.1:21001", Duration.ofMillis(40).toNanos());
        WeightedHostProvider p = provider(HostsConfig.builder(), "21001");
        p.next(1000);
        assertThat(handle.last()).isEqualTo(1_200);
    }

    @Test
    void aServerNeverAnsweredGetsTheBoundOfItsListAndASlowServerElsewhereChangesNothing() {
        handshakes.record("127.0.0.1:21002", Duration.ofMillis(100).toNanos()); // a member of this ensemble
        handshakes.record("127.0.0.1:29999", Duration.ofMillis(1_400).toNanos()); // another pool's remote server
        WeightedHostProvider p =
                provider(HostsConfig.builder().weight("127.0.0.1:21001", HostsConfig.MAX_WEIGHT), "21001", "21002");
        assertThat(p.next(1000).getPort()).isEqualTo(21001);
        assertThat(handle.last()).as("8 x 100 ms, from the list's other member").isEqualTo(800);
    }

    @Test
    void eachUnansweredAttemptDoublesTheNextBoundUpToAThirdOfTheSessionTimeout() {
        WeightedHostProvider p = provider(HostsConfig.builder(), "21001");
        p.next(1000);
        List<Integer> expected = new ArrayList<>(List.of(500));
        // Capped at a third of the session timeout; once an attempt at the cap went unanswered, ZooKeeper's own share
        // (the whole session timeout with one server).
        for (int bound : new int[] {2_000, 8_000, 10_000, 30_000}) {
            handle.silentMs = handle.last(); // the attempt ran out its bound unanswered
            p.next(1000);
            expected.add(bound);
        }
        assertThat(handle.bounds).isEqualTo(expected);
        // Connected: the handshake is learnt and the doubling starts over.
        handle.silentMs = 30;
        p.onConnected();
        assertThat(handshakes.slowestRecentNanos("127.0.0.1:21001"))
                .isEqualTo(Duration.ofMillis(30).toNanos());
        p.next(1000); // the connection dropped
        assertThat(handle.last()).isEqualTo(500);
    }

    @Test
    void aRefusedAttemptDoesNotWidenTheBound() {
        WeightedHostProvider p = provider(HostsConfig.builder(), "21001", "21002");
        p.next(1000);
        handle.silentMs = 3; // refused at once
        p.next(1000);
        assertThat(handle.bounds).containsExactly(500, 500);
    }

    @Test
    void theNegotiatedTimeoutAndConnectAttemptTimeoutCapTheBound() {
        WeightedHostProvider p =
                provider(HostsConfig.builder().connectAttemptTimeout(Duration.ofMillis(1_500)), "21001", "21002");
        p.next(1000);
        for (int i = 0; i < 5; i++) {
            handle.silentMs = handle.last();
            p.next(1000);
        }
        assertThat(handle.last()).isEqualTo(1_500);

        handle.negotiated = 2_400; // a server clamped the session: a third of it is 800 ms, half of it 1,200 ms
        handle.silentMs = handle.last();
        p.next(1000);
        assertThat(handle.last())
                .as("ZooKeeper's share after an attempt at the cap went unanswered")
                .isEqualTo(1_200);
    }

    @Test
    void aMinimumAtTheSessionShareGivesEveryAttemptZooKeepersBound() {
        WeightedHostProvider p =
                provider(HostsConfig.builder().minConnectAttemptTimeout(Duration.ofSeconds(10)), "21001", "21002");
        assertThat(p.size()).isEqualTo(3);
        p.next(1000);
        assertThat(handle.last()).isEqualTo(10_000);
    }

    @Test
    void zooKeepersPauseIsSkippedAfterAFailedAttemptOnlyNotAfterADroppedConnection() {
        WeightedHostProvider p = provider(HostsConfig.builder(), "21001", "21002");
        p.next(1000);
        p.onConnected();
        p.next(1000); // the connection dropped: ZooKeeper's pause spreads the reconnects
        assertThat(handle.pausesSkipped).isZero();
        handle.silentMs = 2;
        p.next(1000); // that attempt failed: the provider waited its jitter instead
        assertThat(handle.pausesSkipped).isEqualTo(1);
    }
}
