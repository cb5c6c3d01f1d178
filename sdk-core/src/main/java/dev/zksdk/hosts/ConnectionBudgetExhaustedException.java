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

    private final int budget;
    private final transient Map<String, Integer> counts;

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

    /** The per-server budget that was reached. */
    public int budget() {
        return budget;
    }

    /** Connections held per server ({@code host:port}) when the session was refused. */
    public Map<String, Integer> counts() {
        return counts;
    }
}
