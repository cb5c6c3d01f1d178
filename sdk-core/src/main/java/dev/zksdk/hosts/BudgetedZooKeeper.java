package dev.zksdk.hosts;

import dev.zksdk.ZkConnectionLossException;
import dev.zksdk.internal.PoolWatcher;
import dev.zksdk.internal.SrvrVersion;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.AsyncCallback.AllChildrenNumberCallback;
import org.apache.zookeeper.AsyncCallback.Create2Callback;
import org.apache.zookeeper.AsyncCallback.EphemeralsCallback;
import org.apache.zookeeper.AsyncCallback.MultiCallback;
import org.apache.zookeeper.AsyncCallback.StringCallback;
import org.apache.zookeeper.AsyncCallback.VoidCallback;
import org.apache.zookeeper.ClientCnxn;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.Time;
import org.apache.zookeeper.common.X509Exception;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.proto.CreateRequest;
import org.apache.zookeeper.proto.ReplyHeader;
import org.apache.zookeeper.proto.RequestHeader;
import org.apache.zookeeper.proto.WhoAmIResponse;
import org.slf4j.LoggerFactory;

/**
 * A ZooKeeper handle that connects through a {@link WeightedHostProvider} and closes it when the handle is
 * closed, so the provider's connection-budget slot lives exactly as long as the handle. Curator closes the
 * handles it replaces (after session expiry, on {@code close()}), so a pool that creates handles through
 * {@link HostsZookeeperFactory} never leaks a slot.
 *
 * <p>Not a {@code ZooKeeperAdmin}: ZooKeeper offers no admin constructor taking a {@code HostProvider}, so
 * Curator's {@code reconfig()} (an ensemble-administration call) is not available on these handles.
 */
public final class BudgetedZooKeeper extends ZooKeeper {

    /** Each attempt and connection of a handle at DEBUG, naming its session. */
    private static final org.slf4j.Logger ATTEMPTS_LOG = LoggerFactory.getLogger(BudgetedZooKeeper.class);

    private final WeightedHostProvider provider;
    private volatile boolean closeOnlyThroughCurator;
    private volatile ServerCapabilities capabilities;
    /** Told how many persistent watches were dropped from this handle's table (see {@link #dropPersistentWatches}). */
    private volatile IntConsumer persistentWatchesDropped;
    // The last attempt, on the send thread only: its server, whether it re-registered persistent watches
    // (SetWatches2), and when it connected (0: it did not).
    private String attemptServer;
    private boolean attemptHadPersistentWatches;
    private long attemptConnectedAt;

    private BudgetedZooKeeper(
            String connectString,
            int sessionTimeoutMs,
            Watcher watcher,
            boolean canBeReadOnly,
            WeightedHostProvider provider,
            ZKClientConfig clientConfig)
            throws IOException {
        super(connectString, sessionTimeoutMs, watcher, canBeReadOnly, provider, clientConfig);
        this.provider = provider;
        WeightedHostProvider.AttemptControl control = ConnectAttempts.of(cnxn, this);
        if (control != null) {
            provider.bind(control);
        }
        provider.attemptListener(new WeightedHostProvider.AttemptListener() {
            @Override
            public void beforeAttempt(String server) {
                BudgetedZooKeeper.this.beforeAttempt(server);
            }

            @Override
            public void connected(String server) {
                attemptConnectedAt = System.nanoTime();
                if (ATTEMPTS_LOG.isDebugEnabled()) {
                    ATTEMPTS_LOG.debug("Session 0x{} connected to {}", Long.toHexString(getSessionId()), server);
                }
            }
        });
    }

    /**
     * Starts a handle (ZooKeeper connects in the background). On failure the provider is closed.
     *
     * @param connectString the connect string, with its optional chroot, as given to ZooKeeper
     * @param sessionTimeoutMs the session timeout to request, in milliseconds
     * @param watcher the handle's default watcher
     * @param provider chooses the handle's servers and holds its connection budget slot; closed on failure
     * @param clientConfig null for ZooKeeper's defaults
     * @return the handle, connecting in the background
     * @throws IOException when ZooKeeper cannot create its client socket
     * @throws IllegalArgumentException when ZooKeeper rejects the connect string (bad chroot)
     */
    public static BudgetedZooKeeper open(
            String connectString,
            int sessionTimeoutMs,
            Watcher watcher,
            WeightedHostProvider provider,
            ZKClientConfig clientConfig)
            throws IOException {
        return open(connectString, sessionTimeoutMs, watcher, false, provider, clientConfig);
    }

    /**
     * As {@link #open(String, int, Watcher, WeightedHostProvider, ZKClientConfig)}, for a handle that may connect to
     * a read-only server ({@code canBeReadOnly}, ZooKeeper's read-only mode): it then serves reads there, refuses
     * writes with {@code NOTREADONLY}, and moves to a read-write server as soon as its probes find one (see
     * {@link WeightedHostProvider}).
     *
     * @param connectString the connect string, with its optional chroot, as given to ZooKeeper
     * @param sessionTimeoutMs the session timeout to request, in milliseconds
     * @param watcher the handle's default watcher
     * @param canBeReadOnly whether the handle may connect to a read-only server
     * @param provider chooses the handle's servers and holds its connection budget slot; closed on failure
     * @param clientConfig null for ZooKeeper's defaults
     * @return the handle, connecting in the background
     * @throws IOException when ZooKeeper cannot create its client socket
     * @throws IllegalArgumentException when ZooKeeper rejects the connect string (bad chroot)
     */
    public static BudgetedZooKeeper open(
            String connectString,
            int sessionTimeoutMs,
            Watcher watcher,
            boolean canBeReadOnly,
            WeightedHostProvider provider,
            ZKClientConfig clientConfig)
            throws IOException {
        try {
            if (ConnectAttempts.AVAILABLE) {
                provider.expectBinding();
            }
            return new BudgetedZooKeeper(
                    connectString, sessionTimeoutMs, watcher, canBeReadOnly, provider, clientConfig);
        } catch (IOException | RuntimeException | Error e) {
            provider.close();
            throw e;
        }
    }

