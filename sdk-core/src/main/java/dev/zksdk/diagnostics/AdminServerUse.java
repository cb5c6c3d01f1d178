package dev.zksdk.diagnostics;

/**
 * When the {@link EnsembleDoctor} asks a member's AdminServer ({@code http://host:adminPort/commands/<name>}).
 */
public enum AdminServerUse {
    /** Never: only four-letter words are used. */
    NEVER,
    /**
     * Only for four-letter words the member refuses because they are not in its whitelist; once a member's
     * AdminServer answered, its {@code initial_configuration} is read too (autopurge settings).
     */
    FALLBACK,
    /**
     * As {@link #FALLBACK}, and also read every member's {@code initial_configuration} to judge autopurge.
     * An unreachable AdminServer then costs up to one timeout per member (in parallel).
     */
    ALWAYS
}
