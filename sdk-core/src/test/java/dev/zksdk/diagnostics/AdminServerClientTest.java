package dev.zksdk.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Mapping of AdminServer answers. The JSON follows ZooKeeper 3.9.4's {@code Commands} (keys put into
 * {@code CommandResponse}), {@code ZooKeeperServerConf.toMap()}, {@code ServerCnxn.getConnectionInfo(false)},
 * {@code WatchesSummary.toMap()} and the Jackson {@code SNAKE_CASE} rendering of {@code ServerStats} getters that
 * {@code JsonOutputter} applies; the values are those of the captured four-letter-word fixtures.
 */
class AdminServerClientTest {

    @SuppressWarnings("unchecked")
    private static Map<String, Object> json(String text) {
        return (Map<String, Object>) Json.parse(text);
    }

    @Test
    void srvrMapsServerStats() {
        WordParsers.Srvr srvr = AdminServerClient.toSrvr(json("""
                {
                  "version" : "3.9.4-7246445ec281f3dbf53dc54e970c914f39713903, built on 2025-08-19 19:53 UTC",
                  "read_only" : false,
                  "server_stats" : {
                    "packets_sent" : 5, "packets_received" : 6, "max_latency" : 17, "min_latency" : 1,
                    "avg_latency" : 9.0, "outstanding_requests" : 0, "last_processed_zxid" : 4294967298,
                    "server_state" : "follower", "num_alive_client_connections" : 2, "uptime" : 541545,
                    "data_dir_size" : 67109546, "log_dir_size" : 67109546
                  },
                  "client_response" : { "last_buffer_size" : 84, "min_buffer_size" : 22, "max_buffer_size" : 84 },
                  "node_count" : 6,
                  "command" : "srvr",
                  "error" : null
                }"""));

        assertThat(srvr).isEqualTo(WordParsers.parseSrvr(Fixtures.text("srvr-follower.txt")));
    }

    @Test
    void mntrKeysGetTheFourLetterWordPrefix() {
        Map<String, String> mntr = AdminServerClient.toMntr(json("""
                { "version" : "3.9.4", "server_state" : "leader", "avg_latency" : 0.5, "connection_rejected" : 3,
                  "command" : "monitor", "error" : null }"""));

        assertThat(mntr)
                .containsExactly(
                        Map.entry("zk_version", "3.9.4"),
                        Map.entry("zk_server_state", "leader"),
                        Map.entry("zk_avg_latency", "0.5"),
                        Map.entry("zk_connection_rejected", "3"));
    }

    @Test
    void confAndVotingViewMapToTheFourLetterWordShape() {
        WordParsers.Conf conf = AdminServerClient.toConf(json("""
                { "client_port" : 38167, "data_dir" : "/d/version-2", "data_log_dir" : "/d/version-2",
                  "tick_time" : 200, "max_client_cnxns" : 10, "min_session_timeout" : 400,
                  "max_session_timeout" : 4000, "server_id" : 1, "client_port_listen_backlog" : -1,
                  "command" : "configuration", "error" : null }"""), json("""
                { "current_config" : {
                    "1" : { "server_addresses" : [ "127.0.0.1:44081" ], "election_addresses" : [ "127.0.0.1:43393" ],
                            "client_address" : "127.0.0.1:38167", "learner_type" : "participant" },
                    "2" : { "server_addresses" : [ "127.0.0.1:36761" ], "election_addresses" : [ "127.0.0.1:37423" ],
                            "client_address" : "127.0.0.1:44361", "learner_type" : "participant" },
                    "3" : { "server_addresses" : [ "127.0.0.1:34925" ], "election_addresses" : [ "127.0.0.1:43329" ],
                            "client_address" : "127.0.0.1:46333", "learner_type" : "participant" } },
                  "command" : "voting_view", "error" : null }"""));
        WordParsers.Conf fromWord = WordParsers.parseConf(Fixtures.text("conf-quorum.txt"));

        assertThat(conf.settings())
                .containsEntry("tickTime", "200")
                .containsEntry("maxClientCnxns", "10")
                .containsEntry("minSessionTimeout", "400")
                .containsEntry("maxSessionTimeout", "4000")
                .containsEntry("serverId", "1")
                .containsEntry("clientPort", "38167");
        assertThat(conf.membershipLines()).isEqualTo(fromWord.membershipLines());
        for (int i = 0; i < 3; i++) {
            assertThat(conf.members().get(i).sameAs(fromWord.members().get(i))).isTrue();
        }
    }

    @Test
    void consAndWchsMap() {
        var connections = AdminServerClient.toCons(json("""
                { "connections" : [
                    { "remote_socket_address" : "127.0.0.1:45970", "interest_ops" : 1, "outstanding_requests" : 0,
                      "packets_received" : 4, "packets_sent" : 4, "session_id" : 72057629509615616 },
                    { "remote_socket_address" : "127.0.0.1:46016", "interest_ops" : 0, "outstanding_requests" : 0,
                      "packets_received" : 1, "packets_sent" : 0, "session_id" : 0 } ],
                  "secure_connections" : [ ], "command" : "connections", "error" : null }"""));

        assertThat(connections)
                .isEqualTo(WordParsers.parseCons(Fixtures.text("cons-follower.txt")).stream()
                        .map(c -> new WordParsers.Connection(c.address(), c.port(), c.sessionId()))
                        .toList());
        assertThat(AdminServerClient.toWchs(json("""
                { "num_connections" : 1, "num_paths" : 1, "num_total_watches" : 1, "command" : "watch_summary",
                  "error" : null }""")))
                .isEqualTo(WordParsers.parseWchs(Fixtures.text("wchs-follower.txt")));
    }

    @Test
    void initialConfigurationGivesAutopurgeSettings() throws Exception {
        Properties config = AdminServerClient.initialConfiguration(json("""
                { "initial_configuration" : "tickTime=2000\\ndataDir=/data\\nautopurge.purgeInterval=0\\n",
                  "command" : "initial_configuration", "error" : null }"""));
        assertThat(config.getProperty("autopurge.purgeInterval")).isEqualTo("0");

        assertThat(AdminServerClient.initialConfiguration(json("""
                { "initial_configuration" : null, "command" : "initial_configuration", "error" : null }"""))).isNull();
    }

    @Test
    void notServingErrorIsRecognised() {
        Map<String, Object> answer = json("""
                { "command" : "mntr", "error" : "This ZooKeeper instance is not currently serving requests" }""");

        assertThat(WordParsers.isNotServing(AdminServerClient.error(answer))).isTrue();
    }
}
