package dev.zksdk.samples.spring;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Boot application that uses the zk-sdk starter: it registers itself as an ephemeral node, watches a
 * configuration node, and exposes Actuator's health ({@code /actuator/health}, with the {@code zksdk} component) and
 * metrics ({@code /actuator/metrics/zksdk.*}).
 *
 * <p>Without {@code --zksdk.connect-string=host:port,...} it starts an embedded ZooKeeper server on 127.0.0.1. Run it
 * with {@code java -cp samples/target/zk-sdk-samples.jar dev.zksdk.samples.spring.ZkSpringSampleApplication}, then:
 *
 * <pre>
 * curl localhost:8080/                                    # instance, registration, current greeting
 * curl -X PUT -H 'Content-Type: text/plain' -d 'hello' localhost:8080/greeting   # the watch updates the greeting
 * curl localhost:8080/actuator/health                     # zksdk: UP, session id, negotiated timeout, server
 * curl localhost:8080/actuator/metrics/zksdk.operations   # latency by operation and outcome
 * </pre>
 *
 * On shutdown (Ctrl-C) the registration is deleted at once, then the sessions close.
 */
@SpringBootApplication
public class ZkSpringSampleApplication {

    public static void main(String[] args) {
        application().run(args);
    }

    /** The application with its defaults and the embedded-server fallback; tests start it the same way. */
    public static SpringApplication application() {
        SpringApplication application = new SpringApplication(ZkSpringSampleApplication.class);
        application.addInitializers(new EmbeddedZooKeeper());
        Map<String, Object> defaults = new LinkedHashMap<>();
        defaults.put("spring.application.name", "zksdk-spring-sample");
        defaults.put("zksdk.name", "spring-sample");
        defaults.put("zksdk.session-timeout", "10s");
        defaults.put("management.endpoints.web.exposure.include", "health,metrics");
        defaults.put("management.endpoint.health.show-details", "always");
        application.setDefaultProperties(defaults);
        return application;
    }
}
