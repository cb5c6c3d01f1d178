package dev.zksdk.samples;

import dev.zksdk.FencedWrites;
import dev.zksdk.FencingToken;
import dev.zksdk.LeadershipListener;
import dev.zksdk.OperationPolicy;
import dev.zksdk.SessionState;
import dev.zksdk.ZkFencedException;
import dev.zksdk.ZkLeadership;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.ZkProxy;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;

/**
 * The {@code leader} command: a fenced leader surviving a pause. Two pools elect on one path of an embedded 3-server
 * ensemble; the leader's worker is paused (as by a long GC) while its network is silent past the session timeout; the
 * other pool takes over with a greater token; the old leader resumes, still holding its old token, and keeps writing
 * through {@code fenced(token)}: every write is refused with {@link ZkFencedException} and none lands.
 */
final class FencedLeader {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(3);
    static final int STALE_WRITES = 10;

    private FencedLeader() {}

    static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        if (args.length > 0) {
            err.println("leader takes no options, was " + String.join(" ", args));
            return Main.EX_USAGE;
        }
        try (EmbeddedEnsemble ensemble = EmbeddedEnsemble.start(3, Duration.ofSeconds(60))) {
            List<ZkProxy> proxies = new ArrayList<>();
            for (String server : ensemble.connectString().split(",")) {
                proxies.add(ZkProxy.to(server));
            }
            String throughProxies = String.join(
                    ",", proxies.stream().map(ZkProxy::connectString).toList());
            try (ZkSessionPool poolA = pool(throughProxies);
                    ZkSessionPool poolB = pool(ensemble.connectString())) {
                return scenario(poolA, poolB, proxies, out);
            } finally {
                proxies.forEach(ZkProxy::close);
            }
        }
    }

    private static ZkSessionPool pool(String connectString) {
        return ZkSessionPool.builder()
                .connectString(connectString)
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(2))
                .operationPolicy(OperationPolicy.builder()
                        .operationTimeout(Duration.ofSeconds(2))
                        .build())
                .build();
    }

    private static int scenario(ZkSessionPool poolA, ZkSessionPool poolB, List<ZkProxy> proxies, PrintStream out)
            throws Exception {
        String election = "/leader-sample/election";
        String dir = "/leader-sample/work";
        ZkLease a = poolA.lease();
        ZkLease b = poolB.lease();
        a.create("/leader-sample", new byte[0], CreateMode.PERSISTENT);
        a.create(dir, new byte[0], CreateMode.PERSISTENT);

        ZkLeadership leaderA = a.leaderElection(election, say(out, "A"));
        if (!await(leaderA::isLeader, Duration.ofSeconds(30))) {
            out.println("FAIL  A was not elected");
            return Main.FAILED;
        }
        FencingToken old = leaderA.token();
        FencedWrites writesA = a.fenced(old);
        writesA.create(dir + "/a-before-pause", bytes("A"), CreateMode.PERSISTENT);
        out.printf("A leads with token %d and writes %s/a-before-pause through fenced(token)%n", old.value(), dir);
        ZkLeadership leaderB = b.leaderElection(election, say(out, "B"));

        // The pause: A's worker stops (a stop-the-world pause) and A's network goes silent meanwhile.
        CountDownLatch resume = new CountDownLatch(1);
        List<String> outcomes = new ArrayList<>();
        Thread worker = new Thread(
                () -> {
                    try {
                        resume.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    // Resumed: still holding its old token, it acts without looking at isLeader().
                    for (int i = 0; i < STALE_WRITES; i++) {
                        try {
                            writesA.create(dir + "/a-after-pause-" + i, bytes("A"), CreateMode.PERSISTENT);
                            outcomes.add("LANDED");
                        } catch (ZkFencedException e) {
                            outcomes.add("FENCED");
                        } catch (RuntimeException e) {
                            outcomes.add(e.getClass().getSimpleName());
                        }
                    }
                },
                "leader-A-worker");
        worker.start();
        out.printf("A's worker pauses; A's network is silent (session timeout %d ms)%n", SESSION_TIMEOUT.toMillis());
        proxies.forEach(ZkProxy::freeze);
        boolean tookOver = await(leaderB::isLeader, Duration.ofSeconds(30));
        FencingToken newer = leaderB.token();
        proxies.forEach(ZkProxy::unfreeze);
        if (!tookOver) {
            resume.countDown();
            out.println("FAIL  B did not take over");
            return Main.FAILED;
        }
        out.printf("B leads with token %d; A's isLeader() is %s%n", newer.value(), leaderA.isLeader());
        // A has a new session by now (its old one expired); its worker resumes with the old token.
        await(() -> a.exists(dir) != null, Duration.ofSeconds(30));
        resume.countDown();
        worker.join(TimeUnit.SECONDS.toMillis(60));
        long fenced = outcomes.stream().filter("FENCED"::equals).count();
        out.printf("A resumes and writes %d times with token %d: %s%n", STALE_WRITES, old.value(), outcomes);
        b.fenced(newer).create(dir + "/b", bytes("B"), CreateMode.PERSISTENT);
        int landed = 0;
        for (String child : b.getChildren(dir)) {
            Stat stat = b.exists(dir + "/" + child);
            if (child.startsWith("a-") && stat != null && stat.getCzxid() > newer.value()) {
                landed++;
            }
        }
        boolean ok = newer.value() > old.value() && fenced == STALE_WRITES && landed == 0 && !leaderA.isLeader();
        out.printf(
                "%s  B's token is greater (%d > %d); %d of %d stale writes fenced; %d of A's nodes on the servers"
                        + " were created after B's election%n",
                ok ? "ok  " : "FAIL", newer.value(), old.value(), fenced, STALE_WRITES, landed);
        return ok ? Main.OK : Main.FAILED;
    }

    private static LeadershipListener say(PrintStream out, String who) {
        return new LeadershipListener() {
            @Override
            public void onElected(FencingToken token) {
                out.printf("  [%s] elected, token %d%n", who, token.value());
            }

            @Override
            public void onLost(FencingToken token, SessionState cause) {
                out.printf("  [%s] lost the turn of token %d (%s)%n", who, token.value(), cause);
            }
        };
    }

    private static boolean await(java.util.function.BooleanSupplier condition, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return true;
                }
            } catch (RuntimeException e) {
                // not yet: the session is reconnecting
            }
            Thread.sleep(20);
        }
        return false;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
