package dev.zksdk.compat;

import java.util.List;

/**
 * What each ZooKeeper server version does with each feature: the expectation every cell of the matrix tests asserts
 * ({@link ServerCompatibilityContract}) and the README's table is rendered from ({@link CompatibilityTableTest}), so the
 * table cannot say what the tests do not prove.
 */
final class CompatibilityMatrix {

    private CompatibilityMatrix() {}

    /** The server versions of the matrix, oldest first; the last is the project's own. */
    static final List<String> VERSIONS = List.of("3.4.14", "3.5.10", "3.6.4", "3.7.2", "3.8.4", "3.9");

    enum Outcome {
        WORKS("works"),
        EMULATED("emulated"),
        FAILS_CLEARLY("fails clearly");

        final String word;

        Outcome(String word) {
            this.word = word;
        }
    }

    record Cell(Outcome outcome, String how) {
        String render() {
            return how.isEmpty() ? outcome.word : outcome.word + ": " + how;
        }
    }

    enum Feature {
        OPERATIONS("every lease operation, sync and async, and `multi`"),
        EPHEMERAL_PARENTS("`ephemeral()` with missing parents"),
        RECOVERY("recovery after expiry (ephemeral re-created, watch gets RESYNC)"),
        WATCHES("`watch()` / `watchChildren()` and `cache()`"),
        TREE_WATCHES("`watchTree()` / `treeCache()`"),
        CONTAINER_CREATE("`create(path, data, CONTAINER)`"),
        RECIPES("Curator recipes on `lease.curator()` (mutex, leader latch, atomic long)"),
        DOCTOR("`EnsembleDoctor`"),
        DIGEST_AUTH("digest auth and ACLs"),
        TLS("TLS to the ensemble (client certificate required) and the doctor's TLS probe"),
        WHO_AM_I("`whoAmI()` on the handle of `lease.curator()`");

        final String title;

        Feature(String title) {
            this.title = title;
        }
    }

    private static final Cell WORKS = new Cell(Outcome.WORKS, "");

    /** The expected cell; {@code version} is one of {@link #VERSIONS}. */
    static Cell expected(Feature feature, String version) {
        boolean v34 = version.startsWith("3.4.");
        boolean v35 = version.startsWith("3.5.");
        switch (feature) {
            case EPHEMERAL_PARENTS:
                return v34
                        ? new Cell(Outcome.EMULATED, "persistent parents (no containers)")
                        : new Cell(Outcome.WORKS, "container parents");
            case WATCHES:
                if (v34) {
                    return new Cell(Outcome.EMULATED, "re-armed one-shot watches");
                }
                return v35
                        ? new Cell(Outcome.EMULATED, "re-armed one-shot watches")
                        : new Cell(Outcome.WORKS, "persistent watches");
            case TREE_WATCHES:
                return v34 || v35
                        ? new Cell(Outcome.FAILS_CLEARLY, "`ZkUnsupportedException` (needs 3.6)")
                        : new Cell(Outcome.WORKS, "persistent recursive watch");
            case CONTAINER_CREATE:
                return v34 ? new Cell(Outcome.FAILS_CLEARLY, "`ZkUnsupportedException` (needs 3.5)") : WORKS;
            case RECIPES:
                return v34 ? new Cell(Outcome.EMULATED, "`create2` sent as create + read of the Stat") : WORKS;
            case TLS:
                return v34
                        ? new Cell(
                                Outcome.FAILS_CLEARLY,
                                "no TLS in 3.4 (needs 3.5.5): a TLS pool is told the port is not a `secureClientPort`,"
                                        + " the doctor reports `TLS_MISMATCH`")
                        : serverSpeaksOnlyTls12(version)
                                ? new Cell(Outcome.WORKS, "TLSv1.2 (the pool offers TLSv1.3 and TLSv1.2)")
                                : new Cell(Outcome.WORKS, "TLSv1.3");
            case WHO_AM_I:
                if (v34 || v35) {
                    return new Cell(Outcome.FAILS_CLEARLY, "`UnsupportedOperationException` (needs 3.7), not sent");
                }
                return version.startsWith("3.6.")
                        ? new Cell(
                                Outcome.FAILS_CLEARLY,
                                "`UnsupportedOperationException` (needs 3.7): the first is sent and costs one"
                                        + " reconnect, later ones are not sent")
                        : WORKS;
            default:
                return WORKS;
        }
    }

    /**
     * Whether a server of {@code version} speaks only TLSv1.2 by default: before 3.9 it does unless told otherwise
     * ({@code ssl.protocol}, {@code ssl.enabledProtocols}). ZooKeeper 3.9's client alone offers only TLSv1.3 on a JVM
     * that has it, which such a server refuses ({@code protocol_version}); the pool offers both by default.
     */
    static boolean serverSpeaksOnlyTls12(String version) {
        return !version.startsWith("3.4.") && !version.equals("3.9");
    }

    /** The README table: features × versions. */
    static String renderTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| feature |");
        for (String v : VERSIONS) {
            sb.append(' ').append(v.equals("3.9") ? "3.9 (own)" : v).append(" |");
        }
        sb.append('\n').append("|---|");
        VERSIONS.forEach(v -> sb.append("---|"));
        sb.append('\n');
        for (Feature f : Feature.values()) {
            sb.append("| ").append(f.title).append(" |");
            for (String v : VERSIONS) {
                sb.append(' ').append(expected(f, v).render()).append(" |");
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
