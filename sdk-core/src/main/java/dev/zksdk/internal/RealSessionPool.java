package dev.zksdk.internal;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.OperationPolicy;
import dev.zksdk.PoolStats;
import dev.zksdk.RecoveryEvent;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionListener;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkUnavailableException;
import dev.zksdk.hosts.HostsConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The engine behind {@link dev.zksdk.ZkSessionPool}. */
public final class RealSessionPool {

  private static final Logger log = LoggerFactory.getLogger(RealSessionPool.class);

  private final String name;
  private final EnsembleConfig defaultEnsemble;
  private final OperationPolicy policy;
  private final HostsConfig hosts;
  private final boolean followEnsembleChanges;
  private final List<SessionListener> listeners = new CopyOnWriteArrayList<>();
  private final Map<EnsembleConfig, EnsembleSessions> ensembles = new ConcurrentHashMap<>();
  private final AtomicInteger ensembleNumbers = new AtomicInteger();
  private final AtomicInteger activeLeases = new AtomicInteger();
  private final AtomicLong sessionsOpened = new AtomicLong();
  private final ScheduledExecutorService scheduler;
  private final int maxDataBytes;
  private volatile boolean closed;

  public RealSessionPool(String name, EnsembleConfig defaultEnsemble, OperationPolicy policy, HostsConfig hosts,
      boolean followEnsembleChanges, List<SessionListener> listeners) {
    this.name = name;
    this.followEnsembleChanges = followEnsembleChanges;
    this.hosts = hosts;
    this.defaultEnsemble = defaultEnsemble;
    this.policy = policy;
    this.listeners.addAll(listeners);
    AtomicInteger threads = new AtomicInteger();
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, name + "-scheduler-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    executor.setRemoveOnCancelPolicy(true);
    this.scheduler = Executors.unconfigurableScheduledExecutorService(executor);
    this.maxDataBytes = new org.apache.zookeeper.client.ZKClientConfig()
        .getInt("jute.maxbuffer", org.apache.zookeeper.client.ZKClientConfig.CLIENT_MAX_PACKET_LENGTH_DEFAULT);
  }

  public String name() {
    return name;
  }

  boolean followEnsembleChanges() {
    return followEnsembleChanges;
  }

  public HostsConfig hosts() {
    return hosts;
  }

  public EnsembleConfig defaultEnsemble() {
    return defaultEnsemble;
  }

  public ZkLease lease(EnsembleConfig config) {
    EnsembleSessions ensemble = ensemble(config);
    SharedSession session = ensemble.pick();
    if (!session.isConnected()) {
      if (ensemble.runner().circuitBreaker().getState() == CircuitBreaker.State.OPEN) {
        throw new ZkUnavailableException(null, "no connected session to " + config.connectString()
            + " and its circuit breaker is open; failing fast", null);
      }
      boolean connected;
      try {
        connected = session.blockUntilConnected(config.connectionTimeout());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ZkUnavailableException(null, "interrupted while waiting for a session to "
            + config.connectString(), e);
      }
      if (!connected) {
        Throwable why = session.lastHandleFailure();
        throw new ZkUnavailableException(null, "no session to " + config.connectString() + " connected within "
            + "the connection timeout of " + config.connectionTimeout().toMillis() + " ms"
            + (why == null ? "" : ": " + why.getMessage()), why);
      }
    }
    checkOpen();
    activeLeases.incrementAndGet();
    return new RealLease(this, session, ensemble.runner(), maxDataBytes);
  }

  private EnsembleSessions ensemble(EnsembleConfig config) {
    checkOpen();
    EnsembleSessions ensemble = ensembles.computeIfAbsent(config,
        c -> new EnsembleSessions(this, c, ensembleNumbers.getAndIncrement(), policy, hosts, scheduler));
    if (closed) {
      // close() raced with this lease: make sure what computeIfAbsent just made does not outlive the pool.
      ensemble.close();
      checkOpen();
    }
    return ensemble;
  }

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the pool '" + name + "' is closed");
    }
  }

  boolean isClosed() {
    return closed;
  }

  void leaseClosed() {
    activeLeases.decrementAndGet();
  }

  void sessionOpened() {
    sessionsOpened.incrementAndGet();
  }

  public ScheduledExecutorService scheduler() {
    return scheduler;
  }

  public PoolStats stats() {
    int open = 0;
    Map<String, Integer> perServer = new HashMap<>();
    for (EnsembleSessions e : ensembles.values()) {
      for (SharedSession s : e.sessions()) {
        if (s.isStarted() && !s.isClosed()) {
          open++;
        }
        String server = s.connectedServer();
        if (server != null) {
          perServer.merge(server, 1, Integer::sum);
        }
      }
    }
    return new PoolStats(open, activeLeases.get(), sessionsOpened.get(), perServer);
  }

  /** The sessions of every ensemble, for diagnostics and metrics. */
  public List<SharedSession> sessions() {
    List<SharedSession> all = new ArrayList<>();
    for (EnsembleSessions e : ensembles.values()) {
      all.addAll(List.of(e.sessions()));
    }
    return all;
  }

  /** The operation pipeline of an ensemble, or null when it has never been leased. */
  public OperationRunner runner(EnsembleConfig config) {
    EnsembleSessions e = ensembles.get(config);
    return e == null ? null : e.runner();
  }

  public Duration negotiatedSessionTimeout(EnsembleConfig config) {
    EnsembleSessions e = ensembles.get(config);
    return e == null ? null : e.sessions()[0].negotiatedTimeout();
  }

  public void addListener(SessionListener listener) {
    listeners.add(listener);
  }

  public void removeListener(SessionListener listener) {
    listeners.remove(listener);
  }

  void publish(SessionEvent event) {
    each(l -> l.onStateChange(event));
  }

  void publishClamp(String ensemble, Duration requested, Duration negotiated) {
    each(l -> l.onTimeoutClamped(ensemble, requested, negotiated));
  }

  public void publishRecovered(RecoveryEvent event) {
    each(l -> l.onRecovered(event));
  }

  public void publishConflict(String path, long owner) {
    each(l -> l.onEphemeralConflict(path, owner));
  }

  private void each(Consumer<SessionListener> call) {
    for (SessionListener l : listeners) {
      try {
        call.accept(l);
      } catch (RuntimeException e) {
        log.warn("{}: a session listener threw; it is kept and later events are still delivered", name, e);
      }
    }
  }

  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    for (EnsembleSessions e : ensembles.values()) {
      e.close();
    }
    scheduler.shutdownNow();
    try {
      scheduler.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "name=" + name + ", defaultEnsemble=" + defaultEnsemble + ", ensembles=" + ensembles.size()
        + (closed ? ", closed" : "");
  }
}
