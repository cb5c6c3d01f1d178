package com.example.fresh;

import dev.zksdk.ZkSessionPool;
import dev.zksdk.ZkLease;
import java.nio.charset.StandardCharsets;
import org.apache.zookeeper.CreateMode;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/** A Spring Boot application whose only zk-sdk code is a use of the starter's pool: it writes one node at start-up. */
@SpringBootApplication
public class FreshApplication {

    public static void main(String[] args) {
        SpringApplication.run(FreshApplication.class, args);
    }

    @Bean
    ApplicationRunner hello(ZkSessionPool pool, @Value("${fresh.node}") String node) {
        return args -> {
            try (ZkLease lease = pool.lease()) {
                lease.create(node, "hello".getBytes(StandardCharsets.UTF_8), CreateMode.PERSISTENT);
            }
        };
    }
}
