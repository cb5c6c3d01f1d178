package dev.zksdk.benchmarks;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * Counts the TCP connections ZooKeeper clients of this JVM open, in total and per owner.
 *
 * <p>ZooKeeper's client opens its session connections in one place, {@code ClientCnxn.SendThread.startConnect}, and
 * right before it hands the address to the client socket's {@code connect} it logs
 * {@code LOG.info("Opening socket connection to server {}.", addr)} (ZooKeeper 3.9; with SASL, one more status line
 * follows). Nothing between the two can fail or return, so the calls of that log statement are exactly the connection
 * attempts: a connection the server refuses counts, as does one whose socket could not even be opened. (The only other
 * socket the client opens, the probe of a read-only client looking for a read-write server, belongs to a mode that no
 * client here uses and the SDK refuses.) {@link #install()} adds a Logback turbo filter that counts those calls.
 * Logback asks turbo filters before it looks at levels, so the count does not depend on the log configuration (the
 * benchmarks log ZooKeeper at WARN), and the filter only counts: it answers NEUTRAL, so what is logged stays as
 * configured. The raw client, Curator and the SDK's pool all connect through that code, with ZooKeeper's own NIO
 * socket, unchanged.
 *
 * <p>The log call runs on ZooKeeper's send thread, which is not the thread that asked for the client. The owner is
 * therefore an inheritable thread-local: a benchmark thread names its counter, and the send thread of every client it
 * creates (directly, through Curator, or through the pool) inherits it. Clients created by a thread with no owner
 * count only in the total.
 *
 * <p>Thread-safe.
 */
public final class ConnectCounter {

    /** The logger of ZooKeeper's {@code ClientCnxn}, whose send thread logs each connection attempt. */
    static final String CLIENT_LOGGER = "org.apache.zookeeper.ClientCnxn";
    /**
     * The format of the log call right before each connection attempt (ZooKeeper 3.9). Should an upgrade change it,
     * nothing would be counted: {@code ConnectCounterTest} fails, and so do the churn and connect benchmarks' checks.
     */
    static final String OPENING_SOCKET = "Opening socket connection to server {}.";

    private static final LongAdder TOTAL = new LongAdder();
    private static final InheritableThreadLocal<AtomicLong> OWNER = new InheritableThreadLocal<>();
    private static final OpeningSocketFilter FILTER = new OpeningSocketFilter();

    private ConnectCounter() {}

    /**
     * Counts the connection attempts of every ZooKeeper client of this JVM from now on. Call it before the first client
     * whose connections should count; calling it again changes nothing.
     *
     * @throws IllegalStateException if SLF4J's backend is not Logback, so that nothing could be counted
     */
    public static synchronized void install() {
        LoggerContext context = loggerContext();
        if (!context.getTurboFilterList().contains(FILTER)) {
            FILTER.clientLogger = context.getLogger(CLIENT_LOGGER);
            FILTER.setContext(context);
            FILTER.start();
            // First, so that no other turbo filter's ACCEPT or DENY (a duplicate-message filter) can end the chain
            // before it.
            context.getTurboFilterList().add(0, FILTER);
        }
    }

    /** Whether connection attempts are counted: {@link #install()} ran, and no reconfiguration removed its filter. */
    public static boolean installed() {
        return LoggerFactory.getILoggerFactory() instanceof LoggerContext context
                && context.getTurboFilterList().contains(FILTER);
    }

    private static LoggerContext loggerContext() {
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext context)) {
            throw new IllegalStateException("ZooKeeper's connection attempts are counted through Logback, but SLF4J's"
                    + " backend is " + factory.getClass().getName() + ": connections could not be counted");
        }
        return context;
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

    /** Connections opened by every ZooKeeper client of this JVM since {@link #install()}. */
    public static long total() {
        return TOTAL.sum();
    }

    /** Called for every connection attempt, on the client's send thread. */
    static void connectAttempted() {
        TOTAL.increment();
        AtomicLong owner = OWNER.get();
        if (owner != null) {
            owner.incrementAndGet();
        }
    }

    /**
     * Counts the log calls that precede connection attempts, and nothing else: called for every log call of the JVM, it
     * compares a logger reference first, which settles all others at once.
     */
    private static final class OpeningSocketFilter extends TurboFilter {

        private volatile Logger clientLogger;

        @Override
        public FilterReply decide(
                Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
            if (logger == clientLogger && level == Level.INFO && OPENING_SOCKET.equals(format)) {
                connectAttempted();
            }
            return FilterReply.NEUTRAL;
        }
    }
}
