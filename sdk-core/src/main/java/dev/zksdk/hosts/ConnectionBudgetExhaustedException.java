package dev.zksdk.hosts;

import dev.zksdk.ZkUnavailableException;
import java.util.Map;

/**
 * Thrown when a new session cannot be given a server because every server of its ensemble already holds
 * {@code perServerConnectionBudget} connections from this process. Opening more would make the servers refuse
 * connections ({@code Too many connections from /ip - max is N}); close sessions or raise the budget (and the
 * servers' {@code maxClientCnxns}).
 */
public final class ConnectionBudgetExhaustedException extends ZkUnavailableException {

    private static final long serialVersionUID = 1L;

    /** The per-server budget that was reached. */
    private final int budget;

    private final transient Map<String, Integer> counts;

    /**
     * A session refused because every server is at the budget.
     *
     * @param budget the per-server budget
     * @param counts connections held per server ({@code host:port}); copied
     */
    public ConnectionBudgetExhaustedException(int budget, Map<String, Integer> counts) {
        super(
                null,
                "perServerConnectionBudget=" + budget
                        + " is exhausted on every server: connections held by this process " + counts
                        + "; close sessions, or raise perServerConnectionBudget (keep it below the servers' maxClientCnxns)",
                null);
        this.budget = budget;
        this.counts = Map.copyOf(counts);
    }

    /**
     * The per-server budget that was reached.
     *
     * @return the budget, connections per server
     */
    public int budget() {
        return budget;
    }

    /**
     * Connections held per server when the session was refused (null in a deserialized copy: not serialized).
     *
     * @return an unmodifiable map from {@code host:port} to connections held
     */
    public Map<String, Integer> counts() {
        return counts;
    }
}
