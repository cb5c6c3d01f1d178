package dev.zksdk.metrics.micrometer;

import static dev.zksdk.metrics.MetricNames.BATCHES;
import static dev.zksdk.metrics.MetricNames.CALLBACK_OVERFLOWS;
import static dev.zksdk.metrics.MetricNames.CONNECTIONS;
import static dev.zksdk.metrics.MetricNames.EPHEMERALS_MISSING;
import static dev.zksdk.metrics.MetricNames.EPHEMERALS_OWNED;
import static dev.zksdk.metrics.MetricNames.EPHEMERAL_CONFLICTS;
import static dev.zksdk.metrics.MetricNames.LEASES_ACTIVE;
import static dev.zksdk.metrics.MetricNames.OPERATIONS;
import static dev.zksdk.metrics.MetricNames.OPERATION_RETRIES;
import static dev.zksdk.metrics.MetricNames.RECOVERY_DURATION;
import static dev.zksdk.metrics.MetricNames.SESSIONS_CONNECTED;
import static dev.zksdk.metrics.MetricNames.SESSIONS_OPEN;
import static dev.zksdk.metrics.MetricNames.SESSIONS_OPENED;
import static dev.zksdk.metrics.MetricNames.SESSIONS_STATE;
import static dev.zksdk.metrics.MetricNames.SESSION_EXPIRATIONS;
import static dev.zksdk.metrics.MetricNames.SESSION_RECONNECTS;
import static dev.zksdk.metrics.MetricNames.SESSION_TIMEOUT_CLAMPED;
import static dev.zksdk.metrics.MetricNames.SESSION_TIMEOUT_NEGOTIATED;
import static dev.zksdk.metrics.MetricNames.SESSION_TIMEOUT_REQUESTED;
import static dev.zksdk.metrics.MetricNames.TAG_ENSEMBLE;
import static dev.zksdk.metrics.MetricNames.TAG_OPERATION;
import static dev.zksdk.metrics.MetricNames.TAG_OUTCOME;
import static dev.zksdk.metrics.MetricNames.TAG_POOL;
import static dev.zksdk.metrics.MetricNames.TAG_ROLE;
import static dev.zksdk.metrics.MetricNames.TAG_SERVER;
import static dev.zksdk.metrics.MetricNames.TAG_SESSION;
import static dev.zksdk.metrics.MetricNames.TAG_STATE;

import dev.zksdk.EnsembleConfig;
import dev.zksdk.RecoveryEvent;
import dev.zksdk.SessionEvent;
import dev.zksdk.SessionState;
import dev.zksdk.hosts.HostOrderingStats;
import dev.zksdk.hosts.SessionCreationLimiter;
import dev.zksdk.metrics.EnsembleStatus;
import dev.zksdk.metrics.EnsembleView;
import dev.zksdk.metrics.MetricNames;
import dev.zksdk.metrics.MetricsTracker;
import dev.zksdk.metrics.OperationObservation;
import dev.zksdk.metrics.PipelineStatus;
import dev.zksdk.metrics.PoolView;
import dev.zksdk.metrics.SessionStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The Micrometer tracker of one pool. Thread-safe; see {@link MicrometerMetricsTrackerFactory}. */
final class MicrometerMetricsTracker implements MetricsTracker {

    private static final Logger log = LoggerFactory.getLogger(MicrometerMetricsTracker.class);

    private final MeterRegistry registry;
    private final PoolView pool;
    private final Tags poolTags;
    private final Set<Meter> published = ConcurrentHashMap.newKeySet();
    private final Map<String, EnsembleMeters> ensembles = new ConcurrentHashMap<>();
    private final List<EnsembleView> views = new CopyOnWriteArrayList<>();
    /** The alias of each connect string, for the session listener's events (they name the connect string). */
    private final Map<String, String> aliases = new ConcurrentHashMap<>();

    private final Counter conflicts;
    /** Null: this tracker records the operations' timer itself. */
    private final ObservationRegistry observations;

    private final OperationObservationConvention convention;
    private volatile boolean closed;

