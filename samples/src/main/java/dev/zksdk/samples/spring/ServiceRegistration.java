package dev.zksdk.samples.spring;

import dev.zksdk.EphemeralNode;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import java.nio.charset.StandardCharsets;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.stereotype.Component;

/**
 * Registers this instance under {@code /services/<application>/<host:port>} once its web server listens, as an
 * ephemeral node the pool keeps alive: re-created after a session expiry, deleted at once on shutdown (the starter's
 * graceful shutdown deletes owned ephemerals before anything else stops).
 */
@Component
public class ServiceRegistration implements ApplicationListener<WebServerInitializedEvent>, DisposableBean {

    private final ZkSessionPool pool;
    private final String service;
    private final String host;
    private volatile ZkLease lease;
    private volatile EphemeralNode node;

    public ServiceRegistration(
            ZkSessionPool pool,
            @Value("${spring.application.name}") String service,
            @Value("${sample.advertised-host:127.0.0.1}") String host) {
        this.pool = pool;
        this.service = service;
        this.host = host;
    }

    @Override
    public synchronized void onApplicationEvent(WebServerInitializedEvent event) {
        if (node != null) {
            return;
        }
        String address = host + ":" + event.getWebServer().getPort();
        lease = pool.lease();
        node = lease.ephemeral(
                "/services/" + service + "/" + address,
                ("{\"address\":\"" + address + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    /** The registration's path, or null before the web server listens. */
    public String path() {
        EphemeralNode n = node;
        return n == null ? null : n.path();
    }

    @Override
    public void destroy() {
        if (node != null) {
            node.close();
            lease.close();
        }
    }
}