    /**
     * The provider choosing this handle's servers (to read its server or report one as failed).
     *
     * @return the provider given to {@link #open}
     */
    public WeightedHostProvider weightedHostProvider() {
        return provider;
    }

    /**
     * The highest zxid this handle has seen in a reply: every transaction up to it was applied by the server that sent
     * the reply, and any request sent on this handle from now on is ordered after it. 0 before the first reply.
     *
     * @return the last zxid seen, or 0
     */
    public long lastZxid() {
        return cnxn.getLastZxid();
    }

    /**
     * How many packets this handle has received from servers (replies, pings' answers, notifications), or -1 when this
     * ZooKeeper version does not let it be read. A count that grows says the server was heard from: sampled, it tells
     * when the session last had contact with the ensemble, which a client-side expiry is measured from.
     *
     * @return the number of packets received, or -1 when it cannot be read
     */
    public long receivedPackets() {
        return ReceivedCount.read(cnxn);
    }

    /**
     * A figure that changes whenever anything is received from the server: a packet, or bytes of one still being read
     * (a large answer on a slow link takes a while to arrive, and ZooKeeper counts it only once whole); -1 when this
     * ZooKeeper version does not let it be read. Only its changes mean anything: sampled, it tells whether the
     * connection received anything since the last sample.
     *
     * @return the received-progress figure, or -1 when it cannot be read
     */
    public long receivedProgress() {
        return ReceivedCount.progress(cnxn);
    }

    /**
     * The socket address of the server this handle's connection is to, or null while it has none (read from ZooKeeper's
     * client socket; may be stale by one reconnect when read from another thread).
     *
     * @return the server's address, or null
     */
    public InetSocketAddress connectedAddress() {
        try {
            return testableRemoteSocketAddress() instanceof InetSocketAddress a ? a : null;
        } catch (RuntimeException e) {
            return null; // the socket went away meanwhile
        }
    }

    /**
     * True when requests sent on this handle's connection are waiting for their replies (ZooKeeper's pending queue is
     * not empty; a ping is never in it). Read without ZooKeeper's lock, so it may lag a reply that just arrived: meant
     * for a periodic check, never for a decision about one request. False when this ZooKeeper version does not let it
     * be read.
     *
     * @return true while requests are waiting for replies
     */
    public boolean awaitingReplies() {
        return PendingReplies.any(cnxn);
    }

    /**
     * True when requests of this handle are waiting for their replies or still to be sent (ZooKeeper's pending and
     * outgoing queues; a ping about to be sent counts too). Read without ZooKeeper's lock, a snapshot for a periodic
     * check such as the rebalancing's; true when this ZooKeeper version does not let it be read (the caller then
     * treats the handle as busy).
     *
     * @return true while requests are in flight or queued
     */
    public boolean requestsInFlight() {
        return PendingReplies.any(cnxn) || PendingReplies.outgoing(cnxn);
    }

    /**
     * True when this handle still has a watcher of {@code type} on {@code path} (a client path, chroot excluded):
     * before asking the server to forget a watch, a caller that removed its own watcher checks nobody else needs it.
     * {@code Persistent}, {@code PersistentRecursive}, {@code Data} and {@code Children}; {@code Any} asks for all.
     *
     * @param path the watched path as the client names it, without the chroot
     * @param type the kind of watch to look for
     * @return true when a watcher of that kind is still registered on {@code path}
     */
    public boolean hasWatchers(String path, Watcher.WatcherType type) {
        switch (type) {
            case Persistent:
                return getPersistentWatches().contains(path);
            case PersistentRecursive:
                return getPersistentRecursiveWatches().contains(path);
            case Data:
                return getDataWatches().contains(path) || getExistWatches().contains(path);
            case Children:
                return getChildWatches().contains(path);
            default:
                return getPersistentWatches().contains(path)
                        || getPersistentRecursiveWatches().contains(path)
                        || getDataWatches().contains(path)
                        || getExistWatches().contains(path)
                        || getChildWatches().contains(path);
        }
    }

    /**
     * From now on {@link #close()}, {@link #register(Watcher)} and {@link #updateServerList(String)} are refused unless
     * Curator or the pool calls them (when Curator replaces the handle after an expiry, closes its client, or applies a
     * new connect string; when the pool applies the ensemble's membership): for a handle shared by many users through one Curator client, where any one of them closing the
     * session, replacing the watcher that drives its recovery or pointing it at other servers would do it for all.
     */
    public void closeOnlyThroughCurator() {
        this.closeOnlyThroughCurator = true;
    }

    /**
     * Replaces the handle's default watcher.
     *
     * @throws UnsupportedOperationException after {@link #closeOnlyThroughCurator()}, when the caller is neither Curator nor the pool
     */
    @Override
    public synchronized void register(Watcher watcher) {
        refuseUnlessOwner(
                "register a default watcher",
                "it receives the session's state changes, which drive the pool's recovery; use a SessionListener");
        super.register(watcher);
    }

    /**
     * Moves the handle to another server list, as ZooKeeper does.
     *
     * @throws UnsupportedOperationException after {@link #closeOnlyThroughCurator()}, when the caller is neither Curator nor the pool
     */
    @Override
    public void updateServerList(String connectString) throws IOException {
        refuseUnlessOwner(
                "change its server list",
                "it would move the session of every lease; use ZkSessionPool.updateConnectString");
        super.updateServerList(connectString);
    }

    private void refuseUnlessOwner(String what, String why) {
        if (closeOnlyThroughCurator && !calledByOwner()) {
            throw new UnsupportedOperationException("this ZooKeeper handle is shared by the zk-sdk pool: a lease may "
                    + "not " + what + " (" + why + ")");
        }
    }

    // ------------------------------------------------------------------ servers before ZooKeeper 3.5

