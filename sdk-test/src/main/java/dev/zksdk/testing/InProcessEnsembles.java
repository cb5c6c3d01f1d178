package dev.zksdk.testing;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.server.command.FourLetterCommands;

/**
 * Starts curator-test's in-process ZooKeeper servers ({@link TestingServer}, {@link TestingCluster}) set up for
 * fast tests: 127.0.0.1 only, short tick time, every four-letter word enabled, explicit session-timeout bounds and
 * connection limit.
 *
 * <p>curator-test passes an {@link InstanceSpec}'s tick time and {@code maxClientCnxns} into the server config
 * and then adds the spec's custom properties over it (so {@code minSessionTimeout}, which it sets to the tick
 * time, can be overridden there). ZooKeeper turns a config key it does not know, such as
 * {@code 4lw.commands.whitelist}, into the system property {@code zookeeper.<key>}; the whitelist is read once
 * per JVM and cached, so this class sets that property to {@code *} and resets the cache before starting. All
 * in-process servers of a JVM therefore share that whitelist; use {@link ProcessEnsemble} to test a restricted
 * one.
 *
 * <p>The caller owns what is returned and must close it.
 */
public final class InProcessEnsembles {

    /** ZooKeeper's {@code tickTime} when none is set: short, so that sessions expire quickly. */
    public static final Duration DEFAULT_TICK_TIME = Duration.ofMillis(200);
    /** The servers' lower clamp on a requested session timeout when none is set: twice the default tick. */
    public static final Duration DEFAULT_MIN_SESSION_TIMEOUT = ProcessEnsemble.DEFAULT_MIN_SESSION_TIMEOUT;
    /** The servers' upper clamp on a requested session timeout when none is set: wide, so a test gets what it asks. */
    public static final Duration DEFAULT_MAX_SESSION_TIMEOUT = ProcessEnsemble.DEFAULT_MAX_SESSION_TIMEOUT;
    /** {@code maxClientCnxns} (connections per client IP per server) when none is set: ZooKeeper's own default. */
    public static final int DEFAULT_MAX_CLIENT_CNXNS = 60;

    private static final String LOOPBACK = "127.0.0.1";
    private static final String WHITELIST_PROPERTY = "zookeeper.4lw.commands.whitelist";

    private InProcessEnsembles() {}

    /**
     * Settings with every default; see {@link Options.Builder}.
     *
     * @return a builder with every setting at its default
     */
    public static Options.Builder options() {
        return new Options.Builder();
    }

    /**
     * A started single server with the default {@link Options}.
     *
     * @return the running server; close it to stop it and delete its data
     * @throws IllegalStateException if the server does not start
     */
    public static TestingServer startServer() {
        return startServer(options().build());
    }

    /**
     * A started single server.
     *
     * @param options the server's settings
     * @return the running server; close it to stop it and delete its data
     * @throws IllegalStateException if the server does not start
     */
    public static TestingServer startServer(Options options) {
        enableAllFourLetterWords();
        try {
            return new TestingServer(instanceSpec(1, options), true);
        } catch (Exception e) {
            throw new IllegalStateException("in-process ZooKeeper server did not start", e);
        }
    }

    /**
     * A started cluster of {@code size} servers (ids {@code 1..size}) with the default {@link Options}, once it
     * has a leader.
     *
     * @param size the number of servers, 1-9
     * @return the running cluster; close it to stop it and delete its data
     * @throws IllegalStateException if the cluster does not start or elect a leader within 30 s
     */
    public static TestingCluster startCluster(int size) {
        return startCluster(size, options().build());
    }

    /**
     * A started cluster of {@code size} servers (ids {@code 1..size}), once every server serves and one leads.
     *
     * @param size the number of servers, 1-9
     * @param options every server's settings
     * @return the running cluster; close it to stop it and delete its data
     * @throws IllegalArgumentException if {@code size} is not 1-9
     * @throws IllegalStateException if the cluster does not start or elect a leader within 30 s
     */
    public static TestingCluster startCluster(int size, Options options) {
        if (size < 1 || size > 9) {
            throw new IllegalArgumentException("size must be between 1 and 9, was " + size);
        }
        enableAllFourLetterWords();
        TestingCluster cluster = null;
        // Curator's TestingCluster refuses two specs it deems equal, which its random free ports make happen now and
        // then (seen in CI): new ports are drawn then.
        for (int attempt = 1; cluster == null; attempt++) {
            List<InstanceSpec> specs = new ArrayList<>();
            for (int id = 1; id <= size; id++) {
                specs.add(instanceSpec(id, options));
            }
            try {
                cluster = new TestingCluster(specs);
            } catch (IllegalArgumentException e) {
                if (attempt == 3) {
                    throw new IllegalStateException("in-process ZooKeeper cluster: no distinct ports in 3 draws", e);
                }
            }
        }
        try {
            cluster.start();
            awaitQuorum(cluster, Duration.ofSeconds(30));
            return cluster;
        } catch (Exception e) {
            closeQuietly(cluster, e);
            throw e instanceof IllegalStateException ise
                    ? ise
                    : new IllegalStateException("in-process ZooKeeper cluster did not start", e);
        }
    }

