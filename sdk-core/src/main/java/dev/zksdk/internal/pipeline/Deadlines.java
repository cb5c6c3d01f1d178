package dev.zksdk.internal.pipeline;

import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Ends every call of a pool by its deadline, whatever ZooKeeper's own timers do (a server that stops answering keeps
 * a request waiting until the client's read timeout, two thirds of the session timeout, which can be far past the
 * operation timeout). A synchronous caller blocked in ZooKeeper is interrupted at its deadline and the interrupt is
 * turned into the deadline's failure; an asynchronous call's result is completed with it. One sweep every
 * {@link #TICK_MILLIS} ms on the pool's scheduler checks both, so a call ends at most a tick after its deadline.
 *
 * <p>Cheap on the call path: a synchronous call writes two volatile fields of its thread's own record; an asynchronous
 * call is added to and removed from a concurrent set, which a sweep walks only when a call in it may be due.
 */
final class Deadlines {

    static final long TICK_MILLIS = 10;

    private final Set<Caller> callers = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<Caller> mine = ThreadLocal.withInitial(this::register);
    private final Set<Expiring> pending = ConcurrentHashMap.newKeySet();
    /**
     * No watched call is due before this (nanoTime): a lower bound of the pending deadlines, so that a sweep walks the
     * pending calls only when one may be due, not every tick (with 1,000 calls in flight, one JFR profile put a tenth of
     * its samples in that walk; removing it did not change the async overhead ratio measurably).
     */
    private final AtomicLong nextDue = new AtomicLong(Long.MAX_VALUE);

    Deadlines(ScheduledExecutorService scheduler) {
        scheduler.scheduleWithFixedDelay(this::sweep, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    private Caller register() {
        Caller c = new Caller(Thread.currentThread());
        callers.add(c);
        return c;
    }

    /**
     * The calling thread starts a synchronous call that must end by {@code deadlineNanos}; null when this thread is
     * already in one (the outer call's deadline governs).
     */
    Caller begin(long deadlineNanos) {
        Caller c = mine.get();
        if (c.state.get() != Caller.IDLE) {
            return null;
        }
        c.deadlineNanos = deadlineNanos;
        c.state.set(Caller.RUNNING);
        return c;
    }

    /**
     * The call of {@code c} ended. True when its deadline interrupted it: the interrupt is cleared here (it was ours),
     * and the caller reports the deadline's failure whatever the interrupt made of the call.
     */
    boolean end(Caller c) {
        if (c == null) {
            return false;
        }
        if (c.state.compareAndSet(Caller.RUNNING, Caller.IDLE)) {
            return false;
        }
        while (c.state.get() != Caller.INTERRUPTED) {
            Thread.onSpinWait(); // the sweep is between its CAS and the interrupt: a few instructions
        }
        Thread.interrupted();
        c.state.set(Caller.IDLE);
        return true;
    }

    /** {@code e} expires at its deadline unless {@link #unwatch unwatched} before. */
    void watch(Expiring e) {
        pending.add(e);
        long deadlineNanos = e.deadlineNanos();
        long due = nextDue.get();
        if (due == Long.MAX_VALUE || deadlineNanos - due < 0) {
            nextDue.accumulateAndGet(deadlineNanos, Deadlines::earlier);
        }
    }

    /** {@code e} ended before its deadline. */
    void unwatch(Expiring e) {
        pending.remove(e);
    }

    private void sweep() {
        long now = System.nanoTime();
        for (Iterator<Caller> it = callers.iterator(); it.hasNext(); ) {
            Caller c = it.next();
            if (!c.thread.isAlive()) {
                it.remove();
                continue;
            }
            if (c.state.get() == Caller.RUNNING
                    && now - c.deadlineNanos >= 0
                    && c.state.compareAndSet(Caller.RUNNING, Caller.EXPIRED)) {
                c.thread.interrupt();
                c.state.set(Caller.INTERRUPTED);
            }
        }
        long due = nextDue.get();
        if (due == Long.MAX_VALUE || now - due < 0) {
            return;
        }
        // Reset before the walk: a call added meanwhile lowers it again, whether or not the walk sees the call.
        nextDue.set(Long.MAX_VALUE);
        long earliest = Long.MAX_VALUE;
        for (Iterator<Expiring> it = pending.iterator(); it.hasNext(); ) {
            Expiring p = it.next();
            long deadline = p.deadlineNanos();
            if (now - deadline >= 0) {
                it.remove();
                p.expire();
            } else {
                earliest = earlier(earliest, deadline);
            }
        }
        if (earliest != Long.MAX_VALUE) {
            nextDue.accumulateAndGet(earliest, Deadlines::earlier);
        }
    }

    /** The earlier of two nanoTime deadlines; {@link Long#MAX_VALUE} stands for "none". */
    private static long earlier(long a, long b) {
        if (a == Long.MAX_VALUE) {
            return b;
        }
        if (b == Long.MAX_VALUE) {
            return a;
        }
        return a - b <= 0 ? a : b;
    }

    /** One thread's synchronous call in progress. */
    static final class Caller {
        static final int IDLE = 0;
        static final int RUNNING = 1;
        static final int EXPIRED = 2;
        static final int INTERRUPTED = 3;

        final Thread thread;
        final AtomicInteger state = new AtomicInteger(IDLE);
        volatile long deadlineNanos;

        Caller(Thread thread) {
            this.thread = thread;
        }
    }

    /** An asynchronous call that must end by its deadline. */
    interface Expiring {
        /** The deadline, in {@link System#nanoTime()}. */
        long deadlineNanos();

        /** Ends the call with its deadline's failure, unless it ended already. Runs on the pool's scheduler. */
        void expire();
    }
}
