package dev.zksdk.internal.session;

import dev.zksdk.ZkUnsupportedException;
import dev.zksdk.hosts.ServerCapabilities;
import dev.zksdk.internal.ConnectString;
import dev.zksdk.internal.DaemonThreads;
import dev.zksdk.internal.SrvrVersion;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.zookeeper.ClientCnxn;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.common.X509Exception;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one ensemble's servers can do, learnt once for all sessions of the ensemble (never per watch or per call), so
 * that a request an old server does not know is sent at most once: ZooKeeper 3.4 and 3.5 answer an unknown request
 * with {@code UNIMPLEMENTED} and then close the connection, which drops the shared session's connection under every
 * lease.
 *
 * <p>Both are probed on a new connection before the session announces it ({@link #probe}), so no caller's request
 * meets an unknown one:
 *
 * <ul>
 *   <li><b>ZooKeeper 3.5 requests</b> ({@code create2}, container and TTL nodes): a read of {@code /zookeeper/config},
 *       which every server since 3.5.0 makes itself (czxid 0) and 3.4 has not; or, when the probe gave up, an
 *       {@code UNIMPLEMENTED} answer to one of them. A 3.5 server may be a member of an ensemble in a rolling upgrade
 *       from 3.4, whose 3.4 leader would fail on the 3.5 writes it forwards: the other members of the connect string
 *       are asked their version first ({@code srvr}).
 *   <li><b>Persistent watches</b> ({@code addWatch}) and the other requests of 3.6: a server before 3.5 lacks them; a
 *       3.5 server answers the probe's {@code getAllChildrenNumber} with {@code UNIMPLEMENTED} and closes that
 *       connection, which is made again before anyone uses it.
 * </ul>
 *
 * What is learnt holds for the pool's life: an ensemble upgraded under a running pool keeps the emulation until the
 * pool is restarted (it works on the new servers too). The one exception: a 3.5 ensemble held to 3.4's requests only
 * because members did not answer {@code srvr} goes back to 3.5's requests once they all have answered 3.5 or later.
 */
public final class ServerFeatures implements ServerCapabilities {

    private static final Logger log = LoggerFactory.getLogger(ServerFeatures.class);

    /** What is known of a feature. */
    public enum Known {
        UNKNOWN,
        YES,
        NO
    }

    /** The longest a caller waits for the version read of a new connection (one round trip, usually). */
    private static final Duration PROBE_WAIT = Duration.ofSeconds(2);

    private final String ensemble;
    private final boolean tls;
    private final List<ConnectString.Address> members;
    private volatile Known requests35 = Known.UNKNOWN;
    private volatile Known persistentWatches = Known.UNKNOWN;
    private volatile String how = "not yet known";
    /** Set when a server answered {@code whoAmI} with UNIMPLEMENTED (a 3.6 server: no probe tells 3.6 from 3.7). */
    private volatile boolean noWhoAmI;
    /** A server answered whoAmI: no need to hold {@link #whoAmIGate} for it any more. */
    private volatile boolean whoAmIAnswered;
    /** Not this object's monitor: a whoAmI waits for the network while holding it. */
    private final Object whoAmIGate = new Object();
    /** The probe in flight or last answered; written under this object's lock, read without it. */
    private volatile CompletableFuture<Void> probe;
    /**
     * True while {@link #requests35} is NO only because members of an ensemble with a 3.5 member did not answer
     * {@code srvr} (a 3.4 member may be among them): they are asked again ({@link #recheckLater}) until they answer.
     * Written under this object's lock.
     */
    private volatile boolean held;
    /** Members that did not answer {@code srvr} while {@link #held}; only the recheck thread changes it then. */
    private final Set<ConnectString.Address> silent = ConcurrentHashMap.newKeySet();
    /** Where the silent members' rechecks are timed (the pool's scheduler); null: not asked again. */
    private volatile ScheduledExecutorService rechecks;
    /** Rechecks of the silent members made so far: the next waits {@link #recheckDelayMillis}. */
    private int rechecksDone;

    private volatile boolean closed;

    /** @param ensemble the ensemble's connect string, for messages */
    public ServerFeatures(String ensemble) {
        this(ensemble, false);
    }

    /**
     * What one ensemble's servers can do, not known yet.
     *
     * @param ensemble the ensemble's connect string: its members are asked their version when one turns out to be 3.5
     * @param tls whether the pool reaches the ensemble over TLS (then its members are not asked: 3.4 has no TLS)
     */
    public ServerFeatures(String ensemble, boolean tls) {
        this.ensemble = ensemble;
        this.tls = tls;
        List<ConnectString.Address> parsed;
        try {
            parsed = ConnectString.parse("connectString", ensemble).addresses();
        } catch (IllegalArgumentException e) {
            parsed = List.of();
        }
        this.members = parsed;
    }

    /** Servers known to have every feature (3.6 or later), so that no connection waits for a probe. */
    static ServerFeatures current(String ensemble) {
        ServerFeatures f = new ServerFeatures(ensemble);
        f.requests35 = Known.YES;
        f.persistentWatches = Known.YES;
        f.how = "ZooKeeper 3.6 or later (given)";
        return f;
    }

    /** At most this many version reads per ensemble; after that the pool learns from answers alone. */
    private static final int MAX_PROBES = 5;

    private int probes;

    /**
     * True while a new connection must first find out what the servers can do (before anyone may use it): not known
     * yet, and not given up after {@link #MAX_PROBES} reads cut by connection losses.
     */
    synchronized boolean needsProbe() {
        return (requests35 == Known.UNKNOWN || persistentWatches == Known.UNKNOWN) && probes < MAX_PROBES;
    }

    /**
     * Finds out on a new connection, before the session announces it, what the servers can do, with requests every
     * version answers without closing the connection, except the last: {@code /zookeeper/config} (every server since
     * 3.5 has it, 3.4 not), then {@code getAllChildrenNumber} (ZooKeeper 3.6, like persistent watches; a 3.5 server
     * answers UNIMPLEMENTED and closes this connection, before any caller's request was sent on it). {@code then} gets
     * true when the server is about to close the connection.
     *
     * <p>One probe at a time per ensemble: a connection made while another one's probe is in flight (several sessions
     * starting at once) waits for its answer on {@code later} and probes only if that left the version unknown, so
     * that a 3.5 server is sent the closing request once, not once per session.
     */
    void probe(ZooKeeper zk, Executor later, Consumer<Boolean> then) {
        CompletableFuture<Void> answered = new CompletableFuture<>();
        CompletableFuture<Void> other;
        synchronized (this) {
            other = probe;
            if (other == null || other.isDone()) {
                probes++;
                probe = answered;
                other = null;
            }
        }
        if (other != null) {
            other.whenComplete((v, e) -> {
                Runnable next = () -> {
                    if (needsProbe()) {
                        probe(zk, later, then);
                    } else {
                        then.accept(false);
                    }
                };
                try {
                    later.execute(next);
                } catch (RejectedExecutionException rejected) {
                    // the pool is closing: nothing to announce
                }
            });
            return;
        }
        Consumer<Boolean> done = closing -> {
            answered.complete(null);
            then.accept(closing);
        };
        // getConfig reads /zookeeper/config outside any chroot (an exists() would be under the chroot).
        zk.getConfig(
                false,
                (rc, path, ctx, data, stat) -> {
                    if (rc == Code.NONODE.intValue()) {
                        learnBefore35("the server has no /zookeeper/config");
                    } else if (rc == Code.OK.intValue() && stat != null && stat.getCzxid() != 0) {
                        // The server makes its own node when it starts (czxid 0); a client made this one, on a server
                        // that lets clients write under /zookeeper: 3.4.
                        learnBefore35("its /zookeeper/config was made by a client");
                    } else if (rc == Code.OK.intValue() || rc == Code.NOAUTH.intValue()) {
                        if (requests35 == Known.UNKNOWN && persistentWatches != Known.NO) {
                            // A 3.5 server is told from a later one by the next request, and then its ensemble's
                            // other members are asked before any 3.5 request is allowed.
                            how = "ZooKeeper 3.5 or later (it has /zookeeper/config)";
                        }
                    } else {
                        done.accept(false); // cut: the next connection asks again
                        return;
                    }
                    if (persistentWatches == Known.NO) {
                        // Known from an earlier connection: a 3.5 server.
                        if (requests35 == Known.UNKNOWN) {
                            checkMembersThen(later, () -> done.accept(false));
                        } else {
                            done.accept(false);
                        }
                        return;
                    }
                    if (persistentWatches == Known.YES) {
                        if (requests35 == Known.UNKNOWN) {
                            requests35 = Known.YES;
                        }
                        done.accept(false);
                        return;
                    }
                    zk.getAllChildrenNumber(
                            "/",
                            (arc, apath, actx, number) -> {
                                if (arc == Code.UNIMPLEMENTED.intValue()) {
                                    noPersistentWatches("it answered getAllChildrenNumber with UNIMPLEMENTED");
                                    if (requests35 == Known.UNKNOWN) {
                                        checkMembersThen(later, () -> done.accept(true));
                                    } else {
                                        done.accept(true);
                                    }
                                    return;
                                }
                                if (arc == Code.OK.intValue()
                                        || arc == Code.NONODE.intValue()
                                        || arc == Code.NOAUTH.intValue()) {
                                    persistentWatchesWork();
                                    if (requests35 == Known.UNKNOWN) {
                                        requests35 = Known.YES;
                                    }
                                    how = "ZooKeeper 3.6 or later";
                                }
                                done.accept(false);
                            },
                            null);
                },
                null);
    }

    /**
     * A 3.5 server answered the probe: before its 3.5 requests are allowed, asks every other member of the connect
     * string {@code srvr} (on a thread of its own: blocking I/O, bounded by {@link #SRVR_TIMEOUT} per member), then
     * runs {@code then} on {@code later}. A member that says it runs 3.4 means a rolling upgrade from 3.4 is under way: a 3.5 member
     * forwards every write to the leader, and a 3.4 leader that receives a {@code create2} or container create it does
     * not know drops that member from the quorum (its LearnerHandler fails on it), again at each retry. The ensemble is
     * then treated as 3.4 for the pool's life. A member that does not answer at all (down, frozen, unreachable) may be
     * such a 3.4 member, which could not follow the 3.5 requests its peers would propose when it comes back: until
     * every such member answers, the ensemble is held to 3.4's requests ({@link #held}) and they are asked again with
     * a backoff ({@link #recheckLater}). Only here, where the pool met a 3.5 member (the rolling upgrade ZooKeeper documents from 3.4
     * through 3.5): a pool that meets 3.6 or later asks no member. A member that refuses {@code srvr} (not
     * whitelisted) counts as answered. Not asked over TLS, which 3.4 does not have.
     */
    private void checkMembersThen(Executor later, Runnable then) {
        if (tls || members.size() < 2) {
            if (requests35 == Known.UNKNOWN) {
                requests35 = Known.YES;
            }
            then.run();
            return;
        }
        DaemonThreads.start("zk-sdk-member-versions", () -> {
            try {
                List<ConnectString.Address> noAnswer = askMembers(members);
                synchronized (this) {
                    if (requests35 == Known.UNKNOWN) {
                        if (noAnswer.isEmpty()) {
                            requests35 = Known.YES;
                        } else {
                            silent.addAll(noAnswer);
                            requests35 = Known.NO;
                            held = true;
                            how = heldHow();
                        }
                    }
                }
                if (held) {
                    log.warn(
                            "{}: members {} did not answer srvr: one may be a ZooKeeper 3.4 member of a rolling upgrade"
                                    + " from 3.4 (down or restarting), which could not follow 3.5 requests; only 3.4's"
                                    + " requests are sent until every member tells a version of 3.5 or later (asked"
                                    + " again every {} to {} s)",
                            ensemble,
                            names(noAnswer),
                            RECHECK_FIRST.toSeconds(),
                            RECHECK_MAX.toSeconds());
                    recheckLater();
                }
            } finally {
                try {
                    later.execute(then);
                } catch (RejectedExecutionException rejected) {
                    // the pool is closing: nothing to announce
                }
            }
        });
    }

    /**
     * Asks each of {@code asked} its version ({@code srvr}, one after the other: blocking, {@link #SRVR_TIMEOUT} each
     * at most) and learns a 3.4 member at once; returns those that told no version. A member that refuses {@code srvr}
     * (not whitelisted) is up and counts as answered: holding a hardened ensemble to
     * 3.4's requests for good would be wrong far more often than a whitelisted-out 3.4 member is met.
     */
    private List<ConnectString.Address> askMembers(List<ConnectString.Address> asked) {
        List<ConnectString.Address> noAnswer = new ArrayList<>();
        for (ConnectString.Address member : asked) {
            String text = srvrAnswer(member);
            String version = text == null ? null : SrvrVersion.of(text);
            if (version == null && (text == null || !SrvrVersion.refused(text))) {
                // No answer, or one without a version that is not a refusal: "not currently serving" (starting,
                // out of the quorum), whatever its version.
                noAnswer.add(member);
                continue;
            }
            if (version != null && version.startsWith("3.4.")) {
                learnBefore35("member " + member.host() + ":" + member.port() + " runs ZooKeeper " + version
                        + ": a rolling upgrade from 3.4 is under way, and a 3.4 member does not know the 3.5"
                        + " requests its 3.5 peers would forward or propose");
            }
        }
        return noAnswer;
    }

    /** The first wait before the silent members are asked again; it doubles at each recheck up to {@link #RECHECK_MAX}. */
    static final Duration RECHECK_FIRST = Duration.ofSeconds(1);

    /** The longest wait between two rechecks of the silent members. */
    static final Duration RECHECK_MAX = Duration.ofSeconds(30);

    /** The wait before recheck number {@code done + 1}: 1, 2, 4, ... s, at most {@link #RECHECK_MAX}. */
    static long recheckDelayMillis(int done) {
        return Math.min(RECHECK_MAX.toMillis(), RECHECK_FIRST.toMillis() << Math.min(done, 20));
    }

    /**
     * Times the next recheck of the silent members on the pool's scheduler; the {@code srvr} connections themselves are
     * made on a thread of their own, one member after the other, and the next recheck is timed only once this one is
     * over: at most one {@code srvr} per silent member per wait, never two in flight to one member, and none on a
     * caller's thread.
     */
    private void recheckLater() {
        ScheduledExecutorService scheduler = rechecks;
        if (scheduler == null || closed) {
            return;
        }
        try {
            scheduler.schedule(
                    () -> {
                        if (!closed) {
                            DaemonThreads.start("zk-sdk-member-versions", this::recheck);
                        }
                    },
                    recheckDelayMillis(rechecksDone),
                    TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // the pool is closing
        }
    }

    /** Asks the silent members again; releases the hold when none is left, or times the next recheck. */
    private void recheck() {
        rechecksDone++;
        List<ConnectString.Address> asked = List.copyOf(silent);
        List<ConnectString.Address> noAnswer = askMembers(asked);
        boolean released = false;
        synchronized (this) {
            if (!held) {
                silent.clear(); // a 3.4 member (or an UNIMPLEMENTED answer) decided it for good
                return;
            }
            silent.retainAll(noAnswer);
            if (silent.isEmpty()) {
                held = false;
                requests35 = Known.YES;
                how = "ZooKeeper 3.5 (every member of the ensemble runs 3.5 or later)";
                released = true;
            } else {
                how = heldHow();
            }
        }
        if (released) {
            log.info(
                    "{}: every member answered srvr with ZooKeeper 3.5 or later: container parents, create2 and TTL"
                            + " nodes are used again",
                    ensemble);
            return;
        }
        recheckLater();
    }

    /** Stops asking silent members their version (the pool is closing). */
    public void close() {
        closed = true;
    }

    /**
     * Where the members that did not answer are asked again (the pool's scheduler); without it they are not.
     *
     * @param scheduler the pool's scheduler, used only to time the rechecks
     */
    public void recheckSilentMembersOn(ScheduledExecutorService scheduler) {
        this.rechecks = scheduler;
    }

    private String heldHow() {
        return "ZooKeeper 3.5, held to 3.4's requests while members " + names(List.copyOf(silent))
                + " do not answer srvr (one may be a 3.4 member of a rolling upgrade)";
    }

    private static String names(List<ConnectString.Address> members) {
        return members.stream()
                .map(a -> a.host() + ":" + a.port())
                .sorted()
                .toList()
                .toString();
    }

    /** How long one member's {@code srvr} may take (connect, then the answer) while a 3.5 server is probed. */
    static final Duration SRVR_TIMEOUT = Duration.ofMillis(1000);

    /** The version a member's {@code srvr} reports ({@code 3.4.14}, without qualifier), or null without an answer. */
    static String srvrVersion(ConnectString.Address member) {
        String text = srvrAnswer(member);
        return text == null ? null : SrvrVersion.of(text);
    }

    /** What a member answers to {@code srvr} (a refusal included), or null when it does not answer. */
    private static String srvrAnswer(ConnectString.Address member) {
        try {
            return FourLetterWordMain.send4LetterWord(
                    member.host(), member.port(), "srvr", false, (int) SRVR_TIMEOUT.toMillis());
        } catch (IOException | X509Exception.SSLContextException | RuntimeException e) {
            log.debug("srvr of {}:{} got no answer: {}", member.host(), member.port(), e.toString());
            return null;
        }
    }

    @Override
    public void awaitKnown() {
        CompletableFuture<Void> p = probe;
        if (p == null || p.isDone() || ClientCnxn.isInEventThread()) {
            return;
        }
        try {
            p.get(PROBE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // Not known yet: the request goes out as it is, and its answer teaches the pool.
        }
    }

    /** True once the ensemble is known to lack {@code create2}, container and TTL nodes (before ZooKeeper 3.5). */
    @Override
    public boolean before35() {
        return requests35 == Known.NO;
    }

    @Override
    public boolean before36() {
        return persistentWatches == Known.NO;
    }

    @Override
    public boolean before37() {
        return noWhoAmI || before36();
    }

    @Override
    public void noWhoAmI() {
        if (noWhoAmI) {
            return;
        }
        noWhoAmI = true;
        if (persistentWatches != Known.NO) {
            how = "a server before ZooKeeper 3.7 (it closed the connection on whoAmI)";
        }
        log.info("{}: {}: whoAmI is refused without being sent from now on", ensemble, how);
    }

    @Override
    public boolean whoAmIAnswered() {
        return whoAmIAnswered;
    }

    @Override
    public void whoAmIWorks() {
        whoAmIAnswered = true;
    }

    @Override
    public Object whoAmIGate() {
        return whoAmIGate;
    }

    @Override
    public void unimplemented(String request) {
        learnBefore35("it answered " + request + " with UNIMPLEMENTED");
    }

    @Override
    public boolean learning35() {
        return requests35 == Known.UNKNOWN;
    }

    @Override
    public String describe() {
        return how;
    }

    private void learnBefore35(String evidence) {
        boolean hadPersistentWatches;
        synchronized (this) {
            if (requests35 == Known.NO && !held) {
                return;
            }
            held = false;
            requests35 = Known.NO;
            hadPersistentWatches = persistentWatches != Known.NO;
            persistentWatches = Known.NO;
            how = "a server before ZooKeeper 3.5 (" + evidence + ")";
        }
        log.info(
                "{}: {}: parents of ephemerals and recipe nodes are created persistent (no container nodes), creates "
                        + "that return a Stat read it after a plain create, and watches are re-armed one-shot watches",
                ensemble,
                how);
        if (hadPersistentWatches) {
            persistentWatchesGone();
        }
    }

    /** Whether {@code addWatch} (persistent watches, ZooKeeper 3.6) is known to work, known missing, or not known. */
    public Known persistentWatches() {
        return persistentWatches;
    }

    /** An {@code addWatch} succeeded. */
    public void persistentWatchesWork() {
        persistentWatches = Known.YES;
    }

    /** An {@code addWatch} was answered with {@code UNIMPLEMENTED} (a server before 3.6). */
    public void noPersistentWatches() {
        noPersistentWatches("it answered addWatch with UNIMPLEMENTED");
    }

    private void noPersistentWatches(String evidence) {
        if (persistentWatches == Known.NO) {
            return;
        }
        persistentWatches = Known.NO;
        if (requests35 != Known.NO) {
            how = "a server before ZooKeeper 3.6 (" + evidence + ")";
        }
        log.info(
                "{}: {}: node and children watches are re-armed one-shot watches from now on; tree watches and tree "
                        + "caches fail at once",
                ensemble,
                how);
        persistentWatchesGone();
    }

    /** The handles of the ensemble, told at once when it turns out to lack persistent watches. */
    private final Set<Runnable> whenNoPersistentWatches = ConcurrentHashMap.newKeySet();

    @Override
    public void whenNoPersistentWatches(Runnable action) {
        whenNoPersistentWatches.add(action);
    }

    @Override
    public void forget(Runnable action) {
        whenNoPersistentWatches.remove(action);
    }

    /** Every handle of the ensemble drops its persistent watches now, not at its next attempt. */
    private void persistentWatchesGone() {
        for (Runnable action : whenNoPersistentWatches) {
            try {
                action.run();
            } catch (RuntimeException e) {
                log.warn("{}: a handle could not drop its persistent watches", ensemble, e);
            }
        }
    }

    /** Completed once the check of a server that closed a reconnect carrying persistent watches is over. */
    private volatile CompletableFuture<Void> setWatches2Check;

    @Override
    public void awaitPersistentWatchesDecision() {
        CompletableFuture<Void> check = setWatches2Check;
        if (check == null || check.isDone() || ClientCnxn.isInEventThread()) {
            return;
        }
        try {
            check.get(SRVR_TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // not decided: the request goes out as it is
        }
    }

    /** Servers ({@code host:port}) known to close a reconnect carrying persistent watches; guarded by itself. */
    private final Set<String> refusedSetWatches2 = new HashSet<>();
    /** Per server: reconnects carrying persistent watches it closed at once in a row, its version unknown. */
    private final Map<String, Integer> setWatches2Closes = new ConcurrentHashMap<>();

    /**
     * A connection to {@code server} was lost right after a reconnect that re-registered persistent watches
     * ({@code SetWatches2}): a server before 3.6 (a member of a mixed ensemble, or one rolled back) closes it on that
     * request. Not every such loss is that (the server may have been killed), so that one server, and only it, is asked
     * its version ({@code srvr}, bounded by {@link #SRVR_TIMEOUT}; not over TLS): before 3.6 decides it; 3.6 or later
     * clears it. Without an answer ({@code srvr} not whitelisted, the server gone), a second such loss in a row on
     * the same server decides it. Decided, the ensemble lacks persistent watches from now on: every session of the
     * ensemble drops its own at once (and checks again before its next attempt) and re-arms node and children
     * watches as one-shot watches; logged at WARN once per server. While the check runs, an {@code addWatch} waits
     * for it ({@link #awaitPersistentWatchesDecision}).
     */
    @Override
    public void closedAfterSetWatches2(String server) {
        synchronized (refusedSetWatches2) {
            if (refusedSetWatches2.contains(server)) {
                return;
            }
        }
        CompletableFuture<Void> check = new CompletableFuture<>();
        setWatches2Check = check;
        try {
            checkClosedAfterSetWatches2(server);
        } finally {
            check.complete(null);
        }
    }

    private void checkClosedAfterSetWatches2(String server) {
        String version = tls ? null : srvrVersion(server);
        String evidence;
        if (version != null) {
            if (!SrvrVersion.before36(version)) {
                setWatches2Closes.remove(server);
                log.debug("{}: server {} closed a reconnect at once, but runs ZooKeeper {}", ensemble, server, version);
                return;
            }
            evidence = "it closed the connection right after a reconnect that re-registered persistent watches"
                    + " (SetWatches2) and reports ZooKeeper " + version;
        } else {
            int closes = setWatches2Closes.merge(server, 1, Integer::sum);
            if (closes < 2) {
                log.info(
                        "{}: server {} closed the connection right after a reconnect that re-registered persistent"
                                + " watches (SetWatches2), and srvr gave no version; once more in a row and it is taken"
                                + " for a server before ZooKeeper 3.6",
                        ensemble,
                        server);
                return;
            }
            evidence = "it closed the connection twice in a row right after a reconnect that re-registered persistent"
                    + " watches (SetWatches2); srvr gave no version";
        }
        synchronized (refusedSetWatches2) {
            if (!refusedSetWatches2.add(server)) {
                return;
            }
        }
        log.warn(
                "{}: server {} lacks persistent watches: {}; they are dropped on the client side and node and children"
                        + " watches re-armed as one-shot watches from now on (a tree watch already set becomes"
                        + " one-shot watches on its subtree, after a RESYNC; new tree watches fail at once)",
                ensemble,
                server,
                evidence);
        noPersistentWatches("server " + server + " closed the connection on SetWatches2");
    }

    @Override
    public void setWatches2Survived(String server) {
        setWatches2Closes.remove(server);
    }

    private static String srvrVersion(String server) {
        try {
            List<ConnectString.Address> parsed =
                    ConnectString.parse("server", server).addresses();
            return parsed.isEmpty() ? null : srvrVersion(parsed.get(0));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The failure of a feature the ensemble's servers lack, naming the feature and what is known of the version. */
    public ZkUnsupportedException unsupported(String path, String feature, String since) {
        return new ZkUnsupportedException(
                path,
                feature,
                how,
                feature + " needs ZooKeeper " + since + " or later; the ensemble " + ensemble + " runs " + how);
    }

    @Override
    public String toString() {
        return "ServerFeatures{" + ensemble + ": " + how + "}";
    }
}
