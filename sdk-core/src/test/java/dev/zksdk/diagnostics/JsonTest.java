package dev.zksdk.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void quoteEscapesWhatJsonRequires() {
        assertThat(Json.quote("a\"b\\c\nd\re\tf\bg\fh\u0001i\u2028"))
                .isEqualTo("\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i\\u2028\"");
        assertThat(Json.quote(null)).isEqualTo("null");
        assertThat(Json.quote("server.1=h:2888:3888;h:2181")).isEqualTo("\"server.1=h:2888:3888;h:2181\"");
    }

    @Test
    void everyCharacterSurvivesQuoteAndParse() {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x300; c++) {
            all.append(c);
        }
        all.append("\u2028\u2029\uD83D\uDE00");

        assertThat(Json.parse(Json.quote(all.toString()))).isEqualTo(all.toString());
    }

    @Test
    @SuppressWarnings("unchecked")
    void parseReadsObjectsArraysNumbersAndLiterals() {
        Object parsed = Json.parse("{ \"command\" : \"mntr\", \"error\" : null, \"n\" : -12.5e1, \"ok\" : true,"
                + " \"list\" : [ 1, \"\\u00e9\\/\", { } , [] ], \"z\": 4294967298 }");

        assertThat(parsed).isInstanceOf(Map.class);
        Map<?, ?> map = (Map<?, ?>) parsed;
        assertThat(map.get("command")).isEqualTo("mntr");
        assertThat(map.containsKey("error")).isTrue();
        assertThat(map.get("error")).isNull();
        assertThat(map.get("n")).isEqualTo(new BigDecimal("-12.5e1"));
        assertThat(map.get("ok")).isEqualTo(Boolean.TRUE);
        assertThat((List<Object>) map.get("list")).containsExactly(new BigDecimal("1"), "\u00e9/", Map.of(), List.of());
        assertThat(map.get("z")).isEqualTo(new BigDecimal("4294967298"));
    }

    @Test
    void malformedJsonIsRejected() {
        for (String bad : new String[] {
            "", "{", "{\"a\" 1}", "[1,]", "\"abc", "tru", "{\"a\":1} x", "01x", "\"\t\"", "[".repeat(100)
        }) {
            assertThatThrownBy(() -> Json.parse(bad))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("malformed JSON");
        }
    }
}
