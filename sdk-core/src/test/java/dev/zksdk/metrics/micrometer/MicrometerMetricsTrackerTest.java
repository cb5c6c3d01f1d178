package dev.zksdk.metrics.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.PoolStats;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.MetricsTracker;
import dev.zksdk.metrics.PoolView;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The Micrometer binding without a server: timers, removal on close, and life without resilience4j-micrometer. */
class MicrometerMetricsTrackerTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private static PoolView pool(String name) {
    return new PoolView() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public PoolStats stats() {
        return new PoolStats(0, 3, 0, Map.of());
      }
    };
  }

  private static List<Meter> metersOfPool(MeterRegistry registry, String pool) {
    return registry.getMeters().stream().filter(m -> pool.equals(m.getId().getTag("pool"))).toList();
  }

  @Test
  void poolMetersAreRemovedOnClose() {
    MetricsTracker tracker = new MicrometerMetricsTrackerFactory(registry).create(pool("p1"));
    assertThat(registry.get(MetricNames.LEASES_ACTIVE).tags("pool", "p1").gauge().value()).isEqualTo(3.0);
    assertThat(metersOfPool(registry, "p1")).isNotEmpty();

    tracker.close();
    assertThat(metersOfPool(registry, "p1")).isEmpty();
    // A late event after close publishes nothing.
    tracker.operationCompleted("zk1:2181", "getData", "success", 1, 0);
    assertThat(metersOfPool(registry, "p1")).isEmpty();
  }

  @Test
  void operationsAreTimedPerOperationAndOutcomeAndRetriesCounted() {
    MetricsTracker tracker = new MicrometerMetricsTrackerFactory(registry).create(pool("p2"));
    tracker.operationCompleted("zk1:2181", "getData", "success", TimeUnit.MILLISECONDS.toNanos(3), 0);
    tracker.operationCompleted("zk1:2181", "getData", "success", TimeUnit.MILLISECONDS.toNanos(5), 2);
    tracker.operationCompleted("zk1:2181", "getData", "nonode", TimeUnit.MILLISECONDS.toNanos(1), 0);

    assertThat(registry.get(MetricNames.OPERATIONS)
        .tags("pool", "p2", "ensemble", "zk1:2181", "op", "getData", "outcome", "success").timer().count())
        .isEqualTo(2);
    assertThat(registry.get(MetricNames.OPERATIONS)
        .tags("pool", "p2", "ensemble", "zk1:2181", "op", "getData", "outcome", "success").timer()
        .totalTime(TimeUnit.MILLISECONDS)).isEqualTo(8.0);
    assertThat(registry.get(MetricNames.OPERATIONS).tags("op", "getData", "outcome", "nonode").timer().count())
        .isEqualTo(1);
    assertThat(registry.get(MetricNames.OPERATION_RETRIES).tags("pool", "p2", "op", "getData").counter().count())
        .isEqualTo(2.0);

    tracker.close();
    assertThat(metersOfPool(registry, "p2")).isEmpty();
  }

  /**
   * resilience4j-micrometer is optional: with its classes missing, the tracker still publishes the pool's own meters
   * and simply leaves out resilience4j's.
   */
  @Test
  void worksWithoutResilience4jMicrometerOnTheClassPath() throws Exception {
    ClassLoader hiding = new HidingClassLoader(getClass().getClassLoader(), "io.github.resilience4j.micrometer.");
    Class<?> factoryType = hiding.loadClass(MicrometerMetricsTrackerFactory.class.getName());
    Class<?> poolViewType = hiding.loadClass(PoolView.class.getName());
    Class<?> ensembleViewType = hiding.loadClass("dev.zksdk.metrics.EnsembleView");
    Object factory = factoryType.getConstructor(MeterRegistry.class).newInstance(registry);
    Object poolView = Proxy.newProxyInstance(hiding, new Class<?>[] {poolViewType}, (proxy, method, args) -> {
      if (method.getName().equals("name")) {
        return "hidden";
      }
      if (method.getName().equals("sessionCreationLimiter")) {
        return null;
      }
      throw new UnsupportedOperationException(method.getName());
    });
    Object ensembleView = Proxy.newProxyInstance(hiding, new Class<?>[] {ensembleViewType}, (proxy, method, args) -> {
      switch (method.getName()) {
        case "name":
          return "127.0.0.1:2181";
        case "servers":
          return List.of("127.0.0.1:2181");
        default:
          throw new UnsupportedOperationException(method.getName() + " must not be needed without resilience4j");
      }
    });

    Object tracker = factoryType.getMethod("create", poolViewType).invoke(factory, poolView);
    Method started = tracker.getClass().getMethod("ensembleStarted", ensembleViewType);
    started.setAccessible(true);
    started.invoke(tracker, ensembleView);

    assertThat(registry.find(MetricNames.SESSIONS_OPENED).tags("pool", "hidden", "ensemble", "127.0.0.1:2181")
        .counter()).isNotNull();
    assertThat(registry.find(MetricNames.CONNECTIONS).tags("server", "127.0.0.1:2181").gauge()).isNotNull();
    assertThat(registry.getMeters()).noneMatch(m -> m.getId().getName().startsWith("resilience4j"));

    Method close = tracker.getClass().getMethod("close");
    close.setAccessible(true);
    close.invoke(tracker);
    assertThat(metersOfPool(registry, "hidden")).isEmpty();
  }

  /** Loads the SDK's classes itself (so they resolve through it) and pretends one package does not exist. */
  private static final class HidingClassLoader extends ClassLoader {
    private final String hiddenPrefix;

    HidingClassLoader(ClassLoader parent, String hiddenPrefix) {
      super(parent);
      this.hiddenPrefix = hiddenPrefix;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      synchronized (getClassLoadingLock(name)) {
        if (name.startsWith(hiddenPrefix)) {
          throw new ClassNotFoundException(name + " is hidden by this test");
        }
        if (!name.startsWith("dev.zksdk.")) {
          return super.loadClass(name, resolve);
        }
        Class<?> loaded = findLoadedClass(name);
        if (loaded == null) {
          try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
            if (in == null) {
              throw new ClassNotFoundException(name);
            }
            byte[] bytes = in.readAllBytes();
            loaded = defineClass(name, bytes, 0, bytes.length);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
        if (resolve) {
          resolveClass(loaded);
        }
        return loaded;
      }
    }
  }
}