    MicrometerMetricsTracker(
            MeterRegistry registry,
            PoolView pool,
            ObservationRegistry observations,
            OperationObservationConvention convention) {
        this.registry = registry;
        this.pool = pool;
        this.observations = observations;
        this.convention = convention;
        this.poolTags = Tags.of(TAG_POOL, pool.name());
        if (registry.find(LEASES_ACTIVE).tags(poolTags).meter() != null) {
            log.warn(
                    "another pool named '{}' already publishes to this meter registry: their meters will be mixed up; "
                            + "give each pool its own name",
                    pool.name());
        }
        publish(Gauge.builder(LEASES_ACTIVE, pool, p -> p.stats().activeLeases())
                .description("Leases handed out and not yet closed")
                .tags(poolTags)
                .strongReference(true)
                .register(registry));
        // Read only when the meter is read; a view that cannot tell reports NaN ("not measured"), never 0.
        publish(FunctionCounter.builder(CALLBACK_OVERFLOWS, pool, p -> {
                    long n = p.callbackOverflows();
                    return n < 0 ? Double.NaN : n;
                })
                .description(
                        "Listener callbacks dropped (or a watch listener's queue replaced by one RESYNC) because the "
                                + "listener was too slow to keep up")
                .tags(poolTags)
                .register(registry));
        this.conflicts = publish(Counter.builder(EPHEMERAL_CONFLICTS)
                .description("Owned ephemerals found taken by another live session during recovery")
                .tags(poolTags)
                .register(registry));
        SessionCreationLimiter limiter = pool.sessionCreationLimiter();
        if (limiter != null) {
            // Process-wide, shared with other pools of the same rate: bound once per registry and never removed.
            new SessionCreationLimiterMetrics(limiter, Tags.empty()).bindTo(registry);
        }
    }

    private <M extends Meter> M publish(M meter) {
        published.add(meter);
        return meter;
    }

    @Override
    public void ensembleStarted(EnsembleView ensemble) {
        if (closed) {
            return;
        }
        views.add(ensemble);
        aliases.putIfAbsent(ensemble.connectString(), ensemble.name());
        meters(ensemble.name()).add(ensemble);
    }

    /** The {@code ensemble} tag of an event's connect string: the alias of the ensemble started with it. */
    private String tagOf(String connectString) {
        String alias = aliases.get(connectString);
        if (alias != null) {
            return alias;
        }
        try {
            return EnsembleConfig.of(connectString).alias(); // an event before ensembleStarted: the default alias
        } catch (RuntimeException e) {
            return MetricNames.ensembleTag(connectString);
        }
    }

    private EnsembleMeters meters(String ensembleTag) {
        return ensembles.computeIfAbsent(ensembleTag, EnsembleMeters::new);
    }

    @Override
    public void onStateChange(SessionEvent event) {
        if (closed) {
            return; // a late event must not publish a meter the closed pool would leave behind
        }
        EnsembleMeters m = meters(tagOf(event.ensemble()));
        SessionState state = event.state();
        boolean connected =
                state == SessionState.CONNECTED || state == SessionState.RECONNECTED || state == SessionState.READ_ONLY;
        if (connected && event.sessionIdAfter() != 0 && event.sessionIdAfter() != event.sessionIdBefore()) {
            m.opened.increment();
        }
        if (connected && event.newSession()) {
            m.expirations.increment();
        }
        if (state == SessionState.RECONNECTED) {
            (event.sameSession() ? m.reconnectsSame : m.reconnectsNew).increment();
        }
        if (event.server() != null) {
            m.serverGauge(event.server());
        }
    }

    @Override
    public void onTimeoutClamped(String ensemble, Duration requested, Duration negotiated) {
        if (closed) {
            return;
        }
        meters(tagOf(ensemble)).clamped.increment();
    }

    @Override
    public void onRecovered(RecoveryEvent event) {
        if (closed) {
            return;
        }
        meters(tagOf(event.ensemble())).recovery(event.complete()).record(event.duration());
    }

    @Override
    public void onEphemeralConflict(String path, long ownerSessionId) {
        conflicts.increment();
    }

