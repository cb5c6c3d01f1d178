package dev.zksdk.samples;

import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The soak's servers as separate processes (zk-sdk-test's {@link ProcessEnsemble}): real {@code kill -9}, SIGSTOP
 * and SIGCONT. Closing it closes the ensemble.
 */
final class ProcessSoakServers implements SoakServers {

    private final ProcessEnsemble ensemble;

    ProcessSoakServers(ProcessEnsemble ensemble) {
        this.ensemble = ensemble;
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
        return List.of(Capability.KILL, Capability.PAUSE);
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
