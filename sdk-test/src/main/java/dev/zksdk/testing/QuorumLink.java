package dev.zksdk.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The quorum link of one follower of a {@link ProcessEnsemble}: one {@link ZkProxy} in front of the quorum port
 * of every other member, through which that follower reaches whoever leads (see
 * {@link ProcessEnsemble.Builder#proxiedQuorumLink(int)}). Everything the leader sends the follower (proposals,
 * commits, pings) and everything the follower sends back (forwarded writes, acks, session touches) passes one of
 * these proxies; leader election and client traffic do not.
 *
 * <p>{@link #latency(Duration)} makes the follower lag: a write completes as soon as the leader and the other
 * follower have applied it, and this follower applies it about a latency later, serving the old value to its
 * clients meanwhile. It stays in the quorum as long as a round trip (twice the latency, plus up to two reactor
 * ticks of 20 ms each way) stays well under {@code syncLimit * tickTime}. {@link #freeze()} stops the link; after
 * {@code syncLimit * tickTime} the leader drops the follower, which then stops serving until it is unfrozen.
 *
 * <p>Thread-safe. Closed with its ensemble.
 */
public final class QuorumLink implements AutoCloseable {

    private final int member;
    private final Map<Integer, ZkProxy> proxies;

    private QuorumLink(int member, Map<Integer, ZkProxy> proxies) {
        this.member = member;
        this.proxies = Collections.unmodifiableMap(proxies);
    }

    /**
     * Opens a proxy to each quorum address.
     *
     * @param member the follower whose link this is
     * @param quorumAddresses other member id to its real quorum address, {@code host:port}
     */
    static QuorumLink open(int member, Map<Integer, String> quorumAddresses) {
        Map<Integer, ZkProxy> opened = new LinkedHashMap<>();
        try {
            quorumAddresses.forEach((id, address) -> opened.put(id, ZkProxy.to(address)));
        } catch (RuntimeException e) {
            opened.values().forEach(ZkProxy::close);
            throw e;
        }
        return new QuorumLink(member, opened);
    }

    /**
     * The member whose quorum link this is.
     *
     * @return the member's id
     */
    public int member() {
        return member;
    }

    /**
     * Other member id to the proxy in front of its quorum port, in id order.
     *
     * @return an unmodifiable map from member id to proxy
     */
    public Map<Integer, ZkProxy> proxies() {
        return proxies;
    }

    /**
     * The proxy in front of member {@code id}'s quorum port.
     *
     * @param id another member's id
     * @return the proxy to its quorum port
     * @throws IllegalArgumentException if {@code id} is not another member
     */
    public ZkProxy proxyTo(int id) {
        ZkProxy proxy = proxies.get(id);
        if (proxy == null) {
            throw new IllegalArgumentException(
                    "id must be one of the other members " + proxies.keySet() + ", was " + id);
        }
        return proxy;
    }

    /**
     * Holds back every chunk between this member and the others' quorum ports for about {@code oneWay}, in each
     * direction ({@link ZkProxy#latency(Duration)}); {@link Duration#ZERO} lifts it.
     *
     * @param oneWay the delay in each direction, zero or more
     */
    public void latency(Duration oneWay) {
        Objects.requireNonNull(oneWay, "oneWay");
        proxies.values().forEach(p -> p.latency(oneWay));
    }

    /** Stops all quorum traffic of this member ({@link ZkProxy#freeze()}). */
    public void freeze() {
        proxies.values().forEach(ZkProxy::freeze);
    }

    /** Lets quorum traffic flow again, delivering what queued up. */
    public void unfreeze() {
        proxies.values().forEach(ZkProxy::unfreeze);
    }

    /**
     * Connections open through the link: 1 while this member follows, 0 while it looks for a leader.
     *
     * @return the number of open connections through the link's proxies
     */
    public int connectionCount() {
        return proxies.values().stream()
                .mapToInt(ZkProxy::clientConnectionCount)
                .sum();
    }

    /** Closes every proxy. Idempotent. */
    @Override
    public void close() {
        List<RuntimeException> failures = new ArrayList<>();
        for (ZkProxy proxy : proxies.values()) {
            try {
                proxy.close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    @Override
    public String toString() {
        return "QuorumLink of server " + member + " " + proxies.values();
    }
}
