package dev.zksdk;

import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.QuorumLink;
import dev.zksdk.testing.ZkProxy;
import java.time.Duration;
import java.util.List;

/**
 * Three participants and one observer (member {@value #OBSERVER}) as separate processes, the observer's quorum link to
 * its leader behind proxies ({@link #link}: lag or freeze it) and its client port behind one more ({@link #proxy}: cut
 * the pool's connections to it). The observer reviews' shared setup.
 */
final class ObserverEnsemble implements AutoCloseable {

    static final int OBSERVER = 4;

    final ProcessEnsemble ensemble;
    final QuorumLink link;
    /** The observer's own {@code host:port}. */
    final String observerDirect;
    /** A proxy in front of the observer's client port. */
    final ZkProxy proxy;

    final List<String> participants;

    private ObserverEnsemble(int syncLimit) {
        ensemble = ProcessEnsemble.builder()
                .size(4)
                .observers(OBSERVER)
                .syncLimit(syncLimit)
                .proxiedQuorumLink(OBSERVER)
                .start();
        link = ensemble.quorumLink(OBSERVER);
        observerDirect = ensemble.server(OBSERVER).address();
        proxy = ZkProxy.to(observerDirect);
        participants = List.of(
                ensemble.server(1).address(),
                ensemble.server(2).address(),
                ensemble.server(3).address());
    }

    /**
     * Starts the ensemble.
     *
     * @param syncLimit ticks of 200 ms an observer stays with a leader it does not hear from
     */
    static ObserverEnsemble start(int syncLimit) {
        return new ObserverEnsemble(syncLimit);
    }

    /** Takes every lag and freeze off the quorum link and the proxy. */
    void heal() {
        link.latency(Duration.ZERO);
        link.unfreeze();
        proxy.latency(Duration.ZERO);
        proxy.unfreeze();
    }

    @Override
    public void close() {
        proxy.close();
        ensemble.close();
    }
}
