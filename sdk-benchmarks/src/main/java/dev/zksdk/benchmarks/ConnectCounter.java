package dev.zksdk.benchmarks;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.zookeeper.CountingClientCnxnSocketNIO;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * Counts the TCP connections ZooKeeper clients of this JVM open, in total and per owner.
 *
 * <p>A client's connections are counted by its socket ({@link CountingClientCnxnSocketNIO}) on ZooKeeper's send
 * thread, which is not the thread that asked for the client. The owner is therefore an inheritable thread-local:
 * a benchmark thread names its counter, and the send thread of every client it creates (directly, through Curator, or
 * through the pool) inherits it. Clients created by a thread with no owner count only in the total.
 *
 * <p>Thread-safe.
 */
public final class ConnectCounter {

  /** The client socket setting's value that makes ZooKeeper count; every client of the JVM reads it. */
  public static final String COUNTING_SOCKET = CountingClientCnxnSocketNIO.class.getName();

  private static final LongAdder TOTAL = new LongAdder();
  private static final InheritableThreadLocal<AtomicLong> OWNER = new InheritableThreadLocal<>();

  private ConnectCounter() {}

  /**
   * Makes every ZooKeeper client created from now on in this JVM count its connections. Clients read the setting when
   * they are created, so call this before the first one.
   */
  public static void install() {
    System.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, COUNTING_SOCKET);
  }

  /** Whether clients created now would count: {@link #install()} ran and nothing replaced the setting. */
  public static boolean installed() {
    return COUNTING_SOCKET.equals(System.getProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET));
  }

  /** A client config that counts, whatever the JVM-wide setting says. */
  public static ZKClientConfig countingClientConfig() {
    ZKClientConfig config = new ZKClientConfig();
    config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, COUNTING_SOCKET);
    return config;
  }

  /**
   * Counts the connections of clients created by the calling thread (and threads it creates) in {@code counter},
   * until {@link #clearOwner()}. Returns the previous owner, or null.
   */
  public static AtomicLong setOwner(AtomicLong counter) {
    AtomicLong previous = OWNER.get();
    OWNER.set(counter);
    return previous;
  }

  public static void clearOwner() {
    OWNER.remove();
  }

  /** Connections opened by every counting client of this JVM so far. */
  public static long total() {
    return TOTAL.sum();
  }

  /** Called by the counting socket for every connection attempt, on the client's send thread. */
  public static void connectAttempted() {
    TOTAL.increment();
    AtomicLong owner = OWNER.get();
    if (owner != null) {
      owner.incrementAndGet();
    }
  }
}
