package dev.zksdk.benchmarks;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The server of one benchmark run (a JMH fork), started before the first iteration and stopped after the last.
 *
 * <p>Choose it with the {@code server} parameter ({@code -p server=...} on JMH's command line): {@code process}
 * (default), {@code embedded} or {@code external:host:port[,...]}; see {@link BenchServer}. Benchmarks that count TCP
 * connections install {@link ConnectCounter} before their first client; {@link #asShared} counts the connections of
 * clients every thread shares apart from each thread's own.
 */
@State(Scope.Benchmark)
public class ServerFixture {

    private static final Duration FINAL_READING_WAIT = Duration.ofSeconds(60);

    @Param({BenchServer.PROCESS})
    public String server;

    /** Connections of clients that every benchmark thread shares (the pool), counted apart from each thread's own. */
    final AtomicLong sharedConnects = new AtomicLong();
    /** Sessions created by the shared clients so far. */
    volatile LongSupplier sharedSessions = () -> 0;

    /**
     * Released by the thread that reads the server's counters once it has read them for the last time. JMH lets the
     * first thread done with the last iteration tear down shared state, possibly before the reading thread is done.
     */
    private final CountDownLatch finalReading = new CountDownLatch(1);

    private volatile boolean readerRegistered;
    private BenchServer bench;

    @Setup(Level.Trial)
    public void start() {
        bench = BenchServer.start(server);
        Workload.prepare(bench.connectString());
    }

    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
        if (readerRegistered && !finalReading.await(FINAL_READING_WAIT.toSeconds(), TimeUnit.SECONDS)) {
            System.err.println("the server's counters were not read for the last time within " + FINAL_READING_WAIT
                    + "; stopping the server anyway");
        }
        if (bench != null) {
            bench.close();
        }
    }

    /** Called once, by the thread that will read the server's counters after the last iteration. */
    void expectFinalReading() {
        readerRegistered = true;
    }

    void finalReadingDone() {
        finalReading.countDown();
    }

    public String connectString() {
        return bench.connectString();
    }

    public BenchServer bench() {
        return bench;
    }

    /**
     * Runs {@code action} with the connections of every client it creates counted as shared. Returns what it returns.
     */
    <T> T asShared(Supplier<T> action) {
        AtomicLong previous = ConnectCounter.setOwner(sharedConnects);
        try {
            return action.get();
        } finally {
            if (previous == null) {
                ConnectCounter.clearOwner();
            } else {
                ConnectCounter.setOwner(previous);
            }
        }
    }
}