    /**
     * What the pool knows of the ensemble's servers. Once they are known to be older than ZooKeeper 3.5, creates are
     * sent in a form those servers know (they close the connection on any request they do not know): container nodes
     * become persistent, a create that returns a {@code Stat} ({@code create2}, which Curator sends for every create) is
     * a plain create followed by a read of the new node's {@code Stat}, and TTL nodes fail at once. Curator's recipes
     * then work unchanged on those servers.
     *
     * @param capabilities the ensemble's capabilities, shared by its handles
     */
    public void capabilities(ServerCapabilities capabilities) {
        ServerCapabilities before = this.capabilities;
        if (before != null) {
            before.forget(dropOnDecision);
        }
        this.capabilities = capabilities;
        if (capabilities != null) {
            capabilities.whenNoPersistentWatches(dropOnDecision);
        }
    }

    /**
     * Given to the capabilities: once the ensemble is known to lack persistent watches (learnt by any session of the
     * pool), this handle drops its own at once, whatever its connection is doing, so that its next reconnect sends
     * plain {@code SetWatches}; the check before each attempt ({@link #beforeAttempt}) stays as a second line.
     */
    private final Runnable dropOnDecision = this::dropPersistentWatches;

    // ------------------------------------------------------------------ persistent watches on servers before 3.6

    /**
     * Told how many persistent watches {@link #dropPersistentWatches} took out of this handle's table (on the thread
     * that dropped them: the send thread, the event thread, or the thread that learnt the ensemble lacks them), so
     * that their owners arm them again in a form the servers know.
     *
     * @param listener gets the number of watches dropped
     */
    public void onPersistentWatchesDropped(IntConsumer listener) {
        this.persistentWatchesDropped = listener;
    }

    /**
     * How soon after a connect that re-registered persistent watches a lost connection counts as the server closing
     * it on {@code SetWatches2}: a server before 3.6 closes it as soon as it reads that request, which follows the
     * connect request at once.
     */
    private static final long SET_WATCHES2_CLOSE_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(2);

    /**
     * Runs on the send thread just before each connection attempt, before ZooKeeper re-registers the handle's watches
     * ({@code ClientCnxn.SendThread.primeConnection}: with {@code SetWatches2}, a ZooKeeper 3.6 request, as soon as
     * one of them is persistent). A previous connection that re-registered persistent watches and was lost within
     * {@link #SET_WATCHES2_CLOSE_WINDOW_NANOS} is reported to the capabilities, which decide whether its server lacks
     * them. Once the ensemble is known to lack them, none is left in the table, so the attempt sends plain
     * {@code SetWatches}, which every server knows, instead of a request a server before 3.6 closes the connection on
     * at every attempt, without end.
     */
    private void beforeAttempt(String server) {
        if (ATTEMPTS_LOG.isDebugEnabled()) {
            // With the provider's DEBUG line just before (same thread): which session went where, on what budget.
            ATTEMPTS_LOG.debug("Session 0x{} attempts {}", Long.toHexString(getSessionId()), server);
        }
        ServerCapabilities c = capabilities;
        if (c != null && attemptServer != null && attemptHadPersistentWatches && attemptConnectedAt != 0) {
            if (System.nanoTime() - attemptConnectedAt < SET_WATCHES2_CLOSE_WINDOW_NANOS) {
                c.closedAfterSetWatches2(attemptServer);
            } else {
                c.setWatches2Survived(attemptServer);
            }
        }
        if (c != null && c.before36() && hasPersistentWatches()) {
            dropPersistentWatches();
        }
        attemptServer = server;
        attemptHadPersistentWatches = hasPersistentWatches();
        attemptConnectedAt = 0;
    }

    private boolean hasPersistentWatches() {
        return !getPersistentWatches().isEmpty()
                || !getPersistentRecursiveWatches().isEmpty();
    }

    /**
     * Takes every persistent and persistent recursive watch out of this handle's own table, without a request to the
     * server (a server before 3.6 knows neither the watches nor their removal), and tells the listener set by
     * {@link #onPersistentWatchesDropped}, whose owner re-arms the pool's own ({@link PoolWatcher}). Every other
     * watcher (a {@code CuratorCache}, an {@code addWatch} on {@code lease.curator()}) gets nothing more from this
     * handle: it is told so with {@code WatchedEvent(PersistentWatchRemoved, SyncConnected, path)} on the handle's
     * event thread, as ZooKeeper tells a local removal, and each such path is named in a WARN. Runs on this handle's
     * send thread (before an attempt) or on the thread that learnt the ensemble lacks persistent watches.
     *
     * @return how many (path, kind) entries were dropped
     */
    public int dropPersistentWatches() {
        int dropped = 0;
        List<String> foreign = null;
        for (Watcher.WatcherType type :
                new Watcher.WatcherType[] {Watcher.WatcherType.Persistent, Watcher.WatcherType.PersistentRecursive}) {
            List<String> paths =
                    type == Watcher.WatcherType.Persistent ? getPersistentWatches() : getPersistentRecursiveWatches();
            for (String path : paths) {
                Map<Watcher.Event.EventType, Set<Watcher>> removed;
                try {
                    removed = LocalWatchRemoval.remove(this, path, null, type);
                    dropped++;
                } catch (KeeperException e) {
                    continue; // already gone (NOWATCHER): dropped by another thread, which tells its watchers
                }
                // The pool re-arms its own watchers; any other (a CuratorCache, an addWatch on lease.curator()) is told
                // of the removal as ZooKeeper tells it of a local one, so that it does not go quiet silently.
                for (Map.Entry<Watcher.Event.EventType, Set<Watcher>> e : removed.entrySet()) {
                    Set<Watcher> others = new HashSet<>();
                    for (Watcher w : e.getValue()) {
                        if (!(w instanceof PoolWatcher)) {
                            others.add(w);
                        }
                    }
                    if (!others.isEmpty()) {
                        LocalWatchRemoval.tellRemoved(cnxn, path, others, e.getKey());
                        if (foreign == null) {
                            foreign = new ArrayList<>();
                        }
                        foreign.add(path + " (" + type + ", " + others.size() + " watcher(s))");
                    }
                }
            }
        }
        if (foreign != null) {
            LoggerFactory.getLogger(BudgetedZooKeeper.class)
                    .warn(
                            "session 0x{}: persistent watches not set by the pool were dropped, the ensemble lacking"
                                    + " them: {}; their watchers got PersistentWatchRemoved and see no further change"
                                    + " (a CuratorCache built on persistent watches stops following the servers: build"
                                    + " it again, see the README's server versions)",
                            Long.toHexString(getSessionId()),
                            foreign);
        }
        IntConsumer listener = persistentWatchesDropped;
        if (dropped > 0 && listener != null) {
            listener.accept(dropped);
        }
        return dropped;
    }

