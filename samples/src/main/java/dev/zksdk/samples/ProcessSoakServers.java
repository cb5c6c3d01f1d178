package dev.zksdk.samples;

import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.QuorumLink;
import dev.zksdk.testing.ServerProcess;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The soak's servers as separate processes (zk-sdk-test's {@link ProcessEnsemble}): real {@code kill -9}, SIGSTOP
 * and SIGCONT, and, when the ensemble was built with {@link ProcessEnsemble.Builder#proxiedQuorumLink(int)}, one
 * member's quorum link slowed down so that it serves stale reads. Closing it closes the ensemble.
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

    private final ProcessEnsemble ensemble;

    ProcessSoakServers(ProcessEnsemble ensemble) {
        this.ensemble = ensemble;
    }

    /** Starts the soak's own ensemble: {@value #SIZE} members, the last one's quorum link behind proxies. */
    static ProcessSoakServers start() {
        return new ProcessSoakServers(ProcessEnsemble.builder()
                .size(SIZE)
                .syncLimit(SYNC_LIMIT)
                .proxiedQuorumLink(LAGGING_MEMBER)
                .start());
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
        return laggingMember().isPresent()
                ? List.of(Capability.KILL, Capability.PAUSE, Capability.SLOW_QUORUM_LINK)
                : List.of(Capability.KILL, Capability.PAUSE);
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
