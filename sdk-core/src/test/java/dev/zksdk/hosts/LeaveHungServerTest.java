package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * When {@link WeightedHostProvider#leaveHungServer()} drops a silent connection, and when it refuses to: only with
 * somewhere else to go, never twice for want of it. Against a handle stand-in that records the drop; the behaviour of a
 * real hung server is {@code HungServerIT}'s.
 */
class LeaveHungServerTest {

    static final int SESSION_MS = 9_000;

    /** What ZooKeeper's send thread would show the provider, and whether a drop was asked for. */
    static final class Handle implements WeightedHostProvider.AttemptControl {
        int drops;
        boolean dropWorks = true;

        @Override
        public void connectTimeout(int millis) {}

        @Override
        public void skipClientPause() {}

        @Override
        public long millisSinceLastSend() {
            return 10;
        }

        @Override
        public int negotiatedSessionTimeout() {
            return SESSION_MS;
        }

        @Override
        public boolean dropConnection() {
            drops++;
            return dropWorks;
        }
    }

    final Handle handle = new Handle();
    SessionSpread spread;

    /** A provider connected to its first server. */
    WeightedHostProvider connected(int... ports) {
        List<InetSocketAddress> list = new ArrayList<>();
        for (int port : ports) {
            list.add(InetSocketAddress.createUnresolved("127.0.0.1", port));
        }
        HostsConfig c =
                HostsConfig.builder().random(new Random(7)).sleeper(nanos -> {}).build();
        spread = new SessionSpread(c);
        WeightedHostProvider p =
                new WeightedHostProvider(list, spread, new ConnectionBudget(), SESSION_MS, new HandshakeTimes());
        p.expectBinding();
        p.bind(handle);
        p.next(1000);
        p.onConnected();
        return p;
    }

    @Test
    void aSilentServerIsLeftQuarantinedAndCountedWhenAnotherServerIsUsable() {
        WeightedHostProvider p = connected(21001, 21002, 21003);
        String hung = p.currentServer();

        assertThat(p.leaveHungServer()).isTrue();

        assertThat(handle.drops).isEqualTo(1);
        assertThat(spread.isQuarantined(hung))
                .as("the server left is quarantined")
                .isTrue();
        assertThat(spread.stats().hungDrops()).isEqualTo(1);
        // ZooKeeper reconnects through next(): another server.
        InetSocketAddress next = p.next(1000);
        assertThat(ServerEntry.keyOf(next)).isNotEqualTo(hung);
    }

    @Test
    void aOneServerListIsNeverDropped() {
        WeightedHostProvider p = connected(21001);

        assertThat(p.leaveHungServer()).isFalse();

        assertThat(handle.drops).isZero();
        assertThat(spread.stats().hungDrops()).isZero();
        assertThat(spread.isQuarantined(p.currentServer())).isFalse();
    }

    @Test
    void noDropWhileEveryOtherServerIsQuarantined() {
        WeightedHostProvider p = connected(21001, 21002, 21003);
        String current = p.currentServer();
        for (int port : new int[] {21001, 21002, 21003}) {
            InetSocketAddress other = InetSocketAddress.createUnresolved("127.0.0.1", port);
            if (!ServerEntry.keyOf(other).equals(current)) {
                p.markFailed(other);
            }
        }

        assertThat(p.leaveHungServer()).isFalse();

        assertThat(handle.drops).isZero();
        assertThat(spread.stats().hungDrops()).isZero();
        assertThat(spread.isQuarantined(current))
                .as("the current server is not quarantined")
                .isFalse();
    }

    @Test
    void noDropBeforeTheSessionIsConnected() {
        WeightedHostProvider p = connected(21001, 21002, 21003);
        p.next(1000); // the connection was lost; connecting again

        assertThat(p.leaveHungServer()).isFalse();
        assertThat(handle.drops).isZero();
    }

    @Test
    void aDropTheHandleCouldNotMakeIsNotCounted() {
        WeightedHostProvider p = connected(21001, 21002, 21003);
        handle.dropWorks = false;

        assertThat(p.leaveHungServer()).isFalse();

        assertThat(handle.drops).isEqualTo(1);
        assertThat(spread.stats().hungDrops()).isZero();
    }
}