    /**
     * With an {@link ObservationRegistry}: an {@link Observation} whose meter handler records the timer. Without one
     * (or while it is a no-op): the same timer, with the same tags, recorded here.
     */
    @Override
    public OperationObservation operationStarted(String ensemble, String operation, String path) {
        if (closed) {
            return OperationObservation.NONE;
        }
        ObservationRegistry o = observations;
        if (o != null && !o.isNoop()) {
            OperationObservationContext context =
                    new OperationObservationContext(pool.name(), ensemble, operation, path);
            Observation observation = Observation.createNotStarted(
                            convention, DefaultOperationObservationConvention.INSTANCE, () -> context, o)
                    .start();
            return (outcome, failure) -> {
                context.outcome(outcome);
                if (failure != null) {
                    observation.error(failure);
                }
                observation.stop();
            };
        }
        EnsembleMeters m = meters(ensemble);
        long start = registry.config().clock().monotonicTime();
        return (outcome, failure) -> {
            if (!closed) {
                m.operation(operation, outcome, errorTag(failure))
                        .record(registry.config().clock().monotonicTime() - start, TimeUnit.NANOSECONDS);
            }
        };
    }

    /** The {@code error} tag, as Micrometer's {@code DefaultMeterObservationHandler} gives it. */
    private static String errorTag(Throwable failure) {
        return failure == null ? "none" : failure.getClass().getSimpleName();
    }

    /** The retries; the operation's timer is recorded by its {@link #operationStarted observation}. */
    @Override
    public void operationCompleted(String ensemble, String operation, String outcome, long nanos, int retries) {
        if (closed) {
            return;
        }
        if (retries > 0) {
            meters(ensemble).retries(operation).increment(retries);
        }
    }

    @Override
    public void batchSent(String ensemble, String kind, int operations) {
        if (!closed) {
            meters(ensemble).batches(kind).record(operations);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Meter meter : published) {
            registry.remove(meter);
        }
        published.clear();
        if (observations != null) {
            // The observation handler's meters for this pool (it registered them, not this tracker).
            for (String name : List.of(OPERATIONS, MetricNames.OPERATIONS_ACTIVE)) {
                for (Meter meter :
                        registry.find(name).tag(TAG_POOL, pool.name()).meters()) {
                    registry.remove(meter);
                }
            }
        }
    }

    /** The meters of one {@code ensemble} tag; gauges sum over every ensemble of the pool with that tag. */
    private final class EnsembleMeters {
        final String tag;
        final Tags tags;
        final List<EnsembleView> members = new CopyOnWriteArrayList<>();
        final Counter opened;
        final Counter expirations;
        final Counter reconnectsSame;
        final Counter reconnectsNew;
        final Counter clamped;
        final Map<String, Timer> operations = new ConcurrentHashMap<>();
        final Map<String, Counter> retries = new ConcurrentHashMap<>();
        final Map<Boolean, Timer> recoveries = new ConcurrentHashMap<>();
        final Set<String> servers = ConcurrentHashMap.newKeySet();
        private boolean gaugesRegistered;

        EnsembleMeters(String tag) {
            this.tag = tag;
            this.tags = poolTags.and(TAG_ENSEMBLE, tag);
            this.opened = publish(Counter.builder(SESSIONS_OPENED)
                    .description("ZooKeeper sessions established, replacements after expiry included")
                    .tags(tags)
                    .register(registry));
            this.expirations = publish(Counter.builder(SESSION_EXPIRATIONS)
                    .description("Sessions found expired and replaced by a new one")
                    .tags(tags)
                    .register(registry));
            this.reconnectsSame = reconnects("same");
            this.reconnectsNew = reconnects("new");
            this.clamped = publish(Counter.builder(SESSION_TIMEOUT_CLAMPED)
                    .description("Sessions whose requested timeout the server clamped to its min/max session timeout")
                    .tags(tags)
                    .register(registry));
        }

        private Counter reconnects(String session) {
            return publish(Counter.builder(SESSION_RECONNECTS)
                    .description("Connections re-established, within the same session or with a new one")
                    .tags(tags)
                    .tag(TAG_SESSION, session)
                    .register(registry));
        }

