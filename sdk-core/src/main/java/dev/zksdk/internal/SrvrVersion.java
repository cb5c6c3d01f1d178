package dev.zksdk.internal;

/** The version a server reports in its answer to the {@code srvr} four-letter word. */
public final class SrvrVersion {

    private static final String VERSION_LINE = "Zookeeper version: ";

    private SrvrVersion() {}

    /**
     * The version in {@code srvr}'s answer ({@code 3.4.14}, without qualifier or build), or null when the answer has
     * none (a refusal: {@code srvr} not whitelisted).
     *
     * @param answer what the server answered
     * @return the version, or null
     */
    public static String of(String answer) {
        int at = answer.indexOf(VERSION_LINE);
        if (at < 0) {
            return null;
        }
        int from = at + VERSION_LINE.length();
        int to = from;
        while (to < answer.length() && (Character.isDigit(answer.charAt(to)) || answer.charAt(to) == '.')) {
            to++;
        }
        return to > from ? answer.substring(from, to) : null;
    }

    /**
     * Whether {@code answer} is a server's refusal of a four-letter word it does not whitelist ({@code srvr is not
     * executed because it is not in the whitelist.}), as opposed to an answer from a server that does not serve yet
     * ({@code This ZooKeeper instance is not currently serving requests}).
     *
     * @param answer what the server answered
     * @return true for a refusal
     */
    public static boolean refused(String answer) {
        return answer.contains("not in the whitelist");
    }

    /**
     * Whether {@code version} (as {@link #of} returns it) is before ZooKeeper 3.6, which brought persistent watches.
     *
     * @param version such as {@code 3.5.10}
     * @return true for 3.5 and earlier
     */
    public static boolean before36(String version) {
        String[] parts = version.split("\\.");
        try {
            int major = Integer.parseInt(parts[0]);
            int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            return major < 3 || (major == 3 && minor < 6);
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
