package dev.zksdk.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Durations on the command line: a whole number with a unit, {@code 500ms}, {@code 30s}, {@code 1m}, {@code 2h},
 * {@code 1d}, or ISO-8601 such as {@code PT2S}. A bare number is refused (milliseconds or seconds?). Whether the value
 * is in range is for the setting to judge; picocli reports a refusal as a usage error naming the option and the value.
 */
public final class DurationConverter implements ITypeConverter<Duration> {

    private static final Pattern WITH_UNIT = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    /** Creates the converter; picocli makes one per option that names it. */
    public DurationConverter() {}

    @Override
    public Duration convert(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        Matcher m = WITH_UNIT.matcher(v);
        try {
            if (m.matches()) {
                long amount = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    default -> Duration.ofDays(amount);
                };
            }
            if (v.startsWith("p") || v.startsWith("-p") || v.startsWith("+p")) {
                return Duration.parse(value.trim());
            }
        } catch (NumberFormatException | ArithmeticException | DateTimeParseException e) {
            throw new TypeConversionException("'" + value + "' is not a duration the JVM can hold: " + e.getMessage());
        }
        throw new TypeConversionException(
                "'" + value + "' is not a duration: use a whole number with a unit (500ms, 30s, 1m, 2h, 1d) or ISO-8601"
                        + " (PT2S)");
    }

    /** {@code d} in the shortest unit this converter reads back exactly: {@code 2s}, {@code 1500ms}, {@code 1m}. */
    static String format(Duration d) {
        long millis = d.toMillis();
        if (millis == 0) {
            return "0s";
        }
        if (millis % 86_400_000L == 0) {
            return millis / 86_400_000L + "d";
        }
        if (millis % 3_600_000L == 0) {
            return millis / 3_600_000L + "h";
        }
        if (millis % 60_000L == 0) {
            return millis / 60_000L + "m";
        }
        if (millis % 1000L == 0) {
            return millis / 1000L + "s";
        }
        return millis + "ms";
    }
}
