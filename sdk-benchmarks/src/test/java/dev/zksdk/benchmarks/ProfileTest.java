package dev.zksdk.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Mode;

class ProfileTest {

    private static List<String> benchmarks() {
        List<String> names = new ArrayList<>();
        for (Class<?> c : List.of(
                ChurnBenchmark.class,
                OverheadBenchmark.class,
                RecoveryBenchmark.class,
                CachedReadBenchmark.class,
                ConnectBenchmark.class,
                StormBenchmark.class,
                FleetStormBenchmark.class)) {
            for (Method m : c.getDeclaredMethods()) {
                if (m.isAnnotationPresent(Benchmark.class)) {
                    names.add(c.getName() + "." + m.getName());
                }
            }
        }
        return names;
    }

    private static List<String> covered(Profile profile) {
        List<String> covered = new ArrayList<>();
        for (Profile.Step step : profile.steps()) {
            Pattern include = Pattern.compile(step.include());
            benchmarks().stream().filter(b -> include.matcher(b).find()).forEach(covered::add);
        }
        return covered;
    }

    @Test
    void bothProfilesRunEveryBenchmark() {
        for (String name : List.of("short", "full")) {
            assertThat(covered(Profile.named(name))).as(name).containsAll(benchmarks());
        }
    }

    @Test
    void churnRunsAtOneSixtyFourAndTwoHundredFiftySixThreadsForThroughputAndLatency() {
        Profile profile = Profile.named("short");
        List<String> churn = profile.steps().stream()
                .filter(s -> s.include().equals(Profile.CHURN))
                .map(s -> s.threads() + " " + s.mode())
                .toList();
        assertThat(churn)
                .containsExactlyInAnyOrder(
                        "1 Throughput",
                        "1 SampleTime",
                        "64 Throughput",
                        "64 SampleTime",
                        "256 Throughput",
                        "256 SampleTime");
        assertThat(profile.steps().stream()
                        .filter(s -> s.include().equals(Profile.SYNC_READS)
                                || s.include().equals(Profile.SYNC_READS_PAIR))
                        .map(Profile.Step::threads))
                .containsExactly(1, 4, 16);
        assertThat(profile.steps())
                .anyMatch(s -> s.include().equals(Profile.RECOVERY) && s.mode() == Mode.SingleShotTime);
    }

    @Test
    void overheadPairsRunAsPairedRoundsOfOneBenchmarkEach() {
        for (String name : List.of("short", "full")) {
            List<Profile.Step> paired = Profile.named(name).steps().stream()
                    .filter(Profile.Step::paired)
                    .filter(s -> !s.include().contains("BatchingAloneBenchmark"))
                    .toList();
            assertThat(paired).as(name).hasSize(6);
            for (Profile.Step step : paired) {
                assertThat(step.rounds()).as(step.describe()).isGreaterThanOrEqualTo(2);
                Pattern include = Pattern.compile(step.include());
                List<String> matched = benchmarks().stream()
                        .filter(b -> include.matcher(b).find())
                        .toList();
                List<String> rotated = new ArrayList<>();
                for (String one : step.rotation()) {
                    List<String> hits = benchmarks().stream()
                            .filter(b -> Pattern.compile(one).matcher(b).find())
                            .toList();
                    assertThat(hits).as(one).hasSize(1);
                    rotated.addAll(hits);
                }
                assertThat(rotated).as(step.describe()).containsExactlyInAnyOrderElementsOf(matched);
                assertThat(rotated.get(0))
                        .as("the reference side (raw handle; meters only in the observation pair) goes first")
                        .containsAnyOf("OverheadBenchmark.raw", "OverheadBenchmark.sdkGetDataMetered");
            }
        }
    }

