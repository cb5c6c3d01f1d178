package dev.zksdk.testing;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;

/**
 * Requests from virtual threads, for the build's JDK 25 run ({@code -Dzksdk.test.virtualThreads=true}). As a JUnit
 * extension (listed for the service loader; active where {@code junit.jupiter.extensions.autodetection.enabled} is
 * true, which only that run sets) it runs each test method on a virtual thread, so every call a test makes itself comes
 * from one; {@link #thread} and {@link #executor} give the threads a test starts for load. Without the property
 * nothing changes. The code is compiled for Java 17: JDK 21's API is reached through method handles.
 */
public final class VirtualThreads implements InvocationInterceptor {

    /** The switch: {@code true} makes tests' requests come from virtual threads. */
    public static final String PROPERTY = "zksdk.test.virtualThreads";

    private static final boolean ENABLED = Boolean.getBoolean(PROPERTY);
    /** {@code Thread.ofVirtual()}, or null before JDK 21. */
    private static final MethodHandle OF_VIRTUAL;
    /** {@code Thread.Builder.name(String)}. */
    private static final MethodHandle NAME;
    /** {@code Thread.Builder.unstarted(Runnable)}. */
    private static final MethodHandle UNSTARTED;
    /** {@code Executors.newVirtualThreadPerTaskExecutor()}. */
    private static final MethodHandle PER_TASK;
    /** {@code Thread.isVirtual()}. */
    private static final MethodHandle IS_VIRTUAL;

    static {
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        MethodHandle ofVirtual = null;
        MethodHandle name = null;
        MethodHandle unstarted = null;
        MethodHandle perTask = null;
        MethodHandle isVirtual = null;
        try {
            Class<?> builder = Class.forName("java.lang.Thread$Builder");
            Class<?> ofVirtualType = Class.forName("java.lang.Thread$Builder$OfVirtual");
            ofVirtual = lookup.findStatic(Thread.class, "ofVirtual", MethodType.methodType(ofVirtualType));
            name = lookup.findVirtual(builder, "name", MethodType.methodType(builder, String.class));
            unstarted = lookup.findVirtual(builder, "unstarted", MethodType.methodType(Thread.class, Runnable.class));
            perTask = lookup.findStatic(
                    Executors.class, "newVirtualThreadPerTaskExecutor", MethodType.methodType(ExecutorService.class));
            isVirtual = lookup.findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException e) {
            ofVirtual = null; // before JDK 21
        }
        OF_VIRTUAL = ofVirtual;
        NAME = name;
        UNSTARTED = unstarted;
        PER_TASK = perTask;
        IS_VIRTUAL = isVirtual;
    }

    /** True when this run's requests are to come from virtual threads. */
    public static boolean enabled() {
        if (ENABLED && OF_VIRTUAL == null) {
            throw new IllegalStateException(PROPERTY + "=true needs JDK 21 or later; this is Java " + Runtime.version()
                    + " (" + System.getProperty("java.home") + ")");
        }
        return ENABLED;
    }

    /** True on a JDK with virtual threads (21+). */
    public static boolean available() {
        return OF_VIRTUAL != null;
    }

    /** True when {@code thread} is a virtual thread. */
    public static boolean isVirtual(Thread thread) {
        if (IS_VIRTUAL == null) {
            return false;
        }
        try {
            return (boolean) IS_VIRTUAL.invoke(thread);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** A new, unstarted virtual thread; fails before JDK 21. */
    public static Thread newVirtualThread(Runnable task, String name) {
        if (OF_VIRTUAL == null) {
            throw new IllegalStateException("virtual threads need JDK 21 or later; this is Java " + Runtime.version());
        }
        try {
            Object builder = OF_VIRTUAL.invoke();
            builder = NAME.invoke(builder, name);
            return (Thread) UNSTARTED.invoke(builder, task);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** An executor with a new virtual thread per task; fails before JDK 21. */
    public static ExecutorService newVirtualThreadPerTaskExecutor() {
        if (PER_TASK == null) {
            throw new IllegalStateException("virtual threads need JDK 21 or later; this is Java " + Runtime.version());
        }
        try {
            return (ExecutorService) PER_TASK.invoke();
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** An unstarted thread for a test's load: virtual when {@link #enabled()}, else a platform thread. */
    public static Thread thread(Runnable task, String name) {
        return enabled() ? newVirtualThread(task, name) : new Thread(task, name);
    }

    /** For a test's load: a virtual thread per task when {@link #enabled()}, else {@code threads} platform threads. */
    public static ExecutorService executor(int threads) {
        return enabled() ? newVirtualThreadPerTaskExecutor() : Executors.newFixedThreadPool(threads);
    }

    @Override
    public void interceptTestMethod(
            Invocation<Void> invocation,
            ReflectiveInvocationContext<Method> invocationContext,
            ExtensionContext extensionContext)
            throws Throwable {
        proceed(invocation, extensionContext);
    }

    @Override
    public void interceptTestTemplateMethod(
            Invocation<Void> invocation,
            ReflectiveInvocationContext<Method> invocationContext,
            ExtensionContext extensionContext)
            throws Throwable {
        proceed(invocation, extensionContext);
    }

    private static void proceed(Invocation<Void> invocation, ExtensionContext context) throws Throwable {
        if (!enabled()) {
            invocation.proceed();
            return;
        }
        Throwable[] failure = new Throwable[1];
        Thread test = newVirtualThread(
                () -> {
                    try {
                        invocation.proceed();
                    } catch (Throwable e) {
                        failure[0] = e;
                    }
                },
                "vt-" + context.getRequiredTestMethod().getName());
        test.start();
        try {
            test.join();
        } catch (InterruptedException e) {
            // JUnit's own timeout interrupted the runner's thread: pass it on to the test.
            test.interrupt();
            test.join(TimeUnit.SECONDS.toMillis(10));
            throw e;
        }
        if (failure[0] != null) {
            throw failure[0];
        }
    }
}
