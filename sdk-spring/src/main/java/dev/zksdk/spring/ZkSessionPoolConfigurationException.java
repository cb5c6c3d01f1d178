package dev.zksdk.spring;

/**
 * The auto-configured {@link dev.zksdk.ZkSessionPool} could not be built: the core refused a setting or a combination
 * of settings that no single {@code zksdk.*} property accounts for (a {@link ZkSessionPoolCustomizer} set it, or two
 * properties conflict). A value of one property that the core refuses is reported as Spring Boot's
 * {@link org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException} instead.
 * {@link ZkSessionPoolFailureAnalyzer} turns it into a start-up report.
 */
public class ZkSessionPoolConfigurationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The property to look at, or null. */
    private final String property;

    /**
     * @param property the property to look at, or null when the setting did not come from one
     * @param message the core's message, which names the setting and the value (never a credential)
     * @param cause the core's exception
     */
    public ZkSessionPoolConfigurationException(String property, String message, Throwable cause) {
        super(message, cause);
        this.property = property;
    }

    /**
     * The property to look at, or null when the setting did not come from one (a customizer set it).
     *
     * @return the property's name, such as {@code zksdk.default-acl}, or null
     */
    public String getProperty() {
        return property;
    }
}
