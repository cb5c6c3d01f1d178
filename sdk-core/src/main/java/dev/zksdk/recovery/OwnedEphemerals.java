package dev.zksdk.recovery;

import dev.zksdk.EphemeralNode;
import dev.zksdk.ZkException;
import dev.zksdk.ZkNodeExistsException;
import dev.zksdk.ZkUnavailableException;
import dev.zksdk.internal.Calls;
import dev.zksdk.internal.OperationRunner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.curator.framework.imps.ProtectedUtils;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ephemerals a pooled session owns. Each is confirmed per session id: "exists on the server, owned by session
 * X". A recovery pass brings every one to "owned by the live session", sending all creates at once.
 *
 * <p>Conflict policy: a node at an owned path whose owner is neither the live session nor one of this pooled
 * session's dead ones (another client's live session, or a persistent node) is never deleted or adopted. The pool
 * reports it to {@link dev.zksdk.SessionListener#onEphemeralConflict} and tries again every
 * {@link #conflictRetryDelay()} until the node goes away (the other session expires or deletes it) or the
 * {@link EphemeralNode} is closed.
 */
public final class OwnedEphemerals {

  private static final Logger log = LoggerFactory.getLogger(OwnedEphemerals.class);
  static final Duration CONFLICT_RETRY = Duration.ofSeconds(1);

  private final SessionRecovery recovery;
  private final Set<Owned> owned = ConcurrentHashMap.newKeySet();

  OwnedEphemerals(SessionRecovery recovery) {
    this.recovery = recovery;
  }

  Duration conflictRetryDelay() {
    return CONFLICT_RETRY;
  }

  int confirmedIn(long sid) {
    int n = 0;
    for (Owned o : owned) {
      if (o.confirmedSession == sid) {
        n++;
      }
    }
    return n;
  }

  /** Number of ephemerals registered now. */
  public int size() {
    return owned.size();
  }

  /**
   * Registers an ephemeral and waits, up to the operation timeout, until it exists on the server. A node at the path
   * owned by someone else fails at once with {@link ZkNodeExistsException}; nothing is adopted.
   */
  public EphemeralNode create(String path, byte[] data, CreateMode mode, OperationRunner runner) {
    Owned node = new Owned(path, data.clone(), mode);
    owned.add(node);
    recovery.schedule();
    Duration wait = recovery.session().config().connectionTimeout().plus(recovery.session().config().sessionTimeout());
    try {
      node.firstConfirmation.get(wait.toMillis(), TimeUnit.MILLISECONDS);
      return node;
    } catch (ExecutionException e) {
      node.close();
      Throwable cause = OperationRunner.unwrap(e);
      if (cause instanceof RuntimeException) {
        throw (RuntimeException) cause;
      }
      throw new ZkException(Code.SYSTEMERROR, path, "ephemeral " + path + ": " + cause, cause);
    } catch (TimeoutException e) {
      node.close();
      throw new ZkUnavailableException(path, "ephemeral " + path + ": not confirmed on the server within "
          + wait.toMillis() + " ms (no connected session); it was not registered", e);
    } catch (InterruptedException e) {
      node.close();
      Thread.currentThread().interrupt();
      throw new dev.zksdk.ZkInterruptedException(path, "interrupted while creating ephemeral " + path, e);
    }
  }

  static final class PassResult {
    int recreated;
    int conflicts;
  }

  /** Brings every owned ephemeral to "exists, owned by {@code sid}". Pipelined: all requests go out at once. */
  PassResult ensureAll(ZooKeeper zk, long sid, Duration timeout)
      throws InterruptedException, ExecutionException, TimeoutException {
    PassResult result = new PassResult();
    List<CompletableFuture<Outcome>> futures = new ArrayList<>();
    List<Owned> sent = new ArrayList<>();
    // One existence check per distinct parent, however many owned nodes share it (a registry directory).
    java.util.Map<String, CompletableFuture<Void>> parentChecks = new java.util.HashMap<>();
    for (Owned o : owned) {
      if (o.closed || o.confirmedSession == sid) {
        continue;
      }
      sent.add(o);
      futures.add(o.ensure(zk, sid, parentChecks));
    }
    if (futures.isEmpty()) {
      return result;
    }
    CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]))
        .exceptionally(e -> null)
        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    Throwable connectionFailure = null;
    for (int i = 0; i < futures.size(); i++) {
      CompletableFuture<Outcome> f = futures.get(i);
      Owned o = sent.get(i);
      try {
        Outcome outcome = f.getNow(null);
        if (outcome == Outcome.CONFIRMED) {
          result.recreated++;
        } else if (outcome == Outcome.CONFLICT) {
          result.conflicts++;
        }
      } catch (java.util.concurrent.CompletionException e) {
        Throwable cause = OperationRunner.unwrap(e);
        if (isConnectionProblem(cause)) {
          connectionFailure = cause;
        } else {
          log.warn("{}: ephemeral {} could not be re-created: {}", recovery.session().label(), o.requestedPath,
              cause.toString());
          o.firstConfirmation.completeExceptionally(toZk(cause, o.requestedPath));
        }
      }
    }
    if (connectionFailure != null) {
      throw new ExecutionException(connectionFailure);
    }
    return result;
  }

  private static boolean isConnectionProblem(Throwable t) {
    if (t instanceof KeeperException) {
      Code c = ((KeeperException) t).code();
      return c == Code.CONNECTIONLOSS || c == Code.OPERATIONTIMEOUT || c == Code.SESSIONEXPIRED
          || c == Code.SESSIONMOVED;
    }
    return false;
  }

  private static RuntimeException toZk(Throwable t, String path) {
    if (t instanceof KeeperException) {
      KeeperException k = (KeeperException) t;
      return ZkException.of(k.code(), k.getPath() != null ? k.getPath() : path, "ephemeral " + path + ": "
          + k.code(), k);
    }
    return t instanceof RuntimeException ? (RuntimeException) t : new IllegalStateException(t);
  }

  /**
   * Closes every owned ephemeral: none is recovered any more, and each confirmed in the live session is deleted on
   * the server now, every request sent at once. Completes when all deletes are answered; a node that cannot be
   * deleted now (no connection) is left for its session's end.
   */
  public CompletableFuture<Void> closeAllAsync() {
    List<CompletableFuture<Void>> deletes = new ArrayList<>();
    for (Owned o : owned) {
      deletes.add(o.closeAsync());
    }
    return CompletableFuture.allOf(deletes.toArray(new CompletableFuture<?>[0]));
  }

  void closeAll() {
    for (Owned o : owned) {
      o.closed = true;
      o.firstConfirmation.completeExceptionally(new IllegalStateException("the pool is closed"));
    }
    owned.clear();
  }

  private enum Outcome {
    CONFIRMED,
    CONFLICT
  }

  /** One owned ephemeral. */
  final class Owned implements EphemeralNode {
    final String requestedPath;
    final CreateMode mode;
    final String protectedId;
    final CompletableFuture<Void> firstConfirmation = new CompletableFuture<>();
    private final List<Consumer<String>> pathListeners = new CopyOnWriteArrayList<>();
    volatile byte[] data;
    volatile String currentPath;
    volatile long confirmedSession;
    volatile boolean closed;
    private volatile long reportedConflictOwner;

    Owned(String path, byte[] data, CreateMode mode) {
      this.requestedPath = path;
      this.data = data;
      this.mode = mode;
      this.protectedId = mode.isSequential() ? UUID.randomUUID().toString() : null;
      this.currentPath = mode.isSequential() ? null : path;
    }

    CompletableFuture<Outcome> ensure(ZooKeeper zk, long sid,
        java.util.Map<String, CompletableFuture<Void>> parentChecks) {
      String parent = Calls.parentOf(requestedPath);
      CompletableFuture<Void> parents = parent.equals("/")
          ? CompletableFuture.completedFuture(null)
          : parentChecks.computeIfAbsent(parent, p -> mkParents(zk, p));
      return parents.thenCompose(v -> mode.isSequential() ? ensureSequential(zk, sid) : ensurePlain(zk, sid, 3));
    }

    private CompletableFuture<Void> mkParents(ZooKeeper zk, String parent) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      zk.exists(parent, false, (rc, p, ctx, stat) -> {
        if (rc == 0) {
          f.complete(null);
        } else if (rc == Code.NONODE.intValue()) {
          // Rare (first creation, or a container the server removed while empty): create the chain on the
          // recovery thread's own pace; ZKPaths.mkdirs makes containers and tolerates NODEEXISTS races.
          java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
              ZKPaths.mkdirs(zk, parent, true, new org.apache.curator.framework.api.ACLProvider() {
                @Override
                public List<ACL> getDefaultAcl() {
                  return acl(parent);
                }

                @Override
                public List<ACL> getAclForPath(String path) {
                  return acl(path);
                }
              }, true);
              f.complete(null);
            } catch (Exception e) {
              f.completeExceptionally(e);
            }
          });
        } else {
          f.completeExceptionally(KeeperException.create(Code.get(rc), parent));
        }
      }, null);
      return f;
    }

    /** The ensemble's ACL for this node, the same on every re-creation. */
    private List<ACL> acl(String path) {
      List<ACL> acl = recovery.session().config().aclProvider().getAclForPath(path);
      // A mutable copy: ZooKeeper asks it whether it contains null, which List.of's lists answer with an NPE.
      return new ArrayList<>(acl == null || acl.isEmpty()
          ? recovery.session().config().aclProvider().getDefaultAcl() : acl);
    }

    private CompletableFuture<Outcome> ensurePlain(ZooKeeper zk, long sid, int attemptsLeft) {
      byte[] payload = data;
      CompletableFuture<Outcome> f = new CompletableFuture<>();
      zk.create(requestedPath, payload, acl(requestedPath), CreateMode.EPHEMERAL, (rc, p, ctx, name) -> {
        if (rc == 0) {
          confirmed(sid, requestedPath);
          f.complete(Outcome.CONFIRMED);
        } else if (rc == Code.NODEEXISTS.intValue()) {
          inspectExisting(zk, sid, attemptsLeft).whenComplete((o, e) -> complete(f, o, e));
        } else {
          f.completeExceptionally(KeeperException.create(Code.get(rc), requestedPath));
        }
      }, null);
      return f;
    }

    /** A node is at our path: ours (live), ours (dead session: remove and create), or someone else's (conflict). */
    private CompletableFuture<Outcome> inspectExisting(ZooKeeper zk, long sid, int attemptsLeft) {
      CompletableFuture<Outcome> f = new CompletableFuture<>();
      zk.exists(requestedPath, false, (rc, p, ctx, stat) -> {
        if (rc == Code.NONODE.intValue()) {
          retryPlain(zk, sid, attemptsLeft, f);
        } else if (rc != 0) {
          f.completeExceptionally(KeeperException.create(Code.get(rc), requestedPath));
        } else if (stat.getEphemeralOwner() == sid) {
          confirmed(sid, requestedPath);
          f.complete(Outcome.CONFIRMED);
        } else if (recovery.pastSessionIds().contains(stat.getEphemeralOwner())) {
          // Left by one of our own dead sessions (a client-side expiry leaves it until the server expires it):
          // remove exactly that version, then create ours. Never two nodes, never a dead owner reported as live.
          zk.delete(requestedPath, stat.getVersion(), (drc, dp, dctx) -> {
            if (drc == 0 || drc == Code.NONODE.intValue() || drc == Code.BADVERSION.intValue()) {
              retryPlain(zk, sid, attemptsLeft, f);
            } else {
              f.completeExceptionally(KeeperException.create(Code.get(drc), requestedPath));
            }
          }, null);
        } else {
          conflict(stat, sid);
          f.complete(Outcome.CONFLICT);
        }
      }, null);
      return f;
    }

    private void retryPlain(ZooKeeper zk, long sid, int attemptsLeft, CompletableFuture<Outcome> f) {
      if (attemptsLeft <= 0) {
        f.complete(Outcome.CONFLICT); // racing with another creator; the conflict retry settles it
        return;
      }
      ensurePlain(zk, sid, attemptsLeft - 1).whenComplete((o, e) -> complete(f, o, e));
    }

    private void conflict(Stat stat, long sid) {
      long owner = stat.getEphemeralOwner();
      if (!firstConfirmation.isDone()) {
        firstConfirmation.completeExceptionally(new ZkNodeExistsException(requestedPath, "ephemeral "
            + requestedPath + ": a node already exists there, owned by "
            + (owner == 0 ? "no session (a persistent node)" : "session 0x" + Long.toHexString(owner))
            + "; it is not taken over", null));
        return;
      }
      if (reportedConflictOwner != owner) {
        reportedConflictOwner = owner;
        log.warn("{}: cannot re-create ephemeral {}: a node there is owned by {}; not taking it over, retrying "
                + "every {} ms until it goes", recovery.session().label(), requestedPath,
            owner == 0 ? "no session (persistent)" : "live session 0x" + Long.toHexString(owner),
            CONFLICT_RETRY.toMillis());
        recovery.session().pool().publishConflict(requestedPath, owner);
      }
    }

    private CompletableFuture<Outcome> ensureSequential(ZooKeeper zk, long sid) {
      String parent = Calls.parentOf(requestedPath);
      String prefix = ProtectedUtils.getProtectedPrefix(protectedId);
      CompletableFuture<Outcome> f = new CompletableFuture<>();
      zk.getChildren(parent, false, (rc, p, ctx, children) -> {
        if (rc != 0) {
          f.completeExceptionally(KeeperException.create(Code.get(rc), parent));
          return;
        }
        List<String> mine = new ArrayList<>();
        for (String child : children) {
          if (child.startsWith(prefix)) {
            mine.add(ZKPaths.makePath(parent, child));
          }
        }
        checkOwners(zk, sid, mine, 0, null, f);
      }, null);
      return f;
    }

    /** Keeps the one live-owned node of ours (if any), removes those of dead sessions, then creates if needed. */
    private void checkOwners(ZooKeeper zk, long sid, List<String> mine, int i, String live,
        CompletableFuture<Outcome> f) {
      if (i == mine.size()) {
        if (live != null) {
          confirmed(sid, live);
          f.complete(Outcome.CONFIRMED);
          return;
        }
        String protectedPath = Calls.protectedPath(requestedPath, protectedId);
        zk.create(protectedPath, data, acl(requestedPath), CreateMode.EPHEMERAL_SEQUENTIAL,
            (rc, p, ctx, name) -> {
              if (rc == 0) {
                confirmed(sid, name);
                f.complete(Outcome.CONFIRMED);
              } else {
                f.completeExceptionally(KeeperException.create(Code.get(rc), requestedPath));
              }
            }, null);
        return;
      }
      String path = mine.get(i);
      zk.exists(path, false, (rc, p, ctx, stat) -> {
        if (rc == Code.NONODE.intValue()) {
          checkOwners(zk, sid, mine, i + 1, live, f);
        } else if (rc != 0) {
          f.completeExceptionally(KeeperException.create(Code.get(rc), path));
        } else if (stat.getEphemeralOwner() == sid && live == null) {
          checkOwners(zk, sid, mine, i + 1, path, f);
        } else {
          // Our protected id is unique to this handle, so any other owner is one of our dead sessions.
          zk.delete(path, -1, (drc, dp, dctx) -> {
            if (drc == 0 || drc == Code.NONODE.intValue()) {
              checkOwners(zk, sid, mine, i + 1, live, f);
            } else {
              f.completeExceptionally(KeeperException.create(Code.get(drc), path));
            }
          }, null);
        }
      }, null);
    }

    private void confirmed(long sid, String path) {
      if (closed) {
        // Closed while the create was in flight: do not leave the node behind until the session ends.
        try {
          recovery.session().currentHandle().delete(path, -1, (rc, p, ctx) -> { }, null);
        } catch (RuntimeException e) {
          log.debug("{}: could not delete closed ephemeral {}", recovery.session().label(), path, e);
        }
        return;
      }
      String previous = currentPath;
      currentPath = path;
      confirmedSession = sid;
      reportedConflictOwner = 0;
      firstConfirmation.complete(null);
      if (previous != null && !previous.equals(path)) {
        for (Consumer<String> l : pathListeners) {
          recovery.session().eventExecutor().execute(() -> l.accept(path));
        }
      }
    }

    private void complete(CompletableFuture<Outcome> f, Outcome o, Throwable e) {
      if (e == null) {
        f.complete(o);
      } else {
        f.completeExceptionally(e);
      }
    }

    @Override
    public String path() {
      String p = currentPath;
      return p != null ? p : requestedPath;
    }

    @Override
    public byte[] data() {
      return data.clone();
    }

    @Override
    public void setData(byte[] newData) {
      if (closed) {
        throw new IllegalStateException("the ephemeral " + path() + " is closed");
      }
      dev.zksdk.internal.Validation.notNull("data", newData);
      this.data = newData.clone();
      long sid = confirmedSession;
      if (sid != 0 && sid == recovery.session().sessionId() && recovery.session().isConnected()) {
        ZooKeeper zk = recovery.session().currentHandle();
        CompletableFuture<Void> f = new CompletableFuture<>();
        zk.setData(path(), newData, -1, (rc, p, ctx, stat) -> {
          if (rc == 0) {
            f.complete(null);
          } else {
            f.completeExceptionally(KeeperException.create(Code.get(rc), path()));
          }
        }, null);
        Duration timeout = recovery.session().config().connectionTimeout();
        try {
          f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
          // The new data is kept and will be written by the next re-creation; the live node may show the old data.
          log.info("{}: setData on ephemeral {} did not reach the server ({}); the new data is kept for "
              + "re-creation", recovery.session().label(), path(), e.toString());
        }
      }
    }

    @Override
    public boolean isPresent() {
      return !closed && !recovery.isSuspended() && confirmedSession != 0
          && confirmedSession == recovery.session().sessionId() && recovery.session().isConnected();
    }

    @Override
    public void onPathChange(Consumer<String> listener) {
      pathListeners.add(dev.zksdk.internal.Validation.notNull("listener", listener));
    }

    @Override
    public void close() {
      String path = currentPath;
      try {
        closeAsync().get(recovery.session().config().connectionTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        log.info("{}: ephemeral {} could not be deleted now ({}); it goes when its session ends",
            recovery.session().label(), path, e.toString());
      }
    }

    /** Stops recovering the node and sends its delete (if the live session owns it); completes when answered. */
    CompletableFuture<Void> closeAsync() {
      if (closed) {
        return CompletableFuture.completedFuture(null);
      }
      closed = true;
      owned.remove(this);
      firstConfirmation.completeExceptionally(new IllegalStateException("closed"));
      long sid = confirmedSession;
      String path = currentPath;
      if (path == null || sid == 0 || !recovery.session().isConnected()) {
        // not on the server under a live session: the session's end removes anything left
        return CompletableFuture.completedFuture(null);
      }
      CompletableFuture<Void> f = new CompletableFuture<>();
      try {
        ZooKeeper zk = recovery.session().currentHandle();
        zk.exists(path, false, (rc, p, ctx, stat) -> {
          if (rc == 0 && stat.getEphemeralOwner() == zk.getSessionId()) {
            zk.delete(path, stat.getVersion(), (drc, dp, dctx) -> f.complete(null), null);
          } else {
            f.complete(null);
          }
        }, null);
      } catch (RuntimeException e) {
        f.completeExceptionally(e);
      }
      return f;
    }

    @Override
    public String toString() {
      return "EphemeralNode{" + path() + (closed ? ", closed" : "") + "}";
    }
  }
}
