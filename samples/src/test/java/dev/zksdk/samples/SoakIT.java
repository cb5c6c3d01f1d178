package dev.zksdk.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.WatchHandle;
import dev.zksdk.ZkLease;
import dev.zksdk.testing.InProcessEnsembles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos soak end to end: a fixed-seed minute of overlapping faults on three separate server processes, with every
 * check holding; and a broken invariant, caught.
 */
class SoakIT {

    /** Fixed, so that a failure can be replayed with the same faults in the same order. */
    private static final long SEED = 20261206L;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    @TempDir
    Path results;

    @Test
    void aMinuteOfOverlappingFaultsOnServerProcessesBreaksNoInvariant() throws Exception {
        SoakCommand.Options options = SoakCommand.Options.parse(
                new String[] {"--seconds", "60", "--seed", String.valueOf(SEED), "--results", results.toString()});
        int code;
        try (ProcessSoakServers servers = ProcessSoakServers.start()) {
            code = SoakCommand.run(options, servers, Soak.Settings.DEFAULT, Soak.NO_HOOKS, print(out));
        }

        String output = out.toString(StandardCharsets.UTF_8);
        System.out.print(output);
        assertThat(code).as(output).isZero();
        assertThat(output)
                .contains("ensemble (processes)", "kill -9", "--- soak results (seed " + SEED + ") ---")
                .containsPattern("faults picked from: .*sigstop-follower, freeze-one-proxy, .*slow-quorum-link")
                .containsPattern("faults: [1-9]\\d* \\(")
                .contains("violations: 0", "[soak] no violation")
                .doesNotContain("VIOLATION");
        Object report = StrictJson.parse(Files.readString(results.resolve("soak-" + SEED + ".json")));
        assertThat(report).isInstanceOf(Map.class);
        Map<?, ?> json = (Map<?, ?>) report;
        assertThat(json.get("result")).isEqualTo("pass");
        assertThat(json.get("ensemble")).isEqualTo("processes");
        assertThat((List<?>) json.get("faults")).isNotEmpty();
        assertThat((List<?>) json.get("audits")).isNotEmpty();
        assertThat((List<?>) json.get("violations")).isEmpty();
        // Unsynced reads: how many were answered and how many of those were stale, counted, not assumed.
        assertThat(output).containsPattern("unsynced reads: [\\d,]+ answered, [\\d,]+ stale \\(");
        Map<?, ?> unsynced = (Map<?, ?>) json.get("unsyncedReads");
        assertThat(((Number) unsynced.get("answered")).longValue()).isPositive();
        assertThat(((Number) unsynced.get("stale")).longValue())
                .isBetween(0L, ((Number) unsynced.get("answered")).longValue());
        // Every slowed quorum link says the role of the member it slowed.
        List<?> slowed = ((List<?>) json.get("faults"))
                .stream()
                        .filter(f -> "slow-quorum-link".equals(((Map<?, ?>) f).get("kind")))
                        .toList();
        assertThat(slowed)
                .allSatisfy(f -> assertThat(((Map<?, ?>) f).get("memberRole")).isIn("leader", "follower", "unknown"));
        // Every audit says where the time to convergence went.
        assertThat((List<?>) json.get("audits"))
                .allSatisfy(a -> assertThat(((Map<?, ?>) a)
                                .keySet().stream().map(String::valueOf).toList())
                        .contains(
                                "clientsPausedAfterSeconds",
                                "sessionsConnectedAfterSeconds",
                                "writesAuditedAfterSeconds"));
    }

    @Test
    void ephemeralClosedBehindTheSoaksBackIsReportedWithExitCodeOne() throws Exception {
        // No faults (the first gap outlasts the run); before the final audit a registration the soak believes live is
        // closed behind its back, so the SDK rightly deletes the node and the check must say so.
        int code = runWithoutFaults(workload -> workload.liveRegistrations().values().stream()
                .findFirst()
                .ifPresent(r -> r.node().close()));

        String output = out.toString(StandardCharsets.UTF_8);
        assertThat(code).as(output).isEqualTo(1);
        assertThat(output)
                .containsPattern("VIOLATION of ephemerals: live [rq]-\\d+-? \\(pool \\d\\) is missing on the server")
                .contains("faults and events of the 60 s before:")
                .containsPattern("\\[soak\\] \\d+ VIOLATION\\(S\\)");
        Map<?, ?> json = (Map<?, ?>) StrictJson.parse(Files.readString(results.resolve("soak-1.json")));
        assertThat(json.get("result")).isEqualTo("fail");
        assertThat((List<?>) json.get("violations"))
                .filteredOn(v -> "ephemerals".equals(((Map<?, ?>) v).get("check")))
                .hasSize(1);
    }

    @Test
    void childrenWatchThatStopsFollowingTheServerIsReported() throws Exception {
        // The children watches of the ephemerals' directory are closed behind the soak's back, then a registration is
        // closed: the server's children change, the tree caches follow, the watches cannot.
        int code = runWithoutFaults(workload -> {
            workload.childrenWatches().forEach(WatchHandle::close);
            workload.liveRegistrations().values().stream()
                    .findFirst()
                    .ifPresent(r -> r.node().close());
        });

        String output = out.toString(StandardCharsets.UTF_8);
        assertThat(code).as(output).isEqualTo(1);
        assertThat(output)
                .containsPattern("VIOLATION of watch and cache convergence: the children watch of pool 0 on"
                        + " /zksdk-soak-[0-9a-f-]+/ephemerals last led to \\[.*\\], the server has \\[")
                .doesNotContain("a tree cache of");
    }

