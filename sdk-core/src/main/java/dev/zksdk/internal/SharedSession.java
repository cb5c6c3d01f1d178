package dev.zksdk.internal;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionState;
import dev.zksdk.hosts.BudgetedZooKeeper;
import dev.zksdk.hosts.WeightedHostProvider;
import dev.zksdk.recovery.SessionRecovery;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.curator.utils.ZookeeperFactory;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived pooled session: a Curator client whose ZooKeeper handle is replaced by Curator after expiry. Tracks
 * the session id across those replacements, turns Curator's bare state changes into {@link SessionEvent}s that carry
 * the previous state and ids, and starts the ordered recovery on every new session.
 */
public final class SharedSession {

  private static final Logger log = LoggerFactory.getLogger(SharedSession.class);

  private final RealSessionPool pool;
  private final EnsembleConfig config;
  private final String label;
  private final int index;
  private final CuratorFramework client;
  private final CuratorFramework guarded;
  private final ExecutorService eventExecutor;
  private final SessionRecovery recovery;
  private final EnsembleFollower follower;
  private final Object stateLock = new Object();

  private volatile SessionState state = SessionState.CONNECTING;
  private volatile long sessionId;
  private volatile Duration negotiatedTimeout;
  private volatile String server;
  private volatile CompletableFuture<Void> connectedSignal = new CompletableFuture<>();
  private volatile boolean started;
  private volatile Throwable lastHandleFailure;
  private volatile boolean closed;
  private long clampReportedFor;

