package dev.zksdk.spring;

import dev.zksdk.SessionEvent;
import dev.zksdk.SessionListener;
import dev.zksdk.SessionState;
import dev.zksdk.ZkAuthException;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.SessionStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

/**
 * {@code zksdk.connect-on-startup}: once every singleton of the context exists (before the web server starts), connects
 * every {@link ZkSessionPool} of the context to its default ensemble, and fails start-up with a
 * {@link ZkSessionPoolStartupException} when one has no connected session within {@code zksdk.initialization-timeout}
 * (measured over all pools) or the servers refuse its credentials. The exception names the pool, the servers, the
 * sessions' states and the last error seen.
 *
 * <p>A session that connects late is still waited for: when the first lease gives up after the connection timeout,
 * the pool keeps connecting, and the first session to connect before the deadline ends the wait.
 */
public class ZkSessionPoolStartupConnector implements SmartInitializingSingleton {

    private static final Log log = LogFactory.getLog(ZkSessionPoolStartupConnector.class);

    private final ListableBeanFactory beanFactory;
    private final Duration timeout;

    /**
     * @param beanFactory where the pools are found
     * @param timeout {@code zksdk.initialization-timeout}: how long start-up waits for every pool to connect
     * @throws org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException when the
     *     timeout is not positive
     */
    public ZkSessionPoolStartupConnector(ListableBeanFactory beanFactory, Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new InvalidConfigurationPropertyValueException(
                    "zksdk.initialization-timeout", timeout, "must be positive");
        }
        this.beanFactory = beanFactory;
        this.timeout = timeout;
    }

    /**
     * Connects every pool of the context, one after the other, within one initialization timeout.
     *
     * @throws ZkSessionPoolStartupException naming the pool, its servers and what happened, when one does not connect
     */
    @Override
    public void afterSingletonsInstantiated() {
        // Durations beyond what nanoTime can add (about 292 years) mean "no limit" in practice.
        long deadline = System.nanoTime()
                + Math.min(timeout.toSeconds(), Long.MAX_VALUE / 4 / 1_000_000_000L) * 1_000_000_000L
                + timeout.toNanosPart();
        for (Map.Entry<String, ZkSessionPool> pool :
                beanFactory.getBeansOfType(ZkSessionPool.class).entrySet()) {
            connect(pool.getKey(), pool.getValue(), deadline);
        }
    }

    private void connect(String beanName, ZkSessionPool pool, long deadline) {
        long started = System.nanoTime();
        List<String> servers = pool.defaultEnsemble().servers();
        CompletableFuture<Void> connected = new CompletableFuture<>();
        AtomicReference<RuntimeException> lastFailure = new AtomicReference<>();
        SessionListener listener = new SessionListener() {
            @Override
            public void onStateChange(SessionEvent event) {
                if (event.state() == SessionState.CONNECTED || event.state() == SessionState.RECONNECTED) {
                    connected.complete(null);
                }
            }
        };
        pool.addListener(listener);
        // The first lease starts the sessions and waits up to the connection timeout, which may be longer than what is
        // left of the initialization timeout: it runs on its own thread, and this one waits for whichever comes first.
        Thread leaser = new Thread(
                () -> {
                    try (ZkLease lease = pool.lease()) {
                        connected.complete(null);
                    } catch (ZkAuthException e) {
                        connected.completeExceptionally(e);
                    } catch (RuntimeException e) {
                        lastFailure.set(e);
                        if (isConnected(pool)) {
                            connected.complete(null);
                        }
                    }
                },
                "zksdk-connect-on-startup-" + beanName);
        leaser.setDaemon(true);
        leaser.start();
        try {
            connected.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            log.info("ZooKeeper session pool '" + beanName + "' connected to " + servers + " in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms (zksdk.connect-on-startup)");
        } catch (TimeoutException e) {
            throw new ZkSessionPoolStartupException(
                    beanName,
                    servers,
                    timeout,
                    "no session of ZooKeeper session pool '" + beanName + "' to " + servers + " connected within "
                            + "zksdk.initialization-timeout (" + timeout + "); " + sessions(pool) + "; "
                            + (lastFailure.get() == null
                                    ? "the first connection attempt had not given up yet"
                                    : "last error: " + lastFailure.get().getMessage()),
                    lastFailure.get());
        } catch (ExecutionException e) {
            throw new ZkSessionPoolStartupException(
                    beanName,
                    servers,
                    timeout,
                    "ZooKeeper session pool '" + beanName + "' could not start a session with " + servers + ": "
                            + e.getCause().getMessage(),
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ZkSessionPoolStartupException(
                    beanName, servers, timeout, "interrupted while connecting to " + servers, e);
        } finally {
            pool.removeListener(listener);
        }
    }

    private static boolean isConnected(ZkSessionPool pool) {
        for (EnsembleStatus ensemble : pool.ensembles()) {
            if (ensemble.isConnected()) {
                return true;
            }
        }
        return false;
    }

    private static String sessions(ZkSessionPool pool) {
        List<String> states = new ArrayList<>();
        for (EnsembleStatus ensemble : pool.ensembles()) {
            for (SessionStatus s : ensemble.sessions()) {
                states.add("session " + s.index() + ": " + s.state());
            }
        }
        return states.isEmpty() ? "no session started" : "sessions " + String.join(", ", states);
    }
}