    private boolean before35() {
        ServerCapabilities c = capabilities;
        return c != null && c.before35();
    }

    /** {@link #before35()} after waiting a moment for a version read in flight (synchronous calls only). */
    private boolean before35Known() {
        ServerCapabilities c = capabilities;
        if (c == null) {
            return false;
        }
        if (c.learning35()) {
            c.awaitKnown();
        }
        return c.before35();
    }

    private boolean learning35() {
        ServerCapabilities c = capabilities;
        return c != null && c.learning35();
    }

    private void learnt(int rc, String request) {
        ServerCapabilities c = capabilities;
        if (c != null && rc == KeeperException.Code.UNIMPLEMENTED.intValue()) {
            c.unimplemented(request);
        }
    }

    private static CreateMode known(CreateMode mode) {
        return mode.isContainer() ? CreateMode.PERSISTENT : mode;
    }

    private KeeperException ttlUnsupported(String path) {
        String how = capabilities == null ? "an old server" : capabilities.describe();
        return new KeeperException.UnimplementedException() {
            private static final long serialVersionUID = 1L;

            @Override
            public String getMessage() {
                return "KeeperErrorCode = Unimplemented for " + path + ": TTL nodes need ZooKeeper 3.5.3 or later; the"
                        + " ensemble runs " + how;
            }
        };
    }

    @Override
    public String create(String path, byte[] data, List<ACL> acl, CreateMode createMode)
            throws KeeperException, InterruptedException {
        if (before35Known()) {
            return super.create(path, data, acl, known(createMode));
        }
        try {
            return super.create(path, data, acl, createMode);
        } catch (KeeperException.UnimplementedException e) {
            learnt(e.code().intValue(), "a " + createMode + " create");
            throw e;
        }
    }

    @Override
    public void create(String path, byte[] data, List<ACL> acl, CreateMode createMode, StringCallback cb, Object ctx) {
        if (before35()) {
            super.create(path, data, acl, known(createMode), cb, ctx);
            return;
        }
        if (!learning35()) {
            super.create(path, data, acl, createMode, cb, ctx); // known: no wrapper on the call path
            return;
        }
        super.create(
                path,
                data,
                acl,
                createMode,
                (rc, p, c, name) -> {
                    learnt(rc, "a " + createMode + " create");
                    cb.processResult(rc, p, c, name);
                },
                ctx);
    }

    @Override
    public String create(String path, byte[] data, List<ACL> acl, CreateMode createMode, Stat stat, long ttl)
            throws KeeperException, InterruptedException {
        if (!before35Known()) {
            try {
                return super.create(path, data, acl, createMode, stat, ttl);
            } catch (KeeperException.UnimplementedException e) {
                if (!createMode.isTTL()) {
                    // A TTL create is refused so by servers with TTL nodes switched off too: it says nothing.
                    learnt(e.code().intValue(), "create2");
                }
                throw e;
            }
        }
        if (createMode.isTTL()) {
            throw ttlUnsupported(path);
        }
        String created = super.create(path, data, acl, known(createMode));
        if (stat != null) {
            Stat read = exists(created, false);
            if (read != null) {
                copyStat(read, stat);
            }
        }
        return created;
    }

    @Override
    public void create(
            String path, byte[] data, List<ACL> acl, CreateMode createMode, Create2Callback cb, Object ctx, long ttl) {
        if (!before35() && !learning35()) {
            super.create(path, data, acl, createMode, cb, ctx, ttl); // known: no wrapper on the call path
            return;
        }
        if (!before35()) {
            super.create(
                    path,
                    data,
                    acl,
                    createMode,
                    (rc, p, c, name, stat) -> {
                        if (!createMode.isTTL()) {
                            learnt(rc, "create2");
                        }
                        cb.processResult(rc, p, c, name, stat);
                    },
                    ctx,
                    ttl);
            return;
        }
        if (createMode.isTTL()) {
            // Never sent: the server would close the connection. The callback gets what the server would have said.
            cb.processResult(KeeperException.Code.UNIMPLEMENTED.intValue(), path, ctx, null, null);
            return;
        }
        super.create(
                path,
                data,
                acl,
                known(createMode),
                (rc, p, c, name) -> {
                    if (rc != 0) {
                        cb.processResult(rc, p, c, name, null);
                        return;
                    }
                    // Read in order after the create: the Stat is the new node's as of just after it was created (a
                    // change in between by another client shows; no client can see a node before its create).
                    exists(name, false, (erc, ep, ec, stat) -> cb.processResult(rc, p, c, name, stat), null);
                },
                ctx);
    }

    @Override
    public List<OpResult> multi(Iterable<Op> ops) throws InterruptedException, KeeperException {
        return super.multi(before35Known() ? known(ops) : ops);
    }

    @Override
    public void multi(Iterable<Op> ops, MultiCallback cb, Object ctx) {
        if (before35()) {
            List<Op> mapped;
            try {
                mapped = known(ops);
            } catch (KeeperException e) {
                cb.processResult(e.code().intValue(), null, ctx, null);
                return;
            }
            super.multi(mapped, cb, ctx);
            return;
        }
        super.multi(ops, cb, ctx);
    }

    // ------------------------------------------------------------------ requests of ZooKeeper 3.5 and 3.6

    private boolean before36() {
        ServerCapabilities c = capabilities;
        return c != null && c.before36();
    }

