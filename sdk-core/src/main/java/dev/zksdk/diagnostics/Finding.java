package dev.zksdk.diagnostics;

import java.util.Objects;

/**
 * One problem (or noteworthy fact) the {@link EnsembleDoctor} found, with the live values that show it.
 *
 * @param code     what kind of problem it is
 * @param severity how urgent it is
 * @param server   the member it concerns as {@code host:port} (as probed), or {@code null} when it concerns the
 *                 ensemble as a whole
 * @param evidence which server(s) and which observed values led to the finding, in plain words
 * @param remedy   what to do about it, in plain words
 */
public record Finding(FindingCode code, Severity severity, String server, String evidence, String remedy) {

    /**
     * Checks that the required parts are there.
     *
     * @param code what kind of problem it is
     * @param severity how urgent it is
     * @param server the member it concerns, or null for the whole ensemble
     * @param evidence the observed values that show it
     * @param remedy what to do about it
     * @throws NullPointerException when code, severity, evidence or remedy is null
     */
    public Finding {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(evidence, "evidence");
        Objects.requireNonNull(remedy, "remedy");
    }
}
