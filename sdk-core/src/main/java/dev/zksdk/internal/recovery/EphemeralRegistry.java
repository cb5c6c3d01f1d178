package dev.zksdk.internal.recovery;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * What the sessions of one ensemble of a pool share about owned ephemerals: which plain path is registered (at most
 * one live {@link dev.zksdk.EphemeralNode} per path and pool), which closed registrations still have a node to delete,
 * and every session id the ensemble's sessions ever had (a node owned by one of those that is not live was left by
 * this pool's own expired session). Thread-safe.
 */
public final class EphemeralRegistry {

    final ConcurrentMap<String, OwnedEphemerals.Owned> registered = new ConcurrentHashMap<>();
    final ConcurrentMap<String, OwnedEphemerals.Owned> closing = new ConcurrentHashMap<>();
    final Set<Long> pastSessions = ConcurrentHashMap.newKeySet();

    /** True when {@code owner} is one of this pool's expired sessions (of this ensemble). */
    boolean isPastSession(long owner) {
        return pastSessions.contains(owner);
    }

    /** True when a closed registration of {@code path} in session {@code owner} still has its node deleted to come. */
    boolean isClosingIn(String path, long owner) {
        OwnedEphemerals.Owned c = closing.get(path);
        return c != null && c.confirmedSession == owner;
    }
}