    @Test
    void writesNobodyMadeALostOkWriteATwiceExistingEphemeralAndAReadBelowItsFloorAreEachReported() throws Exception {
        // Four broken behaviours injected behind the soak's back before its one audit, each for another check:
        // a register value no client wrote, a create reported ok whose node is gone, a live ephemeral present twice,
        // and a read without sync older than a version its pool was told was written.
        String[] injected = new String[4];
        int code = runWithoutFaults(workload -> {
            ZkLease admin = workload.admin();
            String register = workload.registerPath(0);
            admin.setData(register, "intruder".getBytes(StandardCharsets.UTF_8), -1);
            injected[0] = register;

            String epoch = workload.currentEpochPath();
            String created = admin.getChildren(epoch).stream()
                    .filter(c -> c.startsWith("c-"))
                    .sorted()
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no plain create in " + epoch + " to lose"));
            admin.delete(epoch + "/" + created, -1);
            injected[1] = created;

            SoakWorkload.Registration live = workload.liveRegistrations().values().stream()
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no live ephemeral to copy"));
            String path = live.node().path();
            // Another node of the same registration: its name under another protection prefix.
            String twin = path.substring(0, path.lastIndexOf('/') + 1) + "_c_00000000-0000-0000-0000-000000000000-"
                    + WriteLedger.unprotected(path.substring(path.lastIndexOf('/') + 1));
            admin.create(twin, new byte[0], CreateMode.EPHEMERAL);
            injected[2] = live.name();

            String unsynced = workload.registerPath(1);
            int version = admin.exists(unsynced).getVersion();
            workload.floors().written(unsynced, 0, version + 1);
            workload.readUnsyncedNow(admin, unsynced, 0);
            injected[3] = unsynced + " without sync on a lease of pool 0";
        });

        String output = out.toString(StandardCharsets.UTF_8);
        assertThat(code).as(output).isEqualTo(1);
        assertThat(output)
                .contains("VIOLATION of linearizability of " + injected[0] + ": ")
                .contains("intruder")
                .contains("VIOLATION of write outcomes: create " + injected[1] + " by writer-")
                .contains("create reported ok, yet the node is missing (nobody deleted it)")
                .contains("VIOLATION of ephemerals: live " + injected[2] + " exists 2 times")
                .contains("VIOLATION of read-your-writes: a read of " + injected[3]);
        Map<?, ?> json = (Map<?, ?>) StrictJson.parse(Files.readString(results.resolve("soak-1.json")));
        assertThat(json.get("result")).isEqualTo("fail");
        assertThat(((List<?>) json.get("violations"))
                        .stream()
                                .map(v -> String.valueOf(((Map<?, ?>) v).get("check")))
                                .toList())
                .contains("linearizability of " + injected[0], "write outcomes", "ephemerals", "read-your-writes");
    }

    @Test
    void registerSegmentsTheCheckerGivesUpOnMakeTheRunNotAPass() throws Exception {
        // A checker that gives up at once (a search limit of one state): no violation can be found, and nothing is
        // verified either; the verdict, the report and the exit code must say so instead of "no violation".
        int code = runWithoutFaults(workload -> workload.checkRegistersWith(new RegisterChecker(1)));

        String output = out.toString(StandardCharsets.UTF_8);
        assertThat(code).as(output).isEqualTo(Main.NOT_VERIFIED).isEqualTo(3);
        assertThat(output)
                .containsPattern("\\[soak\\] no violation found; [1-9]\\d* register segment\\(s\\) not verified"
                        + " \\(search limit\\): NOT A PASS")
                .doesNotContain("[soak] no violation;");
        Map<?, ?> json = (Map<?, ?>) StrictJson.parse(Files.readString(results.resolve("soak-1.json")));
        assertThat(json.get("result")).isEqualTo("not verified");
        assertThat(((Number) json.get("inconclusiveRegisterSegments")).longValue())
                .isPositive();
    }

    /** A 5-second soak on one in-process server with no fault (the first gap outlasts it); the hook runs before the audit. */
    private int runWithoutFaults(java.util.function.Consumer<SoakWorkload> beforeAudit) throws Exception {
        Soak.Settings settings = new Soak.Settings(
                Duration.ofSeconds(4),
                Duration.ofSeconds(3),
                Duration.ofSeconds(8),
                Duration.ofSeconds(8),
                Duration.ZERO);
        Soak.Hooks hooks = new Soak.Hooks() {
            @Override
            public void beforeAudit(SoakWorkload workload) {
                beforeAudit.accept(workload);
            }
        };
        SoakCommand.Options options = SoakCommand.Options.parse(
                new String[] {"--seconds", "5", "--seed", "1", "--results", results.toString()});
        try (TestingServer server = InProcessEnsembles.startServer()) {
            options.connect = server.getConnectString();
            try (SoakServers servers =
                    SoakServers.external(server.getConnectString(), List.of(server.getConnectString()))) {
                return SoakCommand.run(options, servers, settings, hooks, print(out));
            }
        }
    }

    private static PrintStream print(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }
}
