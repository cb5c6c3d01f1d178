package dev.zksdk.internal;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.OperationPolicy;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.hosts.HostsZookeeperFactory;
import dev.zksdk.hosts.SessionSpread;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/** The sessions of one ensemble and the operation pipeline (breaker, bulkhead, retry) they share. */
final class EnsembleSessions {

  private final EnsembleConfig config;
  private final SharedSession[] sessions;
  private final OperationRunner runner;
  private final AtomicInteger next = new AtomicInteger();
  private final SessionSpread spread;

  EnsembleSessions(RealSessionPool pool, EnsembleConfig config, int number, OperationPolicy policy,
      HostsConfig hosts, ScheduledExecutorService scheduler) {
    this.config = config;
    // One spread per ensemble: its sessions prefer distinct servers; the connection budget and the session
    // creation limiter behind the factory are process-wide, because the server counts connections per client IP.
    this.spread = new SessionSpread(hosts);
    HostsZookeeperFactory handles = HostsZookeeperFactory.forPool(spread);
    this.sessions = new SharedSession[config.sessionsPerEnsemble()];
    for (int i = 0; i < sessions.length; i++) {
      sessions[i] = new SharedSession(pool, config, number, i, handles);
    }
    this.runner = new OperationRunner(pool.name() + "-e" + number, config, policy, scheduler);
  }

  /** The session for a new lease: round robin, so leases spread evenly. Starts every session on first use. */
  SharedSession pick() {
    for (SharedSession s : sessions) {
      s.start();
    }
    return sessions[Math.floorMod(next.getAndIncrement(), sessions.length)];
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
