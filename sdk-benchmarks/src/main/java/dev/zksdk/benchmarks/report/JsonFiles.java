package dev.zksdk.benchmarks.report;

import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.json.JsonWriteFeature;
import tools.jackson.core.util.DefaultIndenter;
import tools.jackson.core.util.DefaultPrettyPrinter;
import tools.jackson.core.util.Separators;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.json.JsonMapper;

/**
 * The harness's JSON files, read and written with Jackson: JMH's result files and the machine description next to
 * them.
 *
 * <p>{@link #read(String)} gives plain values: {@link Map} (in the file's order), {@link List}, {@link String},
 * {@link Number}, {@link Boolean} or null. JMH writes a non-finite score as the string {@code "NaN"}; it stays a
 * string here. {@link #write(Object)} writes the same kinds of values in the layout the machine files have always had:
 * two-space indents, one member or element per line, {@code "name": value}, {@code {}} and {@code []} when empty, and
 * a line feed at the end; {@code /} and non-ASCII characters as they are. Only two things come out otherwise than
 * from the hand-written writer this replaced, and the harness writes neither: a whole {@code double} ({@code 2.0}, not
 * {@code 2}) and the control characters backspace and form feed (short escapes, not hexadecimal ones); both read
 * back as the same value.
 */
public final class JsonFiles {

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .disable(JsonWriteFeature.ESCAPE_FORWARD_SLASHES)
            .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final DefaultIndenter LINES = new DefaultIndenter("  ", "\n");

    private static final DefaultPrettyPrinter LAYOUT = new DefaultPrettyPrinter(Separators.createDefaultInstance()
                    .withObjectNameValueSpacing(Separators.Spacing.AFTER)
                    .withObjectEmptySeparator("")
                    .withArrayEmptySeparator(""))
            .withObjectIndenter(LINES)
            .withArrayIndenter(LINES);

    private static final ObjectWriter WRITER = MAPPER.writer().with(LAYOUT);

    private JsonFiles() {}

    /**
     * Parses one JSON value.
     *
     * @throws IllegalArgumentException naming the offset, if the text is not JSON
     */
    public static Object read(String text) {
        try {
            return MAPPER.readValue(text, Object.class);
        } catch (JacksonException e) {
            TokenStreamLocation at = e.getLocation();
            String where = at == null || at.getCharOffset() < 0
                    ? ""
                    : " at offset " + at.getCharOffset() + " of " + text.length();
            throw new IllegalArgumentException("JSON: " + e.getOriginalMessage() + where, e);
        }
    }

    /** The value as indented JSON text, ending in a line feed. */
    public static String write(Object value) {
        return WRITER.writeValueAsString(value) + "\n";
    }
}
