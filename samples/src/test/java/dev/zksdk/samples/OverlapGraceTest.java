package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Two lock holders or leaders may overlap only for as long as a holder can take to notice that it lost. */
class OverlapGraceTest {

    @Test
    void theGraceIsTheLaterOfTheReadTimeoutAndTheHungServerBoundPlusOneSecond() {
        // 4 s session: read timeout 2.67 s, above the 2 s hung-server bound (SoakReconfigIT's setting)
        assertThat(SoakWorkload.overlapGrace(Duration.ofSeconds(4))).isEqualTo(Duration.ofNanos(3_666_666_666L));
        // 2 s session: read timeout 1.33 s, the hung-server bound's 2 s floor decides
        assertThat(SoakWorkload.overlapGrace(Duration.ofSeconds(2))).isEqualTo(Duration.ofSeconds(3));
        assertThat(SoakWorkload.overlapGrace(Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(21));
    }
}
