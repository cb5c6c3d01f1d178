package dev.zksdk.spring;

import dev.zksdk.ZkSessionPool;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;

/**
 * The first step of a graceful shutdown: when the application context stops, every {@link ZkSessionPool} of the
 * context deletes the ephemerals it owns ({@link ZkSessionPool#closeEphemerals()}), so a registered service disappears
 * from ZooKeeper at once, before the web server drains its last requests and long before a session timeout. The pools
 * close (and their sessions end) afterwards, when the context destroys them.
 *
 * <p>It runs in the last-started, first-stopped phase ({@link SmartLifecycle#DEFAULT_PHASE}), ahead of Spring Boot's
 * web-server graceful shutdown. A context that is stopped and started again does not re-register: the closed
 * {@link dev.zksdk.EphemeralNode}s stay closed.
 */
public class EphemeralDeregistration implements SmartLifecycle {

    private final ObjectProvider<ZkSessionPool> pools;
    private volatile boolean running;

    /**
     * Deregisters the ephemerals of every pool the provider yields when the context stops.
     *
     * @param pools the context's pools, looked up when the context stops
     */
    public EphemeralDeregistration(ObjectProvider<ZkSessionPool> pools) {
        this.pools = pools;
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        try {
            pools.orderedStream().forEach(ZkSessionPool::closeEphemerals);
        } finally {
            running = false;
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return DEFAULT_PHASE;
    }
}
