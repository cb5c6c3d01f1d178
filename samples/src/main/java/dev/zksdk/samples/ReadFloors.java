package dev.zksdk.samples;

import java.util.Locale;
import java.util.Map;
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
 * <p>Thread-safe.
 */
final class ReadFloors {

    private final int pools;
    private final Map<String, AtomicIntegerArray> okVersions = new ConcurrentHashMap<>();

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