        synchronized void add(EnsembleView view) {
            members.add(view);
            for (String server : view.servers()) {
                serverGauge(server);
            }
            if (gaugesRegistered) {
                return;
            }
            gaugesRegistered = true;
            gauge(
                    SESSIONS_OPEN,
                    "Sessions started and not closed (connected or reconnecting)",
                    Tags.empty(),
                    s -> s.openSessions());
            gauge(
                    EPHEMERALS_OWNED,
                    "Ephemerals the pool keeps alive (re-created after expiry)",
                    Tags.empty(),
                    s -> s.ownedEphemerals());
            gauge(
                    EPHEMERALS_MISSING,
                    "Owned ephemerals missing on the server that could not be re-created yet",
                    Tags.empty(),
                    s -> s.missingEphemerals());
            for (SessionState state : SessionState.values()) {
                gauge(
                        SESSIONS_STATE,
                        "Sessions in each state",
                        Tags.of(TAG_STATE, state.name().toLowerCase(Locale.ROOT)),
                        s -> count(s, state));
            }
            for (SessionStatus.Role role : SessionStatus.Role.values()) {
                gauge(
                        SESSIONS_CONNECTED,
                        "Connected sessions by role: on participants (leases' sessions) or on observers (reads)",
                        Tags.of(TAG_ROLE, role.name().toLowerCase(Locale.ROOT)),
                        s -> connected(s, role));
            }
            pipelineMeters();
            hostMeters();
            publish(TimeGauge.builder(
                            SESSION_TIMEOUT_REQUESTED,
                            this,
                            TimeUnit.MILLISECONDS,
                            m -> m.maxMillis(v -> v.requestedSessionTimeout()))
                    .description("The session timeout the pool asks for")
                    .tags(tags)
                    .strongReference(true)
                    .register(registry));
            publish(TimeGauge.builder(
                            SESSION_TIMEOUT_NEGOTIATED,
                            this,
                            TimeUnit.MILLISECONDS,
                            m -> m.maxMillis(v -> negotiated(v.status())))
                    .description("The session timeout the server granted (NaN before the first connection)")
                    .tags(tags)
                    .strongReference(true)
                    .register(registry));
        }

        /** Host selection, from each member's {@link HostOrderingStats}: attempts and failures summed, quarantine. */
        private void hostMeters() {
            publish(FunctionCounter.builder(
                            MetricNames.HOSTS_CONNECT_ATTEMPTS, this, m -> m.sumHosts(h -> h.connectAttempts()))
                    .description("Servers handed to ZooKeeper to connect to by the host selection")
                    .tags(tags)
                    .register(registry));
            publish(FunctionCounter.builder(
                            MetricNames.HOSTS_CONNECT_FAILURES, this, m -> m.sumHosts(h -> h.connectFailures()))
                    .description("Connect attempts that ended without a connection, and servers reported failed")
                    .tags(tags)
                    .register(registry));
            publish(FunctionCounter.builder(
                            MetricNames.HOSTS_RESOLVE_FAILURES, this, m -> m.sumHosts(h -> h.resolveFailures()))
                    .description("Servers whose name did not resolve when a session was to connect to them")
                    .tags(tags)
                    .register(registry));
            publish(FunctionCounter.builder(MetricNames.HOSTS_HUNG_DROPS, this, m -> m.sumHosts(h -> h.hungDrops()))
                    .description("Connections dropped, their session kept, because the server sent nothing at all"
                            + " while requests waited for the hung-server bound, and its process did not answer an"
                            + " out-of-band srvr")
                    .tags(tags)
                    .register(registry));
            publish(FunctionCounter.builder(
                            MetricNames.HOSTS_REBALANCE_MOVES, this, m -> m.sumHosts(h -> h.rebalanceMoves()))
                    .description("Sessions moved, their id kept, from a more loaded server to a less loaded healthy"
                            + " one to even out the spread after a failover")
                    .tags(tags)
                    .register(registry));
            publish(Gauge.builder(
                            MetricNames.HOSTS_ZONE_FALLBACK_SESSIONS, this, m -> m.sumHosts(h -> h.fallbackSessions()))
                    .description("Sessions connected now to a server outside the client's zone (0 without a zone)")
                    .tags(tags)
                    .strongReference(true)
                    .register(registry));
            publish(Gauge.builder(MetricNames.HOSTS_QUARANTINED, this, m -> m.quarantined())
                    .description("Servers of the ensemble quarantined now after failing to connect")
                    .tags(tags)
                    .strongReference(true)
                    .register(registry));
        }