    /**
     * {@link #before36()}, after waiting a moment for a check in flight of a server that closed a reconnect carrying
     * persistent watches: a persistent watch is not sent to a server that is about to be found to lack it (it would
     * close the connection of the whole session).
     */
    private boolean before36Decided() {
        ServerCapabilities c = capabilities;
        if (c == null) {
            return false;
        }
        if (!c.before36()) {
            c.awaitPersistentWatchesDecision();
        }
        return c.before36();
    }

    private String lacking(String request, String since) {
        String how = capabilities == null ? "an old server" : capabilities.describe();
        return request + " needs ZooKeeper " + since + " or later; the ensemble runs " + how
                + " (not sent: the server would close the connection)";
    }

    private KeeperException unimplemented(String path, String message) {
        return new KeeperException.UnimplementedException() {
            private static final long serialVersionUID = 1L;

            @Override
            public String getMessage() {
                return "KeeperErrorCode = Unimplemented" + (path == null ? "" : " for " + path) + ": " + message;
            }
        };
    }

    @Override
    public void addWatch(String basePath, Watcher watcher, AddWatchMode mode)
            throws KeeperException, InterruptedException {
        if (before36Decided()) {
            throw unimplemented(basePath, lacking("addWatch (persistent watches)", "3.6"));
        }
        super.addWatch(basePath, watcher, mode);
    }

    @Override
    public void addWatch(String basePath, AddWatchMode mode) throws KeeperException, InterruptedException {
        if (before36Decided()) {
            throw unimplemented(basePath, lacking("addWatch (persistent watches)", "3.6"));
        }
        super.addWatch(basePath, mode);
    }

    @Override
    public void addWatch(String basePath, Watcher watcher, AddWatchMode mode, VoidCallback cb, Object ctx) {
        if (before36Decided()) {
            cb.processResult(KeeperException.Code.UNIMPLEMENTED.intValue(), basePath, ctx);
            return;
        }
        super.addWatch(basePath, watcher, mode, cb, ctx);
    }

    @Override
    public void addWatch(String basePath, AddWatchMode mode, VoidCallback cb, Object ctx) {
        if (before36Decided()) {
            cb.processResult(KeeperException.Code.UNIMPLEMENTED.intValue(), basePath, ctx);
            return;
        }
        super.addWatch(basePath, mode, cb, ctx);
    }

    /**
     * Before 3.5 there is no removal on the server (it keeps a one-shot watch until it fires, then forgets it): the
     * watcher is taken out of this handle's table only, which is what {@code local = true} guarantees anyway.
     */
    @Override
    public void removeWatches(String path, Watcher watcher, Watcher.WatcherType watcherType, boolean local)
            throws InterruptedException, KeeperException {
        if (before35()) {
            removeLocally(path, watcher, watcherType);
            return;
        }
        super.removeWatches(path, watcher, watcherType, local);
    }

    @Override
    public void removeWatches(
            String path, Watcher watcher, Watcher.WatcherType watcherType, boolean local, VoidCallback cb, Object ctx) {
        if (before35()) {
            cb.processResult(removeLocallyRc(path, watcher, watcherType), path, ctx);
            return;
        }
        super.removeWatches(path, watcher, watcherType, local, cb, ctx);
    }

    @Override
    public void removeAllWatches(String path, Watcher.WatcherType watcherType, boolean local)
            throws InterruptedException, KeeperException {
        if (before35()) {
            removeLocally(path, null, watcherType);
            return;
        }
        super.removeAllWatches(path, watcherType, local);
    }

    @Override
    public void removeAllWatches(
            String path, Watcher.WatcherType watcherType, boolean local, VoidCallback cb, Object ctx) {
        if (before35()) {
            cb.processResult(removeLocallyRc(path, null, watcherType), path, ctx);
            return;
        }
        super.removeAllWatches(path, watcherType, local, cb, ctx);
    }

    private int removeLocallyRc(String path, Watcher watcher, Watcher.WatcherType type) {
        try {
            removeLocally(path, watcher, type);
            return KeeperException.Code.OK.intValue();
        } catch (KeeperException e) {
            return e.code().intValue();
        }
    }

    private void removeLocally(String path, Watcher watcher, Watcher.WatcherType type) throws KeeperException {
        LocalWatchRemoval.remove(this, path, watcher, type);
    }

    @Override
    public List<String> getEphemerals() throws KeeperException, InterruptedException {
        if (before36()) {
            throw unimplemented(null, lacking("getEphemerals", "3.6"));
        }
        return super.getEphemerals();
    }

    @Override
    public List<String> getEphemerals(String prefixPath) throws KeeperException, InterruptedException {
        if (before36()) {
            throw unimplemented(prefixPath, lacking("getEphemerals", "3.6"));
        }
        return super.getEphemerals(prefixPath);
    }

    @Override
    public void getEphemerals(String prefixPath, EphemeralsCallback cb, Object ctx) {
        if (before36()) {
            cb.processResult(KeeperException.Code.UNIMPLEMENTED.intValue(), ctx, null);
            return;
        }
        super.getEphemerals(prefixPath, cb, ctx);
    }

    @Override
    public void getEphemerals(EphemeralsCallback cb, Object ctx) {
        if (before36()) {
            cb.processResult(KeeperException.Code.UNIMPLEMENTED.intValue(), ctx, null);
            return;
        }
        super.getEphemerals(cb, ctx);
    }

    @Override
    public int getAllChildrenNumber(String path) throws KeeperException, InterruptedException {
        if (before36()) {
            throw unimplemented(path, lacking("getAllChildrenNumber", "3.6"));
        }
        return super.getAllChildrenNumber(path);
    }

    @Override
    public void getAllChildrenNumber(String path, AllChildrenNumberCallback cb, Object ctx) {
        if (before36()) {
            cb.processResult(KeeperException.Code.UNIMPLEMENTED.intValue(), path, ctx, -1);
            return;
        }
        super.getAllChildrenNumber(path, cb, ctx);
    }

