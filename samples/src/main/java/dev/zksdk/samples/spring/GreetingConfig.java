package dev.zksdk.samples.spring;

import dev.zksdk.WatchEvent;
import dev.zksdk.WatchHandle;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkNoNodeException;
import dev.zksdk.ZkNodeExistsException;
import dev.zksdk.ZkSessionPool;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * A configuration value kept in ZooKeeper, at {@code /config/<application>/greeting}: read at start-up and re-read on
 * every change the watch reports (and on RESYNC, after a new session, when changes may have been missed). Readers get
 * the latest value without a round trip.
 */
@Component
public class GreetingConfig implements DisposableBean {

    static final String DEFAULT = "Hello from zk-sdk";
    private static final Logger log = LoggerFactory.getLogger(GreetingConfig.class);

    private final String path;
    private final ZkLease lease;
    private final WatchHandle watch;
    private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
    private volatile String greeting = DEFAULT;

    public GreetingConfig(ZkSessionPool pool, @Value("${spring.application.name}") String application) {
        this.path = "/config/" + application + "/greeting";
        this.lease = pool.lease();
        this.watch = lease.watch(path, this::onEvent);
        reload();
    }

    /** The path of the configuration node. */
    public String path() {
        return path;
    }

    /** The latest greeting: the node's data, or the default while the node does not exist. */
    public String greeting() {
        return greeting;
    }

    /** Called with each new value, on the pool's event or callback thread; must not block. */
    public void onChange(Consumer<String> listener) {
        listeners.add(listener);
    }

    /** Writes a new greeting; every instance watching the node (this one included) picks it up. */
    public Stat update(String value) {
        byte[] data = value.getBytes(StandardCharsets.UTF_8);
        try {
            return lease.setData(path, data, -1);
        } catch (ZkNoNodeException e) {
            createWithParents(data);
            return lease.exists(path);
        }
    }

    private void createWithParents(byte[] data) {
        for (int slash = path.indexOf('/', 1); slash > 0; slash = path.indexOf('/', slash + 1)) {
            try {
                lease.create(path.substring(0, slash), new byte[0], CreateMode.PERSISTENT);
            } catch (ZkNodeExistsException e) {
                // made by another instance or an earlier run: fine
            }
        }
        try {
            lease.create(path, data, CreateMode.PERSISTENT);
        } catch (ZkNodeExistsException e) {
            // another instance created it meanwhile: ours is the later write
            lease.setData(path, data, -1);
        }
    }

    private void onEvent(WatchEvent event) {
        if (event.type() == WatchEvent.Type.DELETED) {
            set(DEFAULT);
        } else {
            reload();
        }
    }

    /** Reads asynchronously: watch listeners run on the pool's event thread, which must not block. */
    private void reload() {
        lease.getDataAsync(path).whenComplete((data, error) -> {
            if (error == null) {
                set(new String(data, StandardCharsets.UTF_8));
            } else if (unwrap(error) instanceof ZkNoNodeException) {
                set(DEFAULT);
            } else {
                log.warn("could not read {}: {}", path, error.toString());
            }
        });
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }

    private void set(String value) {
        if (!value.equals(greeting)) {
            greeting = value;
            log.info("greeting is now '{}'", value);
        }
        for (Consumer<String> listener : listeners) {
            listener.accept(value);
        }
    }

    @Override
    public void destroy() {
        watch.close();
        lease.close();
    }
}