        private double sumHosts(ToDoubleFunction<HostOrderingStats> value) {
            double total = 0;
            boolean known = false;
            for (EnsembleView view : members) {
                HostOrderingStats h = view.hosts();
                if (h != null) {
                    known = true;
                    total += value.applyAsDouble(h);
                }
            }
            return known ? total : Double.NaN;
        }

        /** Distinct servers of the tag's ensembles that are quarantined now (the quarantine is process-wide). */
        private double quarantined() {
            Set<String> hit = new HashSet<>();
            boolean known = false;
            for (EnsembleView view : members) {
                HostOrderingStats h = view.hosts();
                if (h == null) {
                    continue;
                }
                known = true;
                for (String server : view.servers()) {
                    if (h.quarantined().containsKey(server)) {
                        hit.add(server);
                    }
                }
            }
            return known ? hit.size() : Double.NaN;
        }

        /** The breaker, bulkhead and retries, from each member's {@link PipelineStatus}, summed over the tag's members. */
        private void pipelineMeters() {
            for (String state : List.of("closed", "open", "half_open", "disabled", "forced_open", "metrics_only")) {
                pipelineGauge(
                        MetricNames.BREAKER_STATE,
                        "Ensembles whose circuit breaker is in each state",
                        Tags.of(TAG_STATE, state),
                        p -> p.breakerState().equalsIgnoreCase(state) ? 1 : 0);
            }
            publish(Gauge.builder(MetricNames.BREAKER_FAILURE_RATE, this, m -> m.maxFailureRate())
                    .description(
                            "Percentage of the breaker's window that found the ensemble unreachable (NaN: too few calls)")
                    .tags(tags)
                    .strongReference(true)
                    .register(registry));
            pipelineGauge(
                    MetricNames.BREAKER_CALLS,
                    "Calls in the circuit breaker's window",
                    Tags.of(MetricNames.TAG_KIND, "buffered"),
                    p -> p.breakerBufferedCalls());
            pipelineGauge(
                    MetricNames.BREAKER_CALLS,
                    "Calls in the circuit breaker's window",
                    Tags.of(MetricNames.TAG_KIND, "failed"),
                    p -> p.breakerFailedCalls());
            publish(FunctionCounter.builder(
                            MetricNames.BREAKER_NOT_PERMITTED,
                            this,
                            m -> m.sumPipeline(p -> p.breakerNotPermittedCalls()))
                    .description("Calls the open circuit breaker refused")
                    .tags(tags)
                    .register(registry));
            pipelineGauge(
                    MetricNames.BULKHEAD_MAX,
                    "The in-flight limit (maxInFlight)",
                    Tags.empty(),
                    p -> p.bulkheadMaxCalls());
            pipelineGauge(
                    MetricNames.BULKHEAD_AVAILABLE,
                    "In-flight slots free now",
                    Tags.empty(),
                    p -> p.bulkheadAvailableCalls());
            retryCounter("successful_without_retry", p -> p.callsSucceededWithoutRetry());
            retryCounter("successful_with_retry", p -> p.callsSucceededWithRetry());
            retryCounter("failed_with_retry", p -> p.callsFailedWithRetry());
            retryCounter("failed_without_retry", p -> p.callsFailedWithoutRetry());
        }

        private void pipelineGauge(
                String name, String description, Tags extra, ToDoubleFunction<PipelineStatus> value) {
            publish(Gauge.builder(name, this, m -> m.sumPipeline(value))
                    .description(description)
                    .tags(tags)
                    .tags(extra)
                    .strongReference(true)
                    .register(registry));
        }

        private void retryCounter(String kind, ToDoubleFunction<PipelineStatus> value) {
            publish(FunctionCounter.builder(MetricNames.RETRY_CALLS, this, m -> m.sumPipeline(value))
                    .description("Operations by how their retries went")
                    .tags(tags)
                    .tag(MetricNames.TAG_KIND, kind)
                    .register(registry));
        }

        private double sumPipeline(ToDoubleFunction<PipelineStatus> value) {
            double total = 0;
            for (EnsembleView view : members) {
                total += value.applyAsDouble(view.pipeline());
            }
            return total;
        }

