package dev.zksdk.samples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * What a soak run saw, as it happens: the faults (with when they began and ended), session events, operation counts by
 * kind and outcome, audits (the checks made after each burst of faults, with the process's growth figures) and
 * violations. Prints the timeline as it goes, prints every violation with the faults around it, and writes the whole
 * run as JSON.
 *
 * <p>Thread-safe: workload threads count operations, listeners log events, the injector and the auditor log faults,
 * audits and violations. Times are seconds since the run started.
 */
final class SoakRecorder {

    /** How far back from a violation the faults printed with it reach. */
    static final double CONTEXT_SECONDS = 60;

    private static final JsonMapper JSON =
            JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    /** How many violations are printed in full; the rest are counted, and all are in the JSON. */
    private static final int VIOLATIONS_PRINTED = 50;

    /** One injected fault. {@code end} is NaN while it lasts. */
    static final class FaultRecord {
        final int id;
        final String kind;
        final String target;
        final double start;
        volatile double end = Double.NaN;
        volatile String detail = "";
        /** The role of the member the fault hit when it began, where it matters: {@code follower}, {@code leader}. */
        volatile String role = "";

        FaultRecord(int id, String kind, String target, double start) {
            this.id = id;
            this.kind = kind;
            this.target = target;
            this.start = start;
        }

        boolean overlaps(double from, double to) {
            return start <= to && (Double.isNaN(end) || end >= from);
        }

        String line() {
            return String.format(
                    Locale.ROOT,
                    "fault %d %s %s [%.1fs .. %s]%s",
                    id,
                    kind,
                    target,
                    start,
                    Double.isNaN(end) ? "ongoing" : String.format(Locale.ROOT, "%.1fs", end),
                    detail.isEmpty() ? "" : " " + detail);
        }
    }

    /** One broken invariant. */
    record Violation(double at, String check, String message, List<String> context) {}

    /**
     * One audit: a quiet point after a burst of faults, where the checks ran. Threads (by kind) and heap are -1 and
     * empty unless it is a growth sample. The {@code ...After} figures are seconds after the faults ended: when the
     * gated clients' calls had ended, every session was connected, the write audit had read the server, and everything
     * had converged (NaN when it did not, or the audit stopped before).
     */
    record Audit(
            double at,
            double afterFaultsEnded,
            double convergedAfter,
            double gateClosedAfter,
            double sessionsConnectedAfter,
            double writesAuditedAfter,
            long operations,
            int faults,
            int violations,
            boolean growthSample,
            int threads,
            Map<String, Integer> threadKinds,
            int openSessions,
            long heapAfterGcBytes) {}

    /** A session event worth a line of the timeline. */
    record Event(double at, String text) {}

    private final PrintStream out;
    private final long startNanos;
    private final boolean verbose;
    private final AtomicInteger faultIds = new AtomicInteger();
    private final List<FaultRecord> faults = new ArrayList<>();
    private final List<Violation> violations = new ArrayList<>();
    private final List<Audit> audits = new ArrayList<>();
    private final List<Event> events = new ArrayList<>();
    private final Map<String, LongAdder> operations = new ConcurrentHashMap<>();

    SoakRecorder(PrintStream out, long startNanos, boolean verbose) {
        this.out = out;
        this.startNanos = startNanos;
        this.verbose = verbose;
    }

    double now() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** Seconds since the start at {@code nanos} (a {@link System#nanoTime()} value). */
    double at(long nanos) {
        return (nanos - startNanos) / 1e9;
    }

    /** Prints one timeline line. */
    void say(String format, Object... args) {
        String text = String.format(Locale.ROOT, format, args);
        synchronized (out) {
            out.printf(Locale.ROOT, "[%6.1fs] %s%n", now(), text);
        }
    }

    /** Counts one operation: {@code kind} such as {@code setData-versioned}, {@code outcome} ok, failed or unknown. */
    void operation(String kind, String outcome) {
        operations.computeIfAbsent(kind + " " + outcome, k -> new LongAdder()).increment();
    }

    long operationCount() {
        return operations.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** Operation counts by kind, then outcome. */
    Map<String, Map<String, Long>> operations() {
        Map<String, Map<String, Long>> byKind = new TreeMap<>();
        operations.forEach((key, count) -> {
            int space = key.indexOf(' ');
            byKind.computeIfAbsent(key.substring(0, space), k -> new TreeMap<>())
                    .put(key.substring(space + 1), count.sum());
        });
        return byKind;
    }

    FaultRecord faultBegins(String kind, String target) {
        FaultRecord f = new FaultRecord(faultIds.incrementAndGet(), kind, target, now());
        synchronized (this) {
            faults.add(f);
        }
        say("fault %d begins: %s %s", f.id, kind, target);
        return f;
    }

    void faultEnds(FaultRecord f, String detail) {
        f.end = now();
        f.detail = detail;
        say(
                "fault %d ends: %s %s after %.1f s%s",
                f.id, f.kind, f.target, f.end - f.start, detail.isEmpty() ? "" : " (" + detail + ")");
    }

    /** A session event; printed when verbose, always kept for the context of violations. */
    void event(String format, Object... args) {
        String text = String.format(Locale.ROOT, format, args);
        synchronized (this) {
            events.add(new Event(now(), text));
        }
        if (verbose) {
            say("%s", text);
        }
    }

    void audit(Audit audit) {
        synchronized (this) {
            audits.add(audit);
        }
    }

    /** Records and prints a violation with the faults and session events of the {@value #CONTEXT_SECONDS} s before. */
    void violation(String check, String message) {
        double at = now();
        List<String> context = context(at);
        int count;
        synchronized (this) {
            violations.add(new Violation(at, check, message, context));
            count = violations.size();
        }
        if (count <= VIOLATIONS_PRINTED) {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "VIOLATION of %s: %s%n", check, message));
            sb.append(String.format(
                    Locale.ROOT, "           faults and events of the %.0f s before:%n", CONTEXT_SECONDS));
            if (context.isEmpty()) {
                sb.append("             (none)\n");
            }
            context.forEach(c -> sb.append("             ").append(c).append('\n'));
            say("%s", sb.toString().stripTrailing());
        } else if (count == VIOLATIONS_PRINTED + 1) {
            say("more violations follow; they are counted and written to the report, not printed");
        }
    }

    private synchronized List<String> context(double at) {
        List<String> lines = new ArrayList<>();
        for (FaultRecord f : faults) {
            if (f.overlaps(at - CONTEXT_SECONDS, at)) {
                lines.add(String.format(Locale.ROOT, "%6.1fs %s", f.start, f.line()));
            }
        }
        for (Event e : events) {
            if (e.at() >= at - CONTEXT_SECONDS && e.at() <= at) {
                lines.add(String.format(Locale.ROOT, "%6.1fs %s", e.at(), e.text()));
            }
        }
        lines.sort(null);
        return lines;
    }

    synchronized List<Violation> violations() {
        return List.copyOf(violations);
    }

    synchronized List<FaultRecord> faults() {
        return List.copyOf(faults);
    }

    synchronized List<Audit> audits() {
        return List.copyOf(audits);
    }

    /** How many faults of {@code kind} hit a member of each role ({@link FaultRecord#role}), in first-seen order. */
    synchronized Map<String, Long> rolesOf(String kind) {
        return faults.stream()
                .filter(f -> f.kind.equals(kind))
                .collect(Collectors.groupingBy(f -> f.role, LinkedHashMap::new, Collectors.counting()));
    }

    /** Faults by kind, in first-seen order. */
    synchronized Map<String, Long> faultsByKind() {
        return faults.stream().collect(Collectors.groupingBy(f -> f.kind, LinkedHashMap::new, Collectors.counting()));
    }

    /** Writes the run as JSON to {@code file}; {@code header} holds the run's settings and result. */
    synchronized void writeJson(Path file, Map<String, Object> header) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>(header);
        root.put("operations", operations());
        root.put("faultsByKind", faultsByKind());
        List<Object> faultList = new ArrayList<>();
        for (FaultRecord f : faults) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", f.id);
            m.put("kind", f.kind);
            m.put("target", f.target);
            m.put("start", f.start);
            m.put("end", finite(f.end));
            m.put("detail", f.detail);
            if (!f.role.isEmpty()) {
                m.put("memberRole", f.role);
            }
            faultList.add(m);
        }
        root.put("faults", faultList);
        List<Object> auditList = new ArrayList<>();
        for (Audit a : audits) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("at", a.at());
            m.put("faultsEndedAt", a.afterFaultsEnded());
            m.put("convergedAfterSeconds", finite(a.convergedAfter()));
            m.put("clientsPausedAfterSeconds", finite(a.gateClosedAfter()));
            m.put("sessionsConnectedAfterSeconds", finite(a.sessionsConnectedAfter()));
            m.put("writesAuditedAfterSeconds", finite(a.writesAuditedAfter()));
            m.put("operations", a.operations());
            m.put("faults", a.faults());
            m.put("violations", a.violations());
            m.put("growthSample", a.growthSample());
            m.put("threads", a.threads());
            m.put("threadKinds", a.threadKinds());
            m.put("openSessions", a.openSessions());
            m.put("heapAfterGcBytes", a.heapAfterGcBytes());
            auditList.add(m);
        }
        root.put("audits", auditList);
        List<Object> eventList = new ArrayList<>();
        for (Event e : events) {
            eventList.add(Map.of("at", e.at(), "text", e.text()));
        }
        root.put("sessionEvents", eventList);
        List<Object> violationList = new ArrayList<>();
        for (Violation v : violations) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("at", v.at());
            m.put("check", v.check());
            m.put("message", v.message());
            m.put("context", v.context());
            violationList.add(m);
        }
        root.put("violations", violationList);
        Files.createDirectories(file.getParent());
        Files.writeString(file, JSON.writeValueAsString(root) + "\n", StandardCharsets.UTF_8);
    }

    /** NaN (not known, not converged) as JSON null. */
    private static Double finite(double d) {
        return Double.isNaN(d) || Double.isInfinite(d) ? null : d;
    }
}
