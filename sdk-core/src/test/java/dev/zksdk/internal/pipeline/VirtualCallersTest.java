package dev.zksdk.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.junit.jupiter.api.Test;

/**
 * Finding {@code Thread.isVirtual()} on the running JDK: a runtime where the lookup fails in any way the JVM reports
 * (a missing method, or a linkage error such as a class that cannot be loaded or verified) makes every caller a platform
 * thread, the synchronous path, instead of failing the class's initialization and with it every call.
 */
class VirtualCallersTest {

    @Test
    void aMissingMethodMeansPlatformThreads() {
        MethodHandle handle = VirtualCallers.isVirtual(() -> MethodHandles.publicLookup()
                .findVirtual(Thread.class, "noSuchMethod", MethodType.methodType(boolean.class)));

        assertThat(handle).isNull();
        assertThat(VirtualCallers.isVirtual(handle, Thread.currentThread())).isFalse();
    }

    @Test
    void aLinkageErrorMeansPlatformThreads() {
        MethodHandle handle = VirtualCallers.isVirtual(() -> {
            throw new NoClassDefFoundError("java/lang/Thread$Builder (a trimmed runtime image)");
        });

        assertThat(handle).isNull();
        assertThat(VirtualCallers.isVirtual(handle, Thread.currentThread())).isFalse();
    }

    @Test
    void aPlatformThreadIsNotVirtual() {
        assertThat(VirtualCallers.current()).isFalse();
    }
}
