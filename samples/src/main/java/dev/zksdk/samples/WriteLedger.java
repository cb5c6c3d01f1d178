package dev.zksdk.samples;

import dev.zksdk.samples.RegisterChecker.Outcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What the soak's writers were told about writes whose effect the server's state shows: creates of unique nodes,
 * sequential creates with a unique prefix, deletes of nodes they created, multis that create two nodes, each in the
 * directory of one epoch, and unversioned {@code setData} on nodes that only one writer writes. Checked against the
 * server at each audit:
 *
 * <ul>
 *   <li>a write reported ok happened exactly once: its node is there (once, for a sequential create: at the name it
 *       returned), a deleted node is gone, a multi's two nodes are both there;
 *   <li>a write reported failed did not happen: its node is absent (a delete's node still there);
 *   <li>a write whose outcome is unknown happened at most once: a sequential prefix has at most one node, a multi
 *       both nodes or neither;
 *   <li>no node is there that no write made;
 *   <li>a node written by {@code setData} only by one writer has a data version between the writes reported ok and
 *       those plus the unknown ones: an ok write applied twice, or a failed one applied, moves it out.
 * </ul>
 *
 * Thread-safe; writers record after each call returns, the auditor verifies an epoch once its writers are paused.
 */
final class WriteLedger {

    /** The writes whose effect a directory listing shows. */
    enum Kind {
        CREATE,
        SEQUENTIAL,
        DELETE,
        MULTI
    }

    /**
     * One write. {@code name} is the node's name (for a sequential create: its prefix; for a multi: the first of its
     * two nodes, {@code other} the second); {@code other} is also the name a sequential create returned.
     */
    record Entry(Kind kind, String name, String other, Outcome outcome, String client) {}

    private final Map<Integer, List<Entry>> epochs = new HashMap<>();
    /** Per node written with unversioned setData: [reported ok, reported unknown]. */
    private final Map<String, long[]> counters = new HashMap<>();

    synchronized void record(int epoch, Entry entry) {
        epochs.computeIfAbsent(epoch, e -> new ArrayList<>()).add(entry);
    }

    /** Records an unversioned setData on {@code path}, which only one writer writes. */
    synchronized void recordSetData(String path, Outcome outcome) {
        long[] c = counters.computeIfAbsent(path, p -> new long[2]);
        if (outcome == Outcome.OK) {
            c[0]++;
        } else if (outcome == Outcome.UNKNOWN) {
            c[1]++;
        }
    }

    synchronized int entries(int epoch) {
        return epochs.getOrDefault(epoch, List.of()).size();
    }

    /**
     * Checks one epoch's writes against the names of the nodes in its directory, and forgets them.
     *
     * @return one message per broken rule, empty when all held
     */
    synchronized List<String> verifyEpoch(int epoch, Set<String> children) {
        List<Entry> entries = epochs.getOrDefault(epoch, List.of());
        epochs.remove(epoch);
        List<String> problems = new ArrayList<>();
        Set<String> explained = new HashSet<>();
        Map<String, Entry> creates = new HashMap<>();
        Map<String, Entry> deletes = new HashMap<>();
        for (Entry e : entries) {
            Map<String, Entry> byName = e.kind() == Kind.CREATE ? creates : e.kind() == Kind.DELETE ? deletes : null;
            if (byName == null) {
                continue;
            }
            Entry earlier = byName.putIfAbsent(e.name(), e);
            if (earlier != null) {
                // Each name is created (and deleted) at most once per epoch: a second ok means one of them lied.
                if (earlier.outcome() == Outcome.OK && e.outcome() == Outcome.OK) {
                    problems.add(say(
                            e,
                            "reported ok a second time (first by " + earlier.client() + "): a node is "
                                    + (e.kind() == Kind.CREATE ? "created" : "deleted") + " only once"));
                }
                if (e.outcome() == Outcome.OK || earlier.outcome() == Outcome.FAILED) {
                    byName.put(e.name(), e);
                }
            }
        }
        for (Entry create : creates.values()) {
            String name = create.name();
            explained.add(name);
            boolean present = children.contains(name);
            Entry delete = deletes.get(name);
            Outcome deleted = delete == null ? null : delete.outcome();
            if (create.outcome() == Outcome.FAILED && present) {
                problems.add(say(create, "create reported failed, yet the node exists"));
            } else if (create.outcome() == Outcome.OK && deleted == null && !present) {
                problems.add(say(create, "create reported ok, yet the node is missing (nobody deleted it)"));
            } else if (deleted == Outcome.OK && present) {
                problems.add(say(delete, "delete reported ok, yet the node is still there"));
            } else if (deleted == Outcome.FAILED && create.outcome() == Outcome.OK && !present) {
                problems.add(say(delete, "delete reported failed, yet the node is gone"));
            } else if (deleted == Outcome.OK && create.outcome() == Outcome.FAILED) {
                problems.add(say(create, "create reported failed, yet a delete of its node was reported ok"));
            }
        }
        for (Entry delete : deletes.values()) {
            if (!creates.containsKey(delete.name())) {
                problems.add(say(delete, "delete of a node this epoch never created (a soak bug)"));
            }
        }
        for (Entry e : entries) {
            switch (e.kind()) {
                case SEQUENTIAL -> {
                    List<String> made = children.stream()
                            .filter(c -> madeBySequential(c, e.name()))
                            .sorted()
                            .toList();
                    explained.addAll(made);
                    if (made.size() > 1) {
                        problems.add(say(e, "sequential create applied " + made.size() + " times: " + made));
                    } else if (e.outcome() == Outcome.OK && !made.equals(List.of(e.other()))) {
                        problems.add(say(
                                e,
                                "sequential create reported ok as " + e.other() + ", but the server has "
                                        + (made.isEmpty() ? "no such node" : made)));
                    } else if (e.outcome() == Outcome.FAILED && !made.isEmpty()) {
                        problems.add(say(e, "sequential create reported failed, yet " + made + " exists"));
                    }
                }
                case MULTI -> {
                    explained.add(e.name());
                    explained.add(e.other());
                    boolean a = children.contains(e.name());
                    boolean b = children.contains(e.other());
                    if (a != b) {
                        problems.add(say(e, "multi applied in part: only " + (a ? e.name() : e.other()) + " exists"));
                    } else if (e.outcome() == Outcome.OK && !a) {
                        problems.add(say(e, "multi reported ok, yet neither node exists"));
                    } else if (e.outcome() == Outcome.FAILED && a) {
                        problems.add(say(e, "multi reported failed, yet both nodes exist"));
                    }
                }
                default -> {}
            }
        }
        Set<String> unexplained = new TreeSet<>(children);
        unexplained.removeAll(explained);
        if (!unexplained.isEmpty()) {
            problems.add("epoch " + epoch + ": " + unexplained.size() + " node(s) no recorded write made: "
                    + unexplained.stream().limit(10).toList());
        }
        return problems;
    }

    /**
     * Checks the data version of a node only one writer writes with unversioned setData.
     *
     * @param initialVersion its version before the first recorded write
     * @return a message when the version is outside what the reported outcomes allow, else null
     */
    synchronized String verifyCounter(String path, int initialVersion, int version) {
        long[] c = counters.getOrDefault(path, new long[2]);
        long applied = (long) version - initialVersion;
        if (applied < c[0] || applied > c[0] + c[1]) {
            return String.format(
                    Locale.ROOT,
                    "%s: %d setData applied (version %d from %d), but %d were reported ok and %d unknown: %s",
                    path,
                    applied,
                    version,
                    initialVersion,
                    c[0],
                    c[1],
                    applied < c[0]
                            ? "a write reported ok did not happen"
                            : "more writes happened than were sent or"
                                    + " could have been (a failed one applied, or one applied twice)");
        }
        return null;
    }

    /**
     * The name a node was asked for: without the {@code _c_<uuid>-} prefix Curator's protected mode (which the pool
     * uses for sequential creates, to find its own node after a lost answer) puts before it.
     */
    static String unprotected(String name) {
        return PROTECTED.matcher(name).replaceFirst("");
    }

    /**
     * Whether {@code child} is a node a sequential create of {@code prefix} makes: the prefix (after any protection
     * prefix) followed by exactly ZooKeeper's 10-digit sequence number, so that {@code s-1-} is not taken for
     * {@code s-1-2-}.
     */
    static boolean madeBySequential(String child, String prefix) {
        String name = unprotected(child);
        return name.length() == prefix.length() + 10
                && name.startsWith(prefix)
                && SEQUENCE.matcher(name).region(prefix.length(), name.length()).matches();
    }

    private static final Pattern SEQUENCE = Pattern.compile("\\d{10}");

    private static final Pattern PROTECTED =
            Pattern.compile("^_c_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}-");

    private static String say(Entry e, String what) {
        return String.format(
                Locale.ROOT,
                "%s %s by %s (%s): %s",
                e.kind().name().toLowerCase(Locale.ROOT),
                e.name(),
                e.client(),
                e.outcome().name().toLowerCase(Locale.ROOT),
                what);
    }
}
