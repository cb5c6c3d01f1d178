package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zksdk.RecoveryEvent;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionState;
import dev.zksdk.WatchEvent;
import dev.zksdk.ZkException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;

class RecorderTest {

    private static SessionEvent event(SessionState from, SessionState to, long before, long after) {
        return event(from, to, before, after, Instant.now());
    }

    private static SessionEvent event(SessionState from, SessionState to, long before, long after, Instant at) {
        return new SessionEvent(
                "127.0.0.1:2181", 0, from, to, before, after, Duration.ofSeconds(4), "127.0.0.1:2181", at);
    }

    @Test
    void recordsEveryCallbackInOrderWithWhatItWasToldAndItsThread() {
        Recorder recorder = new Recorder();
        SessionEvent connected = event(SessionState.CONNECTING, SessionState.CONNECTED, 0, 1);
        SessionEvent suspended = event(SessionState.CONNECTED, SessionState.SUSPENDED, 1, 0);
        SessionEvent replaced = event(SessionState.LOST, SessionState.RECONNECTED, 1, 2);
        RecoveryEvent recovery = new RecoveryEvent("e", 1, 2, 3, 4, Duration.ofMillis(5), true);
        ZkException noAuth = ZkException.of(KeeperException.Code.NOAUTH, "/a", "refused", null);
        ZkException noNode = ZkException.of(KeeperException.Code.NONODE, "/a", "no parent", null);

        recorder.onStateChange(connected);
        recorder.onTimeoutClamped("e", Duration.ofSeconds(30), Duration.ofSeconds(4));
        recorder.onEvent(new WatchEvent(WatchEvent.Type.CREATED, "/w"));
        recorder.onStateChange(suspended);
        recorder.onEphemeralMissing("/a", noAuth);
        recorder.onEphemeralMissing("/a", noNode);
        recorder.onEphemeralConflict("/b", 42);
        recorder.onStateChange(replaced);
        recorder.onRecovered(recovery);
        recorder.onEphemeralRestored("/a");
        recorder.onEvent(new WatchEvent(WatchEvent.Type.RESYNC, "/w"));
        recorder.onEvent(new WatchEvent(WatchEvent.Type.DATA_CHANGED, "/w"));
        recorder.onEvent(new WatchEvent(WatchEvent.Type.DATA_CHANGED, "/w"));

        assertThat(recorder.callbacks())
                .extracting(Recorder.Callback::kind)
                .containsExactly(
                        Recorder.Kind.STATE_CHANGE,
                        Recorder.Kind.TIMEOUT_CLAMPED,
                        Recorder.Kind.WATCH_EVENT,
                        Recorder.Kind.STATE_CHANGE,
                        Recorder.Kind.EPHEMERAL_MISSING,
                        Recorder.Kind.EPHEMERAL_MISSING,
                        Recorder.Kind.EPHEMERAL_CONFLICT,
                        Recorder.Kind.STATE_CHANGE,
                        Recorder.Kind.RECOVERED,
                        Recorder.Kind.EPHEMERAL_RESTORED,
                        Recorder.Kind.WATCH_EVENT,
                        Recorder.Kind.WATCH_EVENT,
                        Recorder.Kind.WATCH_EVENT);
        assertThat(recorder.threads()).containsExactly(Thread.currentThread().getName());
        assertThat(recorder.callbacks())
                .allMatch(c -> c.thread().equals(Thread.currentThread().getName()));

        assertThat(recorder.sessionEvents()).containsExactly(connected, suspended, replaced);
        assertThat(recorder.states())
                .containsExactly(SessionState.CONNECTED, SessionState.SUSPENDED, SessionState.RECONNECTED);
        assertThat(recorder.sessionEvents(SessionState.SUSPENDED)).containsExactly(suspended);
        assertThat(recorder.saw(SessionState.SUSPENDED)).isTrue();
        assertThat(recorder.saw(SessionState.LOST)).isFalse();
        assertThat(recorder.saw(SessionEvent::newSession)).isTrue();
        assertThat(recorder.first(SessionEvent::newSession)).contains(replaced);
        assertThat(recorder.first(SessionState.CONNECTED)).contains(connected);
        assertThat(recorder.count(SessionState.RECONNECTED)).isEqualTo(1);
        assertThat(recorder.callbacks(SessionState.RECONNECTED))
                .singleElement()
                .satisfies(c -> assertThat(c.value(SessionEvent.class)).isSameAs(replaced));

        assertThat(recorder.timeoutClamps())
                .containsExactly(new Recorder.TimeoutClamp("e", Duration.ofSeconds(30), Duration.ofSeconds(4)));
        assertThat(recorder.recoveries()).containsExactly(recovery);
        assertThat(recorder.conflicts()).containsExactly(new Recorder.EphemeralConflict("/b", 42));
        assertThat(recorder.conflictPaths()).containsExactly("/b");
        assertThat(recorder.missing())
                .extracting(Recorder.EphemeralMissing::cause)
                .containsExactly(noAuth, noNode);
        assertThat(recorder.missingPaths()).containsExactly("/a", "/a");
        assertThat(recorder.missingCause("/a")).as("the latest cause").containsSame(noNode);
        assertThat(recorder.missingCause("/b")).isEmpty();
        assertThat(recorder.restoredPaths()).containsExactly("/a");

        assertThat(recorder.watchEvents())
                .containsExactly(
                        new WatchEvent(WatchEvent.Type.CREATED, "/w"),
                        new WatchEvent(WatchEvent.Type.RESYNC, "/w"),
                        new WatchEvent(WatchEvent.Type.DATA_CHANGED, "/w"),
                        new WatchEvent(WatchEvent.Type.DATA_CHANGED, "/w"));
        assertThat(recorder.count(WatchEvent.Type.DATA_CHANGED)).isEqualTo(2);
        assertThat(recorder.count(WatchEvent.Type.DELETED)).isZero();
        assertThat(recorder.saw(WatchEvent.Type.RESYNC, "/w")).isTrue();
        assertThat(recorder.saw(WatchEvent.Type.RESYNC, "/x")).isFalse();
        assertThat(recorder.toString()).contains("13 callbacks").contains("RESYNC /w");
    }

