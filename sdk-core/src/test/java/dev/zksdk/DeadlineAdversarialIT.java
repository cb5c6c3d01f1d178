package dev.zksdk;

import static dev.zksdk.Adversary.print;
import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.Adversary.Outcome;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ProxiedEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerProcess;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Adversarial review of issue 15 ("every call ends by its operationTimeout, even while a server holds it
 * unanswered"): every public call form, started at the moment of a fault, against three separate-process servers
 * behind proxies. Bounds come from the public docs only:
 * <ul>
 *   <li>operations (sync and async, multi, sync(), exists, getChildren, cache reads, {@code EphemeralNode.setData},
 *       {@code watch}): {@code operationTimeout} (README "Bounded in time": "Every call ends by its
 *       operationTimeout");</li>
 *   <li>waits for a connected session ({@code pool.lease()}, {@code lease.sessionId()}): {@code connectionTimeout};
 *       {@code EphemeralNode.close()}: "waits for the delete up to the connection timeout";</li>
 *   <li>{@code ephemeral(...)} and {@code cache(...)}: their javadoc's "connection timeout plus the session
 *       timeout".</li>
 * </ul>
 * A write that ends without success must say {@code outcomeUnknown()} unless it provably was not applied, which is
 * checked on the servers after the fault is healed; a read never says outcome unknown. The thread that made a call
 * must not be left interrupted, right after the call or later.
 */
class DeadlineAdversarialIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(9); // ZooKeeper's read timeout: 6 s
    static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(2);
    static final Duration OPERATION_TIMEOUT = Duration.ofMillis(2500);
    /** Slack on a deadline for a loaded 2-core box running three server JVMs next to the test (as BoundedTimeIT). */
    static final long SLACK_MS = 500;

    /**
     * The slack on a bound of {@code boundMs}: {@link #SLACK_MS}, or a tenth of a longer bound (a watch's 11 s bound
     * ended 612 ms late in a CI run at load 9, the pool's timer on time and its thread scheduled late).
     */
    static long slack(long boundMs) {
        return Math.max(SLACK_MS, boundMs / 10);
    }

    static final byte[] V = "v".getBytes(StandardCharsets.UTF_8);
    static final byte[] NEW = "new".getBytes(StandardCharsets.UTF_8);

    static ProcessEnsemble ensemble;
    static final AtomicInteger RUN = new AtomicInteger();

    @BeforeAll
    static void start() {
        ensemble = ProcessEnsemble.builder().size(3).start();
    }

    @AfterAll
    static void stop() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    @BeforeEach
    void allUp() {
        ensemble.restoreAll(Duration.ofSeconds(60));
    }

    enum Fault {
        /** The pool's server SIGSTOPped: TCP open, nothing answers; the other two serve. */
        SIGSTOP_SERVER,
        /** The proxy of the pool's server frozen: a silent network to it; the other two reachable. */
        FREEZE_PROXY,
        /** Every proxy frozen: no server reachable, TCP handshakes still complete. */
        FREEZE_ALL,
        /** The pool's server, the leader, killed with -9 (connection reset, election). */
        KILL9_LEADER,
        /** The pool's connection cut, and the next connection to every server black-holed. */
        BLACKHOLE_RECONNECTS
    }

    /** The faults on a server (a member stopped or killed): one at a time, since they disturb every pool. */
    @ParameterizedTest
    @EnumSource(
            value = Fault.class,
            names = {"SIGSTOP_SERVER", "KILL9_LEADER"})
    void everyCallFormStartedAtTheFaultEndsByItsDocumentedBound(Fault fault) throws Exception {
        everyCallFormEndsByItsBound(fault);
    }

    /**
     * The network faults (a frozen proxy, every proxy frozen, reconnects black-holed) touch only the proxies of their
     * own case, which has its own pool: the three run at once, each checked as when alone.
     */
    @Test
    void everyCallFormStartedAtANetworkFaultEndsByItsDocumentedBound() {
        Timings.allCasesAtOnce(
                List.of(Fault.FREEZE_PROXY, Fault.FREEZE_ALL, Fault.BLACKHOLE_RECONNECTS),
                this::everyCallFormEndsByItsBound);
    }

    private void everyCallFormEndsByItsBound(Fault fault) throws Exception {
        String base = "/dl-" + fault.name().toLowerCase() + "-" + RUN.incrementAndGet() + "-" + System.nanoTime();
        ServerProcess leader = ensemble.leader();
        Recorder events = new Recorder();
        ServerProcess victim = null;
        try (ProxiedEnsemble proxies = ProxiedEnsemble.of(ensemble.connectString())) {
            HostsConfig.Builder hosts = HostsConfig.builder();
            if (fault == Fault.KILL9_LEADER) {
                hosts.weight(proxies.proxyFor(leader.address()).connectString(), HostsConfig.MAX_WEIGHT);
            }
            try (ZkSessionPool pool = ZkSessionPool.builder()
                    .name("dl-" + fault.name().toLowerCase().replace('_', '-'))
                    .connectString(proxies.connectString())
                    .sessionTimeout(SESSION_TIMEOUT)
                    .connectionTimeout(CONNECTION_TIMEOUT)
                    .operationPolicy(OperationPolicy.builder()
                            .operationTimeout(OPERATION_TIMEOUT)
                            .build())
                    .hosts(hosts.build())
                    .listener(events)
                    .build()) {
                ZkLease lease = pool.lease();
                lease.create(base, V, CreateMode.PERSISTENT);
                for (String n :
                        List.of("s-sync", "s-async", "d-sync", "d-async", "kids", "kids/a", "kids/b", "cached")) {
                    lease.create(base + "/" + n, V, CreateMode.PERSISTENT);
                }
                EphemeralNode ephSet = lease.ephemeral(base + "/eph-set", V);
                EphemeralNode ephClose = lease.ephemeral(base + "/eph-close", V);
                WatchHandle watchToClose = lease.watch(base + "/kids", e -> {});
                ZkCache cache = lease.cache(base + "/cached");
                cache.get();
                String server = pool.ensembles().get(0).sessions().get(0).server();
                ZkProxy proxy = proxies.proxies().stream()
                        .filter(p -> p.connectString().equals(server))
                        .findFirst()
                        .orElseThrow();
                victim = ensemble.servers().stream()
                        .filter(s -> s.address().equals(proxy.target()))
                        .findFirst()
                        .orElseThrow();
                if (fault == Fault.KILL9_LEADER) {
                    assertThat(victim)
                            .as("the pool's session is on the leader (weighted)")
                            .isSameAs(leader);
                }

                // The fault.
                switch (fault) {
                    case SIGSTOP_SERVER -> victim.sigstop();
                    case FREEZE_PROXY -> proxy.freeze();
                    case FREEZE_ALL -> proxies.freezeAll();
                    case KILL9_LEADER -> victim.kill9();
                    case BLACKHOLE_RECONNECTS -> {
                        proxies.proxies().forEach(p -> p.blackholeNextConnections(1));
                        proxy.closeAllConnections();
                    }
                    default -> throw new IllegalStateException();
                }
                long faultAt = System.nanoTime();

                // Every form at once, each on its own thread.
                Map<String, Long> bounds = new LinkedHashMap<>();
                List<String> kinds = new ArrayList<>();
                List<CompletableFuture<Outcome>> calls = new ArrayList<>();
                long op = OPERATION_TIMEOUT.toMillis();
                long ct = CONNECTION_TIMEOUT.toMillis();
                long ctSt = ct + SESSION_TIMEOUT.toMillis();
                Function<String, String> p = n -> base + "/" + n;
                addSync(kinds, calls, bounds, "getData", false, op, () -> lease.getData(base));
                addSync(kinds, calls, bounds, "exists", false, op, () -> lease.exists(base));
                addSync(kinds, calls, bounds, "getChildren", false, op, () -> lease.getChildren(p.apply("kids")));
                addSync(kinds, calls, bounds, "sync", false, op, () -> {
                    lease.sync(base);
                    return null;
                });
                addSync(
                        kinds,
                        calls,
                        bounds,
                        "create",
                        true,
                        op,
                        () -> lease.create(p.apply("c-sync"), V, CreateMode.PERSISTENT));
                addSync(kinds, calls, bounds, "setData", true, op, () -> lease.setData(p.apply("s-sync"), NEW, -1));
                addSync(kinds, calls, bounds, "delete", true, op, () -> {
                    lease.delete(p.apply("d-sync"), -1);
                    return null;
                });
                addSync(
                        kinds,
                        calls,
                        bounds,
                        "multi",
                        true,
                        op,
                        () -> lease.multi(List.of(
                                Op.create(p.apply("m-sync"), V, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT))));
                addAsync(kinds, calls, bounds, "getDataAsync", false, op, () -> lease.getDataAsync(base));
                addAsync(kinds, calls, bounds, "existsAsync", false, op, () -> lease.existsAsync(base));
                addAsync(
                        kinds,
                        calls,
                        bounds,
                        "getChildrenAsync",
                        false,
                        op,
                        () -> lease.getChildrenAsync(p.apply("kids")));
                addAsync(kinds, calls, bounds, "syncAsync", false, op, () -> lease.syncAsync(base));
                addAsync(
                        kinds,
                        calls,
                        bounds,
                        "createAsync",
                        true,
                        op,
                        () -> lease.createAsync(p.apply("c-async"), V, CreateMode.PERSISTENT));
                addAsync(
                        kinds,
                        calls,
                        bounds,
                        "setDataAsync",
                        true,
                        op,
                        () -> lease.setDataAsync(p.apply("s-async"), NEW, -1));
                addAsync(
                        kinds, calls, bounds, "deleteAsync", true, op, () -> lease.deleteAsync(p.apply("d-async"), -1));
                addAsync(
                        kinds,
                        calls,
                        bounds,
                        "multiAsync",
                        true,
                        op,
                        () -> lease.multiAsync(List.of(
                                Op.create(p.apply("m-async"), V, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT))));
                addSync(kinds, calls, bounds, "EphemeralNode.setData", true, op, () -> {
                    ephSet.setData(NEW);
                    return null;
                });
                // watch(): its javadoc states no bound; the README says "every call ends by its operationTimeout"; the
                // SDK's
                // own message says "not armed on the server within <connectionTimeout + sessionTimeout>", as cache(...)
                // documents. Held to the documented cache bound here; the figure against operationTimeout is reported.
                addSync(kinds, calls, bounds, "watch", false, ctSt, () -> lease.watch(p.apply("s-sync"), e -> {}));
                addSync(
                        kinds,
                        calls,
                        bounds,
                        "watchChildren",
                        false,
                        ctSt,
                        () -> lease.watchChildren(p.apply("kids"), e -> {}));
                addSync(kinds, calls, bounds, "WatchHandle.close", false, op, () -> {
                    watchToClose.close();
                    return null;
                });
                addSync(kinds, calls, bounds, "cache.get", false, op, () -> cache.get());
                addSync(kinds, calls, bounds, "cache.getCurrent", false, op, () -> cache.getCurrent(p.apply("cached")));
                addSync(kinds, calls, bounds, "lease.sessionId", false, ct, lease::sessionId);
                addSync(kinds, calls, bounds, "pool.lease", false, ct, () -> {
                    pool.lease().close();
                    return null;
                });
                addSync(kinds, calls, bounds, "pool.lease+getData", false, ct + op, () -> {
                    try (ZkLease l = pool.lease()) {
                        return l.getData(base);
                    }
                });
                addSync(kinds, calls, bounds, "EphemeralNode.close", true, ct, () -> {
                    ephClose.close();
                    return null;
                });
                addSync(kinds, calls, bounds, "ephemeral", true, ctSt, () -> lease.ephemeral(p.apply("e-new"), V));
                addSync(kinds, calls, bounds, "cache(new)", false, ctSt, () -> lease.cache(p.apply("s-async")));

                List<Outcome> outcomes = Adversary.collect(kinds, calls, faultAt, Duration.ofSeconds(40));

                // Heal, then look on the servers which writes were applied.
                switch (fault) {
                    case SIGSTOP_SERVER -> victim.sigcont();
                    case FREEZE_PROXY, FREEZE_ALL -> proxies.unfreezeAll();
                    case KILL9_LEADER -> victim.restart();
                    default -> {}
                }
                ensemble.awaitQuorum(Duration.ofSeconds(60));
                Adversary.pause(1500); // requests queued in a stopped server or a frozen proxy get their chance to land
                Map<String, Boolean> applied = new LinkedHashMap<>();
                try (RawZooKeeper raw = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30))) {
                    ZooKeeper zk = raw.zk();
                    CompletableFuture<Void> synced = new CompletableFuture<>();
                    zk.sync(base, (rc, path, ctx) -> synced.complete(null), null);
                    synced.get();
                    applied.put("create", zk.exists(p.apply("c-sync"), false) != null);
                    applied.put("createAsync", zk.exists(p.apply("c-async"), false) != null);
                    applied.put("setData", Arrays.equals(zk.getData(p.apply("s-sync"), false, null), NEW));
                    applied.put("setDataAsync", Arrays.equals(zk.getData(p.apply("s-async"), false, null), NEW));
                    applied.put("delete", zk.exists(p.apply("d-sync"), false) == null);
                    applied.put("deleteAsync", zk.exists(p.apply("d-async"), false) == null);
                    applied.put("multi", zk.exists(p.apply("m-sync"), false) != null);
                    applied.put("multiAsync", zk.exists(p.apply("m-async"), false) != null);
                }

                // Figures.
                print("FIGURES deadline " + fault + ": victim " + victim + (victim == leader ? " (leader)" : "")
                        + ", operationTimeout " + op + " ms, connectionTimeout " + ct + " ms, sessionTimeout "
                        + SESSION_TIMEOUT.toMillis() + " ms, slack " + SLACK_MS + " ms or a tenth of the bound");
                for (Outcome o : outcomes) {
                    String k = baseKind(o.kind());
                    print("FIGURES deadline " + fault + "   " + o + " (bound " + bounds.getOrDefault(k, -1L) + " ms)"
                            + (applied.containsKey(k) ? " applied=" + applied.get(k) : ""));
                }
                print("FIGURES deadline " + fault + " session events (ms from the fault): "
                        + Timings.timed(events).stream()
                                .map(t -> t.event().state() + "@" + Timings.ms(t.at() - faultAt) + "ms"
                                        + (t.event().state() == SessionState.LOST
                                                ? "(client=" + t.event().detectedByClient() + ")"
                                                : ""))
                                .toList());

                SoftAssertions soft = new SoftAssertions();
                for (Outcome o : outcomes) {
                    String k = baseKind(o.kind());
                    long bound = bounds.getOrDefault(k, 0L) + slack(bounds.getOrDefault(k, 0L));
                    soft.assertThat(o.millis())
                            .as(fault + ": " + o + " must end by its bound " + bound + " ms")
                            .isLessThanOrEqualTo(bound);
                    soft.assertThat(o.interruptedAfter())
                            .as(fault + ": calling thread left interrupted: " + o)
                            .isFalse();
                    soft.assertThat(o.interruptedLater())
                            .as(fault + ": calling thread interrupted after the call: " + o)
                            .isFalse();
                    if (!o.write() && o.error() instanceof ZkConnectionLossException) {
                        soft.assertThat(((ZkConnectionLossException) o.error()).outcomeUnknown())
                                .as(fault + ": a read never says outcome unknown: " + o)
                                .isFalse();
                    }
                    if (applied.containsKey(k)) {
                        if (o.saysNotApplied()) {
                            soft.assertThat(applied.get(k))
                                    .as(fault + ": " + o + " says the write was not applied, but the "
                                            + "servers have it")
                                    .isFalse();
                        }
                        if (o.ok()) {
                            soft.assertThat(applied.get(k))
                                    .as(fault + ": " + o + " succeeded, the servers must have it")
                                    .isTrue();
                        }
                    }
                }
                soft.assertAll();
            } finally {
                if (victim != null && victim.isSuspended()) {
                    victim.sigcont();
                }
                proxies.unfreezeAll();
            }
        }
    }

    static String baseKind(String kind) {
        int i = kind.indexOf(" (NEVER");
        return i < 0 ? kind : kind.substring(0, i);
    }

    static void addSync(
            List<String> kinds,
            List<CompletableFuture<Outcome>> calls,
            Map<String, Long> bounds,
            String kind,
            boolean write,
            long boundMs,
            Callable<?> call) {
        kinds.add(kind);
        bounds.put(kind, boundMs);
        calls.add(Adversary.sync(kind, write, call));
    }

    static void addAsync(
            List<String> kinds,
            List<CompletableFuture<Outcome>> calls,
            Map<String, Long> bounds,
            String kind,
            boolean write,
            long boundMs,
            Supplier<CompletableFuture<?>> call) {
        kinds.add(kind);
        bounds.put(kind, boundMs);
        calls.add(Adversary.async(kind, write, call));
    }

    // ------------------------------------------------------------------------------------------------ interrupts

    /**
     * A call blocked on a hung server (the pool's server SIGSTOPped) is interrupted by the user after 500 ms: it must end
     * promptly with {@link ZkInterruptedException} ("The thread's interrupt flag is set again"), for a read and a write.
     */
    @Test
    void aUserInterruptEndsABlockedCallWithZkInterruptedExceptionAndTheFlagSet() throws Exception {
        String base = "/dl-intr-" + System.nanoTime();
        ServerProcess victim = null;
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .name("dl-intr")
                        .connectString(ensemble.connectString())
                        .sessionTimeout(Duration.ofSeconds(20))
                        .connectionTimeout(CONNECTION_TIMEOUT)
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofSeconds(8))
                                .build())
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);

            String server = pool.ensembles().get(0).sessions().get(0).server();
            victim = ensemble.servers().stream()
                    .filter(s -> s.address().equals(server))
                    .findFirst()
                    .orElseThrow();
            victim.sigstop();

            List<String> results = new CopyOnWriteArrayList<>();
            List<Thread> threads = new ArrayList<>();
            long[] took = new long[2];
            boolean[] flag = new boolean[2];
            Throwable[] errors = new Throwable[2];
            for (int i = 0; i < 2; i++) {
                int idx = i;
                Thread t = new Thread(
                        () -> {
                            long s = System.nanoTime();
                            try {
                                if (idx == 0) {
                                    lease.getData(base);
                                } else {
                                    lease.create(base + "/w", V, CreateMode.PERSISTENT);
                                }
                            } catch (Throwable e) {
                                errors[idx] = e;
                            }
                            took[idx] = Timings.ms(System.nanoTime() - s);
                            flag[idx] = Thread.currentThread().isInterrupted();
                        },
                        "intr-" + i);
                t.start();
                threads.add(t);
            }
            Adversary.pause(500);
            long interruptAt = System.nanoTime();
            threads.forEach(Thread::interrupt);
            for (Thread t : threads) {
                t.join(20_000);
            }
            long afterInterrupt = Timings.ms(System.nanoTime() - interruptAt);
            for (int i = 0; i < 2; i++) {
                results.add((i == 0 ? "getData" : "create") + ": took " + took[i] + " ms (interrupted at ~500 ms), "
                        + (errors[i] == null ? "OK" : Timings.describe(errors[i])) + ", flag set after: " + flag[i]);
            }
            results.forEach(r -> print("FIGURES interrupt " + r));
            print("FIGURES interrupt both ended " + afterInterrupt + " ms after the interrupt");

            SoftAssertions soft = new SoftAssertions();
            for (int i = 0; i < 2; i++) {
                soft.assertThat(errors[i])
                        .as("interrupted call " + i + ": " + results.get(i))
                        .isInstanceOf(ZkInterruptedException.class);
                soft.assertThat(flag[i])
                        .as("interrupt flag set again: " + results.get(i))
                        .isTrue();
                soft.assertThat(took[i])
                        .as("ends promptly after the interrupt (500 ms + 500 ms slack): " + results.get(i))
                        .isLessThan(1000);
            }
            soft.assertAll();
        } finally {
            if (victim != null && victim.isSuspended()) {
                victim.sigcont();
            }
        }
    }

    /**
     * A thread that is already interrupted when it calls (a healthy ensemble): whatever the SDK does, it reports a
     * failure as a {@link ZkException} ("The root of every failure zk-sdk reports for an operation"; the lease's
     * "Failures, all unchecked" list), an interrupt as {@link ZkInterruptedException} with the flag set again, and an
     * async form "never blocks the caller" and fails "with the same exception types" through its future, never by
     * throwing a foreign exception from the call itself.
     */
    @Test
    void aCallerThatIsAlreadyInterruptedGetsAZkExceptionAndKeepsItsFlag() throws Exception {
        String base = "/dl-preintr-" + System.nanoTime();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .name("dl-preintr")
                        .connectString(ensemble.connectString())
                        .connectionTimeout(CONNECTION_TIMEOUT)
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            Map<String, Callable<?>> forms = new LinkedHashMap<>();
            forms.put("getData", () -> lease.getData(base));
            forms.put("exists", () -> lease.exists(base));
            forms.put("create", () -> lease.create(base + "/c", V, CreateMode.PERSISTENT));
            forms.put("getDataAsync (call)", () -> lease.getDataAsync(base));
            forms.put("getDataAsync (future)", () -> lease.getDataAsync(base).join());
            forms.put("pool.lease", () -> {
                pool.lease().close();
                return null;
            });
            forms.put("ephemeral", () -> lease.ephemeral(base + "/e", V));
            forms.put("lease.sessionId", lease::sessionId);
            List<String> results = new ArrayList<>();
            List<String> wrong = new ArrayList<>();
            for (Map.Entry<String, Callable<?>> form : forms.entrySet()) {
                String[] line = new String[1];
                Thread t = new Thread(() -> {
                    Thread.currentThread().interrupt();
                    Throwable err = null;
                    try {
                        form.getValue().call();
                    } catch (Throwable e) {
                        err = Timings.unwrap(e);
                    }
                    boolean flag = Thread.currentThread().isInterrupted();
                    line[0] = form.getKey() + ": "
                            + (err == null ? "OK" : err.getClass().getName() + " \"" + err.getMessage() + "\"")
                            + ", interrupt flag after: " + flag;
                    boolean okType = err == null || err instanceof ZkException;
                    if (!okType || !flag) {
                        wrong.add(line[0]);
                    }
                });
                t.start();
                t.join(20_000);
                results.add(line[0]);
            }
            results.forEach(r -> print("FIGURES pre-interrupted " + r));
            assertThat(wrong)
                    .as("pre-interrupted calls that threw something other than a ZkException, or lost the "
                            + "interrupt flag")
                    .isEmpty();
        }
    }

    /**
     * Interrupted callers must not use up the in-flight limit: 5,000 calls from a thread that is interrupted each time
     * (sync and async), then an ordinary call from a fresh thread must work (not "4096 operations already in flight").
     */
    @Test
    void interruptedCallersDoNotLeakInFlightPermits() throws Exception {
        String base = "/dl-leak-" + System.nanoTime();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .name("dl-leak")
                        .connectString(ensemble.connectString())
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            Map<String, Integer> errors = new TreeMap<>();
            Thread t = new Thread(() -> {
                for (int i = 0; i < 5000; i++) {
                    Thread.currentThread().interrupt();
                    try {
                        if (i % 2 == 0) {
                            lease.getData(base);
                        } else {
                            lease.getDataAsync(base).join();
                        }
                        errors.merge("OK", 1, Integer::sum);
                    } catch (Throwable e) {
                        Throwable u = Timings.unwrap(e);
                        errors.merge(u.getClass().getSimpleName(), 1, Integer::sum);
                    }
                }
                Thread.interrupted();
            });
            t.start();
            t.join(60_000);
            Outcome after = Adversary.sync("getData after", false, () -> lease.getData(base))
                    .get();
            Outcome afterAsync = Adversary.async("getDataAsync after", false, () -> lease.getDataAsync(base))
                    .get();
            print("FIGURES leak: 5000 interrupted calls ended as " + errors + "; then from a fresh thread: " + after
                    + "; " + afterAsync);
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(after.ok()).as(after.toString()).isTrue();
            soft.assertThat(afterAsync.ok()).as(afterAsync.toString()).isTrue();
            soft.assertAll();
        }
    }

    /**
     * The read deadline against a slow link: every byte in both directions delayed by about half the operation timeout,
     * so that round trips land just before or just after the deadline. Many calls whose answer races the deadline
     * timer: none may take longer than the deadline, none may leave its thread interrupted (now or later), and a write
     * reported as failed but not "outcome unknown" must not be on the server. Each round trip is a case of its own (its
     * own proxies, pool and nodes), the four at once.
     */
    @Test
    void callsRacingTheirDeadlineOnASlowLinkNeverLeaveTheThreadInterrupted() {
        // Round trips of ~1,100..1,300 ms against a 1,200 ms deadline: answers race the deadline timer.
        Timings.allCasesAtOnce(List.of(1120L, 1180L, 1240L, 1300L), this::callsRacingTheirDeadlineAt);
    }

    private void callsRacingTheirDeadlineAt(long latency) throws Exception {
        String base = "/dl-race-" + latency + "-" + System.nanoTime();
        Duration opTimeout = Duration.ofMillis(1200);
        Recorder events = new Recorder();
        try (ProxiedEnsemble proxies = ProxiedEnsemble.of(ensemble.connectString());
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name("dl-race-" + latency)
                        .connectString(proxies.connectString())
                        .sessionTimeout(Duration.ofSeconds(12)) // read timeout 8 s: the slow link never trips ZooKeeper
                        .connectionTimeout(Duration.ofSeconds(4))
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(opTimeout)
                                .breakerFailureRateThreshold(100f)
                                .breakerMinimumCalls(100)
                                .breakerSlidingWindow(100)
                                .build())
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            long startRace = System.nanoTime();
            List<Outcome> outcomes = new CopyOnWriteArrayList<>();
            AtomicInteger n = new AtomicInteger();
            long l = latency;
            proxies.proxies().forEach(pr -> pr.latency(Duration.ofMillis(l / 2)));
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int kind = t;
                Thread th = new Thread(() -> {
                    for (int i = 0; i < 4; i++) {
                        String child = base + "/n" + n.incrementAndGet();
                        outcomes.add(
                                switch (kind) {
                                    case 0 -> Adversary.runHere("getData@" + l, false, () -> lease.getData(base));
                                    case 1 ->
                                        Adversary.runHere(
                                                "create@" + l + ":" + child,
                                                true,
                                                () -> lease.create(child, V, CreateMode.PERSISTENT));
                                    case 2 ->
                                        Adversary.runHere("getChildren@" + l, false, () -> lease.getChildren(base));
                                    default ->
                                        Adversary.runHere("sync@" + l, false, () -> {
                                            lease.sync(base);
                                            return null;
                                        });
                                });
                    }
                });
                th.start();
                threads.add(th);
            }
            for (Thread th : threads) {
                th.join(60_000);
            }
            proxies.proxies().forEach(pr -> pr.latency(Duration.ZERO));
            List<String> wrong = new ArrayList<>();
            try (RawZooKeeper raw = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30))) {
                Adversary.pause(1000);
                for (Outcome o : outcomes) {
                    if (o.write() && o.saysNotApplied()) {
                        String child = o.kind().substring(o.kind().indexOf(':') + 1);
                        if (raw.zk().exists(child, false) != null) {
                            wrong.add(o + " -> but the node exists");
                        }
                    }
                }
            }
            long ok = outcomes.stream().filter(Outcome::ok).count();
            print("FIGURES race@" + l + ": " + outcomes.size() + " calls over a link of ~" + l
                    + " ms round trip, operationTimeout " + opTimeout.toMillis() + " ms: ok " + ok + ", max "
                    + Adversary.maxMillis(outcomes) + " ms, interrupted after: "
                    + outcomes.stream().filter(Outcome::interruptedAfter).count() + ", interrupted later: "
                    + outcomes.stream().filter(Outcome::interruptedLater).count());
            print("FIGURES race@" + l + " session events on a slow but live link: "
                    + Timings.after(events, startRace).stream()
                            .map(t -> t.event().state() + "@" + Timings.ms(t.at() - startRace) + "ms")
                            .toList());
            outcomes.forEach(o -> print("FIGURES race   " + o));
            wrong.forEach(w -> print("FIGURES race WRONG " + w));

            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(outcomes).as("no call left its thread interrupted").noneMatch(Outcome::interruptedAfter);
            soft.assertThat(outcomes)
                    .as("no thread interrupted after its call returned")
                    .noneMatch(Outcome::interruptedLater);
            soft.assertThat(outcomes)
                    .as("every call ends by the operation timeout + " + SLACK_MS + " ms")
                    .allSatisfy(o -> assertThat(o.millis())
                            .as(o.toString())
                            .isLessThanOrEqualTo(opTimeout.toMillis() + SLACK_MS));
            soft.assertThat(wrong)
                    .as("writes reported as not applied that were applied")
                    .isEmpty();
            soft.assertAll();
        }
    }

    /**
     * A flapping link: the proxy of the session's server cuts every connection every 400 ms for 8 s, while four threads
     * read and create. Every call ends by its operation timeout (retries and reconnect waits included), and every create
     * of a unique, non-sequential path says only what is known: success means the node is there; NODEEXISTS for a path
     * nobody else writes would mean the call's own lost attempt was reported as someone else's node.
     */
    @Test
    void aFlappingLinkKeepsEveryCallWithinItsDeadlineAndEveryCreateHonest() throws Exception {
        String base = "/dl-flap-" + System.nanoTime();
        Duration opTimeout = Duration.ofSeconds(2);
        try (ProxiedEnsemble proxies = ProxiedEnsemble.of(ensemble.connectString());
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name("dl-flap")
                        .connectString(proxies.connectString())
                        .sessionTimeout(Duration.ofSeconds(10))
                        .connectionTimeout(Duration.ofSeconds(2))
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(opTimeout)
                                .build())
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(base, V, CreateMode.PERSISTENT);
            AtomicBoolean running = new AtomicBoolean(true);
            List<Outcome> outcomes = new CopyOnWriteArrayList<>();
            AtomicInteger n = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int kind = t;
                Thread th = new Thread(() -> {
                    while (running.get()) {
                        String child = base + "/n" + n.incrementAndGet();
                        Outcome o = kind % 2 == 0
                                ? Adversary.runHere("getData", false, () -> lease.getData(base))
                                : Adversary.runHere(
                                        "create:" + child, true, () -> lease.create(child, V, CreateMode.PERSISTENT));
                        outcomes.add(o);
                    }
                });
                th.start();
                threads.add(th);
            }
            long end = System.nanoTime() + 8_000_000_000L;
            int cuts = 0;
            while (System.nanoTime() - end < 0) {
                Adversary.pause(400);
                proxies.closeAllConnections();
                cuts++;
            }
            running.set(false);
            for (Thread th : threads) {
                th.join(30_000);
            }
            List<String> wrong = new ArrayList<>();
            try (RawZooKeeper raw = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30))) {
                for (Outcome o : outcomes) {
                    if (!o.write()) {
                        continue;
                    }
                    String child = o.kind().substring("create:".length());
                    boolean exists = raw.zk().exists(child, false) != null;
                    if (o.ok() && !exists) {
                        wrong.add(o + " -> succeeded but the node is not there");
                    } else if (o.error() instanceof ZkNodeExistsException) {
                        wrong.add(o + " -> NODEEXISTS for a path only this call creates (its own lost attempt)");
                    } else if (o.saysNotApplied() && exists) {
                        wrong.add(o + " -> says not applied, but the node is there");
                    }
                }
            }
            long bound = opTimeout.toMillis() + SLACK_MS;
            List<Outcome> late =
                    outcomes.stream().filter(o -> o.millis() > bound).toList();
            print("FIGURES flapping: " + cuts + " cuts in 8 s; " + outcomes.size() + " calls, ok "
                    + outcomes.stream().filter(Outcome::ok).count() + ", max " + Adversary.maxMillis(outcomes)
                    + " ms, over "
                    + bound + " ms: " + late.size() + ", interrupted: "
                    + outcomes.stream()
                            .filter(o -> o.interruptedAfter() || o.interruptedLater())
                            .count()
                    + "; failures by type "
                    + outcomes.stream()
                            .filter(o -> !o.ok())
                            .collect(Collectors.groupingBy(
                                    o -> o.error().getClass().getSimpleName()
                                            + (o.error() instanceof ZkConnectionLossException c
                                                    ? "(unknown=" + c.outcomeUnknown() + ")"
                                                    : ""),
                                    TreeMap::new,
                                    Collectors.counting())));
            late.stream().limit(5).forEach(o -> print("FIGURES flapping   late " + o));
            wrong.forEach(w -> print("FIGURES flapping   WRONG " + w));
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(late)
                    .as("calls over their deadline (" + bound + " ms)")
                    .isEmpty();
            soft.assertThat(wrong)
                    .as("creates that reported something other than what happened")
                    .isEmpty();
            soft.assertThat(outcomes)
                    .as("threads left interrupted")
                    .noneMatch(o -> o.interruptedAfter() || o.interruptedLater());
            soft.assertAll();
        }
    }
}
