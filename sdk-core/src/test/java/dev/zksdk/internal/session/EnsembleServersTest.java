package dev.zksdk.internal.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.hosts.HostsConfig;
import dev.zksdk.internal.ConnectString;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.Properties;
import org.apache.zookeeper.server.quorum.flexible.QuorumMaj;
import org.junit.jupiter.api.Test;

/** The order between a connect string changed at runtime and the memberships the followers read. */
class EnsembleServersTest {

    private static ConnectString cs(String value) {
        return ConnectString.parse("connectString", value);
    }

    @Test
    void aMembershipReadBeforeARuntimeChangeDoesNotUndoItButANewerOneDoes() {
        EnsembleServers servers = new EnsembleServers("test", cs("a:1,b:1,c:1"));
        synchronized (servers) {
            servers.membershipSeen(5);
            assertThat(servers.membershipIsNewer(5, 0)).isTrue();
            assertThat(servers.membershipApplied(cs("a:1,b:1,c:1")))
                    .as("same list as before")
                    .isFalse();
        }
        assertThat(servers.update(cs("a:1,b:1"))).isTrue();
        assertThat(servers.current().value()).isEqualTo("a:1,b:1");
        synchronized (servers) {
            // A session that reconnects reads version 5 again, or one that never applied it reads it for the first
            // time.
            servers.membershipSeen(5);
            assertThat(servers.membershipIsNewer(5, 5)).isFalse();
            assertThat(servers.membershipIsNewer(5, 0)).isFalse();
            // A reconfiguration after the change.
            servers.membershipSeen(6);
            assertThat(servers.membershipIsNewer(6, 5)).isTrue();
            assertThat(servers.membershipApplied(cs("a:1,c:1"))).isTrue();
        }
        assertThat(servers.current().value()).isEqualTo("a:1,c:1");
        synchronized (servers) {
            // A member that is behind still reports version 5.
            servers.membershipSeen(5);
            assertThat(servers.membershipIsNewer(5, 0)).isFalse();
        }
    }

    @Test
    void theLatestRuntimeChangeWinsAndAnUnchangedOneIsNoChange() {
        EnsembleServers servers = new EnsembleServers("test", cs("a:1/x"));
        assertThat(servers.update(cs("b:1/x"))).isTrue();
        assertThat(servers.update(cs("c:1,d:1/x"))).isTrue();
        assertThat(servers.update(cs("c:1,d:1/x"))).isFalse();
        assertThat(servers.current().value()).isEqualTo("c:1,d:1/x");
        assertThat(servers.current().servers()).containsExactly("c:1", "d:1");
    }

    @Test
    void ipv6ClientAddressesOfAMembershipAreBracketed() {
        assertThat(EnsembleFollower.bracketIpv6("0:0:0:0:0:0:0:1:2181,127.0.0.1:2182,[::1]:2183"))
                .isEqualTo("[0:0:0:0:0:0:0:1]:2181,127.0.0.1:2182,[::1]:2183");
        assertThat(ConnectString.parse("m", EnsembleFollower.bracketIpv6("0:0:0:0:0:0:0:1:2181"))
                        .servers())
                .containsExactly("[0:0:0:0:0:0:0:1]:2181");
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static HostsConfig.Resolver table(Map<String, InetAddress[]> names) {
        return host -> {
            InetAddress[] all = names.get(host);
            if (all == null) {
                throw new UnknownHostException(host);
            }
            return all;
        };
    }

    @Test
    void aMembershipGivingAddressesKeepsTheNamesTheUserGaveAndTheChroot() {
        HostsConfig.Resolver resolver = table(Map.of(
                "zk1.test", new InetAddress[] {ip("127.0.0.2")},
                "zk2.test", new InetAddress[] {ip("127.0.0.3")}));
        EnsembleServers servers = new EnsembleServers("test", cs("zk1.test:2181,zk2.test:2181/app"), resolver);
        // zk2.test moved to 127.0.0.5: the member the ensemble lists there stays an address; a new member too.
        assertThat(servers.withUserNames(cs("127.0.0.2:2181,127.0.0.3:2182,127.0.0.9:2181/app"))
                        .value())
                .isEqualTo("zk1.test:2181,127.0.0.3:2182,127.0.0.9:2181/app");
        assertThat(servers.withUserNames(cs("127.0.0.3:2181,127.0.0.2:2181/app"))
                        .value())
                .isEqualTo("zk2.test:2181,zk1.test:2181/app");
        // names the membership gives stay as they are
        assertThat(servers.withUserNames(cs("zk3.test:2181/app")).value()).isEqualTo("zk3.test:2181/app");
    }

    @Test
    void aNameWithSeveralAddressesStandsForThemOnceAndARuntimeChangeBringsNewNames() {
        HostsConfig.Resolver resolver = table(Map.of(
                "zk-hs.test", new InetAddress[] {ip("127.0.0.2"), ip("127.0.0.3")},
                "zk4.test", new InetAddress[] {ip("127.0.0.4")}));
        EnsembleServers servers = new EnsembleServers("test", cs("zk-hs.test:2181"), resolver);
        assertThat(servers.withUserNames(cs("127.0.0.2:2181,127.0.0.3:2181,127.0.0.4:2181"))
                        .value())
                .isEqualTo("zk-hs.test:2181,127.0.0.4:2181");
        servers.update(cs("zk4.test:2181"));
        assertThat(servers.withUserNames(cs("127.0.0.2:2181,127.0.0.4:2181")).value())
                .isEqualTo("127.0.0.2:2181,zk4.test:2181");
    }

    @Test
    void namesThatDoNotResolveLeaveTheMembershipAsItIs() {
        EnsembleServers servers = new EnsembleServers("test", cs("gone.test:2181"), table(Map.of()));
        ConnectString membership = cs("127.0.0.2:2181,127.0.0.3:2181");
        assertThat(servers.withUserNames(membership)).isSameAs(membership);
    }

    @Test
    void aMembershipIsSplitIntoVotersForLeaseSessionsAndObserversForReadSessions() throws Exception {
        Properties config = new Properties();
        config.load(new StringReader(String.join(
                "\n",
                "server.1=127.0.0.1:3001:4001:participant;127.0.0.1:2181",
                "server.2=127.0.0.1:3002:4002:participant;127.0.0.1:2182",
                "server.3=127.0.0.1:3003:4003:participant;127.0.0.1:2183",
                "server.4=127.0.0.1:3004:4004:observer;127.0.0.1:2184",
                "version=100000002")));
        QuorumMaj m = new QuorumMaj(config);
        assertThat(EnsembleFollower.connectionString(m, EnsembleServers.Members.ALL))
                .isEqualTo("127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183,127.0.0.1:2184");
        assertThat(EnsembleFollower.connectionString(m, EnsembleServers.Members.PARTICIPANTS))
                .isEqualTo("127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183");
        assertThat(EnsembleFollower.connectionString(m, EnsembleServers.Members.OBSERVERS))
                .isEqualTo("127.0.0.1:2184");
        config.remove("server.4");
        assertThat(EnsembleFollower.connectionString(new QuorumMaj(config), EnsembleServers.Members.OBSERVERS))
                .as("no observer left: the read sessions go to the voters")
                .isEqualTo("127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183");
    }
}
