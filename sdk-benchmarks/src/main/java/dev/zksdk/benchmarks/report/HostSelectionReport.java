package dev.zksdk.benchmarks.report;

import dev.zksdk.benchmarks.report.HostSelection.ConnectRow;
import dev.zksdk.benchmarks.report.HostSelection.FleetRow;
import dev.zksdk.benchmarks.report.HostSelection.MovedRow;
import dev.zksdk.benchmarks.report.HostSelection.RebalanceRow;
import dev.zksdk.benchmarks.report.HostSelection.StormRow;
import java.awt.Color;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.knowm.xchart.CategoryChart;

/** The server-selection sections of {@code results.md} and the storm histogram chart. */
final class HostSelectionReport {

    private static final Color[] STORM_COLORS = {
        new Color(0x29, 0x80, 0xB9), new Color(0x7F, 0x8C, 0x8D), new Color(0xE6, 0x7E, 0x22)
    };

    private final HostSelection hosts;

    HostSelectionReport(HostSelection hosts) {
        this.hosts = hosts;
    }

    void connect(StringBuilder md) {
        md.append("| client | dead address | median ms | p90 ms | max ms | dead address tried first |"
                + " median ms when it was | connects measured |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
        for (ConnectRow r : hosts.connects()) {
            md.append("| ")
                    .append(r.client().label)
                    .append(" | ")
                    .append(r.deadAddress())
                    .append(" | ")
                    .append(ms(r.median()))
                    .append(" | ")
                    .append(ms(r.p90()))
                    .append(" | ")
                    .append(ms(r.max()))
                    .append(" | ")
                    .append(
                            r.attempts().isEmpty()
                                    ? "–"
                                    : r.deadTriedFirst() + " of " + r.attempts().size())
                    .append(" | ")
                    .append(Double.isNaN(r.medianWhenDeadFirst()) ? "–" : ms(r.medianWhenDeadFirst()))
                    .append(" | ")
                    .append(r.millis().size())
                    .append(" |\n");
        }
        List<String> ratios = new ArrayList<>();
        hosts.connects().stream()
                .map(ConnectRow::deadAddress)
                .distinct()
                .forEach(dead -> hosts.sdkOverRawMedian(dead)
                        .ifPresent(ratio -> ratios.add(Summary.fmtRatio(ratio) + " (" + dead + ")")));
        if (!ratios.isEmpty()) {
            md.append("\nzk-sdk over raw ZooKeeper, median time to a usable session: ")
                    .append(String.join("; ", ratios))
                    .append(".\n");
        }
        md.append("""

        Each connect is a fresh client and, for the SDK, a fresh pool: from creating it to its first successful \
        `getData`. The connect string lists three members of one ensemble, the dead one first; one follower was \
        killed (`kill -9`) before the first connect. *refused*: the dead member's own port, where nothing listens. \
        *blackholed*: a frozen NetCrusher proxy in front of it, which completes the TCP handshake and never answers, \
        so a client that tries it waits out its attempt bound: ZooKeeper's connect timeout (session timeout / number \
        of servers: 10 s / 3 here); the SDK's bound learnt from the handshakes the process completed (8 times the \
        slowest recent one with that server, at least 500 ms, four times longer per unanswered attempt). ZooKeeper shuffles the connect string and the SDK picks a server at random (equal weights), \
        so a client tries the dead address first about one time in three whatever its place in the string; \
        *dead address tried first* counts the connects that opened more than one TCP connection. The SDK's \
        quarantine of a dead server is normally the process's, so that later pools skip it; here each pool keeps its \
        own, so every connect starts without it: these are first connects, the case the quarantine cannot help. Other \
        sessions and pools of the process skip the server while it is quarantined (1 s after the first failure, \
        doubling up to 30 s while it keeps failing).
        """);
    }

    void storm(StringBuilder md) {
        md.append("| client | sessions | storms | restart → all back, median (min–max) ms | restart → first back,"
                + " median ms | spread p50 / p90 / p99 / max ms (median over storms) | expired sessions | listen overflows |"
                + " listen drops |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (StormRow r : hosts.storms()) {
            md.append("| ")
                    .append(r.label())
                    .append(" | ")
                    .append(r.sessions())
                    .append(" | ")
                    .append(r.storms())
                    .append(" | ")
                    .append(ms(Stats.median(r.restartToAllBack())))
                    .append(" (")
                    .append(ms(Stats.min(r.restartToAllBack())))
                    .append("–")
                    .append(ms(Stats.max(r.restartToAllBack())))
                    .append(") | ")
                    .append(ms(r.medianOf("restartToFirstBackMs")))
                    .append(" | ")
                    .append(ms(r.medianOf("spreadP50Ms")))
                    .append(" / ")
                    .append(ms(r.medianOf("spreadP90Ms")))
                    .append(" / ")
                    .append(ms(r.medianOf("spreadP99Ms")))
                    .append(" / ")
                    .append(ms(r.medianOf("spreadMaxMs")))
                    .append(" | ")
                    .append(Summary.fmtCount(r.totalOf("expired")))
                    .append(" | ")
                    .append(Summary.fmtMeasured(r.kernelTotalOf("listenOverflows")))
                    .append(" | ")
                    .append(Summary.fmtMeasured(r.kernelTotalOf("listenDrops")))
                    .append(" |\n");
        }
        histogram(md);
        md.append("""

        Each storm: the server (one member, in its own process, listen backlog 50, no `maxClientCnxns` limit) is \
        killed with `kill -9`; once every session has seen it go, its JVM is launched again on the same port and the \
        storm is timed until every session is back. *restart → first back* is mostly the server's start-up; the \
        *spread* and the histogram count each session's time back from the first session back, that is from when the \
        server serves again. *expired sessions* came back as new sessions (none should: the session timeout is \
        30 s). *listen overflows* and *drops* are the growth of the kernel's `TcpExt` counters during the storm, for \
        the whole network namespace (*not measured* where the kernel's counters could not be read). The zk-sdk pool \
        reconnects with its host selection's defaults (full jitter starting at 100 ms, doubling up to 2 s, after each \
        failed attempt); plain handles use ZooKeeper's own pacing, a pause of up to a second before each attempt over \
        their single server. A restarting standalone server can accept a connection and never answer it (a connection \
        closed before it loaded its database is left open: ZOOKEEPER-5051). Plain ZooKeeper waits its connect timeout \
        on such an attempt, the session timeout divided by the number of servers (30 s with one server, as long as the \
        session); the zk-sdk pool gives it the bound learnt from the process's handshakes (8 times the slowest recent \
        one with that server, at least 500 ms, four times longer per unanswered attempt, at most a third of the session \
        timeout until an attempt that long went unanswered).
        """);
        md.append("\nIn this run:");
        for (StormRow r : hosts.storms()) {
            md.append(' ')
                    .append(r.label())
                    .append(": ")
                    .append(Summary.fmtCount(r.totalOf("expired")))
                    .append(" expired sessions over ")
                    .append(r.storms())
                    .append(" storms, slowest all-back ")
                    .append(ms(Stats.max(r.restartToAllBack())))
                    .append(" ms.");
        }
        md.append('\n');
    }

    private void histogram(StringBuilder md) {
        List<StormRow> rows = hosts.storms();
        TreeSet<Integer> buckets = new TreeSet<>();
        int last = -1;
        for (StormRow r : rows) {
            buckets.addAll(r.histogram().keySet());
            for (var e : r.histogram().entrySet()) {
                if (e.getValue() > 0) {
                    last = Math.max(last, e.getKey());
                }
            }
        }
        if (buckets.isEmpty()) {
            return;
        }
        md.append("\nSessions back per 100 ms after the first session back, all measured storms together:\n\n| ms |");
        for (StormRow r : rows) {
            md.append(' ')
                    .append(r.label())
                    .append(" (")
                    .append(r.storms())
                    .append(" storm")
                    .append(r.storms() == 1 ? "" : "s")
                    .append(") |");
        }
        md.append("\n|---:|");
        rows.forEach(r -> md.append("---:|"));
        md.append('\n');
        Integer width = buckets.size() > 1 ? buckets.higher(buckets.first()) - buckets.first() : null;
        for (int from : buckets) {
            if (from > last) {
                break;
            }
            boolean open = rows.stream().anyMatch(r -> r.openEndedFrom() == from);
            md.append("| ")
                    .append(open ? from + "+" : width == null ? Integer.toString(from) : from + "–" + (from + width))
                    .append(" |");
            for (StormRow r : rows) {
                md.append(' ')
                        .append(Summary.fmtCount(r.histogram().getOrDefault(from, 0.0)))
                        .append(" |");
            }
            md.append('\n');
        }
    }

    /** The fleet storm: simulated hosts over their per-address connection limit, per client. */
    void fleet(StringBuilder md) {
        md.append("| client | hosts × workers | storms | storms cut, a host short after 30 s | restart → all back,"
                + " median (min–max) ms | spread p50 / p99 /"
                + " max ms (median over storms) | sessions held before, per storm | back with their own session |"
                + " expired | displaced | server rejected | listen overflows | listen drops |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (FleetRow r : hosts.fleet()) {
            md.append("| ")
                    .append(r.label())
                    .append(" | ")
                    .append(r.hosts())
                    .append(" × ")
                    .append(r.workers())
                    .append(" | ")
                    .append(r.storms())
                    .append(" | ")
                    .append(r.stormsCut())
                    .append(" | ")
                    .append(ms(Stats.median(r.allBack())))
                    .append(" (")
                    .append(ms(Stats.min(r.allBack())))
                    .append("–")
                    .append(ms(Stats.max(r.allBack())))
                    .append(") | ")
                    .append(ms(r.medianOf("spreadP50Ms")))
                    .append(" / ")
                    .append(ms(r.medianOf("spreadP99Ms")))
                    .append(" / ")
                    .append(ms(r.medianOf("spreadMaxMs")))
                    .append(" | ")
                    .append(Summary.fmtCount(r.medianOf("sessionsBefore")))
                    .append(" | ")
                    .append(Summary.fmtCount(r.totalOf("sameSessionBack")))
                    .append(" | ")
                    .append(Summary.fmtCount(r.totalOf("expired")))
                    .append(" | ")
                    .append(Summary.fmtCount(r.totalOf("displaced")))
                    .append(" | ")
                    .append(Summary.fmtMeasured(r.rejected()))
                    .append(" | ")
                    .append(Summary.fmtMeasured(r.kernelTotalOf("listenOverflows")))
                    .append(" | ")
                    .append(Summary.fmtMeasured(r.kernelTotalOf("listenDrops")))
                    .append(" |\n");
        }
        md.append("""

        Each simulated host is a JVM of its own whose connections leave from a loopback address of its own \
        (127.0.0.2, .3, ...), so that the server's `maxClientCnxns=60`, which it applies per client address, applies \
        per host. The server is one member in its own process with the default listen backlog (50), and each storm is \
        a `kill -9`, every held session seen disconnected, and the server's JVM launched again on the same port. Each \
        host runs 250 workers that each need ZooKeeper. With plain ZooKeeper or Curator each worker opens a client of \
        its own, as the incidents' applications did, and the server takes 60 of a host's 250 and turns the others away \
        again and again. With zk-sdk a host's workers share one pool of 50 sessions (its default per-server budget), \
        each worker holding a lease. *restart → all back* ends when every host holds as many sessions as before the \
        kill; a storm is cut 30 s after the restart, and its time is then the cut's: a restarting server can leave \
        connections accepted and never answered (ZOOKEEPER-5051), which still count against a host's 60, and a host \
        over its limit may then not get its seats back. *back with their own session*, *expired* and *displaced* count, over all storms, what became of the \
        sessions held before: a displaced session lost its seat to a worker that had been turned away, and it will \
        expire with its ephemerals. *server rejected* is the server's `zk_connection_rejected` when every host was back, \
        summed over storms (the server counts from its restart); overflows and drops are the kernel's `TcpExt` \
        counters for the whole network namespace.
        """);
        md.append("\nIn this run:");
        for (FleetRow r : hosts.fleet()) {
            md.append(' ')
                    .append(r.label())
                    .append(": ")
                    .append(Summary.fmtCount(r.totalOf("displaced")))
                    .append(" sessions displaced and ")
                    .append(Summary.fmtCount(r.totalOf("expired")))
                    .append(" expired over ")
                    .append(r.storms())
                    .append(" storms, ")
                    .append(Summary.fmtMeasured(r.rejected()))
                    .append(" connections rejected.");
        }
        md.append('\n');
    }

    /** Sessions back per bucket, mean per storm, one series per client; empty when the run had no storms. */
    /** The rebalancing benchmark: skew over time after a kill -9 rolling restart, per client, and the goal's verdict. */
    void rebalance(StringBuilder md) {
        md.append("Three servers in separate processes, a kill -9 rolling restart (each server killed, every session"
                + " seen on the two others, the server started again and serving before the next), then a minute of"
                + " sampling where the sessions are; a separate client writes throughout. Skew = (most sessions on a"
                + " server − fewest) / (sessions / servers): 0 % is even, 300 % all on one of three. Each cell is the"
                + " median over the invocations (min–max when there are several). Goal: ≤ "
                + Summary.fmtCount(HostSelection.REBALANCE_GOAL_PERCENT) + " % skew within "
                + HostSelection.REBALANCE_GOAL_SECONDS + " s of the last restart, 0 sessions expired.\n\n");
        md.append("| client | sessions | skew when the last server was killed | at its restart | +10 s | +30 s | +60 s"
                + " | ≤ goal after, median | ≤ goal within the window | sessions expired | goal met |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (RebalanceRow r : hosts.rebalances()) {
            double even = r.medianEvenAfterMs();
            md.append("| ")
                    .append(r.client())
                    .append(" | ")
                    .append(r.sessions())
                    .append(" | ")
                    .append(percent(r.skewAtLastKill()))
                    .append(" | ")
                    .append(percent(r.skewAtLastRestart()))
                    .append(" | ")
                    .append(percent(r.skewAt10s()))
                    .append(" | ")
                    .append(percent(r.skewAt30s()))
                    .append(" | ")
                    .append(percent(r.skewAt60s()))
                    .append(" | ")
                    .append(Double.isNaN(even) ? "never" : Summary.fmtRatio(even / 1000) + " s")
                    .append(" | ")
                    .append(r.evenWithin())
                    .append(" of ")
                    .append(r.invocations())
                    .append(" | ")
                    .append(Summary.fmtCount(r.totalExpired()))
                    .append(" | ")
                    .append(
                            r.invocations() > 0 && r.evenWithin() == r.invocations() && r.totalExpired() == 0
                                    ? "yes"
                                    : "**no**")
                    .append(" |\n");
        }
    }

    /** Time to find a server whose name moved to another address while the client was disconnected. */
    void moved(StringBuilder md) {
        md.append("A standalone server named in the connect string moves from 127.0.0.2 to 127.0.0.3 while the client"
                + " is disconnected (the name's resolver is switched, the server started again on the new address"
                + " with its data). Time from the server serving on its new address until the session is connected"
                + " again; both clients resolve the name through the same injected resolver (ZooKeeper's"
                + " `StaticHostProvider` resolves again on every attempt since ZOOKEEPER-2184).\n\n");
        md.append("| client | median ms | min ms | max ms | same session id | not found in time | moves measured |\n"
                + "|---|---:|---:|---:|---:|---:|---:|\n");
        for (MovedRow r : hosts.moved()) {
            md.append("| ")
                    .append(r.client())
                    .append(" | ")
                    .append(ms(r.median()))
                    .append(" | ")
                    .append(ms(Stats.min(r.millis())))
                    .append(" | ")
                    .append(ms(Stats.max(r.millis())))
                    .append(" | ")
                    .append(r.kept())
                    .append(" of ")
                    .append(r.millis().size())
                    .append(" | ")
                    .append(r.lost())
                    .append(" | ")
                    .append(r.millis().size())
                    .append(" |\n");
        }
    }

    /** Median time to find the moved server, per client. */
    /** The fleet storm's median restart → all back per client. */
    static Optional<CategoryChart> fleetChart(HostSelection hosts, CategoryChart chart) {
        List<FleetRow> rows = hosts.fleet();
        if (rows.isEmpty()) {
            return Optional.empty();
        }
        List<String> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (FleetRow r : rows) {
            x.add(r.client());
            y.add(Stats.median(r.allBack()));
        }
        chart.addSeries("median ms", x, y).setFillColor(STORM_COLORS[0]);
        return Optional.of(chart);
    }

    static Optional<CategoryChart> movedChart(HostSelection hosts, CategoryChart chart) {
        List<MovedRow> rows = hosts.moved();
        if (rows.isEmpty()) {
            return Optional.empty();
        }
        List<String> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (MovedRow r : rows) {
            x.add(r.client());
            y.add(r.median());
        }
        chart.addSeries("median ms", x, y).setFillColor(STORM_COLORS[0]);
        return Optional.of(chart);
    }

    private static String percent(List<Double> values) {
        if (values.isEmpty()) {
            return "–";
        }
        String median = Summary.fmtCount(Stats.median(values)) + " %";
        if (values.size() == 1) {
            return median;
        }
        return median + " (" + Summary.fmtCount(Stats.min(values)) + "–" + Summary.fmtCount(Stats.max(values)) + ")";
    }

    /** Median skew per client at the last kill, the last restart and 10, 30 and 60 s after it. */
    static Optional<CategoryChart> rebalanceChart(HostSelection hosts, CategoryChart chart) {
        List<RebalanceRow> rows = hosts.rebalances();
        if (rows.isEmpty()) {
            return Optional.empty();
        }
        List<String> x = List.of("last kill", "last restart", "+10 s", "+30 s", "+60 s");
        for (int i = 0; i < rows.size(); i++) {
            RebalanceRow r = rows.get(i);
            List<Double> y = new ArrayList<>();
            for (List<Double> at :
                    List.of(r.skewAtLastKill(), r.skewAtLastRestart(), r.skewAt10s(), r.skewAt30s(), r.skewAt60s())) {
                double median = Stats.median(at);
                y.add(Double.isNaN(median) ? 0 : median);
            }
            chart.addSeries(r.client() + ", " + r.sessions() + " sessions", x, y)
                    .setFillColor(STORM_COLORS[i % STORM_COLORS.length]);
        }
        chart.getStyler().setOverlapped(false);
        return Optional.of(chart);
    }

    static Optional<CategoryChart> stormChart(HostSelection hosts, CategoryChart chart) {
        List<StormRow> rows = hosts.storms();
        if (rows.isEmpty()) {
            return Optional.empty();
        }
        // Every series on the same categories: the buckets of all clients, up to the last one any session fell in.
        TreeSet<Integer> buckets = new TreeSet<>();
        int last = 0;
        int openFrom = -1;
        for (StormRow r : rows) {
            buckets.addAll(r.histogram().keySet());
            openFrom = Math.max(openFrom, r.openEndedFrom());
            for (var e : r.histogram().entrySet()) {
                if (e.getValue() > 0) {
                    last = Math.max(last, e.getKey());
                }
            }
        }
        List<String> x = new ArrayList<>();
        for (int from : buckets.headSet(last, true)) {
            x.add(from == openFrom ? from + "+" : Integer.toString(from));
        }
        for (int i = 0; i < rows.size(); i++) {
            StormRow r = rows.get(i);
            List<Double> y = new ArrayList<>();
            for (int from : buckets.headSet(last, true)) {
                y.add(r.storms() == 0 ? 0 : r.histogram().getOrDefault(from, 0.0) / r.storms());
            }
            chart.addSeries(r.label(), x, y).setFillColor(STORM_COLORS[i % STORM_COLORS.length]);
        }
        chart.getStyler().setXAxisLabelRotation(90);
        chart.getStyler().setOverlapped(false);
        return chart.getSeriesMap().isEmpty() ? Optional.empty() : Optional.of(chart);
    }

    private static String ms(double millis) {
        return Double.isNaN(millis) ? "–" : Summary.fmtMicrosAsMillis(millis * 1000);
    }
}
