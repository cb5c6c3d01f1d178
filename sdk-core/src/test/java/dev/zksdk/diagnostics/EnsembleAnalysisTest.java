package dev.zksdk.diagnostics;

import static dev.zksdk.diagnostics.Fixtures.follower;
import static dev.zksdk.diagnostics.Fixtures.leader;
import static dev.zksdk.diagnostics.Fixtures.member;
import static dev.zksdk.diagnostics.Fixtures.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rules, fed with answers captured from real servers; where a rule needs a fault, the captured text is edited
 * the way the fault shows in it.
 */
class EnsembleAnalysisTest {

    private static final String A = "10.0.0.1:2181";
    private static final String B = "10.0.0.2:2181";
    private static final String C = "10.0.0.3:2181";
    private static final ConnectString THREE = ConnectString.parse(A + "," + B + "," + C);

    @Test
    void healthyEnsembleHasNoFindings() {
        List<Finding> findings = analyse(leader(A), follower(B), follower(C));

        assertThat(findings).isEmpty();
    }

    @Test
    void memberWithADifferentServerListIsNamedWithTheSafeRestartOrder() {
        String shorter = text("conf-quorum.txt").replaceAll("server\\.3=[^\n]*\n", "");
        MemberProbe odd = member(C, text("srvr-follower.txt"), shorter, null, null, null);

        List<Finding> findings = analyse(leader(A), follower(B), odd);

        assertThat(findings)
                .filteredOn(f -> f.code() == FindingCode.CONFIG_DRIFT)
                .singleElement()
                .satisfies(f -> {
                    assertThat(f.severity()).isEqualTo(Severity.CRITICAL);
                    assertThat(f.server()).isEqualTo(C);
                    assertThat(f.evidence()).contains(A + ", " + B + " list server.1=", C + " differs: no server.3");
                    assertThat(f.remedy())
                            .contains(
                                    "change the configuration on all members first",
                                    "restart the followers one at a time",
                                    "restart the leader last",
                                    "Have smaller server identifier, so dropping the connection");
                });
    }

    @Test
    void changedPortsInAServerLineAreDrift() {
        String conf = text("conf-quorum.txt");
        String line2 =
                conf.lines().filter(l -> l.startsWith("server.2=")).findFirst().orElseThrow();
        String moved = conf.replace(line2, line2.replaceFirst(":(\\d+):", ":1:"));
        MemberProbe odd = member(C, text("srvr-follower.txt"), moved, null, null, null);

        Finding drift = single(analyse(leader(A), follower(B), odd), FindingCode.CONFIG_DRIFT);

        assertThat(drift.evidence()).contains("instead of " + line2);
    }

    @Test
    void settingThatMustMatchIsReportedWithEveryMembersValue() {
        String conf = text("conf-quorum.txt").replace("tickTime=200", "tickTime=2000");
        MemberProbe odd = member(B, text("srvr-follower.txt"), conf, null, null, null);

        Finding drift = single(analyse(leader(A), odd, follower(C)), FindingCode.CONFIG_DRIFT);

        assertThat(drift.severity()).isEqualTo(Severity.WARNING);
        assertThat(drift.server()).isEqualTo(B);
        assertThat(drift.evidence()).contains("tickTime differs", A + "=200", B + "=2000", C + "=200");
    }

    @Test
    void fourVotingMembersMakeAnEvenEnsemble() {
        String conf = text("conf-quorum.txt")
                .replace("version=0", "server.4=127.0.0.1:40001:40002:participant;127.0.0.1:40003\nversion=0");
        MemberProbe l = member(A, text("srvr-leader.txt"), conf, null, null, null);
        MemberProbe f = member(B, text("srvr-follower.txt"), conf, null, null, null);

        Finding even = single(analyse(ConnectString.parse(A + "," + B), l, f), FindingCode.EVEN_ENSEMBLE);

        assertThat(even.evidence())
                .contains(
                        "4 voting members",
                        "server.1, server.2, server.3, server.4",
                        "a quorum needs 3",
                        "survives 1 failure");
    }

    @Test
    void anObserverDoesNotCountAsVotingMember() {
        String conf = text("conf-quorum.txt")
                .replace("version=0", "server.4=127.0.0.1:40001:40002:observer;127.0.0.1:40003\nversion=0");
        MemberProbe l = member(A, text("srvr-leader.txt"), conf, null, null, null);

        assertThat(analyse(ConnectString.parse(A), l))
                .extracting(Finding::code)
                .doesNotContain(FindingCode.EVEN_ENSEMBLE);
    }

