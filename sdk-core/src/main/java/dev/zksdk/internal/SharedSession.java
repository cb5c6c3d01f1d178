package dev.zksdk.internal;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionState;
import dev.zksdk.ZkAuthException;
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
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
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
  /** The JAAS section of this ensemble's SASL login, or null without SASL. */
  private final String saslSection;
  /** Set once when the server refuses the credentials (or the SASL login fails): final for this session. */
  private volatile ZkAuthException authFailure;
  /** Completes when the current handle's SASL authentication succeeded; fails when it was refused. */
  private volatile CompletableFuture<Void> saslOutcome = CompletableFuture.completedFuture(null);
  /** Why connecting timed out, when the pool could find out (a failed TLS handshake); cleared on connection. */
  private volatile Throwable lastConnectFailure;
  /**
   * The handle of the last connection Curator reported, kept so that an operation need not ask Curator for it (which
   * checks the thread's retry-loop state and background errors on every call); null when disconnected or closed.
   */
  private volatile ZooKeeper liveHandle;

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
    // Curator recipes run through lease.curator() create with the ensemble's ACL too.
    builder.aclProvider(config.aclProvider());
    this.saslSection = config.sasl() == null ? null : JaasSections.acquire(config.sasl());
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

  /**
   * Completes with the live ZooKeeper handle once connected (and, with SASL, authenticated), or fails with
   * {@link TimeoutException}; fails at once with {@link ZkAuthException} after the server refused the credentials.
   */
  public CompletableFuture<ZooKeeper> awaitConnected(Duration timeout) {
    ZooKeeper live = saslSection == null ? connectedHandle() : null;
    if (live != null) {
      return CompletableFuture.completedFuture(live);
    }
    ZkAuthException failed = authFailure;
    if (failed != null) {
      return CompletableFuture.failedFuture(failed);
    }
    CompletableFuture<ZooKeeper> connected = awaitConnection(timeout);
    return saslSection == null ? connected : connected.thenCompose(zk -> awaitAuthenticated(zk, timeout));
  }

  /**
   * ZooKeeper holds requests back while SASL runs and fails them if it fails; waiting here makes a lease taken
   * during the first authentication fail with the reason instead of handing out a session that is about to.
   */
  private CompletableFuture<ZooKeeper> awaitAuthenticated(ZooKeeper zk, Duration timeout) {
    CompletableFuture<Void> outcome = saslOutcome;
    if (outcome.isDone() && !outcome.isCompletedExceptionally()) {
      return CompletableFuture.completedFuture(zk);
    }
    return outcome.copy().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).thenApply(ignored -> zk);
  }

  private CompletableFuture<ZooKeeper> awaitConnection(Duration timeout) {
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
        explainConnectTimeout();
        return false;
      }
      if (e.getCause() instanceof ZkAuthException) {
        // The session's one failure, re-thrown with this caller's stack.
        ZkAuthException failure = (ZkAuthException) e.getCause();
        throw new ZkAuthException(failure.code(), failure.path(), failure.getMessage(), failure);
      }
      if (e.getCause() instanceof RuntimeException) {
        throw (RuntimeException) e.getCause();
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * ZooKeeper's client only logs a failed TLS handshake and tries again; one handshake of the pool's own finds out
   * why, for the "no session connected" error.
   */
  private void explainConnectTimeout() {
    if (config.tls() != null && !closed) {
      Duration probeTimeout = config.connectionTimeout().compareTo(Duration.ofSeconds(5)) < 0
          ? config.connectionTimeout() : Duration.ofSeconds(5);
      Throwable why = TlsProbe.diagnose(config, probeTimeout);
      if (why != null) {
        lastConnectFailure = why;
      }
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
      if (closed || authFailure != null) {
        return; // after an authentication failure only the pool's own LOST event stands
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
          lastConnectFailure = null;
          newId = zk.getSessionId();
          negotiatedTimeout = Duration.ofMillis(zk.getSessionTimeout());
          server = serverOf(zk);
          if (newId != previousId) {
            fresh = true;
            pool.sessionOpened();
          }
          sessionId = newId;
          liveHandle = zk;
          next = curatorState == ConnectionState.READ_ONLY
              ? SessionState.READ_ONLY
              : previous == SessionState.CONNECTING ? SessionState.CONNECTED : SessionState.RECONNECTED;
          connectedSignal.complete(null);
          break;
        case SUSPENDED:
          next = SessionState.SUSPENDED;
          liveHandle = null;
          resetSignal();
          break;
        case LOST:
          next = SessionState.LOST;
          liveHandle = null;
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
      liveHandle = null;
    }
    recovery.close();
    if (saslSection != null) {
      JaasSections.release(config.sasl());
    }
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

  /**
   * The live handle when it is connected now, else null (then {@link #awaitConnected} waits for one). ZooKeeper's own
   * state of the handle decides, so a handle Curator replaced after an expiry (closed) or one that just lost its
   * connection is never returned, even before Curator's state event for it has been handled.
   */
  public ZooKeeper connectedHandle() {
    ZooKeeper zk = liveHandle;
    return zk != null && zk.getState().isConnected() && authFailure == null ? zk : null;
  }

  public boolean isConnected() {
    return started && !closed && authFailure == null && client.getZookeeperClient().isConnected();
  }

  /**
   * Why the server refused this session's credentials (or its SASL login failed), or null. Once set, every lease and
   * operation of the session fails at once with it, and the pool does not try the credentials again.
   */
  public ZkAuthException authFailure() {
    return authFailure;
  }

  /** A fresh client config for a new handle: this ensemble's TLS and SASL settings, nothing JVM-wide. */
  private ZKClientConfig newClientConfig() {
    if (saslSection != null) {
      JaasSections.ensureInstalled();
      saslOutcome = new CompletableFuture<>();
    }
    return SessionClientConfig.forEnsemble(config, saslSection);
  }

  /**
   * Called on ZooKeeper's event thread for {@code AuthFailed}: the server refused the credentials (the handle is
   * dead), or the SASL login failed on this side (ZooKeeper then goes on without an identity, so the handle is
   * closed here). The failure is final: credentials that were refused are not tried again, since repeated failed
   * logins can lock an account and the same secret cannot start working on its own.
   */
  private void onAuthFailed(AuthWatcher watcher, AuthFailure kind) {
    ZooKeeper zk = watcher.handle;
    if (kind == AuthFailure.REFUSED_OR_LOGIN_FAILED) {
      // A refusal kills the handle; after a failed login ZooKeeper goes on connecting without an identity (a
      // login fails as the handle starts, possibly before its constructor has even returned it).
      kind = zk == null || zk.getState().isAlive() ? AuthFailure.LOGIN_FAILED : AuthFailure.REFUSED;
    }
    String identities = AuthErrors.identities(config);
    ZkAuthException failure = new ZkAuthException(KeeperException.Code.AUTHFAILED, null, "authentication to "
        + config.connectString() + " failed (AUTHFAILED): " + (kind == AuthFailure.SASL_DID_NOT_START
        ? "SASL could not start on this side (" + identities + "; see the ZooKeeper client's log for why)"
        : kind == AuthFailure.REFUSED
        ? "the server refused this session's credentials (" + identities + ")"
        : "the SASL login on this side failed before connecting (" + identities + "; see the ZooKeeper client's "
            + "log for the login module's reason)")
        + ". Every lease and operation on this ensemble now fails at once; the pool does not try these credentials "
        + "again. Fix them, then lease with a config that has the new ones.", null);
    SessionEvent event = null;
    synchronized (stateLock) {
      if (closed || authFailure != null) {
        watcher.outcome.completeExceptionally(authFailure != null ? authFailure : failure);
        return;
      }
      authFailure = failure;
      SessionState previous = state;
      if (previous != SessionState.LOST) {
        state = SessionState.LOST;
        event = new SessionEvent(config.connectString(), index, previous, SessionState.LOST, sessionId, sessionId,
            null, null, Instant.now());
      }
    }
    log.error("{}: {}", label, failure.getMessage());
    if (event != null) {
      pool.publish(event); // listeners hear of it before any caller gets the exception
    }
    watcher.outcome.completeExceptionally(failure);
    connectedSignal.completeExceptionally(failure);
    watcher.failed = true;
    stopAfterAuthFailure(zk);
  }

  /**
   * Nothing of this session may try again: not the handle (after a failed login ZooKeeper would go on without an
   * identity; after a refusal it sees too late, it reconnects), not Curator (it would replace an expired handle).
   */
  private void stopAfterAuthFailure(ZooKeeper zk) {
    if (zk != null && zk.getState().isAlive()) {
      // Dead at once, as Curator itself ends handles: a reconnect the handle already scheduled is refused.
      zk.getTestable().injectSessionExpiration();
    }
    // Closing Curator waits for ZooKeeper's event thread, which may be this one; any other thread will do.
    Thread closer = new Thread(client::close, label + "-auth-failed-close");
    closer.setDaemon(true);
    closer.start();
  }

  /** What an authentication failure event means. */
  private enum AuthFailure {
    REFUSED,
    LOGIN_FAILED,
    /** ZooKeeper's AuthFailed event: which of the two it is shows in the handle's state. */
    REFUSED_OR_LOGIN_FAILED,
    SASL_DID_NOT_START
  }

  /** Watches a handle's authentication events, then passes every event on to Curator. */
  private final class AuthWatcher implements Watcher {
    private final Watcher curator;
    private final CompletableFuture<Void> outcome;
    private volatile ZooKeeper handle;
    private volatile boolean failed;
    /** The SASL client of the current connection, to read its verdict if the connection drops. */
    private volatile org.apache.zookeeper.client.ZooKeeperSaslClient connectionSasl;

    AuthWatcher(Watcher curator, CompletableFuture<Void> outcome) {
      this.curator = curator;
      this.outcome = outcome;
    }

    /** The handle is known only once its constructor returned, and a failed login can be reported before that. */
    void attach(ZooKeeper zk) {
      handle = zk;
      if (failed) {
        stopAfterAuthFailure(zk);
      }
    }

    @Override
    public void process(org.apache.zookeeper.WatchedEvent event) {
      if (event.getType() == Watcher.Event.EventType.None) {
        if (event.getState() == Watcher.Event.KeeperState.SaslAuthenticated) {
          outcome.complete(null);
        } else if (event.getState() == Watcher.Event.KeeperState.AuthFailed) {
          onAuthFailed(this, AuthFailure.REFUSED_OR_LOGIN_FAILED);
        } else if (event.getState() == Watcher.Event.KeeperState.SyncConnected
            || event.getState() == Watcher.Event.KeeperState.ConnectedReadOnly) {
          ZooKeeper zk = handle;
          connectionSasl = saslSection == null || zk == null ? null : zk.getSaslClient();
        } else if (event.getState() == Watcher.Event.KeeperState.Disconnected) {
          // On the Netty socket the server's close can overtake ZooKeeper's own check of the SASL verdict: it then
          // reports a plain disconnect and would try again. The connection's SASL client still knows.
          org.apache.zookeeper.client.ZooKeeperSaslClient sasl = connectionSasl;
          connectionSasl = null;
          if (sasl != null && sasl.isFailed()) {
            onAuthFailed(this, AuthFailure.REFUSED);
          }
        } else if (event.getState() == null) {
          // ZooKeeper reports a SASL client that could not even start (say, a mechanism refused on this side) as an
          // event without a state; Curator would fail on it. It is an authentication failure: say so, to both.
          onAuthFailed(this, AuthFailure.SASL_DID_NOT_START);
          curator.process(new org.apache.zookeeper.WatchedEvent(Watcher.Event.EventType.None,
              Watcher.Event.KeeperState.AuthFailed, null));
          return;
        }
      }
      curator.process(event);
    }
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
    Throwable handleFailure = lastHandleFailure;
    return handleFailure != null ? handleFailure : lastConnectFailure;
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
        ZkAuthException refused = session.authFailure;
        if (refused != null) {
          throw refused; // Curator replacing a handle after an authentication failure: nothing may try again
        }
        // The session's own config, never Curator's or a JVM-wide one: see SessionClientConfig.
        ZKClientConfig ownConfig = session.newClientConfig();
        AuthWatcher authWatcher = session.new AuthWatcher(watcher, session.saslOutcome);
        ZooKeeper zk = delegate.newZooKeeper(connectString, sessionTimeout, authWatcher, canBeReadOnly, ownConfig);
        authWatcher.attach(zk);
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
