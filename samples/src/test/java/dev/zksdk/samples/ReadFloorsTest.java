package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.samples.RegisterChecker.Outcome;
import org.junit.jupiter.api.Test;

/** Reads without sync: stale is allowed, older than a write of the reader's own pool is not. */
class ReadFloorsTest {

    private final ReadFloors floors = new ReadFloors(2);

    @Test
    void aReadOlderThanAWriteItsPoolCompletedBeforeTheLeaseIsReported() {
        floors.written("/r0", 0, 4);
        floors.written("/r0", 0, 3);
        int floor = floors.floor("/r0", 0);

        assertThat(floor).isEqualTo(4);
        assertThat(ReadFloors.check("/r0", 0, 0x1fL, floor, "register-1-3", 3))
                .isEqualTo("a read of /r0 without sync on a lease of pool 0 (session 0x1f) returned register-1-3@v3,"
                        + " older than v4, which a write of that pool completed before the lease was taken");
        assertThat(ReadFloors.check("/r0", 0, 0x1fL, floor, "register-1-4", 4)).isNull();
        assertThat(ReadFloors.check("/r0", 0, 0x1fL, floor, "register-2-7", 5)).isNull();
    }

    @Test
    void aStaleReadOfAnotherPoolsWriteOrAnotherKeyIsAllowed() {
        floors.written("/r0", 0, 9);

        assertThat(floors.floor("/r0", 1)).isZero();
        assertThat(floors.newest("/r0")).isEqualTo(9);
        assertThat(floors.floor("/r1", 0)).isZero();
        assertThat(ReadFloors.check("/r0", 1, 0x2aL, floors.floor("/r0", 1), "init", 0))
                .isNull();
    }

    @Test
    void readsArePairsTheKeyHadOkOrUnknownNeverAFailedWritesOrAMismatchedOne() {
        floors.initial("/r0", "init", 0);
        floors.sending("/r0", "a", 1);
        floors.sent("/r0", "a", 1, Outcome.OK);
        floors.written("/r0", 0, 1);
        floors.sending("/r0", "b", 2);
        floors.sent("/r0", "b", 2, Outcome.UNKNOWN);
        floors.sending("/r0", "c", 2);
        floors.sent("/r0", "c", 2, Outcome.FAILED);
        // A read whose write is still in flight sees a pair announced before the write was sent.
        floors.sending("/r0", "d", 3);

        for (String[] ok : new String[][] {{"init", "0"}, {"a", "1"}, {"b", "2"}, {"d", "3"}}) {
            assertThat(floors.read("/r0", 1, 0x2aL, 0, ok[0], Integer.parseInt(ok[1])))
                    .isNull();
        }
        floors.sent("/r0", "d", 3, Outcome.OK);
        assertThat(floors.verifyReads()).isEmpty();

        floors.read("/r0", 1, 0x2aL, 0, "c", 2);
        floors.read("/r0", 1, 0x2aL, 0, "a", 2);
        floors.read("/r0", 1, 0x2aL, 0, "x", 1);
        assertThat(floors.verifyReads())
                .containsExactly(
                        "a read of /r0 without sync on a lease of pool 1 (session 0x2a) returned c@v2, the value of a"
                                + " write reported failed",
                        "a read of /r0 without sync on a lease of pool 1 (session 0x2a) returned a@v2, a pair the key"
                                + " never had: that value was written at v1",
                        "a read of /r0 without sync on a lease of pool 1 (session 0x2a) returned x@v1, a value no"
                                + " write of that key carried");
    }

    @Test
    void aReadBelowItsFloorIsReportedOnceAndVersionsBelowEveryFloorAreForgotten() {
        floors.initial("/r0", "init", 0);
        floors.sending("/r0", "a", 1);
        floors.sent("/r0", "a", 1, Outcome.OK);
        floors.written("/r0", 0, 1);
        floors.written("/r0", 1, 1);

        assertThat(floors.read("/r0", 0, 0x1fL, 1, "init", 0)).contains("older than v1");
        assertThat(floors.verifyReads()).isEmpty();
        floors.read("/r0", 0, 0x1fL, 0, "init", 0);
        assertThat(floors.verifyReads()).singleElement().asString().contains("a value no write of that key carried");
    }
}
