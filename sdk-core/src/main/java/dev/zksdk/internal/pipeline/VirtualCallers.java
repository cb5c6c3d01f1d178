package dev.zksdk.internal.pipeline;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Tells whether the calling thread is a virtual thread (JDK 21+; there are none before), without compiling against
 * JDK 21. A virtual thread must not wait inside a monitor: up to JDK 23 (before JEP 491) it pins its carrier thread for
 * the whole wait, and ZooKeeper's synchronous API waits in {@code synchronized (packet) { packet.wait(); }}. So
 * {@link OperationRunner} sends a virtual caller's request asynchronously and parks on a future instead, on every JDK:
 * the path a JDK 21 user takes is then the one the build's JDK 25 run tests, for one hand-off through ZooKeeper's event
 * thread per call.
 */
final class VirtualCallers {

    /** {@code Thread.isVirtual()}, or null before JDK 21. */
    private static final MethodHandle IS_VIRTUAL = isVirtual();

    private VirtualCallers() {}

    private static MethodHandle isVirtual() {
        try {
            return MethodHandles.publicLookup()
                    .findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    /** True when the calling thread is virtual. */
    static boolean current() {
        MethodHandle isVirtual = IS_VIRTUAL;
        if (isVirtual == null) {
            return false;
        }
        try {
            return (boolean) isVirtual.invokeExact(Thread.currentThread());
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
