package dev.zksdk.internal.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.internal.ConnectString;
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
}
