package dev.zksdk.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.curator.framework.imps.ProtectedUtils;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

/** The operations of a lease, each sent through ZooKeeper's asynchronous API (no thread per call). */
public final class Calls {

  private Calls() {}

  public static final class GetData extends ZkCall<byte[]> {
    public GetData(String path) {
      super("getData", path, Kind.READ, false);
    }

    @Override
    byte[] sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
      byte[] data = zk.getData(path, false, null);
      return data == null ? new byte[0] : data;
    }

    @Override
    CompletableFuture<byte[]> send(ZooKeeper zk) {
      CompletableFuture<byte[]> f = new CompletableFuture<>();
      zk.getData(path, false, (rc, p, ctx, data, stat) -> {
        if (rc == 0) {
          f.complete(data == null ? new byte[0] : data);
        } else {
          f.completeExceptionally(error(rc, path));
        }
      }, null);
      return f;
    }
  }

  public static final class Exists extends ZkCall<Stat> {
    public Exists(String path) {
      super("exists", path, Kind.READ, false);
    }

    @Override
    Stat sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
      return zk.exists(path, false);
    }

    @Override
    CompletableFuture<Stat> send(ZooKeeper zk) {
      CompletableFuture<Stat> f = new CompletableFuture<>();
      zk.exists(path, false, (rc, p, ctx, stat) -> {
        if (rc == 0) {
          f.complete(stat);
        } else if (rc == Code.NONODE.intValue()) {
          f.complete(null);
        } else {
          f.completeExceptionally(error(rc, path));
        }
      }, null);
      return f;
    }
  }

  public static final class GetChildren extends ZkCall<List<String>> {
    public GetChildren(String path) {
      super("getChildren", path, Kind.READ, false);
    }

    @Override
    List<String> sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
      return zk.getChildren(path, false);
    }

    @Override
    CompletableFuture<List<String>> send(ZooKeeper zk) {
      CompletableFuture<List<String>> f = new CompletableFuture<>();
      zk.getChildren(path, false, (rc, p, ctx, children) -> {
        if (rc == 0) {
          f.complete(children);
        } else {
          f.completeExceptionally(error(rc, path));
        }
      }, null);
      return f;
    }
  }

  public static final class Sync extends ZkCall<Void> {
    public Sync(String path) {
      super("sync", path, Kind.READ, false);
    }

    @Override
    CompletableFuture<Void> send(ZooKeeper zk) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      zk.sync(path, (rc, p, ctx) -> {
        if (rc == 0) {
          f.complete(null);
        } else {
          f.completeExceptionally(error(rc, path));
        }
      }, null);
      return f;
    }
  }

  /**
   * A create that never makes two nodes: a sequential create carries a protected name ({@code _c_<uuid>-}) and
   * looks for it before sending again; a plain create that meets NODEEXISTS after a loss checks whose node it is.
   */
  public static final class Create extends ZkCall<String> {
    private final byte[] data;
    private final CreateMode mode;
    private final List<ACL> acl;
    private final String protectedId;
    private final String sendPath;

    public Create(String path, byte[] data, CreateMode mode, List<ACL> acl) {
      super("create", path, Kind.WRITE, mode.isEphemeral());
      this.data = data;
      this.mode = mode;
      this.acl = acl == null ? ZooDefs.Ids.OPEN_ACL_UNSAFE : acl;
      if (mode.isSequential()) {
        this.protectedId = UUID.randomUUID().toString();
        this.sendPath = protectedPath(path, protectedId);
      } else {
        this.protectedId = null;
        this.sendPath = path;
      }
    }

    @Override
    CompletableFuture<String> send(ZooKeeper zk) {
      CompletableFuture<String> f = new CompletableFuture<>();
      zk.create(sendPath, data, acl, mode, (rc, p, ctx, name) -> {
        if (rc == 0) {
          f.complete(name);
        } else {
          f.completeExceptionally(error(rc, path));
        }
      }, null);
      return f;
    }

    @Override
    String sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
      try {
        return zk.create(sendPath, data, acl, mode);
      } catch (KeeperException e) {
        throw KeeperException.create(e.code(), path);
      }
    }

    @Override
    CompletableFuture<String> resendAfterLoss(ZooKeeper zk) {
      if (protectedId == null) {
        return send(zk);
      }
      String parent = parentOf(sendPath);
      String prefix = ProtectedUtils.getProtectedPrefix(protectedId);
      CompletableFuture<String> f = new CompletableFuture<>();
      zk.getChildren(parent, false, (rc, p, ctx, children) -> {
        if (rc != 0) {
          f.completeExceptionally(error(rc, parent));
          return;
        }
        for (String child : children) {
          if (child.startsWith(prefix)) {
            f.complete(ZKPaths.makePath(parent, child));
            return;
          }
        }
        send(zk).whenComplete((name, e) -> {
          if (e == null) {
            f.complete(name);
          } else {
            f.completeExceptionally(e);
          }
        });
      }, null);
      return f;
    }

    @Override
    CompletableFuture<String> resolveAfterLoss(ZooKeeper zk, Code code) {
      if (code != Code.NODEEXISTS || protectedId != null) {
        return null;
      }
      CompletableFuture<String> f = new CompletableFuture<>();
      zk.getData(path, false, (rc, p, ctx, existing, stat) -> {
        if (rc == Code.NONODE.intValue()) {
          // Gone again already: whoever made it, it is not ours now.
          f.completeExceptionally(error(Code.NODEEXISTS.intValue(), path));
        } else if (rc != 0) {
          f.completeExceptionally(error(rc, path));
        } else if (mode.isEphemeral()) {
          if (stat.getEphemeralOwner() == zk.getSessionId()) {
            f.complete(path); // our own earlier attempt made it in this session
          } else {
            f.completeExceptionally(error(Code.NODEEXISTS.intValue(), path));
          }
        } else if (Arrays.equals(existing == null ? new byte[0] : existing, data)) {
          f.completeExceptionally(new OutcomeUnknown(
              "a node with the same data exists at " + path + "; it may be the one this create made before the "
                  + "connection was lost, or another client's"));
        } else {
          f.completeExceptionally(error(Code.NODEEXISTS.intValue(), path));
        }
      }, null);
      return f;
    }
  }

  public static final class SetData extends ZkCall<Stat> {
    private final byte[] data;
    private final int version;

    public SetData(String path, byte[] data, int version) {
      super("setData", path, Kind.WRITE, false);
      this.data = data;
      this.version = version;
    }

    @Override
    Stat sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
      return zk.setData(path, data, version);
    }

    @Override
    CompletableFuture<Stat> send(ZooKeeper zk) {
      CompletableFuture<Stat> f = new CompletableFuture<>();
      zk.setData(path, data, version, (rc, p, ctx, stat) -> {
        if (rc == 0) {
          f.complete(stat);
        } else {
          f.completeExceptionally(error(rc, path));
        }
      }, null);
      return f;
    }

    @Override
    CompletableFuture<Stat> resolveAfterLoss(ZooKeeper zk, Code code) {
      if (code != Code.BADVERSION || version < 0) {
        return null;
      }
      // The lost attempt may have been applied: then the node is at version + 1 with exactly our data.
      CompletableFuture<Stat> f = new CompletableFuture<>();
      zk.getData(path, false, (rc, p, ctx, existing, stat) -> {
        if (rc == 0 && stat.getVersion() == version + 1
            && Arrays.equals(existing == null ? new byte[0] : existing, data)) {
          f.complete(stat);
        } else {
          f.completeExceptionally(error(Code.BADVERSION.intValue(), path));
        }
      }, null);
      return f;
    }
  }

  public static final class Delete extends ZkCall<Void> {
    private final int version;

    public Delete(String path, int version) {
      super("delete", path, Kind.WRITE, false);
      this.version = version;
    }

    @Override
    Void sendSync(ZooKeeper zk) throws KeeperException, InterruptedException {
      zk.delete(path, version);
      return null;
    }

    @Override
    CompletableFuture<Void> send(ZooKeeper zk) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      zk.delete(path, version, (rc, p, ctx) -> {
        if (rc == 0) {
          f.complete(null);
        } else {
          f.completeExceptionally(error(rc, path));
        }
      }, null);
      return f;
    }

    @Override
    CompletableFuture<Void> resolveAfterLoss(ZooKeeper zk, Code code) {
      // The node is gone: the lost attempt removed it (or someone did); either way the delete's intent holds.
      return code == Code.NONODE ? CompletableFuture.completedFuture(null) : null;
    }
  }

  public static final class Multi extends ZkCall<List<OpResult>> {
    private final List<Op> ops;

    public Multi(List<Op> ops, boolean sessionBound) {
      super("multi", ops.isEmpty() ? null : ops.get(0).getPath(), Kind.WRITE_ONCE, sessionBound);
      this.ops = new ArrayList<>(ops);
    }

    @Override
    CompletableFuture<List<OpResult>> send(ZooKeeper zk) {
      CompletableFuture<List<OpResult>> f = new CompletableFuture<>();
      zk.multi(ops, (rc, p, ctx, results) -> {
        if (rc == 0) {
          f.complete(results);
          return;
        }
        String failedPath = path;
        int failedCode = rc;
        if (results != null) {
          for (int i = 0; i < results.size(); i++) {
            OpResult r = results.get(i);
            if (r instanceof OpResult.ErrorResult) {
              int err = ((OpResult.ErrorResult) r).getErr();
              if (err != 0 && err != Code.RUNTIMEINCONSISTENCY.intValue()) {
                failedCode = err;
                failedPath = i < ops.size() ? ops.get(i).getPath() : path;
                break;
              }
            }
          }
        }
        f.completeExceptionally(error(failedCode, failedPath));
      }, null);
      return f;
    }
  }

  /** A write whose outcome cannot be told: reported as connection loss with the outcome unknown. */
  static final class OutcomeUnknown extends Exception {
    private static final long serialVersionUID = 1L;

    OutcomeUnknown(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Curator's protected name for a sequential create: {@code /parent/_c_<uuid>-<name>}. Unlike Curator's helper it
   * accepts a path ending in '/' (a sequential node named by its counter alone).
   */
  public static String protectedPath(String path, String protectedId) {
    int slash = path.lastIndexOf('/');
    return path.substring(0, slash) + "/" + ProtectedUtils.toProtectedZNode(path.substring(slash + 1), protectedId);
  }

  /** The parent of a path, "/" for top-level nodes. */
  public static String parentOf(String path) {
    int slash = path.lastIndexOf('/');
    return slash <= 0 ? "/" : path.substring(0, slash);
  }

  static Code codeOf(Throwable t) {
    return t instanceof KeeperException ? ((KeeperException) t).code() : null;
  }
}