    /**
     * An {@link InstanceSpec} on 127.0.0.1 with free ports, a temp data directory deleted on close, and the
     * given options, for building a {@link TestingCluster} by hand (for example with different server lists per
     * member). Call {@link #enableAllFourLetterWords()} before starting servers built from it.
     *
     * @param serverId the server's {@code myid}
     * @param options the server's settings
     * @return the spec, not started
     */
    public static InstanceSpec instanceSpec(int serverId, Options options) {
        if (serverId < 1) {
            throw new IllegalArgumentException("serverId must be at least 1, was " + serverId);
        }
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("clientPortAddress", LOOPBACK);
        properties.put(
                "minSessionTimeout", Long.toString(options.minSessionTimeout().toMillis()));
        properties.put(
                "maxSessionTimeout", Long.toString(options.maxSessionTimeout().toMillis()));
        properties.put("4lw.commands.whitelist", "*");
        properties.put("admin.enableServer", "false");
        properties.putAll(options.properties());
        return new InstanceSpec(
                null,
                FreePorts.take(),
                FreePorts.take(),
                FreePorts.take(),
                true,
                serverId,
                Math.toIntExact(options.tickTime().toMillis()),
                options.maxClientCnxns(),
                properties,
                LOOPBACK);
    }

    /** Makes every four-letter word available to in-process servers of this JVM, including running ones. */
    public static synchronized void enableAllFourLetterWords() {
        System.setProperty(WHITELIST_PROPERTY, "*");
        FourLetterCommands.resetWhiteList();
    }

    /**
     * Waits until every server of the cluster reports a mode in {@code srvr} and exactly one leads.
     *
     * @param cluster the cluster to watch
     * @param timeout how long to wait, positive
     * @throws IllegalStateException on timeout, with each server's last answer
     */
    public static void awaitQuorum(TestingCluster cluster, Duration timeout) {
        Polling.requirePositive("timeout", timeout);
        List<String> addresses = cluster.getInstances().stream()
                .map(spec -> LOOPBACK + ":" + spec.getPort())
                .toList();
        boolean ok = Polling.until(timeout, () -> {
            int leaders = 0;
            for (String address : addresses) {
                Optional<String> mode = mode(address);
                if (mode.isEmpty()) {
                    return false;
                }
                if (mode.get().equals("leader") || mode.get().equals("standalone")) {
                    leaders++;
                }
            }
            return leaders == 1;
        });
        if (!ok) {
            throw new IllegalStateException("in-process cluster has no single leader after " + timeout + ": "
                    + addresses.stream()
                            .map(a -> a + " mode=" + mode(a).orElse("none"))
                            .collect(Collectors.joining(", ")));
        }
    }

    private static Optional<String> mode(String address) {
        try {
            return ServerProcess.parseMode(FourLetterWords.send(address, "srvr"));
        } catch (UncheckedIOException e) {
            return Optional.empty();
        }
    }

    private static void closeQuietly(TestingCluster cluster, Exception cause) {
        try {
            cluster.close();
        } catch (Exception e) {
            cause.addSuppressed(e);
        }
    }

    /** Settings for in-process servers. Immutable. */
    public static final class Options {

        private final Duration tickTime;
        private final Duration minSessionTimeout;
        private final Duration maxSessionTimeout;
        private final int maxClientCnxns;
        private final Map<String, String> properties;

        private Options(Builder builder) {
            this.tickTime = builder.tickTime;
            this.minSessionTimeout = builder.minSessionTimeout;
            this.maxSessionTimeout = builder.maxSessionTimeout;
            this.maxClientCnxns = builder.maxClientCnxns;
            this.properties = Map.copyOf(builder.properties);
        }

