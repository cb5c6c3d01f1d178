package dev.zksdk.samples;

import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.QuorumLink;
import dev.zksdk.testing.ServerProcess;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.admin.ZooKeeperAdmin;

/**
 * The soak's servers as separate processes (zk-sdk-test's {@link ProcessEnsemble}): real {@code kill -9}, SIGSTOP
 * and SIGCONT, and, when the ensemble was built with {@link ProcessEnsemble.Builder#proxiedQuorumLink(int)}, one
 * member's quorum link slowed down so that it serves stale reads; or, started with {@link #startForReconfig()}, members
 * removed from the ensemble's configuration and added back (dynamic reconfiguration) instead of the slowed link.
 * Closing it closes the ensemble.
 */
final class ProcessSoakServers implements SoakServers {

    /** Members of the soak's own ensemble. */
    static final int SIZE = 3;
    /** The member (an id, from 1) whose quorum link the soak can slow down. */
    static final int LAGGING_MEMBER = SIZE;
    /**
     * {@code syncLimit} in ticks of 200 ms: 6 s, so that a follower whose link is slowed by up to
     * {@link Soak#MAX_QUORUM_LATENCY} each way stays in the quorum and serves stale reads instead of dropping out.
     */
    static final int SYNC_LIMIT = 30;

    private static final Duration POLL = Duration.ofMillis(200);

    private final ProcessEnsemble ensemble;
    /**
     * Each member's own line of the configuration ({@code server.N=quorum:election:participant;client}) as read at
     * start, by member id; empty unless the ensemble was started for reconfiguration.
     */
    private final Map<Integer, String> ownLines;

    ProcessSoakServers(ProcessEnsemble ensemble) {
        this(ensemble, Map.of());
    }

    private ProcessSoakServers(ProcessEnsemble ensemble, Map<Integer, String> ownLines) {
        this.ensemble = ensemble;
        this.ownLines = ownLines;
    }

    /** Starts the soak's own ensemble: {@value #SIZE} members, the last one's quorum link behind proxies. */
    static ProcessSoakServers start() {
        return new ProcessSoakServers(ProcessEnsemble.builder()
                .size(SIZE)
                .syncLimit(SYNC_LIMIT)
                .proxiedQuorumLink(LAGGING_MEMBER)
                .start());
    }

    /**
     * Starts the soak's own ensemble for {@code --reconfig}: {@value #SIZE} members with {@code reconfigEnabled} and
     * every member's quorum link direct (no proxied link: a member whose configuration named proxies would spread that
     * configuration through the reconfigurations), so the slowed quorum link is not among its faults. Reconfiguration
     * needs the super user or no ACL checks; these throw-away servers skip the checks.
     */
    static ProcessSoakServers startForReconfig() {
        ProcessEnsemble ensemble = ProcessEnsemble.builder()
                .size(SIZE)
                .syncLimit(SYNC_LIMIT)
                .reconfigEnabled(true)
                .jvmOption("-Dzookeeper.skipACL=yes")
                .start();
        try {
            Map<Integer, String> lines = new TreeMap<>();
            for (ServerProcess server : ensemble.servers()) {
                String prefix = "server." + server.id() + "=";
                lines.put(
                        server.id(),
                        serverLines(server.fourLetter("conf")).stream()
                                .filter(l -> l.startsWith(prefix))
                                .findFirst()
                                .orElseThrow(() -> new IllegalStateException("server " + server.id()
                                        + " does not state its own line in its configuration (conf): "
                                        + server.fourLetter("conf"))));
            }
            return new ProcessSoakServers(ensemble, lines);
        } catch (RuntimeException e) {
            ensemble.close();
            throw e;
        }
    }

    @Override
    public String kind() {
        return "processes";
    }

    @Override
    public String killStyle() {
        return "kill -9";
    }

    @Override
    public String connectString() {
        return ensemble.connectString();
    }

    @Override
    public List<String> members() {
        return ensemble.servers().stream().map(ServerProcess::address).toList();
    }

    @Override
    public List<Capability> capabilities() {
        if (!ownLines.isEmpty()) {
            return List.of(Capability.KILL, Capability.PAUSE, Capability.RECONFIG);
        }
        return laggingMember().isPresent()
                ? List.of(Capability.KILL, Capability.PAUSE, Capability.SLOW_QUORUM_LINK)
                : List.of(Capability.KILL, Capability.PAUSE);
    }

    @Override
    public String removeMember(int index, Duration timeout) throws Exception {
        requireReconfig();
        ServerProcess leaving = ensemble.servers().get(index);
        String prefix = "server." + leaving.id() + "=";
        String version = reconfigure(
                index,
                null,
                String.valueOf(leaving.id()),
                lines -> lines.stream().noneMatch(l -> l.startsWith(prefix)),
                timeout);
        if (!leaving.isAlive()) {
            throw new IllegalStateException(
                    "server " + leaving.id() + " stopped running when it was removed: " + leaving.logTail(20));
        }
        return version;
    }

