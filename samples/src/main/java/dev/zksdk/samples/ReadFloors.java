package dev.zksdk.samples;

import dev.zksdk.samples.RegisterChecker.Outcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The check of reads that do not sync first. ZooKeeper lets any member answer a read, so a member behind the leader (a
 * slowed quorum link) may answer with an old value: such reads are not linearizable and stay out of the
 * {@link RegisterChecker}. What the SDK does promise is read-your-writes across the leases of one pool: a lease sees
 * every write its pool completed before the lease was taken, whichever session it lands on. So, per key and pool, the
 * highest version a write of that pool was told ok is a floor: taken before a lease, a read on that lease must not
 * return an older version. Writes of other pools set no floor for it: their values may be seen late.
 *
 * <p>Stale or not, a read must return a (value, version) pair the key really had: the initial one, or one a write
 * reported ok or unknown left (a versioned setData expecting version {@code e} leaves {@code e + 1}). A write's pair is
 * known before it is sent; the reads are checked against the pairs at the audit, when every write has its outcome, so
 * that a read that saw the value of a write later reported failed is caught too.
 *
 * <p>Thread-safe.
 */
final class ReadFloors {

    private final int pools;
    private final Map<String, AtomicIntegerArray> okVersions = new ConcurrentHashMap<>();
    /**
     * Per key and version, the values a write may have left there and the outcome its writer was told (null while the
     * write is in flight). Versions below every pool's floor are forgotten: no read may return them.
     */
    private final Map<String, NavigableMap<Integer, Map<String, Outcome>>> pairs = new HashMap<>();
    /** The reads since the last {@link #verifyReads()}. */
    private final List<Read> reads = new ArrayList<>();

    /** A read without sync, as answered. */
    record Read(String key, int pool, long sessionId, int floor, String value, int version) {}

    ReadFloors(int pools) {
        this.pools = pools;
    }

    private AtomicIntegerArray of(String key) {
        return okVersions.computeIfAbsent(key, k -> new AtomicIntegerArray(pools));
    }

    /** A write of {@code pool} on {@code key} was told ok and left the node at {@code version}. */
    void written(String key, int pool, int version) {
        of(key).accumulateAndGet(pool, version, Math::max);
    }

    /** The oldest version a read on a lease of {@code pool} taken from now on may return. */
    int floor(String key, int pool) {
        return of(key).get(pool);
    }

    /** The newest version a write of any pool on {@code key} was told ok: a read older than it is stale. */
    int newest(String key) {
        AtomicIntegerArray versions = of(key);
        int max = 0;
        for (int p = 0; p < versions.length(); p++) {
            max = Math.max(max, versions.get(p));
        }
        return max;
    }

    /** The key held {@code value} at {@code version} before any recorded write (its initial state). */
    synchronized void initial(String key, String value, int version) {
        pairsOf(key).computeIfAbsent(version, v -> new HashMap<>()).put(value, Outcome.OK);
    }

    /** A write of {@code value} is about to be sent; if it lands, it leaves the key at {@code version}. */
    synchronized void sending(String key, String value, int version) {
        pairsOf(key).computeIfAbsent(version, v -> new HashMap<>()).put(value, null);
    }

    /** The write {@link #sending} announced was told {@code outcome}. */
    synchronized void sent(String key, String value, int version, Outcome outcome) {
        pairsOf(key).computeIfAbsent(version, v -> new HashMap<>()).put(value, outcome);
    }

    private NavigableMap<Integer, Map<String, Outcome>> pairsOf(String key) {
        return pairs.computeIfAbsent(key, k -> new TreeMap<>());
    }

    /**
     * Records a read of {@code key} without sync on a lease of {@code pool} whose floor, taken before the lease, was
     * {@code floor}, for {@link #verifyReads()}; returns what is wrong with its version now (see {@link #check}), or
     * null.
     */
    synchronized String read(String key, int pool, long sessionId, int floor, String value, int version) {
        reads.add(new Read(key, pool, sessionId, floor, value, version));
        return check(key, pool, sessionId, floor, value, version);
    }

    /**
     * Checks every read recorded since the last call against the pairs the writes may have left, and forgets them;
     * call it when no write is in flight. A read below its floor, already reported by {@link #read}, is not reported
     * again.
     *
     * @return one message per read that returned a pair its key never had, empty when all held
     */
    synchronized List<String> verifyReads() {
        List<String> problems = new ArrayList<>();
        for (Read r : reads) {
            if (r.version() < r.floor()) {
                continue;
            }
            NavigableMap<Integer, Map<String, Outcome>> known = pairsOf(r.key());
            Map<String, Outcome> atVersion = known.getOrDefault(r.version(), Map.of());
            if (atVersion.containsKey(r.value()) && atVersion.get(r.value()) != Outcome.FAILED) {
                continue;
            }
            String why;
            if (atVersion.containsKey(r.value())) {
                why = "the value of a write reported failed";
            } else {
                why = known.entrySet().stream()
                        .filter(e -> e.getValue().containsKey(r.value()))
                        .map(e -> "a pair the key never had: that value was written at v" + e.getKey())
                        .findFirst()
                        .orElse("a value no write of that key carried");
            }
            problems.add(String.format(
                    Locale.ROOT,
                    "a read of %s without sync on a lease of pool %d (session 0x%x) returned %s@v%d, %s",
                    r.key(),
                    r.pool(),
                    r.sessionId(),
                    r.value(),
                    r.version(),
                    why));
        }
        reads.clear();
        for (Map.Entry<String, NavigableMap<Integer, Map<String, Outcome>>> key : pairs.entrySet()) {
            AtomicIntegerArray floors = of(key.getKey());
            int lowest = Integer.MAX_VALUE;
            for (int p = 0; p < floors.length(); p++) {
                lowest = Math.min(lowest, floors.get(p));
            }
            key.getValue().headMap(lowest, false).clear();
        }
        return problems;
    }

    /**
     * What is wrong with a read, or null: one on a lease of {@code pool} whose floor, taken before the lease, was
     * {@code floor}, that returned {@code value} at {@code version}.
     */
    static String check(String key, int pool, long sessionId, int floor, String value, int version) {
        if (version >= floor) {
            return null;
        }
        return String.format(
                Locale.ROOT,
                "a read of %s without sync on a lease of pool %d (session 0x%x) returned %s@v%d, older than v%d,"
                        + " which a write of that pool completed before the lease was taken",
                key,
                pool,
                sessionId,
                value,
                version,
                floor);
    }
}
