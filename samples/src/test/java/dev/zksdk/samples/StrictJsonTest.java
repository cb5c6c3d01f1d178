package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StrictJsonTest {

    @Test
    void parsesNestedValues() {
        Object parsed = StrictJson.parse(" {\"a\":[1,-2.5e3,true,false,null],\"b\":{\"c\":\"x\\n\\u00e9\\\"\"}} ");

        assertThat(parsed)
                .isEqualTo(Map.of(
                        "a", Arrays.asList(new BigDecimal("1"), new BigDecimal("-2.5e3"), true, false, null),
                        "b", Map.of("c", "x\n\u00e9\"")));
        assertThat(StrictJson.parse("[]")).isEqualTo(List.of());
    }

    @Test
    void rejectsWhatIsNotJson() {
        for (String bad : List.of(
                "",
                "{",
                "{\"a\":1} x",
                "{\"a\":1,}",
                "[1,]",
                "{a:1}",
                "\"tab\there\"",
                "\"\\x\"",
                "01",
                "{\"a\":1,\"a\":2}",
                "'single'",
                "NaN",
                "\"\\u12\"")) {
            assertThatThrownBy(() -> StrictJson.parse(bad))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("not JSON at offset");
        }
    }
}
