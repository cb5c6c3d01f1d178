package dev.zksdk.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

class DurationConverterTest {

    private final DurationConverter converter = new DurationConverter();

    @ParameterizedTest
    @CsvSource({
        "1m, PT1M",
        "30s, PT30S",
        "500ms, PT0.5S",
        "PT2S, PT2S",
        "pt1m30s, PT1M30S",
        "2h, PT2H",
        "1d, PT24H",
        "' 15 s ', PT15S",
        "10M, PT10M"
    })
    void readsUnitsAndIso8601(String text, String expected) {
        assertThat(converter.convert(text)).isEqualTo(Duration.parse(expected));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1500", "soon", "1.5s", "-1s", "s", "", "PT", "1 fortnight", "99999999999999999999d"})
    void refusesWhatIsNotADurationNamingTheValue(String text) {
        assertThatThrownBy(() -> converter.convert(text))
                .isInstanceOf(TypeConversionException.class)
                .hasMessageContaining("'" + text + "'");
    }

    @ParameterizedTest
    @CsvSource({"PT2S, 2s", "PT1M, 1m", "PT1.5S, 1500ms", "PT10H, 10h", "PT48H, 2d"})
    void formatsWhatItReadsBack(String duration, String expected) {
        Duration d = Duration.parse(duration);
        assertThat(DurationConverter.format(d)).isEqualTo(expected);
        assertThat(converter.convert(DurationConverter.format(d))).isEqualTo(d);
    }
}
