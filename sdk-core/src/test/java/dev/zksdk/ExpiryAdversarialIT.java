package dev.zksdk;

import static dev.zksdk.Adversary.print;
import static dev.zksdk.Timings.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.Timings.Timed;
import dev.zksdk.cache.ZkCache;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ProxiedEnsemble;
import dev.zksdk.testing.RawZooKeeper;
import dev.zksdk.testing.Recorder;
import dev.zksdk.testing.ServerProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 15, item 6. README: "A session that cannot reach any server is declared lost at its last
 * contact plus the negotiated timeout (when the server expires it), not a session timeout after the disconnect."
 * {@link SessionEvent#detectedByClient()}: "true when the pool declared the session expired on its own, once the
 * negotiated session timeout had passed since its last contact with the ensemble". So: LOST no later than the
 * server's expiry + ~1 s, with detectedByClient; and never LOST for a session the server did not expire.
 *
 * <p>"Last contact" is made exact: every test reads through the pool right before the fault, so the last bytes the
 * client and the server exchanged are that answer. An observer connected straight to the servers watches an
 * ephemeral of the pool's session, so the moment the server expires the session is known.
 */
class ExpiryAdversarialIT {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);
    static final long MARGIN_MS = 1000;

    static ProcessEnsemble ensemble;

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
        List<ServerProcess> down =
                ensemble.servers().stream().filter(s -> !s.isAlive()).toList();
        Timings.inParallel(down, ServerProcess::restart);
        ensemble.awaitQuorum(Duration.ofSeconds(60));
    }

    /** What the pool and the server did around one fault. */
    record Run(
            long session,
            Duration negotiated,
            long lastContact,
            long deletedAt,
            Optional<Timed> lost,
            List<Timed> all,
            String status) {

        String eventsText() {
            return all.stream()
                    .map(t -> t.event().state() + "@" + ms(t.at() - lastContact) + "ms"
                            + (t.event().state() == SessionState.LOST
                                    ? "(detectedByClient=" + t.event().detectedByClient() + ")"
                                    : "")
                            + (t.event().sameSession() ? "(same)" : t.event().newSession() ? "(new)" : ""))
                    .collect(Collectors.joining(", ", "[", "]"));
        }
    }

    /** An observer's watch on the ephemeral: the moment the server deletes it (expires the session). */
    static AtomicLong watchDeletion(RawZooKeeper observer, String path, long session) throws Exception {
        AtomicLong deleted = new AtomicLong();
        // The observer may be on another member than the pool, one that has not applied the create yet.
        // The observer's own connection may drop on a loaded machine (it keeps its session and its watch): ask again.
        await().atMost(Duration.ofSeconds(10))
                .ignoreException(KeeperException.ConnectionLossException.class)
                .until(() -> observer.zk().exists(path, false) != null);
        Watcher onDelete = event -> {
            if (event.getType() == Watcher.Event.EventType.NodeDeleted) {
                deleted.compareAndSet(0, System.nanoTime());
            }
        };
        Stat stat = await().atMost(Duration.ofSeconds(10))
                .ignoreException(KeeperException.ConnectionLossException.class)
                .until(() -> observer.zk().exists(path, onDelete), s -> true);
        assertThat(stat).as("the ephemeral, seen by the observer").isNotNull();
        assertThat(stat.getEphemeralOwner()).as("owned by the pool's session").isEqualTo(session);
        return deleted;
    }

    // ------------------------------------------------------------------------------------- LOST on time, by whom

    enum Silence {
        FREEZE_ALL,
        FREEZE_ALL_WITH_CALLS_WAITING,
        REFUSE_ALL
    }

    /**
     * The silences longer than the timeout ({@link Silence}) and the freezes that end before it (see
     * {@link #shortFreeze(double)}): each on its own pool and proxies (their faults touch no server), all at once.
     */
    @Test
    void lostNoLaterThanTheServersExpiryAndSaysDetectedByClientAndAFreezeThatEndsBeforeTheTimeoutIsNotDeclaredLost() {
        List<Object> cases = new ArrayList<>(List.of(Silence.values()));
        cases.addAll(List.of(0.8, 0.9, 0.95));
        Timings.allCasesAtOnce(cases, c -> {
            if (c instanceof Silence silence) {
                lostNoLaterThanTheServersExpiry(silence);
            } else {
                shortFreeze((Double) c);
            }
        });
    }

    private void lostNoLaterThanTheServersExpiry(Silence silence) throws Exception {
        Recorder events = new Recorder();
        String path = "/exp-" + silence.name().toLowerCase() + "-" + System.nanoTime();
        ProxiedEnsemble proxies = ProxiedEnsemble.of(ensemble.connectString());
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> callers = new ArrayList<>();
        try (RawZooKeeper observer = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name("exp-" + silence.name().toLowerCase().replace('_', '-'))
                        .connectString(proxies.connectString())
                        .sessionTimeout(SESSION_TIMEOUT)
                        .connectionTimeout(Duration.ofSeconds(2))
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofSeconds(2))
                                .build())
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(path, new byte[0], CreateMode.PERSISTENT);
            lease.create(path + "/eph", new byte[0], CreateMode.EPHEMERAL);
            long session = lease.sessionId();
            AtomicLong deleted = watchDeletion(observer, path + "/eph", session);
            Duration negotiated = pool.negotiatedSessionTimeout();

            lease.exists(path); // the last contact
            long lastContact = System.nanoTime();
            switch (silence) {
                case FREEZE_ALL, FREEZE_ALL_WITH_CALLS_WAITING -> proxies.freezeAll();
                case REFUSE_ALL -> {
                    proxies.closeAllConnections();
                    proxies.close(); // listening sockets closed: every connect is refused at once
                }
                default -> throw new IllegalStateException();
            }
            if (silence == Silence.FREEZE_ALL_WITH_CALLS_WAITING) {
                // An application keeps calling meanwhile: reads, an ephemeral registration, a watch.
                for (int i = 0; i < 3; i++) {
                    int kind = i;
                    Thread t = new Thread(
                            () -> {
                                while (running.get()) {
                                    try {
                                        switch (kind) {
                                            case 0 -> lease.getData(path);
                                            case 1 -> lease.ephemeral(path + "/reg-" + System.nanoTime(), new byte[0]);
                                            default -> lease.watch(path, e -> {});
                                        }
                                    } catch (RuntimeException e) {
                                        Adversary.pause(20);
                                    }
                                }
                            },
                            "exp-caller-" + i);
                    t.start();
                    callers.add(t);
                }
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> deleted.get() != 0);
            Timed lost = await().atMost(Duration.ofSeconds(30))
                    .until(
                            () -> Timings.firstAfter(events, lastContact, e -> e.state() == SessionState.LOST),
                            Optional::isPresent)
                    .orElseThrow();
            running.set(false);
            long deletedMs = ms(deleted.get() - lastContact);
            long lostMs = ms(lost.at() - lastContact);
            Run run = new Run(
                    session,
                    negotiated,
                    lastContact,
                    deleted.get(),
                    Optional.of(lost),
                    Timings.after(events, lastContact - 1_000_000_000L),
                    pool.ensembles().toString());
            print("FIGURES expiry " + silence + ": session 0x" + Long.toHexString(session) + ", negotiated "
                    + negotiated
                    + "; from the last contact: server expired it at " + deletedMs + " ms, pool LOST at " + lostMs
                    + " ms (" + (lostMs - deletedMs) + " ms after the server; bound +" + MARGIN_MS
                    + " ms), detectedByClient="
                    + lost.event().detectedByClient());
            print("FIGURES expiry " + silence + " events (from the last contact): " + run.eventsText());
            print("FIGURES expiry " + silence + " LOST event: " + lost.event());

            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(lostMs)
                    .as(silence + ": LOST at " + lostMs + " ms after the last contact, server expiry at " + deletedMs
                            + " ms")
                    .isLessThanOrEqualTo(deletedMs + MARGIN_MS);
            soft.assertThat(lost.event().detectedByClient())
                    .as(silence + ": no server was reachable, so the pool " + "declared it itself: detectedByClient() "
                            + lost.event())
                    .isTrue();
            soft.assertThat(Timings.firstAfter(events, lastContact, e -> e.state() == SessionState.SUSPENDED))
                    .as(silence + ": SUSPENDED was told before LOST (events " + run.eventsText() + ")")
                    .isPresent();
            soft.assertAll();
        } finally {
            running.set(false);
            for (Thread t : callers) {
                t.join(20_000);
            }
            try {
                proxies.unfreezeAll();
            } catch (RuntimeException e) {
                // closed already (REFUSE_ALL)
            }
            proxies.close();
        }
    }

    /**
     * Every proxy frozen while calls are in flight on the session (they hit their operation timeout during the
     * silence), for two session timeouts: LOST must still come by the server's expiry + 1 s, detected by the client.
     */
    @Test
    void lostOnTimeWhenCallsWereInFlightAtTheFreezeOrAWatchCloseWasMadeDuringIt() {
        // Each case on its own pool and proxies, all at once: the four of this test and the two frozen-network cases of
        // aWatchCloseDuringASilentNetworkDoesNotHideTheLoss (their faults touch no server).
        List<Object> cases = new ArrayList<>(List.of("6000,false", "9000,false", "6000,true", "9000,true"));
        cases.addAll(List.of(Hang.FREEZE_ALL_PROXIES, Hang.FREEZE_ALL_AFTER_A_HEALTHY_CLOSE));
        Timings.allCasesAtOnce(cases, c -> {
            if (c instanceof Hang hang) {
                aWatchCloseDuringASilentNetworkDoesNotHideTheLoss(hang);
            } else {
                String[] args = ((String) c).split(",");
                lostOnTimeWhenCallsWereInFlight(Long.parseLong(args[0]), Boolean.parseBoolean(args[1]));
            }
        });
    }

    private void lostOnTimeWhenCallsWereInFlight(long sessionTimeoutMs, boolean callsInFlight) throws Exception {
        Recorder events = new Recorder();
        String name = "exp-inflight-" + sessionTimeoutMs + "-" + callsInFlight;
        String path = "/" + name + "-" + System.nanoTime();
        List<Thread> callers = new ArrayList<>();
        List<String> results = new CopyOnWriteArrayList<>();
        try (ProxiedEnsemble proxies = ProxiedEnsemble.of(ensemble.connectString());
                RawZooKeeper observer = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name(name)
                        .connectString(proxies.connectString())
                        .sessionTimeout(Duration.ofMillis(sessionTimeoutMs))
                        .connectionTimeout(Duration.ofSeconds(2))
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofMillis(2500))
                                .build())
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(path, new byte[0], CreateMode.PERSISTENT);
            lease.create(path + "/eph", new byte[0], CreateMode.EPHEMERAL);
            long session = lease.sessionId();
            AtomicLong deleted = watchDeletion(observer, path + "/eph", session);
            lease.exists(path);
            long lastContact = System.nanoTime();
            proxies.freezeAll();
            if (callsInFlight) {
                for (int i = 0; i < 4; i++) {
                    int k = i;
                    Thread t = new Thread(() -> {
                        long s = System.nanoTime();
                        String what;
                        try {
                            if (k % 2 == 0) {
                                lease.getData(path);
                            } else {
                                lease.create(path + "/c" + k, new byte[0], CreateMode.PERSISTENT);
                            }
                            what = "OK";
                        } catch (RuntimeException e) {
                            what = Timings.describe(e);
                        }
                        results.add("call " + k + " " + ms(System.nanoTime() - s) + " ms " + what);
                    });
                    t.start();
                    callers.add(t);
                }
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> deleted.get() != 0);
            long deletedMs = ms(deleted.get() - lastContact);
            Optional<Timed> lost;
            try {
                lost = await().atMost(Duration.ofSeconds(10))
                        .until(
                                () -> Timings.firstAfter(events, lastContact, e -> e.state() == SessionState.LOST),
                                Optional::isPresent);
            } catch (ConditionTimeoutException e) {
                lost = Optional.empty();
            }
            for (Thread t : callers) {
                t.join(20_000);
            }
            String evs = Timings.timed(events).stream()
                    .map(t -> t.event().state() + "@" + ms(t.at() - lastContact) + "ms"
                            + (t.event().state() == SessionState.LOST
                                    ? "(client=" + t.event().detectedByClient() + ")"
                                    : ""))
                    .toList()
                    .toString();
            print("FIGURES inflight-freeze sessionTimeout " + sessionTimeoutMs + " ms, calls in flight " + callsInFlight
                    + ": server expired at " + deletedMs + " ms after the last contact, pool LOST at "
                    + lost.map(t -> ms(t.at() - lastContact) + " ms, detectedByClient="
                                    + t.event().detectedByClient())
                            .orElse("not within 10 s after the server's expiry")
                    + "; all events " + evs + "; calls " + results);
            proxies.unfreezeAll();
            Optional<Timed> lostFinal = lost;
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(lostFinal)
                    .as(name + ": LOST told while the network is silent (events " + evs + ")")
                    .isPresent();
            lostFinal.ifPresent(t -> {
                soft.assertThat(ms(t.at() - lastContact))
                        .as(name + ": LOST by the server's expiry (" + deletedMs + " ms) + " + MARGIN_MS + " ms")
                        .isLessThanOrEqualTo(deletedMs + MARGIN_MS);
                soft.assertThat(t.event().detectedByClient())
                        .as(name + ": detectedByClient")
                        .isTrue();
            });
            soft.assertThat(Timings.firstAfter(events, lastContact, e -> e.state() == SessionState.SUSPENDED))
                    .as(name + ": SUSPENDED told (events " + evs + ")")
                    .isPresent();
            soft.assertAll();
        }
    }

    /** One kind of call made at the moment every proxy freezes. */
    enum InFlight {
        NOTHING,
        SYNC_GET_DATA,
        ASYNC_GET_DATA,
        SYNC_SYNC,
        ASYNC_SYNC,
        EPHEMERAL_SET_DATA,
        EPHEMERAL_CLOSE,
        WATCH_CLOSE,
        NEW_WATCH,
        NEW_EPHEMERAL,
        CACHE_GET_CURRENT,
        CACHE_CLOSE,
        TREE_WATCH_CLOSE
    }

    /**
     * Every proxy frozen (session timeout 9 s) while one kind of call is made on the session: SUSPENDED must be told,
     * and LOST by the server's expiry + 1 s, detected by the client, whatever call was in flight.
     */
    @Test
    void lostOnTimeWhateverCallWasInFlight() {
        // Each kind of call on its own pool and proxies, all at once.
        Timings.allCasesAtOnce(List.of(InFlight.values()), c -> lostOnTimeWith(c));
    }

    private void lostOnTimeWith(InFlight kind) throws Exception {
        Recorder events = new Recorder();
        String name = "exp-kind-" + kind.name().toLowerCase().replace('_', '-');
        String path = "/" + name + "-" + System.nanoTime();
        List<String> results = new CopyOnWriteArrayList<>();
        Thread caller = null;
        try (ProxiedEnsemble proxies = ProxiedEnsemble.of(ensemble.connectString());
                RawZooKeeper observer = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name(name)
                        .connectString(proxies.connectString())
                        .sessionTimeout(Duration.ofSeconds(9))
                        .connectionTimeout(Duration.ofSeconds(2))
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofMillis(2500))
                                .build())
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(path, new byte[0], CreateMode.PERSISTENT);
            lease.create(path + "/eph", new byte[0], CreateMode.EPHEMERAL);
            EphemeralNode owned = lease.ephemeral(path + "/owned", new byte[0]);
            WatchHandle watch = lease.watch(path, e -> {});
            ZkCache cache = lease.cache(path);
            WatchHandle treeWatch = lease.watchTree(path, e -> {});
            long session = lease.sessionId();
            AtomicLong deleted = watchDeletion(observer, path + "/eph", session);
            lease.exists(path);
            long lastContact = System.nanoTime();
            proxies.freezeAll();
            Callable<?> call = switch (kind) {
                case NOTHING -> () -> null;
                case SYNC_GET_DATA -> () -> lease.getData(path);
                case ASYNC_GET_DATA -> () -> lease.getDataAsync(path).join();
                case SYNC_SYNC ->
                    () -> {
                        lease.sync(path);
                        return null;
                    };
                case ASYNC_SYNC -> () -> lease.syncAsync(path).join();
                case EPHEMERAL_SET_DATA ->
                    () -> {
                        owned.setData(new byte[1]);
                        return null;
                    };
                case EPHEMERAL_CLOSE ->
                    () -> {
                        owned.close();
                        return null;
                    };
                case WATCH_CLOSE ->
                    () -> {
                        watch.close();
                        return null;
                    };
                case NEW_WATCH -> () -> lease.watch(path + "/x", e -> {});
                case NEW_EPHEMERAL -> () -> lease.ephemeral(path + "/new", new byte[0]);
                case CACHE_GET_CURRENT -> () -> cache.getCurrent(path);
                case CACHE_CLOSE ->
                    () -> {
                        cache.close();
                        return null;
                    };
                case TREE_WATCH_CLOSE ->
                    () -> {
                        treeWatch.close();
                        return null;
                    };
            };
            caller = new Thread(() -> {
                long st = System.nanoTime();
                String what;
                try {
                    call.call();
                    what = "OK";
                } catch (Exception e) {
                    what = Timings.describe(Timings.unwrap(e));
                }
                results.add(kind + " " + ms(System.nanoTime() - st) + " ms " + what);
            });
            caller.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> deleted.get() != 0);
            long deletedMs = ms(deleted.get() - lastContact);
            Optional<Timed> lost;
            try {
                lost = await().atMost(Duration.ofSeconds(6))
                        .until(
                                () -> Timings.firstAfter(events, lastContact, e -> e.state() == SessionState.LOST),
                                Optional::isPresent);
            } catch (ConditionTimeoutException e) {
                lost = Optional.empty();
            }
            caller.join(30_000);
            String evs = Timings.timed(events).stream()
                    .map(t -> t.event().state() + "@" + ms(t.at() - lastContact) + "ms"
                            + (t.event().state() == SessionState.LOST
                                    ? "(client=" + t.event().detectedByClient() + ")"
                                    : ""))
                    .toList()
                    .toString();
            print("FIGURES kind-freeze " + kind + ": server expired at " + deletedMs
                    + " ms after the last contact, pool "
                    + "LOST at "
                    + lost.map(t -> ms(t.at() - lastContact) + " ms, detectedByClient="
                                    + t.event().detectedByClient())
                            .orElse("NOT within 6 s after the server's expiry")
                    + "; events " + evs
                    + "; call " + results);
            proxies.unfreezeAll();
            Optional<Timed> lostFinal = lost;
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(Timings.firstAfter(events, lastContact, e -> e.state() == SessionState.SUSPENDED))
                    .as(kind + ": SUSPENDED told during a 9 s silence (events " + evs + ")")
                    .isPresent();
            soft.assertThat(lostFinal)
                    .as(kind + ": LOST told while the network is silent (events " + evs + ")")
                    .isPresent();
            lostFinal.ifPresent(t -> {
                soft.assertThat(ms(t.at() - lastContact))
                        .as(kind + ": LOST by the server's expiry (" + deletedMs + " ms) + " + MARGIN_MS + " ms")
                        .isLessThanOrEqualTo(deletedMs + MARGIN_MS);
                soft.assertThat(t.event().detectedByClient())
                        .as(kind + ": detectedByClient")
                        .isTrue();
            });
            soft.assertAll();
        } finally {
            if (caller != null) {
                caller.join(30_000);
            }
        }
    }

    enum Hang {
        FREEZE_ALL_PROXIES,
        SIGSTOP_SESSION_SERVER,
        FREEZE_ALL_AFTER_A_HEALTHY_CLOSE
    }

    /**
     * Found by {@link #lostOnTimeWhateverCallWasInFlight}: a {@code WatchHandle.close()} made while the network is
     * silent. Whatever the SDK does to remove the watch, the pool must still notice the silence: SUSPENDED by ZooKeeper's
     * read timeout (2/3 of 9 s) + 1 s; with every proxy frozen, LOST by the server's expiry + 1 s; with only the
     * session's server SIGSTOPped (two others serving), a reconnect elsewhere and working reads. Samples the pool's
     * status and the owned ephemeral's {@code isPresent()} meanwhile ("True while the node is known to exist on the server
     * under the live session"). The two frozen-network cases run at once with the cases of
     * {@link #lostOnTimeWhenCallsWereInFlightAtTheFreezeOrAWatchCloseWasMadeDuringIt}, each on its own pool and proxies
     * (their faults touch no server); the SIGSTOP case stops a member of the class's ensemble, which would disturb the
     * others' observers, so no other case on that ensemble runs with it (only the clamped cases, on an ensemble of their
     * own: {@link #aWatchCloseWhileTheSessionsServerIsSigstoppedDoesNotHideTheLossAndAClampedTimeoutIsWhatCountsDown}).
     */
    private void aWatchCloseDuringASilentNetworkDoesNotHideTheLoss(Hang hang) throws Exception {
        Recorder events = new Recorder();
        String name = "exp-wclose-" + hang.name().toLowerCase().replace('_', '-');
        String path = "/" + name + "-" + System.nanoTime();
        ServerProcess victim = null;
        try (ProxiedEnsemble proxies = ProxiedEnsemble.of(ensemble.connectString());
                RawZooKeeper observer = RawZooKeeper.connect(ensemble.connectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name(name)
                        .connectString(proxies.connectString())
                        .sessionTimeout(Duration.ofSeconds(9))
                        .connectionTimeout(Duration.ofSeconds(2))
                        .operationPolicy(OperationPolicy.builder()
                                .operationTimeout(Duration.ofMillis(2500))
                                .build())
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(path, new byte[0], CreateMode.PERSISTENT);
            lease.create(path + "/eph", new byte[0], CreateMode.EPHEMERAL);
            EphemeralNode owned = lease.ephemeral(path + "/owned", new byte[0]);
            WatchHandle watch = lease.watch(path, e -> {});
            long session = lease.sessionId();
            AtomicLong deleted = watchDeletion(observer, path + "/eph", session);
            String server = pool.ensembles().get(0).sessions().get(0).server();
            String target = proxies.proxies().stream()
                    .filter(p -> p.connectString().equals(server))
                    .findFirst()
                    .orElseThrow()
                    .target();
            victim = ensemble.servers().stream()
                    .filter(sp -> sp.address().equals(target))
                    .findFirst()
                    .orElseThrow();
            long closeMs = -1;
            if (hang == Hang.FREEZE_ALL_AFTER_A_HEALTHY_CLOSE) {
                long closeStart = System.nanoTime();
                watch.close();
                closeMs = ms(System.nanoTime() - closeStart);
            }
            lease.exists(path);
            long lastContact = System.nanoTime();
            if (hang == Hang.SIGSTOP_SESSION_SERVER) {
                victim.sigstop();
            } else {
                proxies.freezeAll();
            }
            if (hang != Hang.FREEZE_ALL_AFTER_A_HEALTHY_CLOSE) {
                long closeStart = System.nanoTime();
                watch.close();
                closeMs = ms(System.nanoTime() - closeStart);
            }
            // Sample for 16 s from the last contact: status, isPresent, a read now and then.
            List<String> samples = new ArrayList<>();
            long presentUntil = -1;
            long connectedUntil = -1;
            List<String> reads = new ArrayList<>();
            while (ms(System.nanoTime() - lastContact) < 16_000) {
                long at = ms(System.nanoTime() - lastContact);
                boolean connected = pool.ensembles().get(0).isConnected();
                boolean present = owned.isPresent();
                if (present) {
                    presentUntil = at;
                }
                if (connected) {
                    connectedUntil = at;
                }
                if (samples.isEmpty()
                        || !samples.get(samples.size() - 1)
                                .endsWith("connected=" + connected + " present=" + present)) {
                    samples.add(at + "ms connected=" + connected + " present=" + present);
                }
                if (at > 7_000 && reads.size() < 3 && at > 7_000 + reads.size() * 3_000L) {
                    long rs = System.nanoTime();
                    String r;
                    try {
                        lease.getData(path);
                        r = "OK";
                    } catch (RuntimeException e) {
                        r = Timings.describe(e);
                    }
                    reads.add("read@" + at + "ms took " + ms(System.nanoTime() - rs) + " ms: " + r);
                }
                Adversary.pause(100);
            }
            String evs = Timings.timed(events).stream()
                    .map(t -> t.event().state() + "@" + ms(t.at() - lastContact) + "ms"
                            + (t.event().state() == SessionState.LOST
                                    ? "(client=" + t.event().detectedByClient() + ")"
                                    : ""))
                    .toList()
                    .toString();
            long deletedMs = deleted.get() == 0 ? -1 : ms(deleted.get() - lastContact);
            Optional<Timed> suspended =
                    Timings.firstAfter(events, lastContact, e -> e.state() == SessionState.SUSPENDED);
            Optional<Timed> lost = Timings.firstAfter(events, lastContact, e -> e.state() == SessionState.LOST);
            Optional<Timed> up = Timings.firstAfter(events, lastContact, Timings::up);
            print("FIGURES watch-close " + hang + ": close took " + closeMs + " ms; server expired the session at "
                    + deletedMs + " ms; events " + evs + "; status/isPresent " + samples + " (connected until "
                    + connectedUntil
                    + " ms, present until " + presentUntil + " ms); " + reads);
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(suspended)
                    .as(hang + ": SUSPENDED told within ZooKeeper's read timeout (6 s) + 1 s; events " + evs)
                    .isPresent();
            suspended.ifPresent(t -> soft.assertThat(ms(t.at() - lastContact))
                    .as(hang + ": SUSPENDED at")
                    .isLessThanOrEqualTo(7_000));
            if (hang != Hang.SIGSTOP_SESSION_SERVER) {
                soft.assertThat(deletedMs).as("the server expired the session").isPositive();
                soft.assertThat(lost)
                        .as(hang + ": LOST told by the server's expiry + 1 s; events " + evs)
                        .isPresent();
                lost.ifPresent(t -> soft.assertThat(ms(t.at() - lastContact))
                        .as(hang + ": LOST at")
                        .isLessThanOrEqualTo(deletedMs + MARGIN_MS));
                soft.assertThat(presentUntil)
                        .as(hang + ": isPresent() true although the server deleted the node at " + deletedMs + " ms")
                        .isLessThan(deletedMs);
            } else {
                soft.assertThat(up)
                        .as(hang + ": reconnected to one of the two serving servers; events " + evs)
                        .isPresent();
                soft.assertThat(reads)
                        .as(hang + ": reads work once the session moved")
                        .anyMatch(r -> r.endsWith(": OK"));
            }
            soft.assertAll();
        } finally {
            if (victim != null && victim.isSuspended()) {
                victim.sigcont();
            }
        }
    }

    /**
     * Every server killed with -9: nothing can ever say the session expired, so the pool must declare it itself at the
     * last contact plus the negotiated timeout (detectedByClient), and then recover on its own once the servers are
     * back.
     */
    @Test
    void allServersKilledTheSessionIsDeclaredLostAtLastContactPlusTimeout() throws Exception {
        Recorder events = new Recorder();
        String path = "/exp-kill-" + System.nanoTime();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                        .name("exp-kill")
                        .connectString(ensemble.connectString())
                        .sessionTimeout(SESSION_TIMEOUT)
                        .connectionTimeout(Duration.ofSeconds(2))
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(path, new byte[0], CreateMode.PERSISTENT);
            EphemeralNode eph = lease.ephemeral(path + "/reg", new byte[0]);
            Duration negotiated = pool.negotiatedSessionTimeout();
            lease.exists(path);
            long lastContact = System.nanoTime();
            Timings.inParallel(ensemble.servers(), ServerProcess::kill9);
            long killed = System.nanoTime();
            Timed lost = await().atMost(Duration.ofSeconds(30))
                    .until(
                            () -> Timings.firstAfter(events, lastContact, e -> e.state() == SessionState.LOST),
                            Optional::isPresent)
                    .orElseThrow();
            long lostMs = ms(lost.at() - lastContact);
            Timings.inParallel(ensemble.servers(), ServerProcess::restart);
            ensemble.awaitQuorum(Duration.ofSeconds(60));
            long back = System.nanoTime();
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> lease.exists(path) != null);
            long readable = System.nanoTime();
            // The old session is alive again on the restarted servers until they expire it; the handle's node must come
            // back under the new session.
            boolean present = false;
            try {
                await().atMost(Duration.ofSeconds(20)).until(eph::isPresent);
                present = true;
            } catch (ConditionTimeoutException e) {
                present = false;
            }
            print("FIGURES expiry KILL_ALL: negotiated " + negotiated + ", killed " + ms(killed - lastContact)
                    + " ms after the last contact; LOST at " + lostMs + " ms (expected ~" + negotiated.toMillis()
                    + "), detectedByClient=" + lost.event().detectedByClient() + "; readable again "
                    + ms(readable - back) + " ms after quorum; ephemeral present again: " + present);
            print("FIGURES expiry KILL_ALL events: "
                    + Timings.after(events, lastContact).stream()
                            .map(t -> t.event().state() + "@" + ms(t.at() - lastContact) + "ms")
                            .toList());
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(lostMs)
                    .as("LOST at the last contact + negotiated timeout (+" + MARGIN_MS + " ms)")
                    .isBetween(negotiated.toMillis() - 200, negotiated.toMillis() + MARGIN_MS);
            soft.assertThat(lost.event().detectedByClient())
                    .as("declared by the client: " + lost.event())
                    .isTrue();
            soft.assertThat(present)
                    .as("the ephemeral is re-created once servers are back")
                    .isTrue();
            soft.assertAll();
            eph.close();
        }
    }

    // ----------------------------------------------------------------------- a freeze shorter than the timeout

    /**
     * A silence that ends before the session timeout, measured from the last contact: the server keeps the session, so
     * the pool must not declare it lost (no LOST, the same session id afterwards, the ephemeral still owned by it). Run
     * by {@link #lostNoLaterThanTheServersExpiryAndSaysDetectedByClientAndAFreezeThatEndsBeforeTheTimeoutIsNotDeclaredLost}
     * for the fractions 0.8, 0.9 and 0.95, at once with the longer silences.
     */
    private void shortFreeze(double fraction) throws Exception {
        shortFreeze(ensemble, "exp-short-" + (int) (fraction * 100), SESSION_TIMEOUT, fraction, null);
    }

    static void shortFreeze(
            ProcessEnsemble target, String name, Duration requested, double fraction, Duration expectNegotiated)
            throws Exception {
        Recorder events = new Recorder();
        String path = "/" + name + "-" + System.nanoTime();
        try (ProxiedEnsemble proxies = ProxiedEnsemble.of(target.connectString());
                RawZooKeeper observer = RawZooKeeper.connect(target.connectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name(name)
                        .connectString(proxies.connectString())
                        .sessionTimeout(requested)
                        .connectionTimeout(Duration.ofSeconds(2))
                        .listener(events)
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(path, new byte[0], CreateMode.PERSISTENT);
            lease.create(path + "/eph", new byte[0], CreateMode.EPHEMERAL);
            long session = lease.sessionId();
            AtomicLong deleted = watchDeletion(observer, path + "/eph", session);
            Duration negotiated = pool.negotiatedSessionTimeout();
            if (expectNegotiated != null) {
                assertThat(negotiated)
                        .as("the server clamped the requested " + requested)
                        .isEqualTo(expectNegotiated);
            }
            long freezeMs = (long) (negotiated.toMillis() * fraction);

            lease.exists(path); // the last contact
            long lastContact = System.nanoTime();
            proxies.freezeAll();
            Adversary.pause(
                    freezeMs - ms(System.nanoTime() - lastContact)); // the fault's length (not a wait for a state)
            proxies.unfreezeAll();
            long unfrozen = System.nanoTime();
            // The session comes back (or is replaced); then look.
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> pool.ensembles().get(0).isConnected());
            long up = System.nanoTime();
            Adversary.pause(Math.max(0, negotiated.toMillis() + 1500 - ms(System.nanoTime() - lastContact)));
            long idAfter = lease.sessionId();
            Stat stat = observer.zk().exists(path + "/eph", false);
            boolean serverExpired = deleted.get() != 0;
            Optional<Timed> lost = Timings.firstAfter(events, lastContact, e -> e.state() == SessionState.LOST);
            String evs = Timings.after(events, lastContact).stream()
                    .map(t -> t.event().state() + "@" + ms(t.at() - lastContact)
                            + "ms"
                            + (t.event().state() == SessionState.LOST
                                    ? "(client=" + t.event().detectedByClient() + ")"
                                    : "")
                            + (t.event().sameSession() ? "(same)" : t.event().newSession() ? "(new)" : ""))
                    .toList()
                    .toString();
            print("FIGURES shortfreeze " + name + ": requested " + requested + ", negotiated " + negotiated
                    + ", freeze "
                    + freezeMs + " ms (" + fraction + "x) from the last contact; unfrozen at "
                    + ms(unfrozen - lastContact)
                    + " ms, connected at " + ms(up - lastContact) + " ms; server expired the session: " + serverExpired
                    + (serverExpired ? " at " + ms(deleted.get() - lastContact) + " ms" : "") + "; pool LOST: "
                    + lost.map(t -> ms(t.at() - lastContact) + " ms, detectedByClient="
                                    + t.event().detectedByClient())
                            .orElse("no")
                    + "; session 0x" + Long.toHexString(session) + " -> 0x" + Long.toHexString(idAfter)
                    + "; events " + evs);
            SoftAssertions soft = new SoftAssertions();
            if (serverExpired) {
                // Not the contract under test: the server gave up on it (the client reconnected too late).
                soft.assertThat(lost)
                        .as(name + ": the server expired it, so LOST must be told")
                        .isPresent();
                print("FIGURES shortfreeze " + name
                        + ": INCONCLUSIVE for the early-declaration check: the server expired "
                        + "the session (reconnect after the freeze took " + ms(up - unfrozen) + " ms)");
                soft.assertThat(ms(up - unfrozen))
                        .as(name + ": the server expired a session whose freeze ended "
                                + (negotiated.toMillis() - freezeMs) + " ms before the timeout; the pool took "
                                + ms(up - unfrozen)
                                + " ms to reconnect after the network came back")
                        .isLessThan(negotiated.toMillis() - freezeMs);
            } else {
                soft.assertThat(lost)
                        .as(name + ": the server kept the session, so the pool must not declare it lost " + "(events "
                                + evs + ")")
                        .isEmpty();
                soft.assertThat(idAfter)
                        .as(name + ": the same session afterwards")
                        .isEqualTo(session);
                soft.assertThat(stat)
                        .as(name + ": the ephemeral is still there")
                        .isNotNull();
                if (stat != null) {
                    soft.assertThat(stat.getEphemeralOwner())
                            .as(name + ": still owned by the session")
                            .isEqualTo(session);
                }
            }
            soft.assertAll();
        }
    }

    // --------------------------------------------------------------------------- a clamped negotiated timeout

    /**
     * Servers whose min and max session timeout are both 6 s: a pool asking for 20 s gets 6 s, a pool asking for 2 s
     * gets 6 s. The client-side declaration must use the negotiated timeout: LOST by the server's expiry + 1 s for the
     * first, and no LOST for a 4.5 s freeze (0.75x negotiated, 2.25x requested) for the second. Both at once, each on
     * its own pool and proxies, and at once with the SIGSTOP case of the watch-close cases (a member of the class's
     * ensemble, not of this one).
     */
    @Test
    void aWatchCloseWhileTheSessionsServerIsSigstoppedDoesNotHideTheLossAndAClampedTimeoutIsWhatCountsDown()
            throws Exception {
        // The SIGSTOP case stops a member of the class's ensemble; the clamped cases run on an ensemble of their own.
        try (ProcessEnsemble clamped = ProcessEnsemble.builder()
                .size(1)
                .minSessionTimeout(Duration.ofSeconds(6))
                .maxSessionTimeout(Duration.ofSeconds(6))
                .start()) {
            Timings.allCasesAtOnce(List.of("sigstop of the session's server", "clamped down", "clamped up"), c -> {
                if (c.startsWith("sigstop")) {
                    aWatchCloseDuringASilentNetworkDoesNotHideTheLoss(Hang.SIGSTOP_SESSION_SERVER);
                } else if (c.equals("clamped down")) {
                    clampedDown(clamped);
                } else {
                    // Clamped up: 2 s requested, 6 s granted; a 4.5 s freeze must not lose the session.
                    shortFreeze(clamped, "exp-clamp-up", Duration.ofSeconds(2), 0.75, Duration.ofSeconds(6));
                }
            });
        }
    }

    private static void clampedDown(ProcessEnsemble clamped) throws Exception {
        // Clamped down: 20 s requested, 6 s granted.
        Recorder events = new Recorder();
        String path = "/exp-clamp-" + System.nanoTime();
        List<String> clampTold = new CopyOnWriteArrayList<>();
        try (ProxiedEnsemble proxies = ProxiedEnsemble.of(clamped.connectString());
                RawZooKeeper observer = RawZooKeeper.connect(clamped.connectString(), Duration.ofSeconds(30));
                ZkSessionPool pool = ZkSessionPool.builder()
                        .name("exp-clamp-down")
                        .connectString(proxies.connectString())
                        .sessionTimeout(Duration.ofSeconds(20))
                        .connectionTimeout(Duration.ofSeconds(2))
                        .listener(events)
                        .listener(new SessionListener() {
                            @Override
                            public void onTimeoutClamped(String ensemble, Duration requested, Duration negotiated) {
                                clampTold.add(requested + "->" + negotiated);
                            }
                        })
                        .build();
                ZkLease lease = pool.lease()) {
            lease.create(path, new byte[0], CreateMode.PERSISTENT);
            lease.create(path + "/eph", new byte[0], CreateMode.EPHEMERAL);
            long session = lease.sessionId();
            AtomicLong deleted = watchDeletion(observer, path + "/eph", session);
            Duration negotiated = pool.negotiatedSessionTimeout();
            lease.exists(path);
            long lastContact = System.nanoTime();
            proxies.freezeAll();
            await().atMost(Duration.ofSeconds(30)).until(() -> deleted.get() != 0);
            Optional<Timed> lost;
            try {
                lost = await().atMost(Duration.ofSeconds(25))
                        .until(
                                () -> Timings.firstAfter(events, lastContact, e -> e.state() == SessionState.LOST),
                                Optional::isPresent);
            } catch (ConditionTimeoutException e) {
                lost = Optional.empty();
            }
            long deletedMs = ms(deleted.get() - lastContact);
            Optional<Timed> lostFinal = lost;
            print("FIGURES clamp-down: requested 20 s, negotiated " + negotiated + " (told: " + clampTold
                    + "); server expired at " + deletedMs + " ms, pool LOST at "
                    + lost.map(t -> ms(t.at() - lastContact) + " ms, detectedByClient="
                                    + t.event().detectedByClient())
                            .orElse("never within 25 s"));
            proxies.unfreezeAll();
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(negotiated).as("clamped").isEqualTo(Duration.ofSeconds(6));
            soft.assertThat(lostFinal).as("LOST told").isPresent();
            lostFinal.ifPresent(t -> {
                soft.assertThat(ms(t.at() - lastContact))
                        .as("LOST by the server's expiry (" + deletedMs + " ms) + " + MARGIN_MS
                                + " ms, counted with the negotiated 6 s, not the requested 20 s")
                        .isLessThanOrEqualTo(deletedMs + MARGIN_MS);
                soft.assertThat(t.event().detectedByClient())
                        .as("detectedByClient")
                        .isTrue();
            });
            soft.assertAll();
        }
    }
}
