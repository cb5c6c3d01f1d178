package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** The README's usage block is the code {@code ReadmeUsageIT} compiles and runs (indentation aside). */
class ReadmeUsageTest {

    @org.junit.jupiter.api.Test
    void readmeUsageIsTheBlockTheTestRuns() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
        int use = readme.indexOf("## Use");
        assertThat(use).as("README has a ## Use section").isNotNegative();
        int start = readme.indexOf("```java\n", use) + "```java\n".length();
        int end = readme.indexOf("```", start);
        List<String> block = lines(readme.substring(start, end));
        assertThat(block.get(0))
                .as("the block's first line names the connect string")
                .startsWith("String connect = ");

        String source = Files.readString(
                Path.of("src", "test", "java", "dev", "zksdk", "ReadmeUsageIT.java"), StandardCharsets.UTF_8);
        int from = source.indexOf("// readme:start\n") + "// readme:start\n".length();
        int to = source.lastIndexOf("// readme:end");
        List<String> copy = lines(source.substring(from, to));

        assertThat(copy)
                .as("ReadmeUsageIT's copy of the README's usage block (update both together)")
                .isEqualTo(block.subList(1, block.size()));
    }

    /** Non-blank lines, without the indentation they all share and without trailing blanks. */
    static List<String> lines(String text) {
        List<String> raw = Arrays.stream(text.split("\n", -1))
                .map(String::stripTrailing)
                .filter(l -> !l.isEmpty())
                .toList();
        int indent = raw.stream()
                .mapToInt(l -> l.length() - l.stripLeading().length())
                .min()
                .orElse(0);
        return raw.stream().map(l -> l.substring(indent)).toList();
    }
}
