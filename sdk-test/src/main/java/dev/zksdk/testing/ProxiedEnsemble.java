package dev.zksdk.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One {@link ZkProxy} in front of each server of an ensemble, with a connect string through all of them, so a
 * test can cut the network of a single server or of the whole ensemble.
 *
 * <p>Thread-safe. {@link #close()} closes every proxy.
 */
public final class ProxiedEnsemble implements AutoCloseable {

    private final List<ZkProxy> proxies;

    private ProxiedEnsemble(List<ZkProxy> proxies) {
        this.proxies = List.copyOf(proxies);
    }

    /**
     * Opens a proxy for every server of {@code connectString}, in its order.
     *
     * @param connectString {@code host:port[,host:port...]}, without a chroot
     * @return the open proxies; close the result to stop them all
     * @throws IllegalArgumentException if the connect string is empty, malformed, or has a chroot
     */
    public static ProxiedEnsemble of(String connectString) {
        if (connectString == null || connectString.isBlank()) {
            throw new IllegalArgumentException(
                    "connectString must name at least one server, was '" + connectString + "'");
        }
        if (connectString.contains("/")) {
            throw new IllegalArgumentException("connectString must not have a chroot, was '" + connectString + "'");
        }
        List<ZkProxy> opened = new ArrayList<>();
        try {
            for (String server : connectString.split(",")) {
                opened.add(ZkProxy.to(server.trim()));
            }
        } catch (RuntimeException e) {
            opened.forEach(ZkProxy::close);
            throw e;
        }
        return new ProxiedEnsemble(opened);
    }

    /**
     * The connect string through every proxy, in the order of the original servers.
     *
     * @return the proxies' addresses, comma-separated
     */
    public String connectString() {
        return proxies.stream().map(ZkProxy::connectString).collect(Collectors.joining(","));
    }

    /**
     * The proxies, in the order of the original servers.
     *
     * @return an unmodifiable list of the proxies
     */
    public List<ZkProxy> proxies() {
        return proxies;
    }

    /**
     * The proxy in front of {@code hostPort}.
     *
     * @param hostPort the original server, {@code host:port}
     * @return its proxy
     * @throws IllegalArgumentException if no proxy targets it
     */
    public ZkProxy proxyFor(String hostPort) {
        return proxies.stream()
                .filter(p -> p.target().equals(hostPort))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("hostPort must be one of the proxied servers "
                        + proxies.stream().map(ZkProxy::target).toList() + ", was " + hostPort));
    }

    /**
     * Stops all traffic through every proxy, as a network partition from the whole ensemble would; see
     * {@link ZkProxy#freeze()}.
     */
    public void freezeAll() {
        proxies.forEach(ZkProxy::freeze);
    }

    /** Lets traffic flow through every proxy again; see {@link ZkProxy#unfreeze()}. */
    public void unfreezeAll() {
        proxies.forEach(ZkProxy::unfreeze);
    }

    /** Closes every proxied connection on every proxy; the proxies keep accepting. */
    public void closeAllConnections() {
        proxies.forEach(ZkProxy::closeAllConnections);
    }

    @Override
    public void close() {
        proxies.forEach(ZkProxy::close);
    }
}