    @Test
    void queriesAreSnapshotsAndClearingForgets() {
        Recorder recorder = new Recorder();
        recorder.onStateChange(event(SessionState.CONNECTING, SessionState.CONNECTED, 0, 1));
        recorder.onEvent(new WatchEvent(WatchEvent.Type.CREATED, "/w"));
        List<SessionEvent> before = recorder.sessionEvents();
        recorder.onStateChange(event(SessionState.CONNECTED, SessionState.SUSPENDED, 1, 0));
        assertThat(before).hasSize(1);
        assertThatThrownBy(() -> before.add(null)).isInstanceOf(UnsupportedOperationException.class);

        recorder.clear(Recorder.Kind.WATCH_EVENT);
        assertThat(recorder.watchEvents()).isEmpty();
        assertThat(recorder.sessionEvents()).hasSize(2);
        recorder.clear();
        assertThat(recorder.callbacks()).isEmpty();
        assertThat(recorder.toString()).contains("no callback");
    }

    @Test
    void callbacksFromManyThreadsAreAllKeptWithTheirThreads() throws Exception {
        Recorder recorder = new Recorder();
        int threads = 8;
        int each = 500;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String path = "/t" + t;
            Thread thread = new Thread(
                    () -> {
                        try {
                            start.await();
                        } catch (InterruptedException e) {
                            return;
                        }
                        for (int i = 0; i < each; i++) {
                            recorder.onEvent(new WatchEvent(WatchEvent.Type.DATA_CHANGED, path));
                        }
                    },
                    "recorder-test-" + t);
            thread.start();
            started.add(thread);
        }
        start.countDown();
        for (Thread thread : started) {
            thread.join(10_000);
        }
        assertThat(recorder.count(WatchEvent.Type.DATA_CHANGED)).isEqualTo((long) threads * each);
        assertThat(recorder.threads()).hasSize(threads).allMatch(name -> name.startsWith("recorder-test-"));
        for (Recorder.Callback c : recorder.callbacks()) {
            String index = c.thread().substring("recorder-test-".length());
            assertThat(c.value(WatchEvent.class).path())
                    .as("told on %s", c.thread())
                    .isEqualTo("/t" + index);
        }
    }

    @Test
    void awaitsReturnAsSoonAsACallbackMatches() throws Exception {
        Recorder recorder = new Recorder();
        SessionEvent lost = event(SessionState.SUSPENDED, SessionState.LOST, 1, 0);
        Thread later = new Thread(
                () -> {
                    sleep(200);
                    recorder.onStateChange(event(SessionState.CONNECTED, SessionState.SUSPENDED, 1, 0));
                    sleep(100);
                    recorder.onStateChange(lost);
                    recorder.onEvent(new WatchEvent(WatchEvent.Type.DELETED, "/gone"));
                    recorder.onRecovered(new RecoveryEvent("e", 1, 2, 0, 0, Duration.ZERO, true));
                },
                "later");
        long start = System.nanoTime();
        later.start();

        assertThat(recorder.awaitState(SessionState.LOST, Duration.ofSeconds(10)))
                .isSameAs(lost);
        assertThat(recorder.awaitSessionEvent(Duration.ofSeconds(10), e -> e.state() == SessionState.SUSPENDED)
                        .previousState())
                .isEqualTo(SessionState.CONNECTED);
        assertThat(recorder.awaitWatchEvent(WatchEvent.Type.DELETED, "/gone", Duration.ofSeconds(10)))
                .isEqualTo(new WatchEvent(WatchEvent.Type.DELETED, "/gone"));
        recorder.awaitUntil(
                "a recovery", Duration.ofSeconds(10), r -> !r.recoveries().isEmpty());
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
        later.join();
    }

    @Test
    void aFailedAwaitSaysWhatItAwaitedAndWhatWasRecorded() {
        Recorder recorder = new Recorder();
        recorder.onStateChange(event(SessionState.CONNECTING, SessionState.CONNECTED, 0, 1));
        assertThatThrownBy(() -> recorder.awaitState(SessionState.LOST, Duration.ofMillis(200)))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("a session event to LOST")
                .hasMessageContaining("1 callback:")
                .hasMessageContaining("CONNECTING->CONNECTED");
        assertThatThrownBy(() -> recorder.awaitState(SessionState.LOST, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("timeout");
    }

    @Test
    void aStateChangeHappenedWhenItsEventSaysOnTheNanoTimeClock() {
        Recorder recorder = new Recorder();
        recorder.onStateChange(event(
                SessionState.CONNECTED,
                SessionState.SUSPENDED,
                1,
                0,
                Instant.now().minusMillis(300)));
        recorder.onEvent(new WatchEvent(WatchEvent.Type.CREATED, "/w"));
        Recorder.Callback stateChange =
                recorder.callbacks(Recorder.Kind.STATE_CHANGE).get(0);
        long lagMs = TimeUnit.NANOSECONDS.toMillis(stateChange.nanoTime() - stateChange.happenedAtNanos());
        assertThat(lagMs).isBetween(250L, 2_000L);
        Recorder.Callback watch = recorder.callbacks(Recorder.Kind.WATCH_EVENT).get(0);
        assertThat(watch.happenedAtNanos()).isEqualTo(watch.nanoTime());

        // An event stamped after the callback's own clock reading is not moved into the future.
        recorder.onStateChange(event(
                SessionState.SUSPENDED,
                SessionState.RECONNECTED,
                1,
                1,
                Instant.now().plusSeconds(5)));
        Recorder.Callback ahead = recorder.callbacks(SessionState.RECONNECTED).get(0);
        assertThat(ahead.happenedAtNanos()).isEqualTo(ahead.nanoTime());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
