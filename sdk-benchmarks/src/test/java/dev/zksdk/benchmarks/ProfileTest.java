package dev.zksdk.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Mode;

class ProfileTest {

  private static List<String> benchmarks() {
    List<String> names = new ArrayList<>();
    for (Class<?> c : List.of(ChurnBenchmark.class, OverheadBenchmark.class, RecoveryBenchmark.class,
        CachedReadBenchmark.class)) {
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
  void churnRunsAtOneSixteenAndSixtyFourThreadsForThroughputAndLatency() {
    Profile profile = Profile.named("short");
    List<String> churn = profile.steps().stream().filter(s -> s.include().equals(Profile.CHURN))
        .map(s -> s.threads() + " " + s.mode()).toList();
    assertThat(churn).containsExactlyInAnyOrder("1 Throughput", "1 SampleTime", "16 Throughput", "16 SampleTime",
        "64 Throughput", "64 SampleTime");
    assertThat(profile.steps().stream().filter(s -> s.include().equals(Profile.SYNC_READS)).map(Profile.Step::threads))
        .containsExactly(1, 4, 16);
    assertThat(profile.steps()).anyMatch(s -> s.include().equals(Profile.RECOVERY) && s.mode() == Mode.SingleShotTime);
  }

  @Test
  void cachedReadsRunWithTheirBaselinesAtOneThreadAndAloneAtFour() {
    for (String name : List.of("short", "full")) {
      List<String> oneThread = new ArrayList<>();
      List<String> fourThreads = new ArrayList<>();
      for (Profile.Step step : Profile.named(name).steps()) {
        Pattern include = Pattern.compile(step.include());
        for (String b : benchmarks()) {
          if (b.startsWith(CachedReadBenchmark.class.getName() + ".") && include.matcher(b).find()) {
            String method = b.substring(b.lastIndexOf('.') + 1);
            (step.threads() == 1 ? oneThread : fourThreads).add(step.threads() + " " + method);
          }
        }
      }
      assertThat(oneThread).as(name).containsExactlyInAnyOrder("1 cachedRead", "1 treeCacheRead", "1 uncachedRead",
          "1 rawHandleRead");
      assertThat(fourThreads).as(name).containsExactlyInAnyOrder("4 cachedRead", "4 treeCacheRead");
    }
  }

  @Test
  void shortProfileMeasuresForWellUnderTenMinutes() {
    long seconds = 0;
    for (Profile.Step step : Profile.named("short").steps()) {
      if (step.mode() != Mode.SingleShotTime) {
        long perFork = step.warmupIterations() * step.warmupTime().convertTo(java.util.concurrent.TimeUnit.SECONDS)
            + step.measurementIterations() * step.measurementTime().convertTo(java.util.concurrent.TimeUnit.SECONDS);
        long benchmarksInStep = benchmarks().stream().filter(b -> Pattern.compile(step.include()).matcher(b).find())
            .count();
        seconds += perFork * step.forks() * benchmarksInStep;
      }
    }
    // Timed iterations only: forks, server start-ups and recoveries add about three minutes on two cores.
    assertThat(seconds).isLessThan(6 * 60);
  }

  @Test
  void unknownProfileIsRefusedByName() {
    assertThatThrownBy(() -> Profile.named("medium"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("profile must be short or full, was 'medium'");
  }
}