    /**
     * {@code whoAmI} (ZooKeeper 3.7). No request tells a 3.6 server from a 3.7 one without closing the connection, so
     * the first {@code whoAmI} to an ensemble not known to have it is sent, one at a time for all the ensemble's
     * sessions. A 3.6 server answers UNIMPLEMENTED (and then closes the connection): only that answer is remembered
     * for the ensemble, and later calls are refused without being sent. A {@code whoAmI} cut by a connection loss says
     * nothing of the server (it may have been killed or frozen with the request in flight): it fails with a
     * {@link ZkConnectionLossException}, nothing is learnt, and the next call asks again. ZooKeeper's own method
     * returns {@code null} on both and would send it again every time.
     *
     * @throws UnsupportedOperationException on servers known or found to lack it, naming the version and the feature
     * @throws ZkConnectionLossException when the connection was lost before the answer (nothing learnt)
     */
    @Override
    public synchronized List<ClientInfo> whoAmI() throws InterruptedException {
        ServerCapabilities c = capabilities;
        if (c == null || c.whoAmIAnswered()) {
            return sendWhoAmI().getClientInfo();
        }
        if (c.before37()) {
            throw new UnsupportedOperationException(lacking("whoAmI", "3.7"));
        }
        synchronized (c.whoAmIGate()) {
            if (c.before37()) {
                throw new UnsupportedOperationException(lacking("whoAmI", "3.7")); // learnt while this one waited
            }
            WhoAmIResponse response = new WhoAmIResponse();
            SocketAddress sentTo = testableRemoteSocketAddress();
            ReplyHeader r = cnxn.submitRequest(whoAmIHeader(), null, response, null);
            int err = r.getErr();
            if (err == KeeperException.Code.OK.intValue()) {
                c.whoAmIWorks();
                return response.getClientInfo();
            }
            if (!c.whoAmIAnswered() && err == KeeperException.Code.UNIMPLEMENTED.intValue()) {
                c.noWhoAmI();
                throw new UnsupportedOperationException("whoAmI needs ZooKeeper 3.7 or later; the ensemble runs "
                        + c.describe() + " (this one was sent: the server answered it with UNIMPLEMENTED; later ones"
                        + " are refused without sending)");
            }
            if (err == KeeperException.Code.CONNECTIONLOSS.intValue()
                    || err == KeeperException.Code.SESSIONEXPIRED.intValue()) {
                // Not an answer by itself: a server before 3.7 closes the connection right after its UNIMPLEMENTED,
                // and the close can overtake the answer; but a kill or a freeze cuts it the same way. The server it
                // was sent to is asked its version: only an answer before 3.7 teaches that whoAmI is missing.
                String version = sentTo instanceof InetSocketAddress a ? srvrVersion(a) : null;
                if (!c.whoAmIAnswered() && version != null && before37(version)) {
                    c.noWhoAmI();
                    throw new UnsupportedOperationException("whoAmI needs ZooKeeper 3.7 or later; the server it was"
                            + " sent to runs ZooKeeper " + version + " (this one was sent: the server closed the"
                            + " connection on it; later ones are refused without sending)");
                }
                throw new ZkConnectionLossException(
                        KeeperException.Code.get(err),
                        null,
                        "whoAmI was cut by " + KeeperException.Code.get(err) + " before the server answered (the"
                                + " server's version: " + (version == null ? "no answer to srvr" : version) + "):"
                                + " nothing is learnt, and the next whoAmI is sent again",
                        false,
                        null);
            }
            return response.getClientInfo();
        }
    }

    /** How long the {@code srvr} that tells a whoAmI cut by a connection loss from a 3.6 server's refusal may take. */
    private static final int SRVR_TIMEOUT_MILLIS = 1000;

    /**
     * The version {@code server} reports to {@code srvr} ({@code 3.6.4}), asked with this handle's client settings
     * (TLS when the session uses it), or null without an answer.
     */
    private String srvrVersion(InetSocketAddress server) {
        try {
            String text = FourLetterWordMain.send4LetterWord(
                    server.getHostString(), server.getPort(), "srvr", getClientConfig(), SRVR_TIMEOUT_MILLIS);
            return SrvrVersion.of(text);
        } catch (IOException | X509Exception.SSLContextException | RuntimeException e) {
            return null;
        }
    }

