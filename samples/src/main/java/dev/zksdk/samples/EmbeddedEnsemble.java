package dev.zksdk.samples;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.server.command.FourLetterCommands;

/**
 * The demo's own ensemble: real ZooKeeper servers inside this JVM (curator-test's {@link TestingCluster}) on
 * 127.0.0.1 with free ports, a short tick so elections take a second rather than ten, and every four-letter word
 * enabled so that the leader can be found ({@code srvr}) and the doctor can probe them. Servers can be killed and
 * restarted on the same ports and data. Not thread-safe: the demo drives it from one thread.
 */
final class EmbeddedEnsemble implements AutoCloseable {

    static final Duration TICK_TIME = Duration.ofMillis(200);
    private static final String LOOPBACK = "127.0.0.1";
    private static final int FOUR_LETTER_TIMEOUT_MS = 1_000;

    /** One server: its id, client address and curator-test spec. */
    record Member(int id, String address, InstanceSpec spec) {
        @Override
        public String toString() {
            return "server " + id + " (" + address + ")";
        }
    }

    private final TestingCluster cluster;
    private final List<Member> members;

    private EmbeddedEnsemble(TestingCluster cluster, List<Member> members) {
        this.cluster = cluster;
        this.members = members;
    }

    /**
     * Starts {@code size} servers and waits until they serve with one leader.
     *
     * @throws IllegalStateException when they do not within {@code timeout}
     */
    static EmbeddedEnsemble start(int size, Duration timeout) throws Exception {
        // An in-process server reads its four-letter-word whitelist from this system property, once per JVM.
        System.setProperty("zookeeper.4lw.commands.whitelist", "*");
        FourLetterCommands.resetWhiteList();
        List<InstanceSpec> specs = new ArrayList<>();
        for (int id = 1; id <= size; id++) {
            // The server's default bounds (2 and 20 ticks) would clamp a demo session timeout of a few seconds.
            Map<String, Object> properties = Map.of(
                    "clientPortAddress",
                    LOOPBACK,
                    "minSessionTimeout",
                    String.valueOf(2 * TICK_TIME.toMillis()),
                    "maxSessionTimeout",
                    "60000",
                    "admin.enableServer",
                    "false");
            specs.add(
                    new InstanceSpec(null, -1, -1, -1, true, id, (int) TICK_TIME.toMillis(), -1, properties, LOOPBACK));
        }
        TestingCluster cluster = new TestingCluster(specs);
        List<Member> members = specs.stream()
                .sorted(Comparator.comparingInt(InstanceSpec::getServerId))
                .map(s -> new Member(s.getServerId(), LOOPBACK + ":" + s.getPort(), s))
                .toList();
        EmbeddedEnsemble ensemble = new EmbeddedEnsemble(cluster, members);
        try {
            cluster.start();
            ensemble.awaitQuorum(timeout);
            return ensemble;
        } catch (Exception e) {
            ensemble.close();
            throw e;
        }
    }

    /** Every server's client address, in id order. */
    String connectString() {
        return members.stream().map(Member::address).collect(Collectors.joining(","));
    }

    /** The server whose client address (as a pool reports it) is {@code address}, if any. */
    Optional<Member> member(String address) {
        return members.stream().filter(m -> m.address().equals(address)).findFirst();
    }

    /** What {@code srvr} says the server's mode is ({@code leader}, {@code follower}, ...), if it serves. */
    Optional<String> mode(Member member) {
        try {
            String srvr = FourLetterWordMain.send4LetterWord(
                    LOOPBACK, member.spec().getPort(), "srvr", false, FOUR_LETTER_TIMEOUT_MS);
            return srvr.lines()
                    .filter(l -> l.startsWith("Mode: "))
                    .map(l -> l.substring(6).trim())
                    .findFirst();
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    /**
     * The one server that says it leads, waiting up to {@code timeout} for an election to end.
     *
     * @throws IllegalStateException when there is no single leader in time
     */
    Member leader(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Member> leaders = members.stream()
                    .filter(m -> mode(m).filter("leader"::equals).isPresent())
                    .toList();
            if (leaders.size() == 1) {
                return leaders.get(0);
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("no single leader within " + timeout.toMillis() + " ms: " + describe());
            }
            Thread.sleep(100);
        }
    }

    /** Stops a server the hard way: its sockets close, its clients see the connection drop. */
    void kill(Member member) throws Exception {
        if (!cluster.killServer(member.spec())) {
            throw new IllegalStateException("curator-test did not find " + member + " to kill");
        }
    }

    /** Starts a killed server again on the same ports and data. */
    void restart(Member member) throws Exception {
        if (!cluster.restartServer(member.spec())) {
            throw new IllegalStateException("curator-test did not find " + member + " to restart");
        }
    }

    /**
     * Waits until the server serves (reports a mode) and returns that mode.
     *
     * @throws IllegalStateException when it does not within {@code timeout}
     */
    String awaitServing(Member member, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<String> mode = mode(member);
            if (mode.isPresent()) {
                return mode.get();
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(member + " does not serve within " + timeout.toMillis() + " ms");
            }
            Thread.sleep(100);
        }
    }

    private void awaitQuorum(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!(members.stream().allMatch(m -> mode(m).isPresent()) && leaderCount() == 1)) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(
                        "the embedded ensemble has no quorum within " + timeout.toMillis() + " ms: " + describe());
            }
            Thread.sleep(100);
        }
    }

    private long leaderCount() {
        return members.stream()
                .filter(m -> mode(m).filter("leader"::equals).isPresent())
                .count();
    }

    /** Each server with its mode, for messages: {@code server 1 (127.0.0.1:p) follower, ...}. */
    String describe() {
        return members.stream()
                .map(m -> m + " " + mode(m).orElse("not serving"))
                .collect(Collectors.joining(", "));
    }

    @Override
    public void close() throws IOException {
        cluster.close();
    }
}
