package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;

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
}
