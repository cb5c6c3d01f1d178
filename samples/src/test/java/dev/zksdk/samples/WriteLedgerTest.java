package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.samples.RegisterChecker.Outcome;
import dev.zksdk.samples.WriteLedger.Entry;
import dev.zksdk.samples.WriteLedger.Kind;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The write ledger's rules on directory listings whose verdict is known. */
class WriteLedgerTest {

    private final WriteLedger ledger = new WriteLedger();

    @Test
    void outcomesThatMatchTheServerPass() {
        ledger.record(0, new Entry(Kind.CREATE, "c-1", null, Outcome.OK, "w"));
        ledger.record(0, new Entry(Kind.CREATE, "c-2", null, Outcome.FAILED, "w"));
        ledger.record(0, new Entry(Kind.CREATE, "c-3", null, Outcome.UNKNOWN, "w"));
        ledger.record(0, new Entry(Kind.CREATE, "c-4", null, Outcome.OK, "w"));
        ledger.record(0, new Entry(Kind.DELETE, "c-4", null, Outcome.OK, "w"));
        ledger.record(0, new Entry(Kind.SEQUENTIAL, "s-1-", "s-1-0000000003", Outcome.OK, "w"));
        ledger.record(0, new Entry(Kind.SEQUENTIAL, "s-2-", null, Outcome.UNKNOWN, "w"));
        ledger.record(0, new Entry(Kind.MULTI, "m-1-a", "m-1-b", Outcome.OK, "w"));
        ledger.record(0, new Entry(Kind.MULTI, "m-2-a", "m-2-b", Outcome.UNKNOWN, "w"));

        assertThat(ledger.verifyEpoch(0, Set.of("c-1", "c-3", "s-1-0000000003", "s-2-0000000004", "m-1-a", "m-1-b")))
                .isEmpty();
    }

    @Test
    void everyBrokenRuleIsNamed() {
        ledger.record(0, new Entry(Kind.CREATE, "c-1", null, Outcome.OK, "w"));
        ledger.record(0, new Entry(Kind.CREATE, "c-2", null, Outcome.FAILED, "w"));
        ledger.record(0, new Entry(Kind.CREATE, "c-4", null, Outcome.OK, "w"));
        ledger.record(0, new Entry(Kind.DELETE, "c-4", null, Outcome.OK, "w"));
        ledger.record(0, new Entry(Kind.SEQUENTIAL, "s-2-", null, Outcome.UNKNOWN, "w"));
        ledger.record(0, new Entry(Kind.MULTI, "m-1-a", "m-1-b", Outcome.UNKNOWN, "w"));

        assertThat(ledger.verifyEpoch(0, Set.of("c-2", "c-4", "s-2-0000000001", "s-2-0000000002", "m-1-a", "x-9")))
                .containsExactlyInAnyOrder(
                        "create c-1 by w (ok): create reported ok, yet the node is missing (nobody deleted it)",
                        "create c-2 by w (failed): create reported failed, yet the node exists",
                        "delete c-4 by w (ok): delete reported ok, yet the node is still there",
                        "sequential s-2- by w (unknown): sequential create applied 2 times: [s-2-0000000001,"
                                + " s-2-0000000002]",
                        "multi m-1-a by w (unknown): multi applied in part: only m-1-a exists",
                        "epoch 0: 1 node(s) no recorded write made: [x-9]");
    }

    @Test
    void sequentialNodesAreMatchedThroughCuratorsProtectionPrefix() {
        String made = "_c_3f57216c-43e6-46a7-bab7-35b6ea14fba9-s-1-0000000007";
        ledger.record(3, new Entry(Kind.SEQUENTIAL, "s-1-", made, Outcome.OK, "w"));

        assertThat(ledger.verifyEpoch(3, Set.of(made))).isEmpty();
        assertThat(WriteLedger.unprotected(made)).isEqualTo("s-1-0000000007");
        assertThat(WriteLedger.unprotected("s-1-0000000007")).isEqualTo("s-1-0000000007");
    }

    @Test
    void unversionedWritesMoveTheVersionByNoMoreThanOkPlusUnknown() {
        ledger.recordSetData("/w", Outcome.OK);
        ledger.recordSetData("/w", Outcome.OK);
        ledger.recordSetData("/w", Outcome.UNKNOWN);
        ledger.recordSetData("/w", Outcome.FAILED);

        assertThat(ledger.verifyCounter("/w", 0, 2)).isNull();
        assertThat(ledger.verifyCounter("/w", 0, 3)).isNull();
        assertThat(ledger.verifyCounter("/w", 0, 1)).contains("a write reported ok did not happen");
        assertThat(ledger.verifyCounter("/w", 0, 4)).contains("more writes happened than were sent");
    }
}
