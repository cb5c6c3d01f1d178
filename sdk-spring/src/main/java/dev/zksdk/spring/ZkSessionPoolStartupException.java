package dev.zksdk.spring;

import java.time.Duration;
import java.util.List;

/**
 * With {@code zksdk.connect-on-startup}, no session of a pool connected within {@code zksdk.initialization-timeout}
 * (or the servers refused its credentials): start-up fails with this, naming the pool, the servers and what happened.
 * {@link ZkSessionPoolFailureAnalyzer} turns it into a start-up report.
 */
public class ZkSessionPoolStartupException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The pool's name. */
    private final String pool;
    /** The servers of the pool's default ensemble. */
    private final List<String> servers;
    /** The initialization timeout that passed. */
    private final Duration timeout;

    /**
     * @param pool the pool's bean name
     * @param servers the servers of its default ensemble
     * @param timeout the initialization timeout
     * @param message what happened, naming the servers (never a credential)
     * @param cause the last error seen, or null
     */
    public ZkSessionPoolStartupException(
            String pool, List<String> servers, Duration timeout, String message, Throwable cause) {
        super(message, cause);
        this.pool = pool;
        this.servers = List.copyOf(servers);
        this.timeout = timeout;
    }

    /**
     * The pool's bean name in the application context ({@code zkSessionPool} for the auto-configured one).
     *
     * @return the pool's name
     */
    public String getPool() {
        return pool;
    }

    /**
     * The servers of the pool's default ensemble, {@code host:port}.
     *
     * @return an unmodifiable list of {@code host:port}
     */
    public List<String> getServers() {
        return servers;
    }

    /**
     * The initialization timeout that passed.
     *
     * @return the timeout
     */
    public Duration getTimeout() {
        return timeout;
    }
}