  SharedSession(RealSessionPool pool, EnsembleConfig config, int ensembleNumber, int index,
      ZookeeperFactory handles) {
    this.pool = pool;
    this.config = config;
    this.index = index;
    this.label = pool.name() + "-e" + ensembleNumber + "-s" + index;
    AtomicInteger threads = new AtomicInteger();
    CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
        .connectString(config.connectString())
        .sessionTimeoutMs((int) config.sessionTimeout().toMillis())
        .connectionTimeoutMs((int) config.connectionTimeout().toMillis())
        // Only Curator recipes use Curator's own retry loop; the SDK's operations retry through resilience4j.
        .retryPolicy(new BoundedExponentialBackoffRetry(50, 1000, 10))
        .zookeeperFactory(new NamedZookeeperFactory(label, handles, this))
        .threadFactory(r -> {
          Thread t = new Thread(r, label + "-curator-" + threads.incrementAndGet());
          t.setDaemon(true);
          return t;
        })
        .ensembleTracker(false) // EnsembleFollower does it, on the live handle too
        .waitForShutdownTimeoutMs(5_000);
    for (EnsembleConfig.Auth auth : config.authorizations()) {
      builder.authorization(auth.scheme(), auth.secret());
    }
    this.client = builder.build();
    this.guarded = GuardedCurator.wrap(client);
    this.eventExecutor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, label + "-events");
      t.setDaemon(true);
      return t;
    });
    this.recovery = new SessionRecovery(this);
    this.follower = pool.followEnsembleChanges() ? new EnsembleFollower(this) : null;
    client.getConnectionStateListenable().addListener((c, newState) -> onCuratorState(newState));
  }

  /** Starts connecting; idempotent. */
  void start() {
    synchronized (stateLock) {
      if (started || closed) {
        return;
      }
      started = true;
    }
    client.start();
  }

  /** Completes with the live ZooKeeper handle once connected, or fails with {@link TimeoutException}. */
  public CompletableFuture<ZooKeeper> awaitConnected(Duration timeout) {
    if (closed) {
      return CompletableFuture.failedFuture(new IllegalStateException("the pool is closed"));
    }
    if (client.getZookeeperClient().isConnected()) {
      return CompletableFuture.completedFuture(currentHandle());
    }
    CompletableFuture<Void> signal = connectedSignal;
    if (client.getZookeeperClient().isConnected()) {
      return CompletableFuture.completedFuture(currentHandle());
    }
    return signal.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .thenApply(ignored -> currentHandle());
  }

  /** Blocks until connected, up to {@code timeout}; true when connected. */
  boolean blockUntilConnected(Duration timeout) throws InterruptedException {
    try {
      awaitConnected(timeout).get();
      return true;
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof TimeoutException) {
        return false;
      }
      if (e.getCause() instanceof RuntimeException) {
        throw (RuntimeException) e.getCause();
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /** The current ZooKeeper handle (it changes after expiry). */
  public ZooKeeper currentHandle() {
    try {
      return client.getZookeeperClient().getZooKeeper();
    } catch (Exception e) {
      throw new IllegalStateException("no ZooKeeper handle for " + label, e);
    }
  }

  private void onCuratorState(ConnectionState curatorState) {
    SessionEvent event;
    long previousId;
    long newId;
    boolean fresh = false;
    synchronized (stateLock) {
      if (closed) {
        return;
      }
      SessionState previous = state;
      previousId = sessionId;
      newId = previousId;
      SessionState next;
      switch (curatorState) {
        case CONNECTED:
        case RECONNECTED:
        case READ_ONLY:
          ZooKeeper zk = currentHandle();
          newId = zk.getSessionId();
          negotiatedTimeout = Duration.ofMillis(zk.getSessionTimeout());
          server = serverOf(zk);
          if (newId != previousId) {
            fresh = true;
            pool.sessionOpened();
          }
          sessionId = newId;
          next = curatorState == ConnectionState.READ_ONLY
              ? SessionState.READ_ONLY
              : previous == SessionState.CONNECTING ? SessionState.CONNECTED : SessionState.RECONNECTED;
          connectedSignal.complete(null);
          break;
        case SUSPENDED:
          next = SessionState.SUSPENDED;
          resetSignal();
          break;
        case LOST:
          next = SessionState.LOST;
          resetSignal();
          break;
        default:
          return;
      }
      state = next;
      event = new SessionEvent(config.connectString(), index, previous, next, previousId, newId,
          next == SessionState.SUSPENDED || next == SessionState.LOST ? null : negotiatedTimeout,
          next == SessionState.SUSPENDED || next == SessionState.LOST ? null : server, Instant.now());
      if (fresh) {
        reportClampOnce(newId);
      }
    }
    if (event.state() == SessionState.LOST || event.state() == SessionState.SUSPENDED) {
      log.info("{}: {} (session 0x{})", label, event.state(), Long.toHexString(previousId));
    } else {
      log.info("{}: {} session 0x{} on {} (negotiated timeout {} ms){}", label, event.state(),
          Long.toHexString(newId), event.server(), negotiatedTimeout.toMillis(),
          fresh && previousId != 0 ? ", replacing expired session 0x" + Long.toHexString(previousId) : "");
    }
    pool.publish(event);
    if (follower != null && event.server() != null) {
      follower.follow(currentHandle());
    }
    if (event.state() == SessionState.CONNECTED || event.state() == SessionState.RECONNECTED
        || event.state() == SessionState.READ_ONLY) {
      recovery.onConnected(previousId, newId, System.nanoTime());
    } else if (event.state() == SessionState.SUSPENDED) {
      recovery.onSuspended();
    }
  }

  private void resetSignal() {
    if (connectedSignal.isDone()) {
      connectedSignal = new CompletableFuture<>();
    }
  }

  private void reportClampOnce(long id) {
    Duration requested = config.sessionTimeout();
    if (negotiatedTimeout != null && !negotiatedTimeout.equals(requested) && clampReportedFor != id) {
      clampReportedFor = id;
      log.warn("{}: the server clamped the session timeout: requested {} ms, negotiated {} ms "
              + "(the server's minSessionTimeout/maxSessionTimeout bound it; sessions now expire after {} ms "
              + "without a connection)", label, requested.toMillis(), negotiatedTimeout.toMillis(),
          negotiatedTimeout.toMillis());
      pool.publishClamp(config.connectString(), requested, negotiatedTimeout);
    }
  }

  void close() {
    synchronized (stateLock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    recovery.close();
    SessionState previous = state;
    long id = sessionId;
    state = SessionState.CLOSED;
    if (started) {
      client.close();
    }
    connectedSignal.completeExceptionally(new IllegalStateException("the pool is closed"));
    eventExecutor.shutdown();
    try {
      eventExecutor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    pool.publish(new SessionEvent(config.connectString(), index, previous, SessionState.CLOSED, id, 0, null, null,
        Instant.now()));
  }

  public boolean isConnected() {
    return started && !closed && client.getZookeeperClient().isConnected();
  }

  public boolean isStarted() {
    return started;
  }

  public boolean isClosed() {
    return closed;
  }

  public SessionState state() {
    return state;
  }

  /** The id of the current (or last) session; 0 before the first connection. */
  public long sessionId() {
    return sessionId;
  }

  public Duration negotiatedTimeout() {
    return negotiatedTimeout;
  }

  /** The server of the live connection ({@code host:port} as in the connect string), or null while disconnected. */
  public String connectedServer() {
    if (!isConnected()) {
      return null;
    }
    try {
      return serverOf(client.getZookeeperClient().getZooKeeper());
    } catch (Exception e) {
      return null;
    }
  }

  private static String serverOf(ZooKeeper zk) {
    if (zk instanceof BudgetedZooKeeper) {
      WeightedHostProvider provider = ((BudgetedZooKeeper) zk).weightedHostProvider();
      return provider.isConnected() ? provider.currentServer() : null;
    }
    return null;
  }

  /**
   * Why the last attempt to create a ZooKeeper handle failed (connection budget exhausted, session creation rate
   * limited), or null. Reported with "no connected session" errors, which would otherwise hide the reason.
   */
  public Throwable lastHandleFailure() {
    return lastHandleFailure;
  }

  public CuratorFramework client() {
    return client;
  }

  public CuratorFramework guardedClient() {
    return guarded;
  }

  public EnsembleConfig config() {
    return config;
  }

  public String label() {
    return label;
  }

  public int index() {
    return index;
  }

  public RealSessionPool pool() {
    return pool;
  }

  public SessionRecovery recovery() {
    return recovery;
  }

  /** The single thread on which this session's listeners (watch events, RESYNC) are called, in order. */
  public ExecutorService eventExecutor() {
    return eventExecutor;
  }

  @Override
  public String toString() {
    return label + "{" + state + ", session 0x" + Long.toHexString(sessionId) + ", server " + server + "}";
  }

  /**
   * Creates handles through the host-selection factory, on a thread named after the session so that ZooKeeper's
   * SendThread and EventThread (named after their creator) say which pool and session they belong to, and
   * remembers why a handle could not be made.
   */
  private static final class NamedZookeeperFactory implements ZookeeperFactory {
    private final String label;
    private final ZookeeperFactory delegate;
    private final SharedSession session;

    NamedZookeeperFactory(String label, ZookeeperFactory delegate, SharedSession session) {
      this.label = label;
      this.delegate = delegate;
      this.session = session;
    }

    @Override
    public ZooKeeper newZooKeeper(String connectString, int sessionTimeout, org.apache.zookeeper.Watcher watcher,
        boolean canBeReadOnly) throws Exception {
      return newZooKeeper(connectString, sessionTimeout, watcher, canBeReadOnly, new ZKClientConfig());
    }

    @Override
    public ZooKeeper newZooKeeper(String connectString, int sessionTimeout, org.apache.zookeeper.Watcher watcher,
        boolean canBeReadOnly, ZKClientConfig clientConfig) throws Exception {
      Thread current = Thread.currentThread();
      String original = current.getName();
      current.setName(label);
      try {
        ZooKeeper zk = delegate.newZooKeeper(connectString, sessionTimeout, watcher, canBeReadOnly,
            clientConfig == null ? new ZKClientConfig() : clientConfig);
        session.lastHandleFailure = null;
        return zk;
      } catch (Exception | Error e) {
        session.lastHandleFailure = e;
        log.warn("{}: could not create a ZooKeeper handle: {}", label, e.getMessage());
        throw e;
      } finally {
        current.setName(original);
      }
    }
  }
}
