package dev.zksdk.benchmarks;

import java.util.Arrays;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * One storm of {@link FleetStormBenchmark}, as JMH secondary results (one value per iteration), summed over the
 * simulated hosts: the sessions they held before the kill and what became of them, when the slots came back, and
 * what the server and the kernel turned away meanwhile.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class FleetCounters {

    /** Sessions connected when the server was killed, all hosts together. */
    public long sessionsBefore;
    /**
     * Hosts not back when the storm was cut ({@link FleetStormBenchmark#STORM_WAIT} after the restart): their figures
     * are what they held then, and the storm's time is the cut's.
     */
    public long hostsShort;
    /** Of those, connected again with their own session when their host was back (or the storm was cut). */
    public long sameSessionBack;
    /** Of those, found expired (came back as a new session). */
    public long expired;
    /**
     * Of those, not connected when their host was back: workers the server had turned away before took their place,
     * and these sessions will expire (their ephemerals with them).
     */
    public long displaced;
    /** Connected slots that were not connected before the kill: workers turned away before it, served after it. */
    public long newSessions;
    /** From launching the server's JVM again to the first slot back: mostly the server's start-up. */
    public double restartToFirstBackMs;
    /** Percentiles of each connected slot's time back, counted from the first slot back, over all hosts. */
    public double spreadP50Ms;

    public double spreadP90Ms;
    public double spreadP99Ms;
    public double spreadMaxMs;
    /**
     * The server's {@code zk_connection_rejected} when every host was back: connections it turned away since its
     * restart (over {@code maxClientCnxns}, from any client). Not measured (and storms counted in
     * {@link #rejectionsUnread}) when {@code mntr} could not be read.
     */
    public long serverRejected;
    /** Storms in which the server's count of rejections could not be read: their {@link #serverRejected} is not 0. */
    public long rejectionsUnread;
    /** The kernel's {@code TcpExt: ListenOverflows} grew by this much during the storm (whole network namespace). */
    public long listenOverflows;
    /** The kernel's {@code TcpExt: ListenDrops} grew by this much during the storm (whole network namespace). */
    public long listenDrops;
    /** Storms in which the kernel's counters could not be read: their overflows and drops are not measured. */
    public long kernelCountersUnread;

    /**
     * Fills the session counters and the spread from the hosts' answers.
     *
     * @param launchedNanos when the server's JVM was launched again
     * @param backNanos when each connected slot of every host came back
     */
    void record(long launchedNanos, long[] backNanos, int before, int same, int expiredSessions, int lost, int fresh) {
        sessionsBefore = before;
        sameSessionBack = same;
        expired = expiredSessions;
        displaced = lost;
        newSessions = fresh;
        long[] sorted = backNanos.clone();
        Arrays.sort(sorted);
        if (sorted.length == 0) {
            return;
        }
        long first = sorted[0];
        double[] spread = new double[sorted.length];
        for (int i = 0; i < sorted.length; i++) {
            spread[i] = (sorted[i] - first) / 1e6;
        }
        restartToFirstBackMs = (first - launchedNanos) / 1e6;
        spreadP50Ms = StormCounters.percentile(spread, 50);
        spreadP90Ms = StormCounters.percentile(spread, 90);
        spreadP99Ms = StormCounters.percentile(spread, 99);
        spreadMaxMs = spread[spread.length - 1];
    }
}
