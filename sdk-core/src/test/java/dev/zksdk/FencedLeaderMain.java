package dev.zksdk;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.zookeeper.CreateMode;

/**
 * The old leader of {@link FencedTakeoverAdversarialIT}'s SIGSTOP case, run in its own JVM: elects on {@code args[1]},
 * prints {@code TOKEN <value> <version>}, then creates {@code <args[2]>/p-<n>} through {@code fenced(token)} in a loop,
 * printing {@code WRITE <n> OK|FENCED|ERR <exception>} for each, never looking at {@code isLeader()} (a stale leader
 * that keeps acting).
 */
public final class FencedLeaderMain {

    private FencedLeaderMain() {}

    public static void main(String[] args) {
        String connectString = args[0];
        String electionPath = args[1];
        String dataPath = args[2];
        Duration sessionTimeout = Duration.ofMillis(Long.parseLong(args[3]));
        ZkSessionPool pool = ZkSessionPool.builder()
                .connectString(connectString)
                .sessionTimeout(sessionTimeout)
                .connectionTimeout(Duration.ofSeconds(2))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(2))
                        .breakerFailureRateThreshold(100f)
                        .build())
                .build();
        ZkLease lease = pool.lease();
        ZkLeadership election = lease.leaderElection(electionPath, new LeadershipListener() {});
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!election.isLeader() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        FencingToken token = election.token();
        if (token == null) {
            System.out.println("NOT-ELECTED");
            System.exit(2);
        }
        System.out.println("TOKEN " + token.value() + " " + token.epochVersion());
        FencedWrites writes = lease.fenced(token);
        for (long n = 0; ; n++) {
            String outcome;
            try {
                writes.create(dataPath + "/p-" + n, ("p-" + n).getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
                outcome = "OK";
            } catch (ZkFencedException e) {
                outcome = "FENCED";
            } catch (RuntimeException e) {
                outcome = "ERR " + e.getClass().getSimpleName();
            }
            System.out.println("WRITE " + n + " " + outcome);
            System.out.flush();
            // Paced so that its output stays readable; a stale leader that keeps acting.
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }
}
