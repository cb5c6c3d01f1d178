package dev.zksdk.testing;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs several {@code keytool} commands in one JVM, for {@link TestPki}: a JVM start per command costs about 1.5 s of
 * CPU, nine of them made up most of a TLS test class's time on a loaded 2-core machine. The commands come on standard
 * input (so the stores' passwords are not on any command line): one command per line, its arguments separated by NUL
 * characters. Each is the JDK's own keytool ({@code sun.security.tools.keytool.Main}, reached with
 * {@code --add-exports java.base/sun.security.tools.keytool=ALL-UNNAMED}); keytool exits the JVM with status 1 at the
 * first command that fails, printing why. Exit status {@value #NO_KEYTOOL_CLASS}: this JDK has no such class, and
 * {@link TestPki} runs the {@code keytool} program once per command instead.
 */
final class KeytoolBatch {

    /** The exit status when the JDK's keytool class cannot be loaded or called. */
    static final int NO_KEYTOOL_CLASS = 3;

    /** The argument separator within a command line. */
    static final char SEPARATOR = '\0';

    private KeytoolBatch() {}

    /**
     * Reads the commands from standard input and runs them in order.
     *
     * @param args none
     * @throws Exception what a keytool command throws other than its own reported failures
     */
    public static void main(String[] args) throws Exception {
        Method keytool;
        try {
            keytool = Class.forName("sun.security.tools.keytool.Main").getMethod("main", String[].class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.out.println("no keytool class: " + e);
            System.exit(NO_KEYTOOL_CLASS);
            return;
        }
        for (String[] command : read(System.in)) {
            try {
                keytool.invoke(null, (Object) command);
            } catch (IllegalAccessException e) {
                System.out.println("keytool class not accessible: " + e);
                System.exit(NO_KEYTOOL_CLASS);
            } catch (InvocationTargetException e) {
                throw (e.getCause() instanceof Exception cause) ? cause : e;
            }
        }
    }

    private static List<String[]> read(InputStream in) throws IOException {
        List<String[]> commands = new ArrayList<>();
        for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
            if (!line.isEmpty()) {
                commands.add(line.split(String.valueOf(SEPARATOR), -1));
            }
        }
        return commands;
    }
}
