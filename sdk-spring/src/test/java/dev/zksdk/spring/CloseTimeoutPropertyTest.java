package dev.zksdk.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.ZkSessionPool;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** {@code zksdk.close-timeout} maps onto the pool's close timeout; a bad value fails start-up naming the property. */
class CloseTimeoutPropertyTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ZkSessionPoolAutoConfiguration.class))
            .withPropertyValues("zksdk.connect-string=127.0.0.1:2181");

    @Test
    void theCloseTimeoutPropertySetsThePoolsCloseTimeout() {
        runner.run(context -> assertThat(context.getBean(ZkSessionPool.class).closeTimeout())
                .isEqualTo(ZkSessionPool.DEFAULT_CLOSE_TIMEOUT));
        runner.withPropertyValues("zksdk.close-timeout=750ms")
                .run(context -> assertThat(context.getBean(ZkSessionPool.class).closeTimeout())
                        .isEqualTo(Duration.ofMillis(750)));
    }

    @Test
    void aBadCloseTimeoutFailsStartUpNamingThePropertyAndTheValue() {
        runner.withPropertyValues("zksdk.close-timeout=0s").run(context -> {
            assertThat(context).hasFailed();
            InvalidConfigurationPropertyValueException invalid = null;
            for (Throwable t = context.getStartupFailure(); t != null; t = t.getCause()) {
                if (t instanceof InvalidConfigurationPropertyValueException) {
                    invalid = (InvalidConfigurationPropertyValueException) t;
                }
            }
            assertThat(invalid)
                    .as("start-up failure %s", context.getStartupFailure())
                    .isNotNull();
            assertThat(invalid.getName()).isEqualTo("zksdk.close-timeout");
            assertThat(invalid.getMessage()).contains("zksdk.close-timeout").contains("closeTimeout");
        });
    }
}
