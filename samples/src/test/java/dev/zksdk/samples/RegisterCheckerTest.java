package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zksdk.samples.RegisterChecker.Op;
import dev.zksdk.samples.RegisterChecker.Outcome;
import dev.zksdk.samples.RegisterChecker.Result;
import dev.zksdk.samples.RegisterChecker.State;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The register checker on small histories whose verdict is known, and on generated ones. */
class RegisterCheckerTest {

    private static final State V0 = new State("v0", 0);
    private final RegisterChecker checker = new RegisterChecker();

    @Test
    void sequentialWritesAndReadsAreLinearizable() {
        Result r = checker.check(
                V0,
                List.of(
                        Op.write(1, "a", 0, 10, 0, "x", Outcome.OK, 1),
                        Op.read(2, "b", 20, 30, "x", 1),
                        Op.write(3, "b", 40, 50, 1, "y", Outcome.OK, 2),
                        Op.read(4, "a", 60, 70, "y", 2)));

        assertThat(r.linearizable()).isTrue();
        assertThat(r.conclusive()).isTrue();
    }

    @Test
    void staleReadAfterACompletedWriteIsAViolation() {
        Result r = checker.check(
                V0, List.of(Op.write(1, "a", 0, 10, 0, "x", Outcome.OK, 1), Op.read(2, "b", 20, 30, "v0", 0)));

        assertThat(r.violation()).isTrue();
        assertThat(r.explanation()).contains("#2 b read v0@v0", "x@v1");
        // The soak reports where each of these ran (session, server, zxids): the ops named, in the explanation's order.
        assertThat(r.involved()).extracting(Op::id).containsExactly(1, 2);
    }

    @Test
    void concurrentReadMaySeeEitherValue() {
        assertThat(checker.check(
                                V0,
                                List.of(
                                        Op.write(1, "a", 0, 100, 0, "x", Outcome.OK, 1),
                                        Op.read(2, "b", 10, 20, "v0", 0),
                                        Op.read(3, "c", 30, 40, "x", 1)))
                        .linearizable())
                .isTrue();
        // ... but not go back once a later read saw the new value.
        assertThat(checker.check(
                                V0,
                                List.of(
                                        Op.write(1, "a", 0, 100, 0, "x", Outcome.OK, 1),
                                        Op.read(2, "b", 10, 20, "x", 1),
                                        Op.read(3, "c", 30, 40, "v0", 0)))
                        .violation())
                .isTrue();
    }

    @Test
    void twoWritesExpectingTheSameVersionCannotBothSucceed() {
        Result r = checker.check(
                V0,
                List.of(
                        Op.write(1, "a", 0, 100, 0, "x", Outcome.OK, 1),
                        Op.write(2, "b", 0, 100, 0, "y", Outcome.OK, 1)));

        assertThat(r.violation()).isTrue();
    }

    @Test
    void failedWriteMustNotBeSeenAndNeedsAVersionMismatch() {
        // BADVERSION while the register was at the expected version: the server could not have said that.
        assertThat(checker.check(V0, List.of(Op.write(1, "a", 0, 10, 0, "x", Outcome.FAILED, -1)))
                        .violation())
                .isTrue();
        // BADVERSION after another write moved the version: fine.
        assertThat(checker.check(
                                V0,
                                List.of(
                                        Op.write(1, "a", 0, 10, 0, "x", Outcome.OK, 1),
                                        Op.write(2, "b", 20, 30, 0, "y", Outcome.FAILED, -1),
                                        Op.read(3, "c", 40, 50, "x", 1)))
                        .linearizable())
                .isTrue();
        // A failed write whose value is read later happened after all.
        assertThat(checker.check(
                                V0,
                                List.of(
                                        Op.write(1, "a", 0, 10, 0, "x", Outcome.OK, 1),
                                        Op.write(2, "b", 20, 30, 0, "y", Outcome.FAILED, -1),
                                        Op.read(3, "c", 40, 50, "y", 2)))
                        .violation())
                .isTrue();
    }

    @Test
    void unknownWriteMayHappenLateOrNever() {
        Op unknown = Op.write(1, "a", 0, 10, 0, "x", Outcome.UNKNOWN, -1);
        // Never happened.
        assertThat(checker.check(V0, List.of(unknown, Op.read(2, "b", 20, 30, "v0", 0)))
                        .linearizable())
                .isTrue();
        // Happened after a read that completed after the write was reported.
        assertThat(checker.check(
                                V0, List.of(unknown, Op.read(2, "b", 20, 30, "v0", 0), Op.read(3, "b", 40, 50, "x", 1)))
                        .linearizable())
                .isTrue();
        // But not twice: its value at two versions is a duplicate application.
        assertThat(checker.check(V0, List.of(unknown, Op.read(2, "b", 20, 30, "x", 1), Op.read(3, "b", 40, 50, "x", 2)))
                        .violation())
                .isTrue();
    }

    @Test
    void okWriteMustReturnTheVersionItMade() {
        assertThat(checker.check(V0, List.of(Op.write(1, "a", 0, 10, 0, "x", Outcome.OK, 2)))
                        .violation())
                .isTrue();
    }

