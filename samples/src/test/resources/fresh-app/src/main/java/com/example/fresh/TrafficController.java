package com.example.fresh;

import dev.zksdk.EphemeralNode;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkNoNodeException;
import dev.zksdk.ZkSessionPool;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/** The application's own use of the pool, over HTTP: what a service does with ZooKeeper. */
@RestController
public class TrafficController {

    private final ZkSessionPool pool;
    private final ObservationRegistry observations;
    private final String node;
    private final String ephemeralPath;
    private final List<EphemeralNode> registrations = new ArrayList<>();

    public TrafficController(
            ZkSessionPool pool,
            ObservationRegistry observations,
            @Value("${fresh.node}") String node,
            @Value("${fresh.ephemeral}") String ephemeralPath) {
        this.pool = pool;
        this.observations = observations;
        this.node = node;
        this.ephemeralPath = ephemeralPath;
    }

    /** Reads the node, reads a missing one, registers an ephemeral once: inside the application's own observation. */
    @PostMapping("/traffic")
    public String traffic() {
        return Observation.createNotStarted("fresh.traffic", observations).observe(() -> {
            try (ZkLease lease = pool.lease()) {
                String data = new String(lease.getData(node), StandardCharsets.UTF_8);
                try {
                    lease.getData(node + "-missing");
                } catch (ZkNoNodeException expected) {
                    // a read with another outcome
                }
                synchronized (registrations) {
                    if (registrations.isEmpty()) {
                        registrations.add(lease.ephemeral(ephemeralPath, new byte[0]));
                    }
                }
                return data;
            }
        });
    }

    /** Reads the node. */
    @GetMapping("/read")
    public String read() {
        try (ZkLease lease = pool.lease()) {
            return new String(lease.getData(node), StandardCharsets.UTF_8);
        }
    }
}
