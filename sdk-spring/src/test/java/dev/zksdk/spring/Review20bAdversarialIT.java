package dev.zksdk.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ZkProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;

/** review20b: {@code zksdk.close-timeout} at its edges, and a context closed while the ensemble is frozen. */
class Review20bAdversarialIT {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ZkSessionPoolAutoConfiguration.class))
            .withPropertyValues("zksdk.connect-string=127.0.0.1:2181");

    @Test
    void badCloseTimeoutValuesFailStartUpNamingThePropertyAndTheValue() {
        List<String> misses = new ArrayList<>();
        for (String bad : List.of("-1s", "0ms", "25d", "500us", "1ns", "soon")) {
            runner.withPropertyValues("zksdk.close-timeout=" + bad).run(context -> {
                if (context.getStartupFailure() != null) {
                    StringBuilder all = new StringBuilder();
                    for (Throwable t = context.getStartupFailure(); t != null; t = t.getCause()) {
                        all.append(t.getMessage()).append(" | ");
                    }
                    String text = all.toString();
                    System.out.println("R20b spring zksdk.close-timeout=" + bad + ": " + text);
                    if (!text.contains("zksdk.close-timeout") && !text.contains("close-timeout")) {
                        misses.add(bad + ": failure does not name zksdk.close-timeout: " + text);
                    }
                } else {
                    misses.add(bad + ": context started with closeTimeout "
                            + context.getBean(ZkSessionPool.class).closeTimeout());
                }
            });
        }
        assertThat(misses).isEmpty();
    }

    @Test
    void anEmptyCloseTimeoutMeansTheDefaultOrFailsNamingIt() {
        runner.withPropertyValues("zksdk.close-timeout=").run(context -> {
            if (context.getStartupFailure() == null) {
                assertThat(context.getBean(ZkSessionPool.class).closeTimeout())
                        .isEqualTo(ZkSessionPool.DEFAULT_CLOSE_TIMEOUT);
            } else {
                StringBuilder all = new StringBuilder();
                for (Throwable t = context.getStartupFailure(); t != null; t = t.getCause()) {
                    all.append(t.getMessage()).append(" | ");
                }
                System.out.println("R20b spring zksdk.close-timeout='': " + all);
                assertThat(all.toString()).contains("close-timeout");
            }
        });
    }

    @Test
    void aContextClosedWhileTheEnsembleIsFrozenClosesWithinTheCloseTimeout() throws Exception {
        try (TestingServer server = InProcessEnsembles.startServer();
                ZkProxy proxy = ZkProxy.to(server.getConnectString())) {
            new ApplicationContextRunner()
                    .withConfiguration(AutoConfigurations.of(ZkSessionPoolAutoConfiguration.class))
                    .withPropertyValues(
                            "zksdk.name=r20b-spring",
                            "zksdk.connect-string=" + proxy.connectString(),
                            "zksdk.session-timeout=20s",
                            "zksdk.close-timeout=600ms")
                    .run(context -> {
                        ZkSessionPool pool = context.getBean(ZkSessionPool.class);
                        assertThat(pool.closeTimeout()).isEqualTo(Duration.ofMillis(600));
                        try (ZkLease lease = pool.lease()) {
                            assertThat(lease.exists("/")).isNotNull();
                        }
                        proxy.freeze();
                        long s = System.nanoTime();
                        ((ConfigurableApplicationContext) context.getSourceApplicationContext()).close();
                        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - s);
                        System.out.println("R20b spring: context close with a frozen server took " + ms + " ms");
                        assertThat(ms).isLessThan(600 + 2500);
                    });
            proxy.unfreeze();
        }
    }
}