    @Test
    void batchedCreatesAtOneInFlightRunAsPairedRoundsUnbatchedFirstInFullOnly() throws NoSuchMethodException {
        assertThat(Profile.named("short").steps()).noneMatch(s -> s.include().contains("BatchingAloneBenchmark"));
        for (String name : List.of("full")) {
            List<Profile.Step> alone = Profile.named(name).steps().stream()
                    .filter(s -> s.include().contains("BatchingAloneBenchmark"))
                    .toList();
            assertThat(alone).as(name).hasSize(1);
            Profile.Step step = alone.get(0);
            assertThat(step.paired()).isTrue();
            assertThat(step.rounds()).isGreaterThanOrEqualTo(2);
            assertThat(step.threads()).isEqualTo(1);
            assertThat(step.params()).isEqualTo(java.util.Map.of("inFlight", "1"));
            assertThat(step.rotation())
                    .containsExactly(
                            BatchingAloneBenchmark.class.getName() + "\\.sdkCreateAsync$",
                            BatchingAloneBenchmark.class.getName() + "\\.sdkCreateAsyncBatched$");
            for (String method : List.of("sdkCreateAsync", "sdkCreateAsyncBatched")) {
                assertThat(BatchingAloneBenchmark.class
                                .getMethod(method, BatchingBenchmark.Clients.class, BatchingBenchmark.Window.class)
                                .isAnnotationPresent(Benchmark.class))
                        .as(method)
                        .isTrue();
            }
            assertThat(step.describe()).contains("{inFlight=1}");
        }
    }

    @Test
    void cachedReadsRunWithTheirBaselinesAtOneThreadAndAloneAtFour() {
        for (String name : List.of("short", "full")) {
            List<String> oneThread = new ArrayList<>();
            List<String> fourThreads = new ArrayList<>();
            for (Profile.Step step : Profile.named(name).steps()) {
                Pattern include = Pattern.compile(step.include());
                for (String b : benchmarks()) {
                    if (b.startsWith(CachedReadBenchmark.class.getName() + ".")
                            && include.matcher(b).find()) {
                        String method = b.substring(b.lastIndexOf('.') + 1);
                        (step.threads() == 1 ? oneThread : fourThreads).add(step.threads() + " " + method);
                    }
                }
            }
            assertThat(oneThread)
                    .as(name)
                    .containsExactlyInAnyOrder("1 cachedRead", "1 treeCacheRead", "1 uncachedRead", "1 rawHandleRead");
            assertThat(fourThreads).as(name).containsExactlyInAnyOrder("4 cachedRead", "4 treeCacheRead");
        }
    }

    @Test
    void shortProfileMeasuresForWellUnderTenMinutes() {
        long seconds = 0;
        for (Profile.Step step : Profile.named("short").steps()) {
            if (step.mode() != Mode.SingleShotTime) {
                long perFork = step.warmupIterations() * step.warmupTime().convertTo(TimeUnit.SECONDS)
                        + step.measurementIterations()
                                * step.measurementTime().convertTo(java.util.concurrent.TimeUnit.SECONDS);
                long benchmarksInStep = benchmarks().stream()
                        .filter(b -> Pattern.compile(step.include()).matcher(b).find())
                        .count();
                seconds += perFork * (step.paired() ? step.forkCount() : step.forks() * benchmarksInStep);
            }
        }
        // Timed iterations only: forks, server start-ups and recoveries add about three minutes on two cores.
        assertThat(seconds).isLessThan(6 * 60);
    }

    @Test
    void serverSelectionStepsAreSingleShotAndStayWithinThreeMinutesInShort() {
        long seconds = 0;
        for (Profile.Step step : Profile.named("short").steps()) {
            int iterations = step.warmupIterations() + step.measurementIterations();
            // Measured on two cores: a connect fork (one per client and dead-address kind: six) starts its ensemble in
            // about 6 s, and a connect takes 1.5 s on average when the dead address is blackholed (4 s one time in
            // three).
            // A storm fork (one per client: two) opens its server and 200 sessions in about 15 s, and a storm (kill,
            // restart, reconnects) takes about 5 s; a storm in which sessions hang until their 30 s connect timeout
            // takes
            // 30 s more, which this estimate leaves out.
            if (step.include().equals(Profile.CONNECT)) {
                assertThat(step.mode()).isEqualTo(Mode.SingleShotTime);
                seconds += 6 * (6 + Math.round(1.5 * iterations));
            } else if (step.include().equals(Profile.STORM)) {
                assertThat(step.mode()).isEqualTo(Mode.SingleShotTime);
                seconds += 2 * (15 + 5L * iterations);
            }
        }
        assertThat(seconds).isBetween(1L, 3 * 60L);
    }

