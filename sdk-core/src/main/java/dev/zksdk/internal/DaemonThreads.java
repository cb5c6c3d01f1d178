package dev.zksdk.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** The SDK's one thread factory: daemon threads named after their pool, session and purpose. */
public final class DaemonThreads implements ThreadFactory {

    private final String name;
    private final boolean numbered;
    private final AtomicInteger count = new AtomicInteger();

    private DaemonThreads(String name, boolean numbered) {
        this.name = name;
        this.numbered = numbered;
    }

    /** Threads named {@code name-1}, {@code name-2}, ... */
    public static ThreadFactory numbered(String name) {
        return new DaemonThreads(name, true);
    }

    /** Threads all named {@code name} (for an executor of one thread). */
    public static ThreadFactory single(String name) {
        return new DaemonThreads(name, false);
    }

    /** Starts {@code task} on a new daemon thread named {@code name}. */
    public static Thread start(String name, Runnable task) {
        Thread t = new DaemonThreads(name, false).newThread(task);
        t.start();
        return t;
    }

    @Override
    public Thread newThread(Runnable r) {
        Thread t = new Thread(r, numbered ? name + "-" + count.incrementAndGet() : name);
        t.setDaemon(true);
        return t;
    }
}