    @Test
    void twoLeadersAreCritical() {
        List<Finding> findings = analyse(leader(A), leader(B), follower(C));

        Finding two = single(findings, FindingCode.MULTIPLE_LEADERS);
        assertThat(two.severity()).isEqualTo(Severity.CRITICAL);
        assertThat(two.evidence()).contains(A, B, "zxid 0x100000002");
    }

    @Test
    void standaloneServerInAMultiServerConnectStringIsCritical() {
        MemberProbe standalone = member(C, text("srvr-standalone.txt"), text("conf-standalone.txt"), null, null, null);

        Finding f = single(analyse(leader(A), follower(B), standalone), FindingCode.STANDALONE_MEMBER);

        assertThat(f.server()).isEqualTo(C);
        assertThat(f.severity()).isEqualTo(Severity.CRITICAL);
    }

    @Test
    void everyMemberNotServingMeansNoLeader() {
        List<Finding> findings =
                analyse(Fixtures.notServing(A), Fixtures.notServing(B), Fixtures.unreachable(C, "connection refused"));

        assertThat(single(findings, FindingCode.NO_LEADER).evidence())
                .contains(A + " not serving", C + " unreachable (connection refused)");
        assertThat(findings)
                .filteredOn(f -> f.code() == FindingCode.NOT_SERVING)
                .hasSize(2)
                .allSatisfy(f -> assertThat(f.severity()).isEqualTo(Severity.CRITICAL));
        assertThat(single(findings, FindingCode.UNREACHABLE).severity()).isEqualTo(Severity.CRITICAL);
        assertThat(findings.get(0).severity()).isEqualTo(Severity.CRITICAL);
    }

    @Test
    void stoppedMemberIsUnreachableWithTheTimeoutInTheEvidence() {
        MemberProbe stopped = Fixtures.unreachable(
                C,
                "the TCP connection was accepted but 'ruok' got no answer"
                        + " within 2000 ms (the process is stopped, e.g. SIGSTOP, hung, or in a long GC pause)");

        Finding f = single(analyse(leader(A), follower(B), stopped), FindingCode.UNREACHABLE);

        assertThat(f.server()).isEqualTo(C);
        assertThat(f.severity()).isEqualTo(Severity.WARNING);
        assertThat(f.evidence()).contains("within 2000 ms", "SIGSTOP", "2 of 3 voting members serve");
    }

    @Test
    void followerFarBehindTheLeaderLags() {
        String behind = text("srvr-follower.txt").replace("Zxid: 0x100000002", "Zxid: 0x100000001");
        String ahead = text("srvr-leader.txt").replace("Zxid: 0x100000002", "Zxid: 0x100001400");
        MemberProbe l = member(A, ahead, text("conf-quorum.txt"), null, null, null);
        MemberProbe f = member(B, behind, text("conf-quorum.txt"), null, null, null);

        Finding lag = single(analyse(ConnectString.parse(A + "," + B), l, f), FindingCode.LAGGING_MEMBER);

        assertThat(lag.server()).isEqualTo(B);
        assertThat(lag.evidence()).contains("5119 transactions behind", "0x100001400", "threshold 1000");
    }

    @Test
    void followerOnTheOlderEpochOfAnIdleNewLeaderDoesNotLag() {
        // Seen on a fresh ensemble: the leader is at 0x100000000, followers still at 0x0 until the first write.
        String idleLeader = text("srvr-leader.txt").replace("Zxid: 0x100000002", "Zxid: 0x100000000");
        String oldEpoch = text("srvr-follower.txt").replace("Zxid: 0x100000002", "Zxid: 0x0");
        MemberProbe l = member(A, idleLeader, text("conf-quorum.txt"), null, null, null);
        MemberProbe f = member(B, oldEpoch, text("conf-quorum.txt"), null, null, null);

        assertThat(analyse(ConnectString.parse(A + "," + B), l, f))
                .extracting(Finding::code)
                .doesNotContain(FindingCode.LAGGING_MEMBER);
    }

