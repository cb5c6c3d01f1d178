package dev.zksdk.spring;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;

/**
 * Runs each test method on a virtual thread when {@code -Dzksdk.test.virtualThreads=true} (the build's JDK 25 run sets
 * it, and turns on {@code junit.jupiter.extensions.autodetection.enabled}, which finds this extension through the
 * service loader), so the starter's pool is used from virtual threads. The test-method part of sdk-core's
 * {@code dev.zksdk.testing.VirtualThreads} (test sources are not shared between modules); compiled for Java 17, so
 * {@code Thread.ofVirtual()} is reached through method handles.
 */
public final class VirtualThreadTests implements InvocationInterceptor {

    private static final String PROPERTY = "zksdk.test.virtualThreads";
    private static final boolean ENABLED = Boolean.getBoolean(PROPERTY);

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
        if (!ENABLED) {
            invocation.proceed();
            return;
        }
        Throwable[] failure = new Throwable[1];
        Thread test = unstartedVirtualThread(
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

    /** {@code Thread.ofVirtual().name(name).unstarted(task)}; fails clearly before JDK 21. */
    private static Thread unstartedVirtualThread(Runnable task, String name) throws Throwable {
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        Class<?> builder;
        try {
            builder = Class.forName("java.lang.Thread$Builder");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(PROPERTY + "=true needs JDK 21 or later; this is Java " + Runtime.version()
                    + " (" + System.getProperty("java.home") + ")");
        }
        Class<?> ofVirtual = Class.forName("java.lang.Thread$Builder$OfVirtual");
        Object b = lookup.findStatic(Thread.class, "ofVirtual", MethodType.methodType(ofVirtual))
                .invoke();
        b = lookup.findVirtual(builder, "name", MethodType.methodType(builder, String.class))
                .invoke(b, name);
        MethodHandle unstarted =
                lookup.findVirtual(builder, "unstarted", MethodType.methodType(Thread.class, Runnable.class));
        return (Thread) unstarted.invoke(b, task);
    }
}
