package dev.zksdk.compat;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's server-version table is exactly what the matrix tests assert (it cannot drift from them). */
class CompatibilityTableTest {

    static final String START = "<!-- compatibility-matrix:start (rendered from CompatibilityMatrix; edit there) -->";
    static final String END = "<!-- compatibility-matrix:end -->";

    @Test
    void readmeShowsTheMatrixTheTestsAssert() throws Exception {
        Path readme = Path.of("..", "README.md");
        String text = Files.readString(readme, StandardCharsets.UTF_8);
        int start = text.indexOf(START);
        int end = text.indexOf(END);
        assertThat(start).as("README has the marker " + START).isNotNegative();
        assertThat(end).as("README has the marker " + END).isGreaterThan(start);
        String table = text.substring(start + START.length(), end).strip();
        assertThat(table)
                .as("README's compatibility table; expected:%n%s", CompatibilityMatrix.renderTable())
                .isEqualTo(CompatibilityMatrix.renderTable().strip());
    }
}
