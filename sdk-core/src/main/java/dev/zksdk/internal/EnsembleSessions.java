package dev.zksdk.internal;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.OperationPolicy;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/** The sessions of one ensemble and the operation pipeline (breaker, bulkhead, retry) they share. */
final class EnsembleSessions {

  private final EnsembleConfig config;
  private final SharedSession[] sessions;
  private final OperationRunner runner;
  private final AtomicInteger next = new AtomicInteger();

  EnsembleSessions(RealSessionPool pool, EnsembleConfig config, int number, OperationPolicy policy,
      ScheduledExecutorService scheduler) {
    this.config = config;
    this.sessions = new SharedSession[config.sessionsPerEnsemble()];
    for (int i = 0; i < sessions.length; i++) {
      sessions[i] = new SharedSession(pool, config, number, i);
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