    @Test
    void latencyQueueAndFileDescriptorsAboveThresholdsAreReported() {
        String mntr = text("mntr-follower.txt")
                .replaceFirst("zk_avg_latency\t[^\n]*", "zk_avg_latency\t250.5")
                .replaceFirst("zk_max_latency\t[^\n]*", "zk_max_latency\t12000")
                .replaceFirst("zk_outstanding_requests\t[^\n]*", "zk_outstanding_requests\t500")
                .replaceFirst("zk_open_file_descriptor_count\t[^\n]*", "zk_open_file_descriptor_count\t19000");
        MemberProbe busy = member(B, text("srvr-follower.txt"), text("conf-quorum.txt"), mntr, null, null);

        List<Finding> findings = analyse(leader(A), busy, follower(C));

        assertThat(single(findings, FindingCode.HIGH_LATENCY).evidence())
                .contains(
                        B,
                        "average latency 250.5 ms",
                        "threshold 100 ms",
                        "maximum latency 12000 ms",
                        "zk_max_fsynctime=");
        assertThat(single(findings, FindingCode.OUTSTANDING_REQUESTS).evidence())
                .contains("500 outstanding");
        assertThat(single(findings, FindingCode.FILE_DESCRIPTORS).evidence()).contains("19000 of 20000");
    }

    @Test
    void rejectedConnectionCounterIsReported() {
        String mntr = text("mntr-follower.txt").replace("zk_connection_rejected\t0", "zk_connection_rejected\t7");
        MemberProbe p = member(B, text("srvr-follower.txt"), text("conf-quorum.txt"), mntr, null, null);

        Finding f = single(analyse(leader(A), p, follower(C)), FindingCode.CONNECTIONS_REJECTED);

        assertThat(f.severity()).isEqualTo(Severity.WARNING);
        assertThat(f.evidence()).contains("zk_connection_rejected=7", "maxClientCnxns=10");
    }

    @Test
    void sessionsAtMaxClientCnxnsLeaveNoBudget() {
        String conf = text("conf-quorum.txt").replace("maxClientCnxns=10", "maxClientCnxns=1");
        MemberProbe p = member(B, text("srvr-follower.txt"), conf, null, text("cons-follower.txt"), null);

        List<Finding> findings = EnsembleAnalysis.analyse(
                List.of(leader(A), p), ConnectString.parse(A + "," + B), DoctorOptions.defaults(), "127.0.0.1");

        Finding f = single(findings, FindingCode.CONNECTION_BUDGET);
        assertThat(f.severity()).isEqualTo(Severity.CRITICAL);
        assertThat(f.evidence()).contains("1 sessions from 127.0.0.1 (this client's address)", "none are left");
    }

    @Test
    void requestedTimeoutAboveTheSharedMaximumIsOneEnsembleWideFinding() {
        DoctorOptions options = DoctorOptions.builder()
                .requestedSessionTimeout(Duration.ofSeconds(30))
                .build();

        List<Finding> findings =
                EnsembleAnalysis.analyse(List.of(leader(A), follower(B), follower(C)), THREE, options, null);

        Finding f = single(findings, FindingCode.SESSION_TIMEOUT_CLAMPED);
        assertThat(f.server()).isNull();
        assertThat(f.evidence())
                .contains("30000 ms", A, B, C, "allows 400-4000 ms", "sessions get 4000 ms", "expires sooner");
    }

    @Test
    void wordsRefusedByEveryMemberAreOneFindingAndAdminAnswersMakeItInfo() {
        MemberProbe a = leader(A);
        MemberProbe b = follower(B);
        for (MemberProbe p : List.of(a, b)) {
            p.notWhitelisted.add("mntr");
            p.mntr = null;
            p.adminProblem = "AdminServer at x not usable: connection refused";
        }
        Finding gap = single(analyse(ConnectString.parse(A + "," + B), a, b), FindingCode.FOUR_LETTER_WORDS_DISABLED);
        assertThat(gap.server()).isNull();
        assertThat(gap.severity()).isEqualTo(Severity.WARNING);
        assertThat(gap.evidence()).contains("Every member", "'mntr'", "connection refused", "latency");
        assertThat(gap.remedy()).contains(EnsembleAnalysis.WHITELIST_ALL);

        a.answeredByAdmin.add("mntr");
        b.answeredByAdmin.add("mntr");
        Finding answered =
                single(analyse(ConnectString.parse(A + "," + B), a, b), FindingCode.FOUR_LETTER_WORDS_DISABLED);
        assertThat(answered.severity()).isEqualTo(Severity.INFO);
        assertThat(answered.evidence()).contains("the AdminServer answered mntr instead");
    }

