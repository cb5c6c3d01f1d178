package dev.zksdk.diagnostics;

import static dev.zksdk.diagnostics.Fixtures.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class WordParsersTest {

    @Test
    void srvrOfLeaderGivesModeZxidLatencyAndVersion() {
        WordParsers.Srvr srvr = WordParsers.parseSrvr(text("srvr-leader.txt"));

        assertThat(srvr.mode()).isEqualTo("leader");
        assertThat(srvr.zxid()).isEqualTo(0x100000002L);
        assertThat(srvr.version()).startsWith("3.9.4-").contains("built on");
        assertThat(srvr.minLatency()).isZero();
        assertThat(srvr.avgLatency()).isZero();
        assertThat(srvr.maxLatency()).isZero();
        assertThat(srvr.connections()).isEqualTo(1);
        assertThat(srvr.outstanding()).isZero();
        assertThat(srvr.nodeCount()).isEqualTo(6);
    }

    @Test
    void srvrOfFollowerAndStandaloneGiveTheirModes() {
        WordParsers.Srvr follower = WordParsers.parseSrvr(text("srvr-follower.txt"));
        assertThat(follower.mode()).isEqualTo("follower");
        assertThat(follower.avgLatency()).isEqualTo(9.0);
        assertThat(follower.maxLatency()).isEqualTo(17);

        WordParsers.Srvr standalone = WordParsers.parseSrvr(text("srvr-standalone.txt"));
        assertThat(standalone.mode()).isEqualTo("standalone");
        assertThat(standalone.zxid()).isZero();
    }

    @Test
    void notServingAndNotWhitelistedAnswersAreRecognised() {
        assertThat(WordParsers.isNotServing(text("srvr-not-serving.txt"))).isTrue();
        assertThat(WordParsers.isNotServing(text("srvr-leader.txt"))).isFalse();
        assertThat(text("ruok-not-serving.txt").trim()).isEqualTo("imok");
        assertThat(WordParsers.isNotWhitelisted(text("mntr-not-whitelisted.txt")))
                .isTrue();
        assertThat(WordParsers.isNotWhitelisted(text("srvr-leader.txt"))).isFalse();
    }

    @Test
    void mntrGivesEveryMetricByName() {
        Map<String, String> mntr = WordParsers.parseMntr(text("mntr-leader.txt"));

        assertThat(mntr)
                .hasSizeGreaterThan(100)
                .containsEntry("zk_server_state", "leader")
                .containsEntry("zk_connection_rejected", "0")
                .containsEntry("zk_outstanding_requests", "0")
                .containsKeys(
                        "zk_avg_latency",
                        "zk_max_latency",
                        "zk_open_file_descriptor_count",
                        "zk_max_file_descriptor_count",
                        "zk_synced_followers");
        assertThat(mntr.get("zk_version")).startsWith("3.9.4-").contains(", built on");
    }

    @Test
    void confOfQuorumMemberGivesSettingsAndMembership() {
        WordParsers.Conf conf = WordParsers.parseConf(text("conf-quorum.txt"));

        assertThat(conf.settings())
                .containsEntry("tickTime", "200")
                .containsEntry("maxClientCnxns", "10")
                .containsEntry("minSessionTimeout", "400")
                .containsEntry("maxSessionTimeout", "4000")
                .containsEntry("initLimit", "10")
                .containsEntry("syncLimit", "5")
                .containsEntry("electionAlg", "3")
                .containsEntry("serverId", "1")
                .doesNotContainKey("server.1");
        assertThat(conf.members()).extracting(QuorumMember::id).containsExactly(1L, 2L, 3L);
        assertThat(conf.members()).allSatisfy(m -> {
            assertThat(m.role()).isEqualTo("participant");
            assertThat(m.isVoting()).isTrue();
            assertThat(m.serverAddress()).matches("127\\.0\\.0\\.1:\\d+:\\d+");
        });
        assertThat(conf.members().get(0).clientEndpoint()).isEqualTo(new HostAndPort("127.0.0.1", 38167));
        assertThat(conf.membershipLines()).hasSize(3).allMatch(l -> l.startsWith("server."));
        assertThat(conf.membershipVersion()).isEqualTo("0");
    }

    @Test
    void confOfStandaloneServerHasNoMembership() {
        WordParsers.Conf conf = WordParsers.parseConf(text("conf-standalone.txt"));

        assertThat(conf.members()).isEmpty();
        assertThat(conf.settings())
                .containsEntry("serverId", "0")
                .containsEntry("maxClientCnxns", "60")
                .doesNotContainKey("initLimit");
    }

    @Test
    void consGivesAddressesAndSessionsIncludingTheProbesOwnConnection() {
        var connections = WordParsers.parseCons(text("cons-follower.txt"));

        assertThat(connections)
                .hasSize(2)
                .allSatisfy(c -> assertThat(c.address()).isEqualTo("127.0.0.1"));
        assertThat(connections)
                .filteredOn(c -> c.sessionId() != null)
                .singleElement()
                .satisfies(c -> assertThat(c.sessionId()).isEqualTo(0x100000842470000L));
    }

    @Test
    void consLineOfIpv6ClientIsParsed() {
        // JDK 14+ InetSocketAddress.toString() brackets IPv6 literals: "/[0:0:0:0:0:0:0:1]:5555".
        var connections = WordParsers.parseCons(
                " /[0:0:0:0:0:0:0:1]:5555[1](queued=0,recved=3,sent=3,sid=0x1000,lop=PING,est=1,to=3000)\n");

        assertThat(connections).singleElement().satisfies(c -> {
            assertThat(c.address()).isEqualTo("0:0:0:0:0:0:0:1");
            assertThat(c.port()).isEqualTo(5555);
            assertThat(c.sessionId()).isEqualTo(0x1000L);
        });
    }

    @Test
    void wchsGivesWatchCounts() {
        WordParsers.Watches watches = WordParsers.parseWchs(text("wchs-follower.txt"));

        assertThat(watches).isEqualTo(new WordParsers.Watches(1, 1, 1));
    }

    @Test
    void membershipLineWithWildcardClientAddressIsProbedOnTheQuorumHost() {
        QuorumMember member = WordParsers.parseMember(
                "server.2",
                "10.0.0.2:2888:3888:participant;0.0.0.0:2181",
                "server.2=10.0.0.2:2888:3888:participant;0.0.0.0:2181");

        assertThat(member.clientEndpoint()).isEqualTo(new HostAndPort("10.0.0.2", 2181));
    }

    @Test
    void membershipLineWithoutClientAddressMatchesOneWithIt() {
        QuorumMember withClient = WordParsers.parseMember("server.1", "h1:2888:3888:participant;h1:2181", "a");
        QuorumMember without = WordParsers.parseMember("server.1", "h1:2888:3888", "b");
        QuorumMember otherPort = WordParsers.parseMember("server.1", "h1:2889:3888:participant;h1:2181", "c");

        assertThat(withClient.sameAs(without)).isTrue();
        assertThat(withClient.sameAs(otherPort)).isFalse();
        assertThat(without.clientEndpoint()).isNull();
    }
}
