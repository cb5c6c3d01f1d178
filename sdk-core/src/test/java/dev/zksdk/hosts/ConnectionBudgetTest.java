package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ConnectionBudgetTest {

    @Test
    void acquiresUpToTheLimitAndReleases() {
        ConnectionBudget budget = new ConnectionBudget();
        assertThat(budget.tryAcquire("zk1:2181", 2)).isTrue();
        assertThat(budget.tryAcquire("zk1:2181", 2)).isTrue();
        assertThat(budget.tryAcquire("zk1:2181", 2)).isFalse();
        assertThat(budget.tryAcquire("zk1:2181", 3))
                .as("a larger limit admits one more")
                .isTrue();
        assertThat(budget.count("zk1:2181")).isEqualTo(3);
        budget.release("zk1:2181");
        assertThat(budget.count("zk1:2181")).isEqualTo(2);
    }

    @Test
    void snapshotIsSortedUnmodifiableAndOmitsIdleServers() {
        ConnectionBudget budget = new ConnectionBudget();
        budget.tryAcquire("zk2:2181", 5);
        budget.tryAcquire("zk1:2181", 5);
        budget.tryAcquire("zk1:2181", 5);
        budget.tryAcquire("zk3:2181", 5);
        budget.release("zk3:2181");
        Map<String, Integer> snapshot = budget.snapshot();
        assertThat(snapshot).containsExactly(Map.entry("zk1:2181", 2), Map.entry("zk2:2181", 1));
        assertThatThrownBy(() -> snapshot.put("x:1", 1)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void releaseWithoutSlotIsAnError() {
        ConnectionBudget budget = new ConnectionBudget();
        assertThatThrownBy(() -> budget.release("zk1:2181"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("zk1:2181");
    }

    @Test
    void badArgumentsAreRejected() {
        ConnectionBudget budget = new ConnectionBudget();
        assertThatThrownBy(() -> budget.tryAcquire("zk1:2181", 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("limit must be >= 1, was 0");
        assertThatThrownBy(() -> budget.tryAcquire(" ", 1)).hasMessageContaining("' '");
        assertThatThrownBy(() -> budget.release(null)).hasMessageContaining("null");
    }

    @Test
    void sharedIsOneInstance() {
        assertThat(ConnectionBudget.shared()).isSameAs(ConnectionBudget.shared());
    }
}