        private double maxFailureRate() {
            double max = Double.NaN;
            for (EnsembleView view : members) {
                float rate = view.pipeline().breakerFailureRate();
                if (rate >= 0 && (Double.isNaN(max) || rate > max)) {
                    max = rate;
                }
            }
            return max;
        }

        private void gauge(String name, String description, Tags extra, ToDoubleFunction<EnsembleStatus> value) {
            publish(Gauge.builder(name, this, m -> m.sum(value))
                    .description(description)
                    .tags(tags)
                    .tags(extra)
                    .strongReference(true)
                    .register(registry));
        }

        void serverGauge(String server) {
            if (closed || !servers.add(server)) {
                return;
            }
            publish(Gauge.builder(CONNECTIONS, this, m -> m.sum(s -> connectedTo(s, server)))
                    .description("Connected sessions per server")
                    .tags(tags)
                    .tag(TAG_SERVER, server)
                    .strongReference(true)
                    .register(registry));
        }

        private double sum(ToDoubleFunction<EnsembleStatus> value) {
            double total = 0;
            for (EnsembleView view : members) {
                total += value.applyAsDouble(view.status());
            }
            return total;
        }

        private double maxMillis(Function<EnsembleView, Duration> value) {
            double max = Double.NaN;
            for (EnsembleView view : members) {
                Duration d = value.apply(view);
                if (d != null && (Double.isNaN(max) || d.toMillis() > max)) {
                    max = d.toMillis();
                }
            }
            return max;
        }

        Timer operation(String operation, String outcome, String error) {
            return operations.computeIfAbsent(
                    operation + '\n' + outcome + '\n' + error,
                    k -> publish(Timer.builder(OPERATIONS)
                            .description("Lease operations, retries included")
                            .tags(tags)
                            .tag(TAG_OPERATION, operation)
                            .tag(TAG_OUTCOME, outcome)
                            .tag(MetricNames.TAG_ERROR, error)
                            .register(registry)));
        }

        final Map<String, DistributionSummary> batches = new ConcurrentHashMap<>();

        DistributionSummary batches(String kind) {
            return batches.computeIfAbsent(
                    kind,
                    k -> publish(DistributionSummary.builder(BATCHES)
                            .description("Batches of asynchronous operations sent as one multi or multiRead, and the"
                                    + " operations in each")
                            .baseUnit("operations")
                            .tags(tags)
                            .tag(MetricNames.TAG_KIND, kind)
                            .register(registry)));
        }

        Counter retries(String operation) {
            return retries.computeIfAbsent(
                    operation,
                    k -> publish(Counter.builder(OPERATION_RETRIES)
                            .description("Retries of lease operations after connection loss (attempts after the first)")
                            .tags(tags)
                            .tag(TAG_OPERATION, operation)
                            .register(registry)));
        }

        Timer recovery(boolean complete) {
            return recoveries.computeIfAbsent(
                    complete,
                    k -> publish(Timer.builder(RECOVERY_DURATION)
                            .description(
                                    "Ordered recovery after a new session: ephemerals re-created, watches re-armed")
                            .tags(tags)
                            .tag(TAG_OUTCOME, complete ? "complete" : "incomplete")
                            .register(registry)));
        }

        @Override
        public String toString() {
            return "EnsembleMeters{" + tag + "}";
        }
    }

    private static double count(EnsembleStatus status, SessionState state) {
        int n = 0;
        for (SessionStatus s : status.sessions()) {
            if (s.state() == state) {
                n++;
            }
        }
        return n;
    }

    private static double connected(EnsembleStatus status, SessionStatus.Role role) {
        int n = 0;
        for (SessionStatus s : status.sessions()) {
            if (s.connected() && s.role() == role) {
                n++;
            }
        }
        return n;
    }

    private static double connectedTo(EnsembleStatus status, String server) {
        int n = 0;
        for (SessionStatus s : status.sessions()) {
            if (server.equals(s.server())) {
                n++;
            }
        }
        return n;
    }

    private static Duration negotiated(EnsembleStatus status) {
        Duration max = null;
        for (SessionStatus s : status.sessions()) {
            if (s.negotiatedTimeout() != null
                    && (max == null || s.negotiatedTimeout().compareTo(max) > 0)) {
                max = s.negotiatedTimeout();
            }
        }
        return max;
    }
}
