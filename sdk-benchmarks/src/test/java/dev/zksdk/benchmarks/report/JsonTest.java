package dev.zksdk.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

  @Test
  void parsesNestedValuesInOrder() {
    Object parsed =
        Json.parse("{\"b\": [1, 2.5, -3e2], \"a\": {\"s\": \"x\\\"y\\u00e9\\n\", \"t\": true, \"n\": null}}");

    assertThat(parsed).isInstanceOf(Map.class);
    Map<?, ?> map = (Map<?, ?>) parsed;
    assertThat(List.copyOf(map.keySet())).isEqualTo(List.of("b", "a"));
    assertThat(map.get("b")).isEqualTo(List.of(1.0, 2.5, -300.0));
    Map<?, ?> inner = (Map<?, ?>) map.get("a");
    assertThat(inner.get("s")).isEqualTo("x\"yé\n");
    assertThat(inner.get("t")).isEqualTo(true);
    assertThat(inner.containsKey("n")).isTrue();
    assertThat(inner.get("n")).isNull();
  }

  @Test
  void writtenTextParsesBackToTheSameValue() {
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("cores", 2);
    value.put("ratio", 0.975);
    value.put("text", "tab\tquote\" backslash\\ control\u0001");
    value.put("list", List.of("a", 1.5, false));
    value.put("empty", Map.of());

    Object back = Json.parse(Json.write(value));

    assertThat(back).isEqualTo(Map.of("cores", 2.0, "ratio", 0.975, "text", "tab\tquote\" backslash\\ control\u0001",
        "list", List.of("a", 1.5, false), "empty", Map.of()));
  }

  @Test
  void malformedTextIsRefusedWithItsOffset() {
    assertThatThrownBy(() -> Json.parse("{\"a\": 1,}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("offset 8");
    assertThatThrownBy(() -> Json.parse("[1] 2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("text after the JSON value");
  }
}
