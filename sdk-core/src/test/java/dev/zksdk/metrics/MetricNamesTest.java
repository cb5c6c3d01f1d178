package dev.zksdk.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.ZkConnectionLossException;
import dev.zksdk.ZkException;
import dev.zksdk.ZkInterruptedException;
import dev.zksdk.ZkNoNodeException;
import dev.zksdk.ZkSessionExpiredException;
import dev.zksdk.ZkUnavailableException;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.concurrent.CompletionException;
import org.apache.zookeeper.KeeperException.Code;
import org.junit.jupiter.api.Test;

class MetricNamesTest {

    @Test
    void ensembleTagIsTheServersWithoutTheChroot() {
        assertThat(MetricNames.ensembleTag("zk1:2181,zk2:2181/apps/billing")).isEqualTo("zk1:2181,zk2:2181");
        assertThat(MetricNames.ensembleTag("[::1]:2181")).isEqualTo("[::1]:2181");
        assertThat(MetricNames.ensembleTag("127.0.0.1:2181")).isEqualTo("127.0.0.1:2181");
    }

    @Test
    void outcomeNamesSuccessTheZooKeeperCodeOrWhyTheSdkRefused() {
        assertThat(MetricNames.outcome(null)).isEqualTo("success");
        assertThat(MetricNames.outcome(new ZkNoNodeException("/a/very/long/path", "no", null)))
                .isEqualTo("nonode");
        assertThat(MetricNames.outcome(new CompletionException(new ZkException(Code.BADVERSION, "/x", "bad"))))
                .isEqualTo("badversion");
        assertThat(MetricNames.outcome(new ZkConnectionLossException(Code.OPERATIONTIMEOUT, "/x", "lost", true, null)))
                .isEqualTo("operationtimeout");
        assertThat(MetricNames.outcome(new ZkSessionExpiredException("/x", "expired", null)))
                .isEqualTo("sessionexpired");
        assertThat(MetricNames.outcome(new ZkUnavailableException("/x", "down", null)))
                .isEqualTo("unavailable");
        CallNotPermittedException notPermitted =
                CallNotPermittedException.createCallNotPermittedException(CircuitBreaker.ofDefaults("b"));
        assertThat(MetricNames.outcome(new ZkUnavailableException("/x", "open", notPermitted)))
                .isEqualTo("circuit_open");
        BulkheadFullException full = BulkheadFullException.createBulkheadFullException(Bulkhead.ofDefaults("h"));
        assertThat(MetricNames.outcome(new ZkUnavailableException("/x", "full", full)))
                .isEqualTo("bulkhead_full");
        assertThat(MetricNames.outcome(new ZkInterruptedException("/x", "interrupted", null)))
                .isEqualTo("interrupted");
        assertThat(MetricNames.outcome(new IllegalStateException("the lease is closed")))
                .isEqualTo("error");
    }
}
