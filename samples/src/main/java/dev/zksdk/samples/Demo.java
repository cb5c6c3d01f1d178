package dev.zksdk.samples;

import dev.zksdk.EphemeralNode;
import dev.zksdk.PoolStats;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionListener;
import dev.zksdk.WatchEvent;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkConnectionLossException;
import dev.zksdk.ZkException;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.CreateMode;

/**
 * The demo: many concurrent request handlers share one pool of two long-lived sessions. It starts an embedded
 * three-server ensemble unless {@code --connect} is given, registers a service (an ephemeral that the pool keeps alive),
 * watches a config node, runs the handlers, and prints what happened. Exits 0 only if every check held.
 */
public final class Demo {

  private Demo() {}

  static int run(String[] args, PrintStream out) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      out.println("error: " + e.getMessage());
      return 2;
    }
    TestingCluster embedded = null;
    String connect = options.connect;
    long started = System.nanoTime();
    if (connect == null) {
      out.println("[demo] starting an embedded 3-server ZooKeeper ensemble (pass --connect host:port,... to use yours)");
      embedded = new TestingCluster(3);
      embedded.start();
      connect = embedded.getConnectString();
    }
    try {
      return runAgainst(connect, options, out, started);
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
  }

  private static int runAgainst(String connect, Options options, PrintStream out, long started) throws Exception {
    out.println("[demo] ensemble: " + connect);
    List<String> failures = new ArrayList<>();
    SessionListener timeline = new SessionListener() {
      @Override
      public void onStateChange(SessionEvent e) {
        out.printf("[%5.1fs] session #%d %s -> %s%s%n", seconds(started), e.sessionIndex(), e.previousState(),
            e.state(), e.server() == null ? "" : " on " + e.server());
      }
    };
    try (ZkSessionPool pool = ZkSessionPool.builder()
        .name("demo")
        .connectString(connect)
        .sessionTimeout(Duration.ofSeconds(10))
        .sessionsPerEnsemble(2)
        .listener(timeline)
        .build();
        ZkLease admin = pool.lease()) {
      String base = "/zksdk-demo-" + Long.toHexString(admin.sessionId());
      admin.create(base, new byte[0], CreateMode.PERSISTENT);
      admin.create(base + "/config", "v0".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);

      EphemeralNode registration = admin.ephemeral(base + "/services/demo-1",
          "http://127.0.0.1:8080".getBytes(StandardCharsets.UTF_8));
      out.printf("[%5.1fs] registered %s%n", seconds(started), registration.path());
      AtomicReference<String> lastSeen = new AtomicReference<>("v0");
      AtomicLong watchEvents = new AtomicLong();
      WatchHandle watch = admin.watch(base + "/config", event -> {
        if (event.type() == WatchEvent.Type.DATA_CHANGED || event.type() == WatchEvent.Type.RESYNC) {
          watchEvents.incrementAndGet();
          try (ZkLease l = pool.lease()) {
            lastSeen.set(new String(l.getData(base + "/config"), StandardCharsets.UTF_8));
          } catch (ZkException e) {
            // The next event or RESYNC re-reads.
          }
        }
      });

      AtomicLong ok = new AtomicLong();
      AtomicLong failed = new AtomicLong();
      AtomicLong writes = new AtomicLong();
      AtomicBoolean running = new AtomicBoolean(true);
      ExecutorService handlers = Executors.newFixedThreadPool(options.handlers);
      List<Future<?>> futures = new ArrayList<>();
      out.printf("[%5.1fs] %d request handlers share one pool for %d s%n", seconds(started), options.handlers,
          options.seconds);
      for (int h = 0; h < options.handlers; h++) {
        int handler = h;
        futures.add(handlers.submit(() -> {
          long n = 0;
          while (running.get()) {
            // One lease per request: free, no connection opened.
            try (ZkLease lease = pool.lease()) {
              if (handler == 0 && n % 50 == 0) {
                lease.setData(base + "/config", ("v" + writes.incrementAndGet()).getBytes(StandardCharsets.UTF_8),
                    -1);
              } else {
                lease.getData(base + "/config");
              }
              ok.incrementAndGet();
            } catch (ZkConnectionLossException | dev.zksdk.ZkUnavailableException e) {
              failed.incrementAndGet();
            }
            n++;
          }
          return null;
        }));
      }
      TimeUnit.SECONDS.sleep(options.seconds);
      running.set(false);
      for (Future<?> f : futures) {
        f.get(30, TimeUnit.SECONDS);
      }
      handlers.shutdown();

      String finalValue = "v" + writes.get();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!finalValue.equals(lastSeen.get()) && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(20);
      }
      PoolStats stats = pool.stats();
      out.printf("[%5.1fs] requests ok: %d, failed: %d (%.0f/s)%n", seconds(started), ok.get(), failed.get(),
          ok.get() / (double) options.seconds);
      out.printf("[%5.1fs] sessions opened: %d, open: %d, connections per server: %s%n", seconds(started),
          stats.sessionsOpened(), stats.openSessions(), new TreeMap<>(stats.connectionsPerServer()));

      check(failures, out, "the service registration is present and owned by the live session",
          registration.isPresent() && admin.exists(registration.path()) != null
              && admin.exists(registration.path()).getEphemeralOwner() == admin.sessionId());
      check(failures, out, "the watch saw the last config value (" + finalValue + ")",
          finalValue.equals(lastSeen.get()));
      check(failures, out, "no request failed", failed.get() == 0);
      check(failures, out, "at most 2 sessions for " + ok.get() + " requests",
          stats.sessionsOpened() <= 2 && stats.openSessions() == 2);
      watch.close();
      registration.close();
      admin.delete(base + "/config", -1);
      admin.delete(base + "/services", -1);
      admin.delete(base, -1);
    }
    out.println(failures.isEmpty() ? "[demo] all checks held" : "[demo] FAILED: " + failures);
    return failures.isEmpty() ? 0 : 1;
  }

  private static void check(List<String> failures, PrintStream out, String what, boolean held) {
    out.println((held ? "  ok    " : "  FAIL  ") + what);
    if (!held) {
      failures.add(what);
    }
  }

  private static double seconds(long started) {
    return (System.nanoTime() - started) / 1e9;
  }

  static final class Options {
    String connect;
    int handlers = 32;
    int seconds = 5;

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("option " + arg + " needs a value");
        }
        String value = args[++i];
        switch (arg) {
          case "--connect":
            o.connect = value;
            break;
          case "--handlers":
            o.handlers = positive(arg, value);
            break;
          case "--seconds":
            o.seconds = positive(arg, value);
            break;
          default:
            throw new IllegalArgumentException("unknown option " + arg);
        }
      }
      return o;
    }

    private static int positive(String option, String value) {
      try {
        int n = Integer.parseInt(value);
        if (n < 1) {
          throw new IllegalArgumentException(option + " must be at least 1, was " + value);
        }
        return n;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(option + " must be a number, was '" + value + "'", e);
      }
    }
  }
}
