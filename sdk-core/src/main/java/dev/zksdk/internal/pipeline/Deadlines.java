package dev.zksdk.internal.pipeline;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Ends every call of a pool by its deadline, whatever ZooKeeper's own timers do (a server that stops answering keeps
 * a request waiting until the client's read timeout, two thirds of the session timeout, which can be far past the
 * operation timeout). A synchronous caller blocked in ZooKeeper is interrupted at its deadline and the interrupt is
 * turned into the deadline's failure; an asynchronous call's result is completed with it. One sweep every
 * {@link #TICK_MILLIS} ms on the pool's scheduler checks both, so a call ends at most a tick after its deadline.
 *
 * <p>Deadline-ordered: a hashed timing wheel of {@link #SLOTS} ticks, owned by the sweep alone. A sweep looks only at
 * what was handed to it since the last sweep and at the slots whose tick has come, so its cost does not grow with the
 * number of callers waiting for a later deadline (the walk over every caller it replaces cost ~9 ms per sweep at
 * 20,000 virtual threads). Cheap on the call path, without allocation or locks:
 *
 * <ul>
 *   <li>a synchronous call writes its thread's own record (deadline, state); the record is handed to the sweep (one
 *       compare-and-set onto a stack) only when it is not in the wheel already. A thread making call after call stays
 *       filed under an earlier call's deadline; when that slot comes, the sweep files it again under the deadline of
 *       the call it is in, or drops it when it is in none. This relies on one thread's successive deadlines never
 *       getting earlier by more than a tick (one operation timeout per pool); a record filed later than a new call's
 *       deadline is replaced by a new one.
 *   <li>an asynchronous call is pushed onto a stack when it starts and again when it ends; the sweep places it in the
 *       wheel and unlinks it when it ended, so an ended call is held at most until the next sweep.
 * </ul>
 */
final class Deadlines {

    static final long TICK_MILLIS = 10;
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);
    /** Slots of the wheel: 40.96 s at 10 ms; a later deadline waits in its slot for further turns. */
    static final int SLOTS = 4096;

    private static final long NOT_FILED = Long.MIN_VALUE;

    private final long origin = System.nanoTime();
    private final ThreadLocal<Caller> mine = ThreadLocal.withInitial(() -> new Caller(Thread.currentThread()));
    /** Handed to the sweep: records and asynchronous calls to place in the wheel (linked by {@link Entry#next}). */
    private final AtomicReference<Entry> incoming = new AtomicReference<>();
    /** Asynchronous calls that ended, to unlink from the wheel (linked by {@link Expiring#endedNext}). */
    private final AtomicReference<Expiring> ended = new AtomicReference<>();

    // The sweep's own state: only the sweep reads or writes it (the scheduler runs one sweep at a time).
    private final Entry[] wheel = new Entry[SLOTS];
    private long sweptTick;
    /** Entries the sweeps looked at, in all (a measure of their work, for tests). */
    private long visits;

    Deadlines(ScheduledExecutorService scheduler) {
        sweptTick = tickBefore(origin);
        scheduler.scheduleWithFixedDelay(this::sweep, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
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
        long filed = c.filed;
        if (filed != NOT_FILED && filed - deadlineNanos > TICK_NANOS) {
            // Filed for later than this call may last: retire the record (the sweep drops it) and file a new one.
            c.state.set(Caller.RETIRED);
            c = new Caller(Thread.currentThread());
            mine.set(c);
        }
        c.deadlineNanos = deadlineNanos;
        c.state.set(Caller.RUNNING);
        // After RUNNING is visible: either this sees the sweep's NOT_FILED, or the sweep sees RUNNING and files it.
        if (c.filed == NOT_FILED && Caller.FILED.compareAndSet(c, NOT_FILED, deadlineNanos)) {
            push(c);
        }
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

    /** {@code e} expires at its deadline unless it {@link Expiring#ended() ended} before. Once per call. */
    void watch(Expiring e) {
        push(e);
    }

    /** {@code e} ended before its deadline: it leaves the wheel at the next sweep. At most once per call. */
    void unwatch(Expiring e) {
        Expiring head;
        do {
            head = ended.get();
            e.endedNext = head;
        } while (!ended.compareAndSet(head, e));
    }

    private void push(Entry e) {
        Entry head;
        do {
            head = incoming.get();
            e.next = head;
        } while (!incoming.compareAndSet(head, e));
    }

    /** One tick of the wheel; package-private for tests, which may call it instead of the scheduler. */
    void sweep() {
        long now = System.nanoTime();
        long nowTick = tickBefore(now);
        for (Entry e = incoming.get() == null ? null : incoming.getAndSet(null); e != null; ) {
            Entry next = e.next;
            e.next = null;
            visits++;
            if (e instanceof Caller) {
                fileCaller((Caller) e, now);
            } else if (!((Expiring) e).ended()) {
                placeOrExpire((Expiring) e, now);
            }
            e = next;
        }
        for (Expiring e = ended.get() == null ? null : ended.getAndSet(null); e != null; ) {
            Expiring next = e.endedNext;
            e.endedNext = null;
            if (e.placed) {
                unlink(e);
            }
            e = next;
        }
        long from = Math.max(sweptTick + 1, nowTick - SLOTS + 1);
        for (long t = from; t - nowTick <= 0; t++) {
            int slot = (int) (t & (SLOTS - 1));
            Entry e = wheel[slot];
            wheel[slot] = null;
            while (e != null) {
                Entry next = e.next;
                e.next = null;
                e.prev = null;
                e.placed = false;
                visits++;
                if (e instanceof Caller) {
                    fileCaller((Caller) e, now);
                } else if (!((Expiring) e).ended()) {
                    placeOrExpire((Expiring) e, now);
                }
                e = next;
            }
        }
        sweptTick = nowTick;
    }

    /** How many entries the sweeps have looked at so far (read by the sweep's thread, or after it stopped). */
    long visits() {
        return visits;
    }

    private void placeOrExpire(Expiring e, long now) {
        long deadline = e.deadlineNanos();
        if (now - deadline >= 0) {
            e.expire();
        } else {
            place(e, deadline);
        }
    }

    /** A record out of the wheel: filed again under its call's deadline, interrupted when that passed, or dropped. */
    private void fileCaller(Caller c, long now) {
        if (c.state.get() == Caller.RUNNING) {
            long deadline = c.deadlineNanos;
            if (now - deadline < 0) {
                c.filed = deadline;
                place(c, deadline);
                return;
            }
            if (c.state.compareAndSet(Caller.RUNNING, Caller.EXPIRED)) {
                c.thread.interrupt();
                c.state.set(Caller.INTERRUPTED);
            }
        }
        c.filed = NOT_FILED;
        // A call that began meanwhile may have seen the record filed: file it here then (unless that call did).
        if (c.state.get() == Caller.RUNNING && Caller.FILED.compareAndSet(c, NOT_FILED, c.deadlineNanos)) {
            fileCaller(c, now);
        }
    }

    /** Into the slot of the first tick at or after {@code deadline}: the sweep of that tick finds it due. */
    private void place(Entry e, long deadline) {
        long tick = Math.max(tickAtOrAfter(deadline), sweptTick + 1);
        e.tick = tick;
        int slot = (int) (tick & (SLOTS - 1));
        Entry head = wheel[slot];
        e.next = head;
        e.prev = null;
        if (head != null) {
            head.prev = e;
        }
        wheel[slot] = e;
        e.placed = true;
    }

    private void unlink(Entry e) {
        if (e.prev != null) {
            e.prev.next = e.next;
        } else {
            wheel[(int) (e.tick & (SLOTS - 1))] = e.next;
        }
        if (e.next != null) {
            e.next.prev = e.prev;
        }
        e.next = null;
        e.prev = null;
        e.placed = false;
    }

    private long tickBefore(long nanos) {
        return Math.floorDiv(nanos - origin, TICK_NANOS);
    }

    private long tickAtOrAfter(long nanos) {
        return -Math.floorDiv(origin - nanos, TICK_NANOS);
    }

    /** What the wheel links: a thread's record or an asynchronous call. */
    abstract static class Entry {
        /** In {@link #incoming} or in a slot of the wheel (written by the pusher before its push, else by the sweep). */
        Entry next;
        // The sweep's own.
        Entry prev;
        long tick;
        boolean placed;

        Entry() {}
    }

    /** One thread's synchronous call in progress. */
    static final class Caller extends Entry {
        static final int IDLE = 0;
        static final int RUNNING = 1;
        static final int EXPIRED = 2;
        static final int INTERRUPTED = 3;
        /** Replaced by a new record of the same thread; the sweep drops it. */
        static final int RETIRED = 4;

        static final VarHandle FILED;

        static {
            try {
                FILED = MethodHandles.lookup().findVarHandle(Caller.class, "filed", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final Thread thread;
        final AtomicInteger state = new AtomicInteger(IDLE);
        volatile long deadlineNanos;
        /** The deadline it is filed under (handed to the sweep or in the wheel), or {@link #NOT_FILED}. */
        volatile long filed = NOT_FILED;

        Caller(Thread thread) {
            this.thread = thread;
        }
    }

    /** An asynchronous call that must end by its deadline. */
    abstract static class Expiring extends Entry {
        Expiring endedNext;

        /** The deadline, in {@link System#nanoTime()}. */
        abstract long deadlineNanos();

        /** True once the call ended, by its result or by {@link #expire()}. */
        abstract boolean ended();

        /** Ends the call with its deadline's failure, unless it ended already. Runs on the pool's scheduler. */
        abstract void expire();
    }
}
