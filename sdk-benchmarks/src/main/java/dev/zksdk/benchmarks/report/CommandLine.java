package dev.zksdk.benchmarks.report;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The command line shared by the benchmark runner and the report: options and where results go. */
public final class CommandLine {

    private CommandLine() {}

    /** {@code sdk-benchmarks/results} when run from the repository root, else {@code results}. */
    public static Path resultsDirectory(String given) {
        if (given != null) {
            return Path.of(given);
        }
        return Files.isDirectory(Path.of("sdk-benchmarks")) ? Path.of("sdk-benchmarks", "results") : Path.of("results");
    }

    /**
     * {@code --key value} pairs.
     *
     * @throws IllegalArgumentException for an unknown key or a key without a value
     */
    public static Map<String, String> options(String[] args, List<String> known) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!known.contains(args[i])) {
                throw new IllegalArgumentException("unknown option '" + args[i] + "'; known: " + known);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            map.put(args[i], args[++i]);
        }
        return map;
    }

    /**
     * The value of option {@code key} as a positive whole number.
     *
     * @throws IllegalArgumentException naming the option and the value when it is not one
     */
    public static int positiveInt(String key, String value) {
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a positive whole number, was '" + value + "'", e);
        }
        if (n <= 0) {
            throw new IllegalArgumentException(key + " must be a positive whole number, was '" + value + "'");
        }
        return n;
    }
}
