package dev.zksdk.hosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Names in the connect string, resolved through an injected resolver; nothing is connected to. */
class HostNameResolutionTest {

    private final TestClock clock = new TestClock();

    private HostsConfig.Builder config(long seed, HostsConfig.Resolver resolver) {
        return HostsConfig.builder()
                .random(new Random(seed))
                .nanoClock(clock)
                .sleeper(clock)
                .resolver(resolver);
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Resolves the names of {@code names}; everything else is unknown. */
    private static HostsConfig.Resolver table(Map<String, InetAddress[]> names) {
        return host -> {
            InetAddress[] all = names.get(host);
            if (all == null) {
                throw new UnknownHostException(host);
            }
            return all.clone();
        };
    }

    @Test
    void resolverIsRequired() {
        assertThatThrownBy(() -> HostsConfig.builder().resolver(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("resolver");
        assertThat(HostsConfig.defaults().resolver()).isSameAs(HostsConfig.SYSTEM_RESOLVER);
    }

    @Test
    void aNameIsResolvedAgainForEveryAttempt() {
        AtomicReference<InetAddress> behind = new AtomicReference<>(ip("127.0.0.2"));
        SessionSpread spread = new SessionSpread(
                config(1, host -> new InetAddress[] {behind.get()}).build());
        try (WeightedHostProvider p = new WeightedHostProvider(
                List.of(InetSocketAddress.createUnresolved("zk.example", 2181)), spread, new ConnectionBudget())) {
            InetSocketAddress first = p.next(1000);
            assertThat(first.isUnresolved()).isFalse();
            assertThat(first.getAddress()).isEqualTo(ip("127.0.0.2"));
            p.onConnected();
            behind.set(ip("127.0.0.3"));
            InetSocketAddress second = p.next(1000);
            assertThat(second.getAddress()).isEqualTo(ip("127.0.0.3"));
            assertThat(second.getPort()).isEqualTo(2181);
            assertThat(p.currentServer()).isEqualTo("zk.example:2181");
        }
    }

    @Test
    void aNameWithSeveralAddressesHasEachTriedInTurnWhileTheyFail() {
        InetAddress[] three = {ip("127.0.0.4"), ip("127.0.0.2"), ip("127.0.0.3")};
        SessionSpread spread =
                new SessionSpread(config(7, table(Map.of("zk.multi", three))).build());
        try (WeightedHostProvider p = new WeightedHostProvider(
                List.of(InetSocketAddress.createUnresolved("zk.multi", 2181)), spread, new ConnectionBudget())) {
            Set<InetAddress> tried = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                tried.add(p.next(1000).getAddress()); // each call after the first: the previous attempt failed
            }
            assertThat(tried).containsExactlyInAnyOrder(three);
        }
    }

    @Test
    void anUnresolvableNameIsQuarantinedAndNeverHandedToZooKeeperWhileAnotherServerResolves() {
        HostsConfig.Resolver resolver = table(Map.of(
                "zk1.example", new InetAddress[] {ip("127.0.0.2")},
                "zk2.example", new InetAddress[] {ip("127.0.0.3")}));
        SessionSpread spread = new SessionSpread(config(3, resolver).build());
        ConnectionBudget budget = new ConnectionBudget();
        List<InetSocketAddress> servers = List.of(
                InetSocketAddress.createUnresolved("gone.example", 2181),
                InetSocketAddress.createUnresolved("zk1.example", 2181),
                InetSocketAddress.createUnresolved("zk2.example", 2181));
        List<WeightedHostProvider> providers = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                WeightedHostProvider p = new WeightedHostProvider(servers, spread, budget);
                providers.add(p);
                for (int attempt = 0; attempt < 4; attempt++) {
                    InetSocketAddress next = p.next(1000);
                    assertThat(next.isUnresolved())
                            .as("attempt %d of session %d", attempt, i)
                            .isFalse();
                    assertThat(p.currentServer()).isNotEqualTo("gone.example:2181");
                }
                p.onConnected();
            }
            HostOrderingStats stats = spread.stats();
            assertThat(stats.resolveFailures()).isPositive();
            assertThat(stats.quarantined()).containsKey("gone.example:2181");
            assertThat(stats.sessionsPerServer()).doesNotContainKey("gone.example:2181");
        } finally {
            providers.forEach(WeightedHostProvider::close);
        }
    }

    @Test
    void whenNoNameResolvesTheAttemptFailsAndIsCountedOnce() {
        SessionSpread spread = new SessionSpread(config(5, table(Map.of())).build());
        try (WeightedHostProvider p = new WeightedHostProvider(
                List.of(
                        InetSocketAddress.createUnresolved("a.example", 2181),
                        InetSocketAddress.createUnresolved("b.example", 2181)),
                spread,
                new ConnectionBudget())) {
            InetSocketAddress next = p.next(1000);
            assertThat(next.isUnresolved()).isTrue();
            assertThat(spread.stats().resolveFailures()).isEqualTo(2);
            assertThat(spread.stats().connectFailures()).isEqualTo(2);
            p.next(1000); // ZooKeeper failed the unresolved attempt: not counted a second time
            assertThat(spread.stats().connectFailures()).isEqualTo(4);
            assertThat(spread.stats().quarantined()).containsOnlyKeys("a.example:2181", "b.example:2181");
        }
    }
}