    @Test
    void valueNobodyWroteIsAViolation() {
        Result r = checker.check(V0, List.of(Op.read(1, "a", 0, 10, "ghost", 1)));

        assertThat(r.violation()).isTrue();
        assertThat(r.explanation()).contains("#1 a read ghost@v1", "v0@v0");
    }

    @Test
    void unversionedWriteMatchesAnyVersion() {
        assertThat(checker.check(
                                V0,
                                List.of(
                                        Op.write(1, "a", 0, 10, 5, "x", Outcome.FAILED, -1),
                                        Op.write(2, "a", 20, 30, -1, "y", Outcome.OK, 1),
                                        Op.read(3, "b", 40, 50, "y", 1)))
                        .linearizable())
                .isTrue();
    }

    @Test
    void generatedLinearizableHistoriesPassAndACorruptedReadIsCaught() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            List<Op> history = simulate(random, 4, 40);
            assertThat(checker.check(V0, history).linearizable())
                    .as("round %d: %s", round, history)
                    .isTrue();

            List<Op> corrupted = corruptOneRead(history, random);
            if (corrupted != null) {
                Result r = checker.check(V0, corrupted);
                assertThat(r.violation()).as("round %d: %s", round, corrupted).isTrue();
            }
        }
    }

    @Test
    void searchThatRunsOutOfStatesSaysSoInsteadOfGuessing() {
        List<Op> manyConcurrent = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            manyConcurrent.add(Op.write(i, "c" + i, 0, 1000, -1, "x" + i, Outcome.UNKNOWN, -1));
        }
        manyConcurrent.add(Op.read(99, "r", 2000, 2001, "nobody", 7));

        Result r = new RegisterChecker(50).check(V0, manyConcurrent);

        assertThat(r.conclusive()).isFalse();
        assertThat(r.violation()).isFalse();
        assertThat(r.explanation()).contains("inconclusive");
    }

    @Test
    void rejectsAnOperationThatCompletesBeforeItStarts() {
        assertThatThrownBy(() -> Op.read(1, "a", 10, 5, "v0", 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("op 1 completed before it was invoked");
        assertThatThrownBy(() -> new RegisterChecker(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxStates must be at least 1, was 0");
    }

    /**
     * A history of {@code clients} clients on a real (simulated, atomic) register: each op takes effect at one instant
     * inside its interval; some writes are reported unknown (and took effect or not), reads see the state at their
     * instant.
     */
    private static List<Op> simulate(Random random, int clients, int opsPerClient) {
        State state = V0;
        List<Op> ops = new ArrayList<>();
        int id = 0;
        // Events happen at increasing instants; each client has at most one op in flight.
        List<long[]> plan = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            long t = random.nextInt(5);
            for (int k = 0; k < opsPerClient; k++) {
                long invoke = t;
                long effect = invoke + 1 + random.nextInt(20);
                long complete = effect + 1 + random.nextInt(20);
                plan.add(new long[] {c, invoke, effect, complete});
                t = complete + 1 + random.nextInt(5);
            }
        }
        plan.sort((a, b) -> Long.compare(a[2], b[2]));
        int written = 0;
        for (long[] p : plan) {
            String client = "c" + p[0];
            if (random.nextBoolean()) {
                ops.add(Op.read(id++, client, p[1], p[3], state.value(), state.version()));
                continue;
            }
            int expected = random.nextInt(4) == 0 ? state.version() + 1 : state.version();
            if (random.nextInt(5) == 0) {
                expected = -1;
            }
            String value = "w" + written++;
            boolean matches = expected == -1 || expected == state.version();
            int roll = random.nextInt(10);
            if (roll == 0) {
                // Unknown, and it happened when it matched.
                if (matches) {
                    state = new State(value, state.version() + 1);
                }
                ops.add(Op.write(id++, client, p[1], p[3], expected, value, Outcome.UNKNOWN, -1));
            } else if (roll == 1) {
                // Unknown, and it never happened.
                ops.add(Op.write(id++, client, p[1], p[3], expected, value, Outcome.UNKNOWN, -1));
            } else if (matches) {
                state = new State(value, state.version() + 1);
                ops.add(Op.write(id++, client, p[1], p[3], expected, value, Outcome.OK, state.version()));
            } else {
                ops.add(Op.write(id++, client, p[1], p[3], expected, value, Outcome.FAILED, -1));
            }
        }
        return ops;
    }

    /** The history with one read, after a write completed, changed to a value no one wrote; null if no such read. */
    private static List<Op> corruptOneRead(List<Op> history, Random random) {
        List<Integer> reads = new ArrayList<>();
        for (int i = 0; i < history.size(); i++) {
            if (history.get(i).kind() == RegisterChecker.Kind.READ) {
                reads.add(i);
            }
        }
        if (reads.isEmpty()) {
            return null;
        }
        int at = reads.get(random.nextInt(reads.size()));
        Op read = history.get(at);
        List<Op> corrupted = new ArrayList<>(history);
        corrupted.set(
                at,
                Op.read(
                        read.id(),
                        read.client(),
                        read.invokedNanos(),
                        read.completedNanos(),
                        "corrupt",
                        read.version()));
        return corrupted;
    }
}
