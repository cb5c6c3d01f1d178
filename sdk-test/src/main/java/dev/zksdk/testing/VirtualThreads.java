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
 * Runs tests' requests from virtual threads when {@code -Dzksdk.test.virtualThreads=true} (zk-sdk's JDK 25 run sets it),
 * to check that code under test behaves, and does not pin carrier threads, when called from virtual threads. Without the
 * property nothing changes.
 *
 * <p>As a JUnit Jupiter extension it runs each test method (and test template method) on a new virtual thread and waits
 * for it, so every call a test makes itself comes from one; a failure is rethrown on JUnit's thread, and JUnit's own
 * timeout interrupts the test's thread. Register it with {@code @ExtendWith(VirtualThreads.class)}, or for a whole test
 * run through the service loader: list {@code dev.zksdk.testing.VirtualThreads} in the test resources'
 * {@code META-INF/services/org.junit.jupiter.api.extension.Extension} and set the JUnit configuration parameter
 * {@code junit.jupiter.extensions.autodetection.enabled=true} (zk-sdk's own modules do both, the parameter only in the
 * JDK 25 run). {@link #thread} and {@link #executor} give the threads a test starts for load: virtual ones when the
 * property is set, platform ones otherwise.
 *
 * <pre>{@code
 * @ExtendWith(VirtualThreads.class)
 * class MyServiceIT {
 *     @Test
 *     void readsFromAVirtualThread() { ... } // on a virtual thread when -Dzksdk.test.virtualThreads=true
 * }
 * }</pre>
 *
 * <p>Compiled for Java 17: JDK 21's API ({@code Thread.ofVirtual()}, {@code Thread.isVirtual()}) is reached through
 * method handles; with the property set on a JDK before 21, {@link #enabled()} fails with the JDK named.
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

    /** Creates the extension; JUnit does, from {@code @ExtendWith} or the service loader. */
    public VirtualThreads() {}

    /**
     * Whether this run's requests are to come from virtual threads: the system property {@value #PROPERTY}.
     *
     * @return true when the property is {@code true}
     * @throws IllegalStateException when the property is {@code true} on a JDK before 21
     */
    public static boolean enabled() {
        if (ENABLED && OF_VIRTUAL == null) {
            throw new IllegalStateException(PROPERTY + "=true needs JDK 21 or later; this is Java " + Runtime.version()
                    + " (" + System.getProperty("java.home") + ")");
        }
        return ENABLED;
    }

    /**
     * Whether this JDK has virtual threads (21+).
     *
     * @return true on JDK 21 or later
     */
    public static boolean available() {
        return OF_VIRTUAL != null;
    }

    /**
     * Whether {@code thread} is a virtual thread ({@code Thread.isVirtual()}, false before JDK 21).
     *
     * @param thread the thread
     * @return true when it is virtual
     */
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

    /**
     * A new, unstarted virtual thread, whatever the property says.
     *
     * @param task what the thread runs
     * @param name the thread's name
     * @return the unstarted thread
     * @throws IllegalStateException before JDK 21
     */
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

    /**
     * An executor with a new virtual thread per task, whatever the property says.
     *
     * @return the executor; shut it down when done
     * @throws IllegalStateException before JDK 21
     */
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

    /**
     * An unstarted thread for a test's load: virtual when {@link #enabled()}, else a platform thread.
     *
     * @param task what the thread runs
     * @param name the thread's name
     * @return the unstarted thread
     */
    public static Thread thread(Runnable task, String name) {
        return enabled() ? newVirtualThread(task, name) : new Thread(task, name);
    }

    /**
     * An executor for a test's load: a virtual thread per task when {@link #enabled()}, else {@code threads} platform
     * threads.
     *
     * @param threads the number of platform threads when virtual threads are not enabled
     * @return the executor; shut it down when done
     */
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
