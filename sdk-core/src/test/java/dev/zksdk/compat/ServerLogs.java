package dev.zksdk.compat;

import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

/** The members' server logs, read as the ground truth of what the servers received. */
final class ServerLogs {

    /** What 3.4 and 3.5 log for every request they do not know (and then close the connection). */
    static final String UNKNOWN = "Received packet at server of unknown type";

    private ServerLogs() {}

    /** The lines of every member's log that {@code keep} accepts, member by member. */
    static List<String> lines(ProcessEnsemble ensemble, Predicate<String> keep) {
        List<String> out = new ArrayList<>();
        for (ServerProcess s : ensemble.servers()) {
            Path log = s.logFile();
            if (!Files.exists(log)) {
                continue;
            }
            try (Stream<String> lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
                lines.filter(keep).forEach(out::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }
}
