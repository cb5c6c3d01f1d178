package dev.zksdk.internal.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
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

    /**
     * Review21f's intermittent case: eight pools of two weighting h 2:1:1, a budget of 6, the process at 6/5/5 (even),
     * one pool with both sessions on b. No move evens the process, so only a repair of the pool's own spread helps: to
     * a (h is at its budget), after which a pool with a session on a and none on b evens the process again.
     */
    @Test
    void aPoolWithBothSessionsOnOneServerMovesOneWhenTheProcessIsEven() {
        Map<String, Integer> weights = Map.of("h", 2, "a", 1, "b", 1);
        List<Map<String, Double>> shares = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            shares.add(Rebalancer.shares(weights, 2));
        }
        Map<String, Double> common = Rebalancer.processWeights(weights.keySet(), shares);
        Map<String, Integer> process = Map.of("h", 6, "a", 5, "b", 5);
        Predicate<String> all = s -> true;
        Rebalancer.Choice c =
                Rebalancer.choose(Map.of("b", 2), weights, process, common, 6, all, all, Map.of("b", true));
        assertThat(c).isEqualTo(new Rebalancer.Choice("b", "a", true, null));
        // a pool on h and a: the process at 6/6/4 now asks it to go to b, as any move that evens the process
        Rebalancer.Choice swap = Rebalancer.choose(
                Map.of("h", 1, "a", 1),
                weights,
                Map.of("h", 6, "a", 6, "b", 4),
                common,
                6,
                all,
                all,
                Map.of("h", true, "a", true));
        assertThat(swap).isEqualTo(new Rebalancer.Choice("a", "b", false, null));
        // a pool already spread is never repaired, and a pool on h, h (its share there is 1 of 2) is not either
        assertThat(Rebalancer.choose(Map.of("a", 1, "b", 1), weights, process, common, 6, all, all, Map.of("a", true))
                        .from())
                .isNull();
        assertThat(Rebalancer.choose(
                                Map.of("h", 2),
                                weights,
                                Map.of("h", 5, "a", 6, "b", 5),
                                common,
                                8,
                                all,
                                all,
                                Map.of("h", true))
                        .from())
                .isNull();
        // a repair never goes to a server the process already has the more loaded of the two
        assertThat(Rebalancer.choose(
                                Map.of("b", 2),
                                weights,
                                Map.of("h", 6, "a", 7, "b", 3),
                                common,
                                6,
                                all,
                                all,
                                Map.of("b", true))
                        .from())
                .isNull();
    }

    /**
     * Pools of one to three sessions with different weights, placed at random, each looking in turn (one move per look,
     * as the process's one turn allows): the moves, repairs of a pool's own spread among them, always stop within two
     * per session, and no pool moves a session straight back (a pool may move one back later, after other pools'
     * moves changed the process's counts).
     */
    @Test
    void movesAndRepairsStopFromEveryRandomStart() {
        List<Map<String, Integer>> weightings = List.of(
                Map.of("h", 2, "a", 1, "b", 1),
                Map.of("h", 1, "a", 1, "b", 1),
                Map.of("h", 1, "a", 2, "b", 1),
                Map.of("h", 0, "a", 1, "b", 1),
                Map.of("h", 3, "a", 1, "b", 0));
        List<String> servers = List.of("h", "a", "b");
        Random random = new Random(21);
        Predicate<String> all = s -> true;
        int repairs = 0;
        for (int scenario = 0; scenario < 3000; scenario++) {
            int pools = 2 + random.nextInt(7);
            List<Map<String, Integer>> w = new ArrayList<>();
            List<Map<String, Integer>> placed = new ArrayList<>();
            List<Map<String, Double>> shares = new ArrayList<>();
            for (int p = 0; p < pools; p++) {
                Map<String, Integer> weights = weightings.get(random.nextInt(weightings.size()));
                int sessions = 1 + random.nextInt(3);
                Map<String, Integer> count = new TreeMap<>();
                for (int i = 0; i < sessions; i++) {
                    count.merge(servers.get(random.nextInt(3)), 1, Integer::sum);
                }
                w.add(weights);
                placed.add(count);
                shares.add(Rebalancer.shares(weights, sessions));
            }
            Map<String, Double> common = Rebalancer.processWeights(servers, shares);
            int limit = random.nextBoolean() ? Integer.MAX_VALUE : 2 + random.nextInt(6);
            List<String> moves = new ArrayList<>();
            String start = placed.toString();
            int idle = 0;
            int step = 0;
            for (; idle < pools && step < 400; step++) {
                int p = step % pools;
                Map<String, Integer> count = placed.get(p);
                Map<String, Integer> process = new HashMap<>();
                for (Map<String, Integer> c : placed) {
                    c.forEach((server, n) -> process.merge(server, n, Integer::sum));
                }
                Map<String, Boolean> movable = new HashMap<>();
                count.forEach((server, n) -> movable.put(server, n > 0));
                Rebalancer.Choice choice =
                        Rebalancer.choose(count, w.get(p), process, common, limit, all, all, movable);
                if (choice.from() == null) {
                    idle++;
                    continue;
                }
                idle = 0;
                repairs += choice.repair() ? 1 : 0;
                count.merge(choice.from(), -1, Integer::sum);
                count.merge(choice.to(), 1, Integer::sum);
                String move = p + ":" + choice.from() + ">" + choice.to() + (choice.repair() ? "(repair)" : "");
                if (!moves.isEmpty()) {
                    assertThat(moves.get(moves.size() - 1))
                            .as(
                                    "pool %d moved straight back, from %s weights %s limit %d: %s",
                                    p, start, w, limit, moves)
                            .doesNotStartWith(p + ":" + choice.to() + ">" + choice.from());
                }
                moves.add(move);
            }
            assertThat(step)
                    .as("moves did not stop from %s (limit %d): %s", start, limit, moves)
                    .isLessThan(400);
            int sessions = placed.stream()
                    .mapToInt(
                            c -> c.values().stream().mapToInt(Integer::intValue).sum())
                    .sum();
            assertThat(moves.size())
                    .as("moves from %s weights %s limit %d: %s", start, w, limit, moves)
                    .isLessThanOrEqualTo(2 * sessions);
        }
        assertThat(repairs).as("repairs made over every scenario").isPositive();
    }
}
