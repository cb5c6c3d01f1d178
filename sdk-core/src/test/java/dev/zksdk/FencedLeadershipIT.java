package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zksdk.testing.InProcessEnsembles;
import dev.zksdk.testing.ZkProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Fenced leadership and locks on one real in-process server: turns proven by epoch bumps, fenced writes refused once
 * superseded, loss reported once, listeners that call back into the SDK, two participants in one pool, bad input.
 */
class FencedLeadershipIT {

    /** The client declares SUSPENDED after 4 s of silence; the server expires the session after 6 s. */
    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);

    static final byte[] V = "v".getBytes(StandardCharsets.UTF_8);

    TestingServer server;
    ZkProxy proxy;
    ZkSessionPool pool;
    ZkSessionPool other;

    @BeforeEach
    void start() throws Exception {
        server = InProcessEnsembles.startServer();
        proxy = ZkProxy.to(server.getConnectString());
        pool = pool(proxy.connectString());
        other = pool(server.getConnectString());
        try (ZkLease l = other.lease()) {
            l.create("/data", V, CreateMode.PERSISTENT);
        }
    }

    static ZkSessionPool pool(String connectString) {
        return ZkSessionPool.builder()
                .connectString(connectString)
                .sessionTimeout(SESSION_TIMEOUT)
                .connectionTimeout(Duration.ofSeconds(5))
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        proxy.unfreeze();
        pool.close();
        other.close();
        proxy.close();
        server.close();
    }

    /** Records every callback, in order. */
    static final class Events implements LeadershipListener {
        final List<String> seen = new CopyOnWriteArrayList<>();
        final List<FencingToken> elected = new CopyOnWriteArrayList<>();

        @Override
        public void onElected(FencingToken token) {
            elected.add(token);
            seen.add("elected " + token.value());
        }

        @Override
        public void onLost(FencingToken token, SessionState cause) {
            seen.add("lost " + token.value() + " " + cause);
        }
    }

    @Test
    void winnerGetsATokenOnTheEpochNodeAndItsFencedWritesLand() {
        ZkLease lease = pool.lease();
        Events events = new Events();
        ZkLeadership election = lease.leaderElection("/elections/a", events);
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        FencingToken token = election.token();
        Stat epoch = lease.exists("/elections/a-epoch");
        assertThat(token.epochPath()).isEqualTo("/elections/a-epoch");
        assertThat(token.epochVersion()).isEqualTo(epoch.getVersion());
        assertThat(token.value()).isEqualTo(epoch.getMzxid());
        await().until(() -> events.elected.equals(List.of(token)));

        FencedWrites writes = lease.fenced(token);
        Stat after = writes.setData("/data", "leader".getBytes(StandardCharsets.UTF_8), -1);
        assertThat(after.getVersion()).isEqualTo(1);
        assertThat(writes.create("/data/child", V, CreateMode.PERSISTENT)).isEqualTo("/data/child");
        writes.delete("/data/child", -1);
        assertThat(writes.multi(List.of(Op.create(
                        "/data/m", V, org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT))))
                .hasSize(1);
        assertThat(writes.setDataAsync("/data", V, -1).join().getVersion()).isEqualTo(2);
        // An application result of the write itself is reported as the lease reports it, not as fencing.
        assertThatThrownBy(() -> writes.setData("/data", V, 99)).isInstanceOf(ZkBadVersionException.class);
        assertThatThrownBy(() -> writes.setData("/absent", V, -1)).isInstanceOf(ZkNoNodeException.class);
    }

    @Test
    void aLaterHolderGetsAGreaterTokenAndTheFormerHoldersFencedWritesAreRefused() {
        ZkLease first = pool.lease();
        Events firstEvents = new Events();
        ZkLeadership a = first.leaderElection("/elections/b", firstEvents);
        await().atMost(Duration.ofSeconds(10)).until(a::isLeader);
        FencingToken old = a.token();

        ZkLease second = other.lease();
        Events secondEvents = new Events();
        ZkLeadership b = second.leaderElection("/elections/b", secondEvents);
        a.close(); // hands over
        assertThat(a.isLeader()).isFalse();
        await().atMost(Duration.ofSeconds(10)).until(b::isLeader);
        FencingToken newer = b.token();
        assertThat(newer.value()).isGreaterThan(old.value());
        assertThat(newer.isNewerThan(old)).isTrue();
        assertThat(newer.epochVersion()).isEqualTo(old.epochVersion() + 1);
        await().until(() ->
                firstEvents.seen.equals(List.of("elected " + old.value(), "lost " + old.value() + " CLOSED")));

        int before = other.lease().exists("/data").getVersion();
        ZkFencedException refused = (ZkFencedException) org.assertj.core.api.Assertions.catchThrowable(
                () -> first.fenced(old).setData("/data", "stale".getBytes(StandardCharsets.UTF_8), -1));
        assertThat(refused).isNotNull();
        assertThat(refused.code()).isEqualTo(KeeperException.Code.BADVERSION);
        assertThat(refused.path()).isEqualTo("/data");
        assertThat(refused.token()).isEqualTo(old);
        assertThat(refused.getMessage()).contains("/data").contains(String.valueOf(old.value()));
        assertThatThrownBy(() -> first.fenced(old)
                        .createAsync("/data/stale", V, CreateMode.PERSISTENT)
                        .join())
                .hasCauseInstanceOf(ZkFencedException.class);
        assertThat(other.lease().exists("/data").getVersion()).isEqualTo(before);
        assertThat(other.lease().exists("/data/stale")).isNull();
        // The new holder writes.
        second.fenced(newer).setData("/data", V, -1);
    }

    @Test
    void aLockHandsEachHolderAGreaterTokenAndFencesTheFormer() {
        ZkLease lease = pool.lease();
        ZkLock lock = lease.lock("/locks/x");
        FencingToken t1 = lock.acquire(Duration.ofSeconds(10));
        assertThat(t1).isNotNull();
        assertThat(lock.isHeld()).isTrue();
        assertThat(lock.token()).isEqualTo(t1);
        assertThatThrownBy(() -> lock.acquire(Duration.ofSeconds(1)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("/locks/x");

        ZkLock contender = other.lease().lock("/locks/x");
        assertThat(contender.acquire(Duration.ofMillis(300))).isNull();
        lock.release();
        assertThat(lock.isHeld()).isFalse();
        FencingToken t2 = contender.acquire(Duration.ofSeconds(10));
        assertThat(t2.value()).isGreaterThan(t1.value());
        assertThatThrownBy(() -> lease.fenced(t1).setData("/data", V, -1)).isInstanceOf(ZkFencedException.class);
        other.lease().fenced(t2).setData("/data", V, -1);
        contender.close();
        assertThat(contender.isHeld()).isFalse();
        assertThatThrownBy(() -> contender.acquire(Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aListenerThatClosesTheLeaseAndThePoolFromOnLostDoesNotDeadlock() throws Exception {
        ZkLease lease = pool.lease();
        AtomicInteger lost = new AtomicInteger();
        List<String> threads = new CopyOnWriteArrayList<>();
        ZkLeadership election = lease.leaderElection("/elections/c", new LeadershipListener() {
            @Override
            public void onLost(FencingToken token, SessionState cause) {
                threads.add(Thread.currentThread().getName());
                lost.incrementAndGet();
                lease.close(); // closes this election again, from its own listener
                pool.close();
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        proxy.freeze(); // SUSPENDED after two thirds of the session timeout
        await().atMost(SESSION_TIMEOUT.multipliedBy(3)).until(() -> !election.isLeader());
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThatThrownBy(pool::lease).isInstanceOf(IllegalStateException.class));
        assertThatThrownBy(() -> lease.fenced(null)).isInstanceOf(IllegalStateException.class);
        assertThat(lost).hasValue(1);
        // On the pool's callback threads, never ZooKeeper's event thread or Curator's.
        assertThat(threads).singleElement().asString().contains("-callbacks");
    }

    @Test
    void aReconnectWithinTheSessionStartsANewTurnWithANewToken() {
        ZkLease lease = pool.lease();
        Events events = new Events();
        ZkLeadership election = lease.leaderElection("/elections/r", events);
        Events lockEvents = new Events();
        ZkLock lock = lease.lock("/locks/r", lockEvents);
        FencingToken lockToken = lock.acquire(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        FencingToken first = election.token();
        long session = lease.sessionId();
        proxy.freeze();
        // SUSPENDED: ownership unknown, both turns end at once.
        await().atMost(SESSION_TIMEOUT.multipliedBy(2)).until(() -> !election.isLeader() && !lock.isHeld());
        proxy.unfreeze();
        await().atMost(SESSION_TIMEOUT.multipliedBy(2)).until(() -> election.isLeader() && lock.isHeld());
        assertThat(lease.sessionId()).as("same session").isEqualTo(session);
        FencingToken second = election.token();
        assertThat(second.value()).isGreaterThan(first.value());
        assertThat(lock.token().value()).isGreaterThan(lockToken.value());
        await().until(() -> events.seen.equals(List.of(
                "elected " + first.value(), "lost " + first.value() + " SUSPENDED", "elected " + second.value())));
        FencingToken lockSecond = lock.token();
        await().until(() -> lockEvents.seen.equals(List.of(
                "elected " + lockToken.value(),
                "lost " + lockToken.value() + " SUSPENDED",
                "elected " + lockSecond.value())));
        // The former turn's token is superseded even though the same participant holds again.
        assertThatThrownBy(() -> lease.fenced(first).setData("/data", V, -1)).isInstanceOf(ZkFencedException.class);
        lease.fenced(second).setData("/data", V, -1);
        lease.fenced(lock.token()).setData("/data", V, -1);
        lock.release();
    }

    final List<Long> started = new CopyOnWriteArrayList<>();
    final List<Long> external = new CopyOnWriteArrayList<>();

    void startWork(FencingToken token) {
        started.add(token.value());
    }

    void stopWork() {}

    /** The README's external store: keeps the values it was given. */
    final class ExternalStore {
        void write(String row, long token) {
            external.add(token);
        }
    }

    /** The README's "Fenced leadership and locks" block, verbatim between the markers. */
    @Test
    void readmeBlockRuns() throws Exception {
        other.lease().create("/app", V, CreateMode.PERSISTENT);
        other.lease().create("/app/state", V, CreateMode.PERSISTENT);
        other.lease().create("/app/jobs", V, CreateMode.PERSISTENT);
        byte[] state = V;
        byte[] job = V;
        String row = "row";
        ExternalStore externalStore = new ExternalStore();
        // README begin
        ZkLease lease = pool.lease();
        ZkLeadership election = lease.leaderElection("/app/leader", new LeadershipListener() {
            @Override
            public void onElected(FencingToken token) {
                startWork(token);
            }

            @Override
            public void onLost(FencingToken token, SessionState cause) {
                stopWork();
            } // SUSPENDED, LOST or CLOSED
        });
        // README end
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        // README begin
        // later, while leading:
        FencingToken token = election.token(); // null when not leader
        lease.fenced(token).setData("/app/state", state, -1); // ZkFencedException once another holder has won
        externalStore.write(row, token.value()); // a store that refuses values smaller than the last it saw

        ZkLock lock = lease.lock("/app/lock");
        FencingToken held = lock.acquire(Duration.ofSeconds(5)); // null when not acquired in time
        try {
            lease.fenced(held).create("/app/jobs/j-1", job, CreateMode.PERSISTENT);
        } finally {
            lock.release();
        }
        // README end
        assertThat(started).containsExactly(token.value());
        assertThat(external).containsExactly(token.value());
        assertThat(other.lease().exists("/app/jobs/j-1")).isNotNull();
        assertThat(other.lease().exists("/app/state").getVersion()).isEqualTo(1);
    }

    @Test
    void twoElectionsOnOnePathInOnePoolAreTwoParticipants() {
        ZkLease lease = pool.lease();
        ZkLeadership a = lease.leaderElection("/elections/d", LeadershipListenerNone.INSTANCE);
        ZkLeadership b = lease.leaderElection("/elections/d", LeadershipListenerNone.INSTANCE);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.isLeader() || b.isLeader());
        assertThat(a.isLeader() && b.isLeader()).isFalse();
        ZkLeadership leader = a.isLeader() ? a : b;
        ZkLeadership follower = leader == a ? b : a;
        FencingToken first = leader.token();
        leader.close();
        await().atMost(Duration.ofSeconds(10)).until(follower::isLeader);
        assertThat(follower.token().value()).isGreaterThan(first.value());
    }

    @Test
    void closingThePoolEndsTurnsAndTellsEachListenerOnce() {
        ZkLease lease = pool.lease();
        Events events = new Events();
        ZkLeadership election = lease.leaderElection("/elections/e", events);
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        long value = election.token().value();
        pool.close();
        assertThat(election.isLeader()).isFalse();
        await().until(() -> events.seen.equals(List.of("elected " + value, "lost " + value + " CLOSED")));
        election.close();
        // The election node is gone: another participant wins.
        ZkLeadership next = other.lease().leaderElection("/elections/e", LeadershipListenerNone.INSTANCE);
        await().atMost(Duration.ofSeconds(10)).until(next::isLeader);
        assertThat(events.seen).hasSize(2);
    }

    @Test
    void badInputIsRefusedAtOnceNamingTheValue() {
        ZkLease lease = pool.lease();
        assertThatThrownBy(() -> lease.leaderElection("no-slash", LeadershipListenerNone.INSTANCE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no-slash");
        assertThatThrownBy(() -> lease.leaderElection("/x-epoch", LeadershipListenerNone.INSTANCE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("/x-epoch");
        assertThatThrownBy(() -> lease.leaderElection("/x", null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> lease.lock("/")).isInstanceOf(IllegalArgumentException.class);
        FencingToken foreign = new FencingToken("/never/elected-epoch", 1, 42, "/never/elected/n");
        assertThatThrownBy(() -> lease.fenced(foreign))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("/never/elected-epoch");
        assertThatThrownBy(() -> new FencingToken("/e", 0, 1, "/e/n")).hasMessageContaining("epochVersion");
        assertThatThrownBy(() -> new FencingToken("/e-epoch", 1, 1, null)).hasMessageContaining("holderNode");

        ZkLeadership election = lease.leaderElection("/elections/f", LeadershipListenerNone.INSTANCE);
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);
        FencedWrites writes = lease.fenced(election.token());
        assertThatThrownBy(() -> writes.setData("/elections/f-epoch", V, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("/elections/f-epoch");
        assertThatThrownBy(() -> writes.setData("bad", V, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad");
        // A token of another pool's election on the same ensemble is refused too.
        assertThatThrownBy(() -> other.lease().fenced(election.token())).isInstanceOf(IllegalArgumentException.class);
        lease.close();
        assertThatThrownBy(() -> writes.setData("/data", V, -1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> lease.lock("/locks/y")).isInstanceOf(IllegalStateException.class);
    }

    enum LeadershipListenerNone implements LeadershipListener {
        INSTANCE
    }
}
