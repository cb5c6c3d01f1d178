package dev.zksdk.internal.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    /**
     * Eight one-session pools weighting h 2:1:1 beside eight with equal weights, every pool judging the process's
     * counts: with each pool's own weights, 6/5/5 is "uneven" to both kinds, in opposite directions (a weighted pool
     * moves l to h, an equal pool h back to l, for ever). With the weights the process's pools share, both kinds see
     * the same order, and the moves stop from every starting spread.
     */
    @Test
    void poolsWeightingTheSameServersDifferentlyStopMoving() {
        Map<String, Integer> weighted = Map.of("h", 2, "a", 1, "b", 1);
        Map<String, Integer> equal = Map.of("h", 1, "a", 1, "b", 1);
        List<Map<String, Double>> shares = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            shares.add(Rebalancer.shares(weighted, 1));
            shares.add(Rebalancer.shares(equal, 1));
        }
        // Judged by each kind's own weights, 6/5/5 asks a weighted pool to move a to h (5-1 against 6+1 over 2) and,
        // at 7/4/5, an equal pool to move h back to a: the cycle the process's weights remove.
        assertThat(Rebalancer.evens(5, 1, 6, 2)).isTrue();
        assertThat(Rebalancer.evens(7, 1, 4, 1)).isTrue();
        Map<String, Double> common = Rebalancer.processWeights(List.of("h", "a", "b"), shares);
        assertThat(common.get("h")).isCloseTo(8 * 0.5 + 8 / 3.0, within(1e-9));
        for (int h = 0; h <= 16; h++) {
            for (int a = 0; a + h <= 16; a++) {
                Map<String, Integer> p = new HashMap<>(Map.of("h", h, "a", a, "b", 16 - h - a));
                List<String> moves = new ArrayList<>();
                for (int step = 0; step < 40 && dueMove(p, common, moves); step++) {
                    // one move per step, the kinds of pool taking turns, as the process's one turn lets them
                }
                assertThat(moves).as("moves from %d/%d/%d", h, a, 16 - h - a).hasSizeLessThan(40);
                Set<String> made = new HashSet<>(moves);
                for (String m : moves) {
                    String[] ft = m.split(">");
                    assertThat(made)
                            .as("reversed from %d/%d/%d: %s", h, a, 16 - h - a, moves)
                            .doesNotContain(ft[1] + ">" + ft[0]);
                }
            }
        }
    }

    /** Makes the widest due move (by the process's weights {@code w}), if any; returns whether one was made. */
    private static boolean dueMove(Map<String, Integer> p, Map<String, Double> w, List<String> moves) {
        String from = null;
        String to = null;
        double best = -1;
        for (String s : p.keySet()) {
            for (String t : p.keySet()) {
                if (s.equals(t) || p.get(s) == 0 || !Rebalancer.evens(p.get(s), w.get(s), p.get(t), w.get(t))) {
                    continue;
                }
                double gap = p.get(s) / w.get(s) - p.get(t) / w.get(t);
                if (gap > best) {
                    best = gap;
                    from = s;
                    to = t;
                }
            }
        }
        if (from == null) {
            return false;
        }
        p.merge(from, -1, Integer::sum);
        p.merge(to, 1, Integer::sum);
        moves.add(from + ">" + to);
        return true;
    }

    @Test
    void eachPoolsShareIsItsSessionsSpreadByItsWeights() {
        Map<String, Double> s = Rebalancer.shares(Map.of("h", 2, "a", 1, "b", 1, "z", 0), 4);
        assertThat(s)
                .containsEntry("h", 2.0)
                .containsEntry("a", 1.0)
                .containsEntry("b", 1.0)
                .containsEntry("z", 0.0);
        assertThat(Rebalancer.evens(3, 2.0, 0, 0.0))
                .as("never to a server no pool weights")
                .isFalse();
        assertThat(Rebalancer.evens(1, 0.0, 5, 1.0))
                .as("a weight-0 source is left")
                .isTrue();
        // equal weights summed: the same answers as whole weights
        assertThat(Rebalancer.evens(2, 16 / 3.0, 0, 16 / 3.0)).isTrue();
        assertThat(Rebalancer.evens(1, 16 / 3.0, 0, 16 / 3.0)).isFalse();
    }
}
