package dev.zksdk.internal;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one listener's callbacks one at a time, in the order they were submitted, on a shared executor: a listener that
 * blocks holds one thread of that executor and delays only its own later callbacks.
 *
 * <p>The queue is bounded. When it is full, {@link #execute} asks the overflow policy for a replacement: a watch
 * listener replaces everything queued by one RESYNC (state may have changed unseen: re-read), so memory stays bounded
 * and the listener still learns it missed something; with no replacement the new task is dropped. Both are counted.
 */
public final class SerialQueue implements Executor {

    private static final Logger log = LoggerFactory.getLogger(SerialQueue.class);
    /** Tasks run per turn before the thread is handed back, so that busy listeners take turns. */
    private static final int BATCH = 64;

    private final String name;
    private final Executor executor;
    private final int capacity;
    private final Supplier<Runnable> onOverflow;
    private final LongAdder overflows;
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private boolean running;
    private boolean overflowed;

    /**
     * @param name says whose callbacks these are, in log lines
     * @param onOverflow the task that replaces a full queue's content, or null to drop the newest task
     * @param overflows counts overflows (shared by a pool's queues, for its metric)
     */
    public SerialQueue(
            String name, Executor executor, int capacity, Supplier<Runnable> onOverflow, LongAdder overflows) {
        this.name = name;
        this.executor = executor;
        this.capacity = capacity;
        this.onOverflow = onOverflow;
        this.overflows = overflows;
    }

    @Override
    public void execute(Runnable task) {
        boolean start;
        boolean firstOverflow = false;
        synchronized (queue) {
            if (queue.size() >= capacity) {
                overflows.increment();
                firstOverflow = !overflowed;
                overflowed = true;
                Runnable replacement = onOverflow == null ? null : onOverflow.get();
                if (replacement != null) {
                    queue.clear();
                    queue.add(replacement);
                }
            } else {
                queue.add(task);
            }
            start = !running;
            running = true;
        }
        if (firstOverflow) {
            log.warn(
                    "{}: the listener is too slow: {} callbacks queued; {}",
                    name,
                    capacity,
                    onOverflow == null
                            ? "new ones are dropped until it catches up"
                            : "the queue was replaced by a RESYNC");
        }
        if (start) {
            schedule();
        }
    }

    private void schedule() {
        try {
            executor.execute(this::drain);
        } catch (RejectedExecutionException e) {
            // The pool is closing: callbacks still queued are not delivered.
            synchronized (queue) {
                queue.clear();
                running = false;
            }
        }
    }

    private void drain() {
        for (int i = 0; i < BATCH; i++) {
            Runnable next;
            synchronized (queue) {
                next = queue.poll();
                if (next == null) {
                    running = false;
                    overflowed = false;
                    return;
                }
            }
            try {
                next.run();
            } catch (RuntimeException | Error e) {
                log.warn("{}: a listener threw; it is kept and later callbacks are still delivered", name, e);
            }
        }
        schedule();
    }

    /** Callbacks queued and not yet started. */
    public int pending() {
        synchronized (queue) {
            return queue.size();
        }
    }
}
