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
    private static final MethodHandle IS_VIRTUAL = isVirtual(VirtualCallers::findIsVirtual);

    private VirtualCallers() {}

    /** Looks a method handle up; a seam for tests of runtimes where the lookup fails. */
    @FunctionalInterface
    interface Lookup {
        MethodHandle find() throws ReflectiveOperationException;
    }

    private static MethodHandle findIsVirtual() throws ReflectiveOperationException {
        return MethodHandles.publicLookup()
                .findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
    }

    /**
     * The handle {@code lookup} finds, or null when it finds none: every caller is then a platform thread. Any failure
     * the lookup can meet counts as none: a missing method, a linkage error (a class of a trimmed or unusual runtime
     * that cannot be loaded or linked) or a security manager's refusal. Thrown from the class's initializer, it would
     * make every synchronous call fail with {@code NoClassDefFoundError}.
     */
    static MethodHandle isVirtual(Lookup lookup) {
        try {
            return lookup.find();
        } catch (ReflectiveOperationException | LinkageError | SecurityException e) {
            return null;
        }
    }

    /** True when the calling thread is virtual. */
    static boolean current() {
        return isVirtual(IS_VIRTUAL, Thread.currentThread());
    }

    /** True when {@code isVirtual} (a {@code Thread.isVirtual()} handle, or null) says {@code thread} is virtual. */
    static boolean isVirtual(MethodHandle isVirtual, Thread thread) {
        if (isVirtual == null) {
            return false;
        }
        try {
            return (boolean) isVirtual.invokeExact(thread);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
