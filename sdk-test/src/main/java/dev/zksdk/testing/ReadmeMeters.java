package dev.zksdk.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The meters zk-sdk documents: the rows of the "## Meters" table of zk-sdk's {@code README.md}, so that a test can hold a
 * registry (or an application's {@code /actuator/metrics}) against what the README promises. zk-sdk's own tests use it
 * in sdk-core (a registry after real traffic) and in the samples (a fresh Spring Boot application); a user can point it
 * at the README of the zk-sdk version in use to check dashboards or alerts.
 *
 * <p>A row is {@code | `name` | type | unit | `tag`, `tag` | description |}; rows whose description says
 * {@value #OBSERVATION_ONLY} exist only when operations are observations (an {@code ObservationRegistry} is wired).
 */
public final class ReadmeMeters {

    /** The words of a row's description that mark a meter present only with an {@code ObservationRegistry}. */
    public static final String OBSERVATION_ONLY = "only with an `ObservationRegistry`";

    private ReadmeMeters() {}

    /**
     * One row of the table.
     *
     * @param type the meter type as written, such as {@code counter}, {@code gauge}, {@code timer}, {@code long task
     *     timer}
     * @param unit the base unit as written, {@code —} for none
     * @param tags the tag keys
     */
    public record Row(String type, String unit, Set<String> tags) {

        /**
         * A row; the tag keys are copied.
         *
         * @param type the meter type as written
         * @param unit the base unit as written
         * @param tags the tag keys
         */
        public Row {
            tags = Collections.unmodifiableSet(new TreeSet<>(tags));
        }
    }

    /**
     * The rows of the README's "## Meters" table, by meter name.
     *
     * @param readme the README file
     * @param observed whether operations are observations: false leaves out the rows marked {@value #OBSERVATION_ONLY}
     * @return the rows in name order
     * @throws UncheckedIOException when the file cannot be read
     * @throws IllegalStateException when a meter is listed twice
     */
    public static Map<String, Row> read(Path readme, boolean observed) {
        List<String> lines;
        try {
            lines = Files.readAllLines(readme);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Row> rows = new TreeMap<>();
        boolean in = false;
        for (String line : lines) {
            if (line.startsWith("## ")) {
                in = line.equals("## Meters");
                continue;
            }
            if (!in || !line.startsWith("| `zksdk.")) {
                continue;
            }
            String[] cells = line.split("\\|");
            // cells[0] is empty (the line starts with '|')
            String name = cells[1].trim().replace("`", "");
            Set<String> tags = new TreeSet<>();
            for (String t : cells[4].split(",")) {
                if (!t.isBlank()) {
                    tags.add(t.trim().replace("`", ""));
                }
            }
            if (!observed && cells[5].contains(OBSERVATION_ONLY)) {
                continue;
            }
            if (rows.put(name, new Row(cells[2].trim(), cells[3].trim(), tags)) != null) {
                throw new IllegalStateException(name + " is listed twice in " + readme);
            }
        }
        return rows;
    }

    /**
     * zk-sdk's README: the {@code README.md} of the first directory, from {@code start} upwards, that also holds an
     * {@code sdk-core} directory (the root of zk-sdk's sources).
     *
     * @param start where to start looking, such as the working directory of a module's tests
     * @return the README file
     * @throws IllegalStateException when there is none above {@code start}
     */
    public static Path findReadme(Path start) {
        for (Path dir = start.toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path readme = dir.resolve("README.md");
            if (Files.exists(readme) && Files.exists(dir.resolve("sdk-core"))) {
                return readme;
            }
        }
        throw new IllegalStateException("no zk-sdk README.md above " + start.toAbsolutePath());
    }
}
