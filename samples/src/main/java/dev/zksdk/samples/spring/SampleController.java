package dev.zksdk.samples.spring;

import dev.zksdk.ZkSessionPool;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.zookeeper.data.Stat;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** The sample's HTTP face: what this instance is, and the greeting it serves from ZooKeeper. */
@RestController
public class SampleController {

    private final ServiceRegistration registration;
    private final GreetingConfig greeting;
    private final ZkSessionPool pool;

    public SampleController(ServiceRegistration registration, GreetingConfig greeting, ZkSessionPool pool) {
        this.registration = registration;
        this.greeting = greeting;
        this.pool = pool;
    }

    /** The instance's registration, the current greeting (kept up to date by a watch) and the pool's statistics. */
    @GetMapping("/")
    public Map<String, Object> index() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("registeredAt", registration.path());
        body.put("greeting", greeting.greeting());
        body.put("configNode", greeting.path());
        body.put("pool", pool.stats().toString());
        return body;
    }

    /** Writes the greeting to ZooKeeper; the node's watchers, this instance included, see the change. */
    @PutMapping(value = "/greeting", consumes = MediaType.TEXT_PLAIN_VALUE)
    public Map<String, Object> update(@RequestBody String value) {
        Stat stat = greeting.update(value);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("configNode", greeting.path());
        body.put("version", stat == null ? null : stat.getVersion());
        return body;
    }
}
