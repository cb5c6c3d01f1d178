package dev.zksdk.samples;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A linearizability checker for one ZooKeeper node used as a register: reads return its value and data version,
 * writes are {@code setData} with an expected version (a compare-and-set; version -1 matches any). It is the search of
 * Wing and Gong with the state cache of Lowe (as in Knossos and Porcupine): it looks for an order of the operations that
 * respects real time (an operation that completed before another was invoked comes first) and that a single register
 * would produce, one operation at a time.
 *
 * <p>Outcomes follow what a client was told: an {@link Outcome#OK} write happened exactly once, at some point between
 * its invocation and its completion, and left the version its caller got back; a {@link Outcome#FAILED} write (the
 * server's {@code BADVERSION}) did not happen and its expected version was not the register's at some such point; an
 * {@link Outcome#UNKNOWN} write ({@code outcomeUnknown()}) either happened once at some point after its invocation — with
 * no upper bound, as a request in flight may still be applied — or never. A write that failed without reaching the
 * server (nothing sent) is left out of the history: its value must then never be seen. Values must be unique per write,
 * which makes the search decisive on most histories.
 *
 * <p>The search is exponential in the worst case, so histories are meant to be short (a few hundred operations of a
 * few concurrent clients); past {@code maxStates} visited states it gives up and says the result is inconclusive rather
 * than guessing. Not thread-safe; one instance can check many histories in turn.
 */
final class RegisterChecker {

    /**
     * How many search states a history may visit before the checker calls it inconclusive; each is remembered, so this
     * also bounds the memory a check takes (tens of MiB for histories of a few hundred operations).
     */
    static final int DEFAULT_MAX_STATES = 200_000;

    /** What a caller was told about an operation. */
    enum Outcome {
        OK,
        FAILED,
        UNKNOWN
    }

    /** Reads and versioned writes. */
    enum Kind {
        READ,
        WRITE
    }

    /**
     * One operation as a client saw it: when it was invoked and completed ({@link System#nanoTime()}), what it did and
     * what it was told.
     *
     * @param client who issued it, for messages
     * @param value the value read, or the value written
     * @param version the data version read (-1 when the read returned the value alone), or (for an {@link Outcome#OK}
     *     write) the version the write returned
     * @param expectedVersion the version a write expected, -1 for any; unused for reads
     */
    record Op(
            int id,
            String client,
            Kind kind,
            long invokedNanos,
            long completedNanos,
            String value,
            int version,
            int expectedVersion,
            Outcome outcome) {

        Op {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(outcome, "outcome");
            if (kind == Kind.READ && outcome != Outcome.OK) {
                throw new IllegalArgumentException("a read is in the history only when it returned, was " + outcome);
            }
            if (completedNanos - invokedNanos < 0) {
                throw new IllegalArgumentException(
                        "op " + id + " completed before it was invoked: " + invokedNanos + " > " + completedNanos);
            }
        }

        static Op read(int id, String client, long invoked, long completed, String value, int version) {
            return new Op(id, client, Kind.READ, invoked, completed, value, version, -1, Outcome.OK);
        }

        static Op write(
                int id,
                String client,
                long invoked,
                long completed,
                int expectedVersion,
                String value,
                Outcome outcome,
                int resultVersion) {
            return new Op(id, client, Kind.WRITE, invoked, completed, value, resultVersion, expectedVersion, outcome);
        }

        @Override
        public String toString() {
            String what = kind == Kind.READ
                    ? "read " + value + (version == -1 ? "" : "@v" + version)
                    : "write " + value + " if v" + (expectedVersion == -1 ? "*" : String.valueOf(expectedVersion))
                            + (outcome == Outcome.OK
                                    ? " -> ok v" + version
                                    : " -> " + outcome.name().toLowerCase(Locale.ROOT));
            return "#" + id + " " + client + " " + what;
        }
    }

    /** The register's state: its value and data version. */
    record State(String value, int version) {
        @Override
        public String toString() {
            return value + "@v" + version;
        }
    }

    /**
     * The verdict on one history.
     *
     * @param linearizable true when an order was found (or the search gave up: see {@code conclusive})
     * @param conclusive false when the search gave up after {@code statesVisited} states
     * @param explanation for a violation: how far the best order got and which operations could not come next
     * @param involved for a violation: the last operations of the best order and those that could not come next (the
     *     ones the explanation names, in that order); empty otherwise
     */
    record Result(boolean linearizable, boolean conclusive, long statesVisited, String explanation, List<Op> involved) {
        Result {
            involved = List.copyOf(involved);
        }

        boolean violation() {
            return conclusive && !linearizable;
        }
    }

    private final int maxStates;

    RegisterChecker() {
        this(DEFAULT_MAX_STATES);
    }

    RegisterChecker(int maxStates) {
        if (maxStates < 1) {
            throw new IllegalArgumentException("maxStates must be at least 1, was " + maxStates);
        }
        this.maxStates = maxStates;
    }

    /**
     * Checks {@code history} against a register that held {@code initial} before any of it.
     *
     * @throws IllegalArgumentException for an operation whose completion precedes its invocation
     */
    Result check(State initial, List<Op> history) {
        List<Op> ops = new ArrayList<>(history);
        ops.sort(Comparator.comparingLong(Op::invokedNanos));
        return new Search(initial, ops, maxStates).run();
    }

    private static final class Search {
        private final State initial;
        private final Op[] ops;
        /** Completion per op, with an unknown write never completing: it may take effect any time after invocation. */
        private final long[] completed;

        private final int definite;
        private final int maxStates;
        private final Set<Key> seen = new HashSet<>();
        private long visited;
        private boolean gaveUp;
        private int deepest = -1;
        private State deepestState;
        private List<Op> deepestOrder = List.of();
        private List<Op> deepestCandidates = List.of();

        Search(State initial, List<Op> ops, int maxStates) {
            this.initial = initial;
            this.ops = ops.toArray(Op[]::new);
            this.completed = new long[this.ops.length];
            int d = 0;
            for (int i = 0; i < this.ops.length; i++) {
                boolean unknown = this.ops[i].outcome() == Outcome.UNKNOWN;
                completed[i] = unknown ? Long.MAX_VALUE : this.ops[i].completedNanos();
                if (!unknown) {
                    d++;
                }
            }
            this.definite = d;
            this.maxStates = maxStates;
        }

        Result run() {
            boolean found = search(new BitSet(ops.length), 0, initial, new ArrayList<>());
            if (found) {
                return new Result(true, true, visited, "", List.of());
            }
            if (gaveUp) {
                return new Result(
                        true,
                        false,
                        visited,
                        "gave up after " + visited + " states (" + ops.length + " operations): inconclusive",
                        List.of());
            }
            List<Op> involved = new ArrayList<>(lastPlaced());
            involved.addAll(deepestCandidates);
            return new Result(false, true, visited, explain(), involved);
        }

        /**
         * Depth-first: extends {@code order} (the ops in {@code done}, {@code definiteDone} of them definite) by one
         * op that may come next. Ops are compared with wrapping arithmetic on nanoTime values.
         */
        private boolean search(BitSet done, int definiteDone, State state, List<Op> order) {
            if (definiteDone == definite) {
                return true;
            }
            if (++visited > maxStates) {
                gaveUp = true;
                return false;
            }
            long firstCompletion = Long.MAX_VALUE;
            boolean anyPending = false;
            for (int i = done.nextClearBit(0); i < ops.length; i = done.nextClearBit(i + 1)) {
                if (completed[i] == Long.MAX_VALUE) {
                    continue;
                }
                if (!anyPending || completed[i] - firstCompletion < 0) {
                    firstCompletion = completed[i];
                    anyPending = true;
                }
            }
            List<Op> candidates = new ArrayList<>();
            for (int i = done.nextClearBit(0); i < ops.length; i = done.nextClearBit(i + 1)) {
                Op op = ops[i];
                // An op may be next only if it was invoked before every pending definite op completed.
                if (anyPending && op.invokedNanos() - firstCompletion > 0) {
                    break;
                }
                candidates.add(op);
                State next = apply(state, op);
                if (next == null) {
                    continue;
                }
                done.set(i);
                Key key = new Key((BitSet) done.clone(), next);
                if (seen.add(key)) {
                    order.add(op);
                    int d = definiteDone + (op.outcome() == Outcome.UNKNOWN ? 0 : 1);
                    if (search(done, d, next, order)) {
                        return true;
                    }
                    order.remove(order.size() - 1);
                }
                done.clear(i);
                if (gaveUp) {
                    return false;
                }
            }
            if (definiteDone > deepest) {
                deepest = definiteDone;
                deepestState = state;
                deepestOrder = List.copyOf(order);
                deepestCandidates = candidates;
            }
            return false;
        }

        /** The state after {@code op} taken at this point, or null when a register cannot do that here. */
        private static State apply(State state, Op op) {
            if (op.kind() == Kind.READ) {
                boolean versionFits = op.version() == -1 || state.version() == op.version();
                return state.value().equals(op.value()) && versionFits ? state : null;
            }
            boolean matches = op.expectedVersion() == -1 || op.expectedVersion() == state.version();
            return switch (op.outcome()) {
                case OK -> matches && op.version() == state.version() + 1 ? new State(op.value(), op.version()) : null;
                case FAILED -> matches ? null : state;
                case UNKNOWN -> matches ? new State(op.value(), state.version() + 1) : null;
            };
        }

        /** The last few operations of the longest valid order. */
        private List<Op> lastPlaced() {
            int tail = Math.min(deepestOrder.size(), 5);
            return deepestOrder.subList(deepestOrder.size() - tail, deepestOrder.size());
        }

        private String explain() {
            String last = lastPlaced().stream().map(Op::toString).collect(Collectors.joining(", "));
            String next = deepestCandidates.isEmpty()
                    ? "none"
                    : deepestCandidates.stream().map(Op::toString).collect(Collectors.joining(", "));
            return String.format(
                    Locale.ROOT,
                    "no order of the %d operations is linearizable: the longest valid order places %d of the %d definite"
                            + " ones (last: %s) and leaves the register at %s, where none of the operations that may come"
                            + " next fits: %s",
                    ops.length,
                    deepest,
                    definite,
                    last.isEmpty() ? "none" : last,
                    deepestState,
                    next);
        }
    }

    private record Key(BitSet done, State state) {}
}
