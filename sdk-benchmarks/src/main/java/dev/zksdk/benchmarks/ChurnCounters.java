package dev.zksdk.benchmarks;

import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * What each request cost besides time, as JMH secondary results (events, summed over threads and iterations):
 * requests made, TCP connections opened, sessions created, and, on the first thread only, what the server and the
 * kernel turned away while the iteration ran.
 *
 * <p>Per request figures are ratios of two counters of the same iterations, so they include the few requests JMH runs
 * outside its timed window (while other threads finish) on both sides of the division. The server-side counters are
 * read at iteration boundaries, when JMH has stopped every thread; each reading continues from the last, so nothing
 * between iterations is lost or counted twice.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class ChurnCounters {

    /** Requests started, failed ones included. */
    public long requests;
    /** Requests that did not return the data (no connection within the connect timeout, or an error). */
    public long failedRequests;
    /**
     * TCP connections opened by this thread's clients (and, on the first thread, by the shared pool), as ZooKeeper's
     * client attempted them ({@link ConnectCounter}).
     */
    public long tcpConnects;
    /** ZooKeeper sessions created by this thread's clients (and, on the first thread, by the shared pool). */
    public long sessionsCreated;
    /** First thread only: {@code mntr zk_connection_rejected} grew by this much. */
    public long serverRejected;
    /** First thread only: the kernel's {@code TcpExt: ListenOverflows} grew by this much (whole network namespace). */
    public long listenOverflows;
    /** First thread only: the kernel's {@code TcpExt: ListenDrops} grew by this much (whole network namespace). */
    public long listenDrops;
    /**
     * First thread only: iterations in which the kernel's counters could not be read (no {@code /proc/net/netstat}):
     * their overflows and drops are not measured, and a report must say so instead of 0.
     */
    public long kernelCountersUnread;
    /** First thread only: {@code mntr} probes of the harness that were refused and retried (each may be a rejection). */
    public long probesRefused;

    private final AtomicLong ownConnects = new AtomicLong();
    private ServerFixture fixture;
    private boolean reporter;
    private int iterations;
    private int iterationsDone;
    private long connectsAtStart;
    private long lastRejected;
    private long lastOverflows;
    private long lastDrops;
    private long lastSharedConnects;
    private long lastSharedSessions;
    private long lastProbesRefused;
    private boolean kernelReadable;

    @Setup(Level.Trial)
    public void start(ServerFixture fixture, ThreadParams thread, BenchmarkParams benchmark) {
        this.fixture = fixture;
        this.reporter = thread.getThreadIndex() == 0;
        this.iterations =
                benchmark.getWarmup().getCount() + benchmark.getMeasurement().getCount();
        ConnectCounter.install();
        ConnectCounter.setOwner(ownConnects);
        if (reporter) {
            fixture.expectFinalReading();
            lastRejected = ServerCounters.connectionsRejected(fixture.bench().servers());
            OptionalLong overflows = ServerCounters.listenOverflows();
            OptionalLong drops = ServerCounters.listenDrops();
            kernelReadable = overflows.isPresent() && drops.isPresent();
            lastOverflows = overflows.orElse(0);
            lastDrops = drops.orElse(0);
            lastSharedConnects = fixture.sharedConnects.get();
            lastSharedSessions = fixture.sharedSessions.getAsLong();
            lastProbesRefused = ServerCounters.probesRefused();
        }
    }

    @Setup(Level.Iteration)
    public void iterationStart() {
        connectsAtStart = ownConnects.get();
    }

    @TearDown(Level.Iteration)
    public void iterationEnd() {
        long connects = ownConnects.get() - connectsAtStart;
        long sessions = sessionsCreated;
        tcpConnects += connects;
        if (reporter) {
            try {
                readServer();
            } finally {
                if (++iterationsDone == iterations) {
                    fixture.finalReadingDone();
                }
            }
        }
        // Every session this thread's clients established came over a connection they opened in the same request.
        if (sessions > connects) {
            throw new IllegalStateException(
                    "this thread's clients established " + sessions + " sessions over " + connects
                            + " counted TCP connections in one iteration: connections are not being counted (ConnectCounter installed: "
                            + ConnectCounter.installed() + "), so connections per request would be reported wrong");
        }
    }

    private void readServer() {
        long rejected = ServerCounters.connectionsRejected(fixture.bench().servers());
        serverRejected = rejected - lastRejected;
        lastRejected = rejected;
        OptionalLong overflows = ServerCounters.listenOverflows();
        OptionalLong drops = ServerCounters.listenDrops();
        if (kernelReadable && overflows.isPresent() && drops.isPresent()) {
            listenOverflows = overflows.getAsLong() - lastOverflows;
            lastOverflows = overflows.getAsLong();
            listenDrops = drops.getAsLong() - lastDrops;
            lastDrops = drops.getAsLong();
        } else {
            // A reading missing at either end of the iteration: not measured (the report says so), never 0.
            kernelReadable = overflows.isPresent() && drops.isPresent();
            lastOverflows = overflows.orElse(0);
            lastDrops = drops.orElse(0);
            kernelCountersUnread = 1;
        }
        long shared = fixture.sharedConnects.get();
        tcpConnects += shared - lastSharedConnects;
        lastSharedConnects = shared;
        long sharedSessions = fixture.sharedSessions.getAsLong();
        sessionsCreated += sharedSessions - lastSharedSessions;
        lastSharedSessions = sharedSessions;
        long refused = ServerCounters.probesRefused();
        probesRefused = refused - lastProbesRefused;
        lastProbesRefused = refused;
    }

    @TearDown(Level.Trial)
    public void stop() {
        ConnectCounter.clearOwner();
    }
}