        /**
         * ZooKeeper's {@code tickTime}.
         *
         * @return the tick (default {@link InProcessEnsembles#DEFAULT_TICK_TIME})
         */
        public Duration tickTime() {
            return tickTime;
        }

        /**
         * The servers' lower clamp on a client's requested session timeout.
         *
         * @return the minimum (default {@link InProcessEnsembles#DEFAULT_MIN_SESSION_TIMEOUT})
         */
        public Duration minSessionTimeout() {
            return minSessionTimeout;
        }

        /**
         * The servers' upper clamp on a client's requested session timeout.
         *
         * @return the maximum (default {@link InProcessEnsembles#DEFAULT_MAX_SESSION_TIMEOUT})
         */
        public Duration maxSessionTimeout() {
            return maxSessionTimeout;
        }

        /**
         * Connections per client IP per server; 0 means unlimited.
         *
         * @return the limit (default {@link InProcessEnsembles#DEFAULT_MAX_CLIENT_CNXNS})
         */
        public int maxClientCnxns() {
            return maxClientCnxns;
        }

        /**
         * Extra server config properties, applied last.
         *
         * @return an unmodifiable map of {@code zoo.cfg} keys to values
         */
        public Map<String, String> properties() {
            return properties;
        }

        /** Builds {@link Options}; setters reject bad values at once, naming the setting and the value. */
        public static final class Builder {

            private Duration tickTime = DEFAULT_TICK_TIME;
            private Duration minSessionTimeout = DEFAULT_MIN_SESSION_TIMEOUT;
            private Duration maxSessionTimeout = DEFAULT_MAX_SESSION_TIMEOUT;
            private int maxClientCnxns = DEFAULT_MAX_CLIENT_CNXNS;
            private final Map<String, String> properties = new LinkedHashMap<>();

            private Builder() {}

            /**
             * Default 200 ms.
             *
             * @param tickTime the tick, whole milliseconds
             * @return this builder
             */
            public Builder tickTime(Duration tickTime) {
                requireMillis("tickTime", tickTime);
                this.tickTime = tickTime;
                return this;
            }

            /**
             * Default 400 ms.
             *
             * @param timeout whole milliseconds
             * @return this builder
             */
            public Builder minSessionTimeout(Duration timeout) {
                requireMillis("minSessionTimeout", timeout);
                this.minSessionTimeout = timeout;
                return this;
            }

            /**
             * Default 60 s.
             *
             * @param timeout whole milliseconds
             * @return this builder
             */
            public Builder maxSessionTimeout(Duration timeout) {
                requireMillis("maxSessionTimeout", timeout);
                this.maxSessionTimeout = timeout;
                return this;
            }

            /**
             * Connections per client IP; 0 means unlimited; default 60.
             *
             * @param max connections, 0 or more
             * @return this builder
             */
            public Builder maxClientCnxns(int max) {
                if (max < 0) {
                    throw new IllegalArgumentException("maxClientCnxns must be 0 (unlimited) or more, was " + max);
                }
                this.maxClientCnxns = max;
                return this;
            }

            /**
             * Any other server config property (a {@code zoo.cfg} key), applied after all the others.
             *
             * @param key a {@code zoo.cfg} key
             * @param value its value
             * @return this builder
             */
            public Builder property(String key, String value) {
                if (key == null || key.isBlank()) {
                    throw new IllegalArgumentException("property key must not be blank, was '" + key + "'");
                }
                if (value == null) {
                    throw new IllegalArgumentException("property " + key + " must have a value, was null");
                }
                properties.put(key, value);
                return this;
            }

            /**
             * Checks the settings together and builds the options.
             *
             * @return the options
             * @throws IllegalArgumentException if minSessionTimeout exceeds maxSessionTimeout
             */
            public Options build() {
                if (minSessionTimeout.compareTo(maxSessionTimeout) > 0) {
                    throw new IllegalArgumentException("minSessionTimeout (" + minSessionTimeout
                            + ") must not exceed maxSessionTimeout (" + maxSessionTimeout + ")");
                }
                return new Options(this);
            }

            private static void requireMillis(String setting, Duration value) {
                Polling.requirePositive(setting, value);
                if (!value.equals(Duration.ofMillis(value.toMillis()))) {
                    throw new IllegalArgumentException(setting + " must be whole milliseconds, was " + value);
                }
            }
        }
    }
}
