package dev.zksdk.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.slf4j.LoggerFactory;

/**
 * Captures every log event of the JVM (every logger: zk-sdk, Curator, the ZooKeeper client and in-process servers,
 * Netty) at DEBUG, rendered at once into text: level, logger, thread, the formatted message, MDC, and the whole
 * throwable chain with every cause's message. While it is open, the usual appenders are detached (DEBUG output of a
 * whole ZooKeeper would drown the test log); {@link #close()} restores levels and appenders.
 *
 * <p>Needs logback-classic as the SLF4J binding. Not for concurrent use by two tests.
 */
public final class LogCapture implements AutoCloseable {

    private final LoggerContext context;
    private final Map<Logger, Level> savedLevels = new HashMap<>();
    private final List<Appender<ILoggingEvent>> detached = new ArrayList<>();
    private final Collector collector = new Collector();

    private LogCapture() {
        this.context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        for (Logger logger : context.getLoggerList()) {
            if (logger.getLevel() != null) {
                savedLevels.put(logger, logger.getLevel());
                logger.setLevel(Level.DEBUG);
            }
        }
        for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
            detached.add(it.next());
        }
        for (Appender<ILoggingEvent> a : detached) {
            root.detachAppender(a);
        }
        collector.setContext(context);
        collector.start();
        root.addAppender(collector);
        root.setLevel(Level.DEBUG);
    }

    /** Starts capturing at DEBUG. */
    public static LogCapture atDebug() {
        return new LogCapture();
    }

    /** Every event so far, rendered. */
    public List<String> lines() {
        synchronized (collector.lines) {
            return new ArrayList<>(collector.lines);
        }
    }

    /**
     * When the first event so far that matches was logged (epoch milliseconds, the logging system's own stamp), or -1
     * when none matches.
     */
    public long firstLoggedAt(Predicate<String> matching) {
        synchronized (collector.lines) {
            for (int i = 0; i < collector.lines.size(); i++) {
                if (matching.test(collector.lines.get(i))) {
                    return collector.stamps.get(i);
                }
            }
        }
        return -1;
    }

    /** Every event so far, rendered and joined by newlines. */
    public String text() {
        return String.join("\n", lines());
    }

    /** How many events so far match. */
    public long count(Predicate<String> matching) {
        return lines().stream().filter(matching).count();
    }

    @Override
    public void close() {
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.detachAppender(collector);
        collector.stop();
        for (Map.Entry<Logger, Level> e : savedLevels.entrySet()) {
            e.getKey().setLevel(e.getValue());
        }
        for (Appender<ILoggingEvent> a : detached) {
            root.addAppender(a);
        }
    }

    private static final class Collector extends AppenderBase<ILoggingEvent> {
        final List<String> lines = new ArrayList<>();
        /** Each line's logging time, epoch milliseconds; guarded by {@link #lines}. */
        final List<Long> stamps = new ArrayList<>();

        @Override
        protected void append(ILoggingEvent event) {
            StringBuilder s = new StringBuilder()
                    .append(event.getLevel())
                    .append(' ')
                    .append(event.getLoggerName())
                    .append(" [")
                    .append(event.getThreadName())
                    .append("] ")
                    .append(event.getFormattedMessage());
            if (event.getMDCPropertyMap() != null && !event.getMDCPropertyMap().isEmpty()) {
                s.append(" MDC=").append(event.getMDCPropertyMap());
            }
            if (event.getThrowableProxy() != null) {
                s.append('\n').append(ThrowableProxyUtil.asString(event.getThrowableProxy()));
            }
            synchronized (lines) {
                lines.add(s.toString());
                stamps.add(event.getTimeStamp());
            }
        }
    }
}
