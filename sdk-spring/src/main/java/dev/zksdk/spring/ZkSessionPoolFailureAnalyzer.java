package dev.zksdk.spring;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;

/**
 * Turns the starter's start-up failures into Spring Boot's "APPLICATION FAILED TO START" report, with what happened and
 * which property to change: {@link ZkSessionPoolStartupException} (no session connected with
 * {@code zksdk.connect-on-startup}) and {@link ZkSessionPoolConfigurationException} (a setting the core refuses that no
 * single property accounts for). A refused property value is an
 * {@link org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException}, which Spring
 * Boot's own analyzer reports with the property, its value and where it was set. Registered in
 * {@code META-INF/spring.factories}.
 */
public class ZkSessionPoolFailureAnalyzer implements FailureAnalyzer {

    @Override
    public FailureAnalysis analyze(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ZkSessionPoolStartupException startup) {
                return analyze(startup);
            }
            if (t instanceof ZkSessionPoolConfigurationException config) {
                return analyze(config);
            }
        }
        return null;
    }

    private static FailureAnalysis analyze(ZkSessionPoolStartupException e) {
        String description = "A ZooKeeper session pool could not connect while the application started "
                + "(zksdk.connect-on-startup=true):\n\n    " + e.getMessage();
        String action = "Check that the ZooKeeper servers " + e.getServers() + " (zksdk.connect-string) are running "
                + "and reachable from this host, and that the client's TLS (zksdk.ssl.*) and credentials "
                + "(zksdk.sasl.*, zksdk.digest.*, zksdk.auth) match the servers'.\n"
                + "To wait longer, raise zksdk.initialization-timeout (now " + e.getTimeout() + "); "
                + "to start without ZooKeeper and connect on first use, set zksdk.connect-on-startup=false.";
        return new FailureAnalysis(description, action, e);
    }

    private static FailureAnalysis analyze(ZkSessionPoolConfigurationException e) {
        String description = "The ZooKeeper session pool could not be configured: " + e.getMessage();
        String action = e.getProperty() != null
                ? "Update the value of the property '" + e.getProperty() + "' as the message above says."
                : "A ZkSessionPoolCustomizer bean or a combination of zksdk.* properties set a value the pool "
                        + "refuses: fix the setting named above.";
        return new FailureAnalysis(description, action, e);
    }
}
