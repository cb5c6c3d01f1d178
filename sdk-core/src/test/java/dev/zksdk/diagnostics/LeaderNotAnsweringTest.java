package dev.zksdk.diagnostics;

import static dev.zksdk.diagnostics.Fixtures.follower;
import static dev.zksdk.diagnostics.Fixtures.leader;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A leader that stopped answering while its followers still follow it (they wait syncLimit ticks before they give
 * it up): writes and new sessions fail, so this is no mere warning about one unreachable member.
 */
class LeaderNotAnsweringTest {

    private static final String A = "10.0.0.1:2181";
    private static final String B = "10.0.0.2:2181";
    private static final String C = "10.0.0.3:2181";
    private static final ConnectString THREE = ConnectString.parse(A + "," + B + "," + C);
    private static final String STOPPED = "the TCP connection was accepted but 'ruok' got no answer within 1000 ms"
            + " (the process is stopped, e.g. SIGSTOP, hung, or in a long GC pause)";

    @Test
    void followersWithoutALeaderThatAnswersAreNoLeader() {
        List<Finding> findings = EnsembleAnalysis.analyse(
                List.of(Fixtures.unreachable(A, STOPPED), follower(B), follower(C)),
                THREE,
                DoctorOptions.defaults(),
                null);

        assertThat(findings)
                .filteredOn(f -> f.code() == FindingCode.NO_LEADER)
                .singleElement()
                .satisfies(f -> {
                    assertThat(f.severity()).isEqualTo(Severity.CRITICAL);
                    assertThat(f.server()).isNull();
                    assertThat(f.evidence())
                            .contains(
                                    B + ", " + C + " say they follow",
                                    "no member that answers leads",
                                    "not answering: " + A + " unreachable (" + STOPPED + ")",
                                    "writes and new sessions fail");
                    assertThat(f.remedy()).contains("syncLimit x tickTime", "SIGCONT");
                });
        assertThat(findings)
                .filteredOn(f -> f.code() == FindingCode.UNREACHABLE)
                .singleElement()
                .satisfies(f -> assertThat(f.server()).isEqualTo(A));
        assertThat(findings.get(0).severity()).isEqualTo(Severity.CRITICAL);
    }

    @Test
    void stoppedFollowerLeavesTheLeaderAnswering() {
        List<Finding> findings = EnsembleAnalysis.analyse(
                List.of(leader(A), follower(B), Fixtures.unreachable(C, STOPPED)),
                THREE,
                DoctorOptions.defaults(),
                null);

        assertThat(findings).noneMatch(f -> f.code() == FindingCode.NO_LEADER);
        assertThat(findings).allMatch(f -> f.severity() != Severity.CRITICAL);
    }

    @Test
    void leaderThatWasNotProbedIsNoEvidence() {
        // Two of the three voting members probed: the leader may well be the one nobody asked.
        List<Finding> findings = EnsembleAnalysis.analyse(
                List.of(follower(B), follower(C)), ConnectString.parse(B + "," + C), DoctorOptions.defaults(), null);

        assertThat(findings).noneMatch(f -> f.code() == FindingCode.NO_LEADER);
    }
}