    @Override
    public String addMember(int index, Duration timeout) throws Exception {
        requireReconfig();
        ServerProcess joining = ensemble.servers().get(index);
        String line = ownLines.get(joining.id());
        long deadline = System.nanoTime() + timeout.toNanos();
        String version = reconfigure(index, line, null, lines -> lines.contains(line), timeout);
        // Committed; the member rejoins once it learns of it: it serves again, on the new configuration.
        while (!servesOn(joining, version)) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("server " + joining.id() + " was added back (configuration version "
                        + version + ") but does not serve on that configuration after " + timeout.toSeconds()
                        + " s: " + joining.logTail(20));
            }
            TimeUnit.MILLISECONDS.sleep(POLL.toMillis());
        }
        return version;
    }

    private static boolean servesOn(ServerProcess server, String version) {
        try {
            return server.isServing() && version(server.fourLetter("conf")).equals(version);
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    private void requireReconfig() {
        if (ownLines.isEmpty()) {
            throw new UnsupportedOperationException("this ensemble was not started for reconfiguration");
        }
    }

    /**
     * An incremental reconfiguration sent through every member but {@code index} (their own client ports, not the
     * soak's proxies, which a network fault may freeze meanwhile). Retries while the leader cannot take it yet
     * (no quorum of the new configuration synced, another reconfiguration in progress, the connection lost as a
     * removed leader steps down, which may have committed it) until the ensemble's configuration, read after a
     * sync, satisfies {@code done}.
     *
     * @return the committed configuration's version
     */
    private String reconfigure(int index, String joining, String leaving, Predicate<Set<String>> done, Duration timeout)
            throws Exception {
        List<String> through = new ArrayList<>();
        for (int i = 0; i < ensemble.servers().size(); i++) {
            if (i != index) {
                through.add(ensemble.servers().get(i).address());
            }
        }
        String change = joining != null ? "add " + joining : "remove server." + leaving;
        CountDownLatch connected = new CountDownLatch(1);
        long deadline = System.nanoTime() + timeout.toNanos();
        ZooKeeperAdmin admin = new ZooKeeperAdmin(String.join(",", through), (int) timeout.toMillis(), e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        try {
            if (!connected.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("no member of " + through + " took a session to " + change + " within "
                        + timeout.toSeconds() + " s");
            }
            String last = "";
            while (true) {
                try {
                    last = syncedConfig(admin);
                    if (done.test(serverLines(last))) {
                        return version(last);
                    }
                    admin.reconfigure(joining, leaving, null, -1, null);
                } catch (KeeperException.ConnectionLossException
                        | KeeperException.NewConfigNoQuorum
                        | KeeperException.ReconfigInProgress e) {
                    // Retried below; the configuration read first tells whether it committed.
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("the reconfiguration (" + change + ") did not commit within "
                            + timeout.toSeconds() + " s; the configuration last read: " + last.replace('\n', ' '));
                }
                TimeUnit.MILLISECONDS.sleep(POLL.toMillis());
            }
        } finally {
            admin.close();
        }
    }

    /** The ensemble's configuration as the member the admin client is on knows it after catching up with the leader. */
    private static String syncedConfig(ZooKeeperAdmin admin) throws KeeperException, InterruptedException {
        CountDownLatch synced = new CountDownLatch(1);
        admin.sync(ZooDefs.CONFIG_NODE, (rc, path, ctx) -> synced.countDown(), null);
        synced.await(admin.getSessionTimeout(), TimeUnit.MILLISECONDS);
        return new String(admin.getConfig(false, null), StandardCharsets.UTF_8);
    }

    /** The {@code server.N=...} lines of a configuration's text. */
    private static Set<String> serverLines(String config) {
        return config.lines()
                .map(String::trim)
                .filter(l -> l.startsWith("server."))
                .collect(Collectors.toSet());
    }

    /** The {@code version=} of a configuration's text. */
    private static String version(String config) {
        return config.lines()
                .map(String::trim)
                .filter(l -> l.startsWith("version="))
                .map(l -> l.substring("version=".length()))
                .findFirst()
                .orElse("unknown");
    }

    @Override
    public Optional<Integer> laggingMember() {
        return ensemble.servers().size() >= LAGGING_MEMBER && hasLink()
                ? Optional.of(LAGGING_MEMBER - 1)
                : Optional.empty();
    }

    private boolean hasLink() {
        try {
            ensemble.quorumLink(LAGGING_MEMBER);
            return true;
        } catch (IllegalStateException | IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public void slowQuorumLink(Duration oneWay) {
        QuorumLink link = ensemble.quorumLink(LAGGING_MEMBER);
        link.latency(oneWay);
    }

    @Override
    public Optional<Integer> leader() {
        List<ServerProcess> servers = ensemble.servers();
        for (int i = 0; i < servers.size(); i++) {
            if (servers.get(i).isAlive()
                    && !servers.get(i).isSuspended()
                    && servers.get(i).mode().filter("leader"::equals).isPresent()) {
                return Optional.of(i);
            }
        }
        return Optional.empty();
    }

    @Override
    public void kill(int index) {
        ensemble.servers().get(index).kill9();
    }

    @Override
    public void restart(int index, Duration timeout) {
        ServerProcess server = ensemble.servers().get(index);
        server.restart();
        server.awaitServing(timeout);
    }

    @Override
    public void pause(int index) {
        ensemble.servers().get(index).sigstop();
    }

    @Override
    public void resume(int index) {
        ensemble.servers().get(index).sigcont();
    }

    @Override
    public String describe() {
        return ensemble.toString();
    }

    @Override
    public void close() {
        ensemble.close();
    }
}
