package dev.zksdk.benchmarks.report;

/** JMH's time units, converted. */
final class Units {

    private Units() {}

    /**
     * A value in a JMH time-per-operation unit ({@code ns/op}, {@code us/op}, {@code ms/op}, {@code s/op}) in
     * milliseconds.
     *
     * @throws IllegalArgumentException for any other unit
     */
    static double toMillis(double value, String unit) {
        String time = unit.endsWith("/op") ? unit.substring(0, unit.length() - 3) : unit;
        return switch (time) {
            case "ns" -> value / 1e6;
            case "us" -> value / 1e3;
            case "ms" -> value;
            case "s" -> value * 1e3;
            default -> throw new IllegalArgumentException("unit must be a JMH time per operation, was '" + unit + "'");
        };
    }

    /**
     * A throughput in a JMH unit ({@code ops/s}, {@code ops/ms}, {@code ops/us}, ...) per second.
     *
     * @throws IllegalArgumentException for any other unit
     */
    static double toPerSecond(double value, String unit) {
        return switch (unit) {
            case "ops/s" -> value;
            case "ops/ms" -> value * 1e3;
            case "ops/us" -> value * 1e6;
            case "ops/ns" -> value * 1e9;
            case "ops/min" -> value / 60;
            default -> throw new IllegalArgumentException("unit must be a JMH throughput, was '" + unit + "'");
        };
    }
}
