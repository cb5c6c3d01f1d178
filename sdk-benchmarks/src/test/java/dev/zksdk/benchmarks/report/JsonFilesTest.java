package dev.zksdk.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonFilesTest {

    /** The module's committed results: JMH's output of a full run and the machine file the harness wrote with it. */
    private static final Path RESULTS = Path.of("results");

    @Test
    void parsesNestedValuesInOrder() {
        Object parsed = JsonFiles.read(
                "{\"b\": [1, 2.5, -3e2], \"a\": {\"s\": \"x\\\"y\\u00e9\\n\", \"t\": true, \"n\": null}}");

        assertThat(parsed).isInstanceOf(Map.class);
        Map<?, ?> map = (Map<?, ?>) parsed;
        assertThat(List.copyOf(map.keySet())).isEqualTo(List.of("b", "a"));
        assertThat(map.get("b")).isEqualTo(List.of(1, 2.5, -300.0));
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

        Object back = JsonFiles.read(JsonFiles.write(value));

        assertThat(back)
                .isEqualTo(Map.of(
                        "cores",
                        2,
                        "ratio",
                        0.975,
                        "text",
                        "tab\tquote\" backslash\\ control\u0001",
                        "list",
                        List.of("a", 1.5, false),
                        "empty",
                        Map.of()));
    }

    @Test
    void writesTheLayoutOfTheMachineFiles() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("command", "java -jar sdk-benchmarks/target/zk-sdk-benchmarks.jar full");
        value.put("machine", Map.of("cores", 2));
        value.put("steps", List.of("a\\.(b|c)$ t=1", "é"));
        value.put("durationSeconds", 2440L);
        value.put("none", List.of());
        value.put("nothing", Map.of());
        value.put("control", "\u0001");

        assertThat(JsonFiles.write(value)).isEqualTo("""
        {
          "command": "java -jar sdk-benchmarks/target/zk-sdk-benchmarks.jar full",
          "machine": {
            "cores": 2
          },
          "steps": [
            "a\\\\.(b|c)$ t=1",
            "é"
          ],
          "durationSeconds": 2440,
          "none": [],
          "nothing": {},
          "control": "\\u0001"
        }
        """);
    }

    @Test
    void theCommittedMachineFileIsWrittenBackByteForByte() throws IOException {
        String committed = Files.readString(RESULTS.resolve("full-machine.json"));

        assertThat(JsonFiles.write(JsonFiles.read(committed))).isEqualTo(committed);
    }

    @Test
    void malformedTextIsRefusedWithItsOffset() {
        assertThatThrownBy(() -> JsonFiles.read("{\"a\": 1,}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("offset 8");
        assertThatThrownBy(() -> JsonFiles.read("[1] 2"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Trailing token")
                .hasMessageContaining("offset 4");
    }
}