    /** Whether a version such as {@code 3.6.4} is before ZooKeeper 3.7. */
    private static boolean before37(String version) {
        String[] parts = version.split("\\.");
        try {
            int major = Integer.parseInt(parts[0]);
            int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            return major < 3 || (major == 3 && minor < 7);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private WhoAmIResponse sendWhoAmI() throws InterruptedException {
        WhoAmIResponse response = new WhoAmIResponse();
        cnxn.submitRequest(whoAmIHeader(), null, response, null);
        return response;
    }

    private static RequestHeader whoAmIHeader() {
        RequestHeader h = new RequestHeader();
        h.setType(ZooDefs.OpCode.whoAmI);
        return h;
    }

    private static void copyStat(Stat from, Stat to) {
        to.setCzxid(from.getCzxid());
        to.setMzxid(from.getMzxid());
        to.setPzxid(from.getPzxid());
        to.setCtime(from.getCtime());
        to.setMtime(from.getMtime());
        to.setVersion(from.getVersion());
        to.setCversion(from.getCversion());
        to.setAversion(from.getAversion());
        to.setEphemeralOwner(from.getEphemeralOwner());
        to.setDataLength(from.getDataLength());
        to.setNumChildren(from.getNumChildren());
    }

    /** Container creates in a transaction as persistent ones; a TTL create fails the transaction before it is sent. */
    private List<Op> known(Iterable<Op> ops) throws KeeperException {
        List<Op> mapped = new ArrayList<>();
        for (Op op : ops) {
            if (op.getType() == ZooDefs.OpCode.createTTL) {
                throw ttlUnsupported(op.getPath());
            }
            if (op.getType() == ZooDefs.OpCode.createContainer) {
                CreateRequest r = (CreateRequest) op.toRequestRecord();
                mapped.add(Op.create(op.getPath(), r.getData(), r.getAcl(), CreateMode.PERSISTENT));
            } else {
                mapped.add(op);
            }
        }
        return mapped;
    }

    /**
     * Closes the session as {@link ZooKeeper#close()} does, then returns the connection-budget slot.
     *
     * @throws UnsupportedOperationException after {@link #closeOnlyThroughCurator()}, when the caller is neither Curator nor the pool
     */
    @Override
    public synchronized void close() throws InterruptedException {
        refuseUnlessOwner(
                "close it", "it would end the session of every lease on it; close the lease or the " + "pool instead");
        try {
            super.close();
        } finally {
            ServerCapabilities c = capabilities;
            if (c != null) {
                c.forget(dropOnDecision);
            }
            provider.close();
        }
    }

    /**
     * True when the first caller outside ZooKeeper's own classes is Curator (its handle holder) or the pool's engine
     * ({@code dev.zksdk.internal}: it applies the ensemble's membership to each handle).
     */
    private static boolean calledByOwner() {
        return StackWalker.getInstance()
                .walk(frames -> frames.map(StackWalker.StackFrame::getClassName)
                        .filter(c ->
                                !c.startsWith("org.apache.zookeeper.") && !c.equals(BudgetedZooKeeper.class.getName()))
                        .findFirst()
                        .map(c -> c.startsWith("org.apache.curator.") || c.startsWith("dev.zksdk.internal."))
                        .orElse(false));
    }

    /**
     * Bounds each connection attempt of a handle (ZooKeeper keeps one bound, the session timeout divided by its host
     * provider's size, fixed between connects) and reads how long the attempt has been silent. Not public API of
     * ZooKeeper: when this version does not have the fields, attempts keep ZooKeeper's bound (logged once).
     */
    private static final class ConnectAttempts implements WeightedHostProvider.AttemptControl {
        private static final Field CONNECT_TIMEOUT;
        private static final Field SEND_THREAD;
        private static final Field SOCKET;
        private static final Field LAST_SEND;
        private static final Field LAST_HEARD;
        private static final Field FIRST_CONNECT;
        static final boolean AVAILABLE;

        static {
            Field connectTimeout = null;
            Field sendThread = null;
            Field socket = null;
            Field lastSend = null;
            Field lastHeard = null;
            Field firstConnect = null;
            try {
                connectTimeout = ClientCnxn.class.getDeclaredField("connectTimeout");
                connectTimeout.setAccessible(true);
                sendThread = ClientCnxn.class.getDeclaredField("sendThread");
                sendThread.setAccessible(true);
                socket = sendThread.getType().getDeclaredField("clientCnxnSocket");
                socket.setAccessible(true);
                lastSend = socket.getType().getDeclaredField("lastSend");
                lastSend.setAccessible(true);
                lastHeard = socket.getType().getDeclaredField("lastHeard");
                lastHeard.setAccessible(true);
                firstConnect = sendThread.getType().getDeclaredField("isFirstConnect");
                firstConnect.setAccessible(true);
                if (connectTimeout.getType() != int.class
                        || lastSend.getType() != long.class
                        || lastHeard.getType() != long.class
                        || firstConnect.getType() != boolean.class) {
                    throw new NoSuchFieldException(
                            "connectTimeout, lastSend, lastHeard or isFirstConnect has another type");
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                LoggerFactory.getLogger(BudgetedZooKeeper.class)
                        .info(
                                "this ZooKeeper client does not let a connection attempt be bounded ({}): an "
                                        + "unanswered attempt is given ZooKeeper's share of the session timeout",
                                e.toString());
                connectTimeout = null;
            }
            CONNECT_TIMEOUT = connectTimeout;
            SEND_THREAD = sendThread;
            SOCKET = socket;
            LAST_SEND = lastSend;
            LAST_HEARD = lastHeard;
            FIRST_CONNECT = firstConnect;
            AVAILABLE = connectTimeout != null;
        }

        private final ClientCnxn cnxn;
        private final ZooKeeper handle;
        private final Object sendThread;
        private final Object socket;

        private ConnectAttempts(ClientCnxn cnxn, ZooKeeper handle, Object sendThread, Object socket) {
            this.cnxn = cnxn;
            this.handle = handle;
            this.sendThread = sendThread;
            this.socket = socket;
        }

        static ConnectAttempts of(ClientCnxn cnxn, ZooKeeper handle) {
            if (!AVAILABLE) {
                return null;
            }
            try {
                Object sendThread = SEND_THREAD.get(cnxn);
                Object socket = SOCKET.get(sendThread);
                return socket == null ? null : new ConnectAttempts(cnxn, handle, sendThread, socket);
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }

        @Override
        public void connectTimeout(int millis) {
            try {
                CONNECT_TIMEOUT.setInt(cnxn, millis);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // keeps ZooKeeper's bound
            }
        }

        @Override
        public void skipClientPause() {
            try {
                // ZooKeeper pauses up to a second before every attempt after its first connection; the provider
                // waits its own jitter after a failed attempt instead.
                FIRST_CONNECT.setBoolean(sendThread, true);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // keeps ZooKeeper's pause
            }
        }

        @Override
        public long millisSinceLastSend() {
            try {
                // ZooKeeper stamps its sends with Time.currentElapsedTime(), sampled once per loop of its send thread.
                return Time.currentElapsedTime() - LAST_SEND.getLong(socket);
            } catch (ReflectiveOperationException | RuntimeException e) {
                return -1;
            }
        }

        @Override
        public ZKClientConfig clientConfig() {
            return handle.getClientConfig();
        }

        @Override
        public long millisSinceLastHeard() {
            try {
                return Time.currentElapsedTime() - LAST_HEARD.getLong(socket);
            } catch (ReflectiveOperationException | RuntimeException e) {
                return -1;
            }
        }

        @Override
        public int negotiatedSessionTimeout() {
            return cnxn.getSessionTimeout();
        }

        @Override
        public boolean dropConnection() {
            try {
                // ZooKeeper's own way to cut the socket under a live session (its Testable): the send thread sees the
                // socket closed, fails the requests in flight with CONNECTIONLOSS and connects again through next().
                handle.getTestable().closeSocket();
            } catch (IOException | RuntimeException e) {
                return false;
            }
            // Closing the socket from another thread does not wake ZooKeeper's send thread: its selector sees nothing
            // ready on a closed channel, and the send thread would notice only when it next writes (its ping after a
            // third of the session timeout without sending, or an application request), seconds after the bound. A
            // request queued now (a read of the root, its answer ignored) wakes it with something to write; writing to
            // the closed socket fails at once, and the send thread fails the requests in flight and connects again.
            // Over TLS (Netty) the close is seen by itself; the read then just fails with CONNECTIONLOSS.
            handle.exists("/", false, IGNORED_ANSWER, null);
            return true;
        }
    }

    /** The answer to the read that wakes the send thread after a dropped connection: nothing to do with it. */
    private static final AsyncCallback.StatCallback IGNORED_ANSWER = (rc, path, ctx, stat) -> {};

    /** Reads whether ZooKeeper's client has requests waiting for replies (not public API: false if absent). */
    private static final class PendingReplies {
        private static final Field PENDING;
        private static final Field OUTGOING = outgoingField();

        private static Field outgoingField() {
            try {
                Field f = ClientCnxn.class.getDeclaredField("outgoingQueue");
                f.setAccessible(true);
                return Collection.class.isAssignableFrom(f.getType()) ? f : null;
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }

        /** Whether requests are queued to be sent; true when that cannot be read (unknown counts as busy). */
        static boolean outgoing(ClientCnxn cnxn) {
            if (OUTGOING == null || PENDING == null) {
                return true;
            }
            try {
                Object queue = OUTGOING.get(cnxn);
                return queue == null || !((Collection<?>) queue).isEmpty();
            } catch (ReflectiveOperationException | RuntimeException e) {
                return true;
            }
        }

        static {
            Field pending = null;
            try {
                pending = ClientCnxn.class.getDeclaredField("pendingQueue");
                pending.setAccessible(true);
                if (!Collection.class.isAssignableFrom(pending.getType())) {
                    throw new NoSuchFieldException(
                            "pendingQueue is a " + pending.getType().getName());
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                LoggerFactory.getLogger(BudgetedZooKeeper.class)
                        .info(
                                "this ZooKeeper client does not expose its requests waiting for replies ({}): a hung"
                                        + " server is left to ZooKeeper's read timeout",
                                e.toString());
                pending = null;
            }
            PENDING = pending;
        }

        static boolean any(ClientCnxn cnxn) {
            if (PENDING == null) {
                return false;
            }
            try {
                // ZooKeeper guards the queue with its own monitor; a lock-free read of isEmpty() is a snapshot that
                // may be a moment stale (an ArrayDeque compares two indexes), which a periodic check tolerates.
                Object queue = PENDING.get(cnxn);
                return queue != null && !((Collection<?>) queue).isEmpty();
            } catch (ReflectiveOperationException | RuntimeException e) {
                return false;
            }
        }
    }

    /** Reads ZooKeeper's own count of received packets, kept by its client socket (not public API: -1 if absent). */
    private static final class ReceivedCount {
        private static final Field SEND_THREAD;
        private static final Field SOCKET;
        private static final Field RECEIVED;
        /** {@code ClientCnxnSocket.incomingBuffer}: the packet being read (null when absent). */
        private static final Field INCOMING;

        static {
            Field sendThread = null;
            Field socket = null;
            Field received = null;
            Field incoming = null;
            try {
                sendThread = ClientCnxn.class.getDeclaredField("sendThread");
                sendThread.setAccessible(true);
                socket = sendThread.getType().getDeclaredField("clientCnxnSocket");
                socket.setAccessible(true);
                received = socket.getType().getDeclaredField("recvCount");
                received.setAccessible(true);
            } catch (ReflectiveOperationException | RuntimeException e) {
                LoggerFactory.getLogger(BudgetedZooKeeper.class)
                        .info(
                                "this ZooKeeper client does not "
                                        + "expose its received-packet count ({}): session expiry is detected by Curator's timer only",
                                e.toString());
                sendThread = null;
            }
            SEND_THREAD = sendThread;
            SOCKET = socket;
            RECEIVED = received;
            if (socket != null) {
                try {
                    incoming = socket.getType().getDeclaredField("incomingBuffer");
                    incoming.setAccessible(true);
                    if (incoming.getType() != ByteBuffer.class) {
                        incoming = null;
                    }
                } catch (ReflectiveOperationException | RuntimeException e) {
                    incoming = null;
                }
            }
            INCOMING = incoming;
        }

        /** The packet count, combined with how far the packet being read has come; -1 when the count is unreadable. */
        static long progress(ClientCnxn cnxn) {
            if (SEND_THREAD == null) {
                return -1;
            }
            try {
                Object socket = SOCKET.get(SEND_THREAD.get(cnxn));
                if (socket == null) {
                    return -1;
                }
                long count = ((AtomicLong) RECEIVED.get(socket)).get();
                // Read without ZooKeeper's send thread's knowledge: a buffer position is an int, a stale one only
                // delays the notice by a sample. Packets shift by 31 bits, so either part changing changes the sum.
                Object buffer = INCOMING == null ? null : INCOMING.get(socket);
                int position = buffer == null ? 0 : ((ByteBuffer) buffer).position();
                return (count << 31) + position;
            } catch (ReflectiveOperationException | RuntimeException e) {
                return -1;
            }
        }

        static long read(ClientCnxn cnxn) {
            if (SEND_THREAD == null) {
                return -1;
            }
            try {
                Object socket = SOCKET.get(SEND_THREAD.get(cnxn));
                return socket == null ? -1 : ((AtomicLong) RECEIVED.get(socket)).get();
            } catch (ReflectiveOperationException | RuntimeException e) {
                return -1;
            }
        }
    }
}
