package dev.zksdk.testing;

import java.util.Arrays;
import org.apache.zookeeper.server.quorum.QuorumPeerMain;

/**
 * Entry point of a ZooKeeper server process started by {@link ProcessEnsemble}: runs
 * {@link QuorumPeerMain#main(String[])} with the remaining arguments, and halts the server as soon as the test JVM
 * that started it is gone.
 *
 * <p>A JVM shutdown hook cannot clean up after a test JVM that was killed with SIGKILL (a fork timeout, an
 * out-of-memory crash); without this watch its servers would outlive it, holding ports and CPU.
 *
 * <p>Arguments: {@code <parent pid> <zoo.cfg path>}.
 *
 * <p>Uses nothing but the JDK and {@code QuorumPeerMain.main(String[])}, which every ZooKeeper release since 3.4
 * has: with {@link ProcessEnsemble.Builder#serverVersion(String)} it runs on another release's jars, with only the
 * test classes (or test jar) beside them.
 */
public final class ServerLauncher {

    private ServerLauncher() {}

    /**
     * Starts the server and halts it once the parent JVM exits (exit status 3); a missing argument halts with 2.
     *
     * @param args the parent's pid, then {@code QuorumPeerMain}'s arguments (the {@code zoo.cfg} path)
     */
    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: ServerLauncher <parent pid> <zoo.cfg>");
            Runtime.getRuntime().halt(2);
        }
        long parentPid = Long.parseLong(args[0]);
        ProcessHandle.of(parentPid)
                .ifPresentOrElse(
                        parent -> parent.onExit().thenRun(ServerLauncher::parentGone), ServerLauncher::parentGone);
        QuorumPeerMain.main(Arrays.copyOfRange(args, 1, args.length));
    }

    private static void parentGone() {
        System.err.println("ServerLauncher: the test JVM that started this server has exited; halting");
        Runtime.getRuntime().halt(3);
    }
}
