package dev.zksdk.internal;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.OperationPolicy;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.hosts.HostsZookeeperFactory;
import dev.zksdk.hosts.SessionSpread;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/** The sessions of one ensemble and the operation pipeline (breaker, bulkhead, retry) they share. */
final class EnsembleSessions implements dev.zksdk.metrics.EnsembleView {

  private final EnsembleConfig config;
  private final SharedSession[] sessions;
  private final OperationRunner runner;
  private final AtomicInteger next = new AtomicInteger();
  private final SessionSpread spread;
  private final EnsembleServers servers;

  EnsembleSessions(RealSessionPool pool, EnsembleConfig config, int number, OperationPolicy policy,
      HostsConfig hosts, ScheduledExecutorService scheduler) {
    this.config = config;
    // One spread per ensemble: its sessions prefer distinct servers; the connection budget and the session
    // creation limiter behind the factory are process-wide, because the server counts connections per client IP.
    this.spread = new SessionSpread(hosts);
    // Handles are made with the ensemble's current server list, which may have changed since the config was made.
    this.servers = pool.ensembleServers(config);
    org.apache.curator.utils.ZookeeperFactory handles = servers.factory(HostsZookeeperFactory.forPool(spread));
    this.sessions = new SharedSession[config.sessionsPerEnsemble()];
    dev.zksdk.recovery.EphemeralRegistry ephemerals = new dev.zksdk.recovery.EphemeralRegistry();
    for (int i = 0; i < sessions.length; i++) {
      sessions[i] = new SharedSession(pool, config, number, i, handles, ephemerals);
    }
    this.runner = new OperationRunner(pool.name() + "-e" + number,
        java.util.Map.of(dev.zksdk.metrics.MetricNames.TAG_POOL, pool.name(),
            dev.zksdk.metrics.MetricNames.TAG_ENSEMBLE, name()),
        config, policy, scheduler);
    for (SharedSession s : sessions) {
      s.runner(runner);
    }
    runner.ensembleConnected(() -> {
      for (SharedSession s : sessions) {
        if (s.isConnected()) {
          return true;
        }
      }
      return false;
    });
  }

  @Override
  public String name() {
    return dev.zksdk.metrics.MetricNames.ensembleTag(config.connectString());
  }

  @Override
  public String connectString() {
    return config.connectString();
  }

  @Override
  public java.util.List<String> servers() {
    return servers.current().servers();
  }

  @Override
  public java.time.Duration requestedSessionTimeout() {
    return config.sessionTimeout();
  }

  @Override
  public dev.zksdk.metrics.EnsembleStatus status() {
    java.util.List<dev.zksdk.metrics.SessionStatus> list = new java.util.ArrayList<>(sessions.length);
    int ephemerals = 0;
    int missing = 0;
    for (SharedSession s : sessions) {
      list.add(new dev.zksdk.metrics.SessionStatus(s.index(), s.state(), s.isStarted() && !s.isClosed(),
          s.isConnected(), s.sessionId(), s.negotiatedTimeout(), s.connectedServer()));
      ephemerals += s.recovery().ephemerals().size();
      missing += s.recovery().ephemerals().missing();
    }
    return new dev.zksdk.metrics.EnsembleStatus(name(), config.connectString(), config.sessionTimeout(), list,
        runner.circuitBreaker().getState().name(), ephemerals, missing);
  }

  @Override
  public io.github.resilience4j.circuitbreaker.CircuitBreaker circuitBreaker() {
    return runner.circuitBreaker();
  }

  @Override
  public io.github.resilience4j.bulkhead.Bulkhead bulkhead() {
    return runner.bulkhead();
  }

  @Override
  public io.github.resilience4j.retry.Retry retry() {
    return runner.retry();
  }

  /**
   * The session for a new lease: the one with the fewest leases (ties taken in turn, so leases spread evenly) among
   * those connected or still making their first connection, so a session that lost its connection costs new leases
   * nothing while another is usable; round robin when none is. Starts every session on first use.
   */
  SharedSession pick() {
    for (SharedSession s : sessions) {
      s.start();
    }
    int offset = Math.floorMod(next.getAndIncrement(), sessions.length);
    SharedSession best = null;
    int bestLeases = Integer.MAX_VALUE;
    for (int i = 0; i < sessions.length; i++) {
      SharedSession s = sessions[(offset + i) % sessions.length];
      boolean usable = s.isConnected() || (s.state() == dev.zksdk.SessionState.CONNECTING && !s.isKnownUnreachable());
      if (usable && s.leases() < bestLeases) {
        best = s;
        bestLeases = s.leases();
      }
    }
    return best != null ? best : sessions[offset];
  }

  SharedSession[] sessions() {
    return sessions;
  }

  SessionSpread spread() {
    return spread;
  }

  OperationRunner runner() {
    return runner;
  }

  EnsembleConfig config() {
    return config;
  }

  void close() {
    for (SharedSession s : sessions) {
      s.close();
    }
  }
}