    @Test
    void autopurgeOffAndLargeDataDirectoriesAreReported() {
        String conf = text("conf-standalone.txt")
                .replaceFirst("dataDirSize=\\d+", "dataDirSize=21474836480")
                .replaceFirst("dataLogSize=\\d+", "dataLogSize=21474836480");
        MemberProbe p = member(A, text("srvr-standalone.txt"), conf, null, null, null);
        p.autopurgeIntervalHours = 0;
        p.autopurgeSource =
                "AdminServer initial_configuration of 10.0.0.1:8080 (autopurge.purgeInterval not set; default 0)";

        List<Finding> findings = analyse(ConnectString.parse(A), p);

        assertThat(single(findings, FindingCode.AUTOPURGE_DISABLED).evidence())
                .contains("autopurge.purgeInterval not set", "never deleted", "holds 21474836480 bytes");
        assertThat(single(findings, FindingCode.AUTOPURGE_DISABLED).remedy()).contains("autopurge.purgeInterval=24");
        // dataLogDir is dataDir here: the same bytes must not be counted twice.
        assertThat(single(findings, FindingCode.DATA_DIR_LARGE).evidence()).contains("keeps 21474836480 bytes");
        assertThat(single(findings, FindingCode.SINGLE_SERVER).severity()).isEqualTo(Severity.INFO);
    }

    @Test
    void differentVersionsAreInfo() {
        String older = text("srvr-follower.txt").replace("version: 3.9.4-", "version: 3.8.4-");
        MemberProbe p = member(C, older, text("conf-quorum.txt"), null, null, null);

        Finding f = single(analyse(leader(A), follower(B), p), FindingCode.VERSION_MISMATCH);

        assertThat(f.severity()).isEqualTo(Severity.INFO);
        assertThat(f.evidence()).contains("3.8.4 on " + C, "3.9.4 on " + A + ", " + B);
    }

    @Test
    void reportRendersTextAndValidJson() {
        MemberProbe stopped = Fixtures.unreachable(C, "quote \" and newline \n in a problem");
        List<MemberProbe> probes = List.of(leader(A), follower(B), stopped);
        List<Finding> findings = EnsembleAnalysis.analyse(probes, THREE, DoctorOptions.defaults(), null);
        DiagnosticsReport report = new DiagnosticsReport(
                THREE.original(),
                Instant.EPOCH,
                Duration.ofMillis(12),
                null,
                probes.stream().map(ServerReport::new).toList(),
                findings);

        Map<?, ?> json = (Map<?, ?>) Json.parse(report.toJson());
        assertThat(json.get("worstSeverity")).isEqualTo("WARNING");
        assertThat(json.get("exitCode")).hasToString("1");
        List<?> servers = (List<?>) json.get("servers");
        assertThat(servers).hasSize(3);
        assertThat(((Map<?, ?>) servers.get(2)).get("problem")).isEqualTo("quote \" and newline \n in a problem");
        assertThat(((Map<?, ?>) servers.get(0)).get("zxid")).isEqualTo("0x100000002");
        List<?> jsonFindings = (List<?>) json.get("findings");
        assertThat(((Map<?, ?>) jsonFindings.get(0)).get("code")).isEqualTo("UNREACHABLE");
        assertThat(report.toText())
                .contains(
                        "Result: WARNING (0 critical, 1 warning, 0 info)",
                        A + ": leader, myid 1, zxid 0x100000002",
                        C + ": UNREACHABLE",
                        "[WARNING] UNREACHABLE",
                        "evidence:",
                        "remedy:");
        assertThat(report.exitCode()).isEqualTo(1);
    }

    private static List<Finding> analyse(MemberProbe... probes) {
        return analyse(THREE, probes);
    }

    private static List<Finding> analyse(ConnectString cs, MemberProbe... probes) {
        return EnsembleAnalysis.analyse(List.of(probes), cs, DoctorOptions.defaults(), null);
    }

    private static Finding single(List<Finding> findings, FindingCode code) {
        List<Finding> matching = findings.stream().filter(f -> f.code() == code).toList();
        assertThat(matching).as("%s in %s", code, findings).hasSize(1);
        return matching.get(0);
    }
}
