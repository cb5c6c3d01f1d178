package dev.zksdk.diagnostics;

/**
 * How urgent a {@link Finding} is. Ordered from least to most urgent, so {@code compareTo} ranks findings.
 */
public enum Severity {
    /** Worth knowing; nothing is broken and nothing needs to change. */
    INFO,
    /** Works now, but a failure, a limit or a misconfiguration is close: plan a fix. */
    WARNING,
    /** Clients are failing or will fail on the next fault: act now. */
    CRITICAL
}
