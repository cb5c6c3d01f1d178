package dev.zksdk.internal.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** The hysteresis of a rebalancing move (the move itself is proven on real servers in RebalanceAfterFailoverIT). */
class RebalancerTest {

    @Test
    void withEqualWeightsAMoveIsDueOnlyWhenTheTwoServersDifferByTwoOrMore() {
        assertThat(Rebalancer.evens(2, 1, 0, 1)).isTrue();
        assertThat(Rebalancer.evens(6, 1, 0, 1)).isTrue();
        assertThat(Rebalancer.evens(3, 1, 1, 1)).isTrue();
        assertThat(Rebalancer.evens(1, 1, 0, 1))
                .as("1 and 0: a move would only swap them")
                .isFalse();
        assertThat(Rebalancer.evens(2, 1, 1, 1)).isFalse();
        assertThat(Rebalancer.evens(2, 1, 2, 1)).isFalse();
    }

    @Test
    void weightsScaleTheLoadAndAWeightZeroServerIsLeftForAPositiveOne() {
        // weight 2 against 1: 4 and 1 is 2 against 1 per unit; after a move 3/2 = 1.5 against 2: not due
        assertThat(Rebalancer.evens(4, 2, 1, 1)).isFalse();
        // 6 and 1: after a move 5/2 = 2.5 against 2: due
        assertThat(Rebalancer.evens(6, 2, 1, 1)).isTrue();
        assertThat(Rebalancer.evens(1, 0, 5, 1)).isTrue();
        assertThat(Rebalancer.evens(0, 0, 5, 1)).isFalse();
    }

    @Test
    void aMoveNeverWidensThePoolsOwnSpread() {
        Map<String, Integer> equal = Map.of("a:1", 1, "b:1", 1, "c:1", 1);
        Predicate<String> all = s -> true;
        // a pool of one session: its spread is 1 wherever it is, so a move keeps it
        assertThat(Rebalancer.keepsOwnSpread(Map.of("b:1", 1), equal, "b:1", "a:1", all))
                .isTrue();
        // 1/1/1: moving one makes it 2/0/1
        assertThat(Rebalancer.keepsOwnSpread(Map.of("a:1", 1, "b:1", 1, "c:1", 1), equal, "b:1", "a:1", all))
                .isFalse();
        // 0/2/1 to 1/1/1
        assertThat(Rebalancer.keepsOwnSpread(Map.of("b:1", 2, "c:1", 1), equal, "b:1", "a:1", all))
                .isTrue();
        // 1/0/1 (b its own, c quarantined and empty): b to a leaves 1/0 over the healthy ones, as before
        assertThat(Rebalancer.keepsOwnSpread(Map.of("a:1", 1, "b:1", 1), equal, "b:1", "a:1", s -> !s.equals("c:1")))
                .isFalse();
        // 2/0 with c unhealthy: to 1/1
        assertThat(Rebalancer.keepsOwnSpread(Map.of("b:1", 2), equal, "b:1", "a:1", s -> !s.equals("c:1")))
                .isTrue();
        // weights 2:1:1, a pool of one session on the weight-2 server: 0.5 per unit of weight there, 1 on a light one,
        // yet it is as even as one session can be wherever it is (Review21e: such pools never left the heavy server)
        Map<String, Integer> heavy = Map.of("h:1", 2, "a:1", 1, "b:1", 1);
        assertThat(Rebalancer.keepsOwnSpread(Map.of("h:1", 1), heavy, "h:1", "a:1", all))
                .isTrue();
        // ... while a pool of 4/2/2 on them does not leave its proportion for 3/3/2 by its own counts alone
        assertThat(Rebalancer.keepsOwnSpread(Map.of("h:1", 4, "a:1", 2, "b:1", 2), heavy, "a:1", "b:1", all))
                .isFalse();
    }

    @Test
    void aSessionOnAWeightZeroServerGoesToThePoolsEmptiest() {
        Map<String, Integer> weights = Map.of("z:1", 0, "a:1", 1, "b:1", 1);
        Map<String, Integer> count = Map.of("z:1", 1, "a:1", 1);
        assertThat(Rebalancer.keepsOwnSpread(count, weights, "z:1", "b:1", s -> true))
                .isTrue();
        assertThat(Rebalancer.keepsOwnSpread(count, weights, "z:1", "a:1", s -> true))
                .isFalse();
        // a pool of one session on the weight-0 server: either positive one
        assertThat(Rebalancer.keepsOwnSpread(Map.of("z:1", 1), weights, "z:1", "a:1", s -> true))
                .isTrue();
    }

    @Test
    void aTargetsZxidIsReadFromItsSrvrAnswer() {
        String srvr = "Zookeeper version: 3.9.4-...\nLatency min/avg/max: 0/0.5/3\nReceived: 12\nSent: 11\n"
                + "Connections: 2\nOutstanding: 0\nZxid: 0x30000001a\nMode: follower\nNode count: 7\n";
        assertThat(Rebalancer.parseZxid(srvr)).isEqualTo(0x30000001aL);
        assertThat(Rebalancer.parseZxid("srvr is not executed because it is not in the whitelist.\n"))
                .isEqualTo(Rebalancer.TargetState.UNKNOWN);
        assertThat(Rebalancer.parseZxid("This ZooKeeper instance is not currently serving requests\n"))
                .isEqualTo(Rebalancer.TargetState.DOWN);
        assertThat(Rebalancer.parseZxid("Zxid: nonsense\n")).isEqualTo(Rebalancer.TargetState.UNKNOWN);
        assertThat(Rebalancer.parseZxid(null)).isEqualTo(Rebalancer.TargetState.UNKNOWN);
    }
}
