package dev.zksdk.spring;

import dev.zksdk.ZkSessionPool;

/**
 * Adjusts the auto-configured pool's builder after the {@code zksdk.*} properties were applied and before the pool is
 * built: add session listeners, a custom {@link dev.zksdk.OperationPolicy}, more credentials. Every bean of this type
 * is applied, in {@link org.springframework.core.Ordered} order.
 */
@FunctionalInterface
public interface ZkSessionPoolCustomizer {

    /**
     * Adjusts the builder; an {@link IllegalArgumentException} from a setter fails start-up naming this customizer.
     *
     * @param builder the pool's builder, with the properties already applied
     */
    void customize(ZkSessionPool.Builder builder);
}
