package dev.zksdk.samples;

import dev.zksdk.ZkConnectionLossException;
import dev.zksdk.ZkException;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Request handlers as a web service has them: many threads, each request takes a lease from the one shared pool (free:
 * no connection, no round trip), reads the config node and releases the lease; handler 0 also writes a new config
 * value every {@value #WRITE_EVERY} requests. Nothing here retries: the pool does.
 *
 * <p>Each request ends in one of three counters: ok (succeeded without meeting a fault), retried (succeeded although
 * its session was disconnected when it started or lost its connection while it ran: the pool held it until the
 * session was back or retried it), failed (threw a {@link ZkException}; the first few are kept for the report). A write
 * the pool reports as outcome unknown is re-read by the handler, as an application must: found applied, it counts as
 * retried (and is counted apart, {@link #unknownConfirmed()}); not found, it is sent again and counts as retried too.
 */
final class Traffic {

    static final int WRITE_EVERY = 20;
    /** A handler's pause between requests, as if it did other work; keeps the embedded servers responsive. */
    private static final long THINK_MILLIS = 5;

    private static final int FAILURES_KEPT = 5;

    private final ZkSessionPool pool;
    private final String configPath;
    private final int handlers;
    private final Timeline timeline;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong retried = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    /** Writes the pool reported as outcome unknown, which the handler re-read and found applied. */
    private final AtomicLong unknownConfirmed = new AtomicLong();
    /** Writes the pool reported as outcome unknown, which the handler re-read, found not applied and sent again. */
    private final AtomicLong unknownResent = new AtomicLong();

    private final AtomicLong lastWritten = new AtomicLong();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final List<Future<?>> futures = new ArrayList<>();
    private ExecutorService executor;

    Traffic(ZkSessionPool pool, String configPath, int handlers, Timeline timeline) {
        this.pool = pool;
        this.configPath = configPath;
        this.handlers = handlers;
        this.timeline = timeline;
    }

    void start() {
        running.set(true);
        AtomicInteger threadNumber = new AtomicInteger();
        executor = Executors.newFixedThreadPool(handlers, r -> {
            Thread t = new Thread(r, "demo-handler-" + threadNumber.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
        for (int h = 0; h < handlers; h++) {
            boolean writer = h == 0;
            futures.add(executor.submit(() -> handle(writer)));
        }
    }

    private Void handle(boolean writer) throws InterruptedException {
        long n = 0;
        while (running.get()) {
            Timeline.Mark mark = timeline.mark();
            try (ZkLease lease = pool.lease()) {
                if (writer && n % WRITE_EVERY == 0) {
                    long value = lastWritten.get() + 1;
                    byte[] data = ("v" + value).getBytes(StandardCharsets.UTF_8);
                    try {
                        lease.setData(configPath, data, -1);
                    } catch (ZkConnectionLossException e) {
                        // The pool says only what it knows: when a cut connection leaves the write's fate open, it says
                        // so, and a
                        // careful application looks before acting again. This one is the only writer: its value there
                        // means done.
                        if (!e.outcomeUnknown()) {
                            throw e;
                        }
                        if (Arrays.equals(lease.getData(configPath), data)) {
                            unknownConfirmed.incrementAndGet();
                        } else {
                            // Not there: the write never happened (the only writer's value is not overwritten), so
                            // it is sent again.
                            lease.setData(configPath, data, -1);
                            unknownResent.incrementAndGet();
                        }
                    }
                    lastWritten.set(value);
                } else {
                    lease.getData(configPath);
                }
                boolean touched;
                try {
                    touched = timeline.touched(mark, lease.sessionId());
                } catch (ZkException e) {
                    // The session dropped right after the request: the request itself met no fault.
                    touched = false;
                }
                (touched ? retried : ok).incrementAndGet();
            } catch (ZkException e) {
                failed.incrementAndGet();
                if (failures.size() < FAILURES_KEPT) {
                    failures.add(String.format(
                            Locale.ROOT,
                            "[%5.1fs] %s: %s",
                            timeline.seconds(),
                            e.getClass().getSimpleName(),
                            e.getMessage()));
                }
            }
            n++;
            TimeUnit.MILLISECONDS.sleep(THINK_MILLIS);
        }
        return null;
    }

    /** Stops every handler after its current request and waits for them. Idempotent. */
    void stop() throws Exception {
        if (!running.getAndSet(false)) {
            return;
        }
        for (Future<?> f : futures) {
            f.get(60, TimeUnit.SECONDS);
        }
        executor.shutdown();
    }

    Counts counts() {
        return new Counts(ok.get(), retried.get(), failed.get());
    }

    /** The sequence number of the last config value written ({@code v<n>}); 0 before the first write. */
    long lastWritten() {
        return lastWritten.get();
    }

    List<String> failures() {
        return List.copyOf(failures);
    }

    /** Writes reported as outcome unknown that the handler found not applied when it re-read the node, and sent again. */
    long unknownResent() {
        return unknownResent.get();
    }

    /** Writes reported as outcome unknown that the handler found applied when it re-read the node. */
    long unknownConfirmed() {
        return unknownConfirmed.get();
    }

    /** Request counters at one moment; {@link #minus} gives a phase's share. */
    record Counts(long ok, long retried, long failed) {
        Counts minus(Counts earlier) {
            return new Counts(ok - earlier.ok, retried - earlier.retried, failed - earlier.failed);
        }

        long total() {
            return ok + retried + failed;
        }

        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT, "%,d requests: %,d ok, %,d retried, %,d failed", total(), ok, retried, failed);
        }
    }
}