    @Test
    void fleetStormIsSingleShotWithWarmUpOnlyInFullAndStaysWithinThreeMinutesInShort() {
        Profile.Step full =
                Profile.named("full").only("FleetStorm", null).steps().get(0);
        Profile.Step brief =
                Profile.named("short").only("FleetStorm", null).steps().get(0);
        assertThat(full.include()).isEqualTo(Profile.FLEET_STORM);
        assertThat(full.mode()).isEqualTo(Mode.SingleShotTime);
        assertThat(full.measurementIterations()).isEqualTo(10);
        assertThat(full.warmupIterations()).isEqualTo(1);
        assertThat(brief.warmupIterations()).isZero();
        // A fork per client (three) starts a server and four host JVMs with 1,000 clients in about 30 s; a storm (kill,
        // every host seeing it, restart, every host back) about 10 s.
        long seconds = 3 * (30 + 10L * (brief.warmupIterations() + brief.measurementIterations()));
        assertThat(seconds).isLessThanOrEqualTo(3 * 60L);
        assertThat(Pattern.compile(Profile.STORM)
                        .matcher(FleetStormBenchmark.class.getName() + ".restartFleetToAllBack")
                        .find())
                .as("the 200-session storm's step must not run the fleet too")
                .isFalse();
    }

    @Test
    void onlyKeepsTheMatchingStepsWithTheProfilesIterations() {
        Profile full = Profile.named("full");
        Profile overhead = full.only("OverheadBenchmark", "overhead");
        assertThat(overhead.name()).isEqualTo("overhead");
        assertThat(overhead.steps())
                .isNotEmpty()
                .allSatisfy(s -> assertThat(s.include()).contains("OverheadBenchmark"))
                .isEqualTo(full.steps().stream()
                        .filter(s -> s.include().contains("OverheadBenchmark"))
                        .toList());
        assertThat(full.only("Storm", null).name()).isEqualTo("full-only");
        assertThatThrownBy(() -> full.only("NoSuchBenchmark", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("matches no step");
        assertThatThrownBy(() -> full.only("(", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'('");
    }

    @Test
    void threadsAndRoundsNarrowAProfileToMorePairedRoundsOfOneStep() {
        Profile full = Profile.named("full");
        Profile sync16 = full.only("OverheadBenchmark", "sync16").threads(16).rounds(20);
        assertThat(sync16.steps()).singleElement().satisfies(s -> {
            assertThat(s.threads()).isEqualTo(16);
            assertThat(s.rounds()).isEqualTo(20);
            assertThat(s.forkCount()).isEqualTo(40);
            assertThat(s.include()).contains("rawGetData|sdkGetData");
        });
        Profile unpaired = full.only("Storm", null).rounds(20);
        assertThat(unpaired.steps()).isEqualTo(full.only("Storm", null).steps());
        assertThatThrownBy(() -> full.threads(3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--threads 3 matches no step");
        assertThatThrownBy(() -> full.rounds(1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--rounds must be 2 or more, was 1");
    }

    @Test
    void scaleRunsAtSixteenThreadsAndItsHeapReadingsOneInvocationEach() {
        for (String name : List.of("short", "full")) {
            Profile scale = Profile.named(name).only("Scale", "scale");
            assertThat(scale.steps()).as(name).hasSize(2);
            assertThat(scale.steps().get(0)).satisfies(s -> {
                assertThat(s.include()).isEqualTo(Profile.SCALE);
                assertThat(s.threads()).isEqualTo(16);
                assertThat(s.mode()).isEqualTo(Mode.Throughput);
                assertThat(s.measurementIterations()).isGreaterThanOrEqualTo(3);
            });
            assertThat(scale.steps().get(1)).satisfies(s -> {
                assertThat(s.include()).isEqualTo(Profile.SCALE_MEMORY);
                assertThat(s.mode()).isEqualTo(Mode.SingleShotTime);
                assertThat(s.measurementIterations())
                        .as("readings for a spread")
                        .isGreaterThanOrEqualTo(3);
            });
            assertThat(Pattern.compile(Profile.SCALE)
                            .matcher(ScaleMemoryBenchmark.class.getName() + ".measure")
                            .find())
                    .isFalse();
        }
    }

    @Test
    void unknownProfileIsRefusedByName() {
        assertThatThrownBy(() -> Profile.named("medium"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("profile must be short or full, was 'medium'");
    }
}
