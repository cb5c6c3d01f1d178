package dev.zksdk.internal;

import java.time.Duration;
import org.apache.zookeeper.common.PathUtils;

/** Argument checks shared by configuration and operations: each names the setting or argument and the value. */
public final class Validation {

    private Validation() {}

    public static <T> T notNull(String name, T value) {
        if (value == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        return value;
    }

    public static Duration positive(String setting, Duration value) {
        notNull(setting, value);
        if (value.isZero() || value.isNegative()) {
            throw new IllegalArgumentException(setting + " must be positive, was " + value);
        }
        return value;
    }

    public static Duration nonNegative(String setting, Duration value) {
        notNull(setting, value);
        if (value.isNegative()) {
            throw new IllegalArgumentException(setting + " must not be negative, was " + value);
        }
        return value;
    }

    /** A positive duration that fits ZooKeeper's int milliseconds. */
    public static Duration positiveMillis(String setting, Duration value) {
        positive(setting, value);
        // Compared before toMillis(), which overflows past Long.MAX_VALUE ms (Duration.ofSeconds(Long.MAX_VALUE)).
        if (value.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0 || value.toMillis() < 1) {
            throw new IllegalArgumentException(
                    setting + " must be between 1 ms and " + Integer.MAX_VALUE + " ms, was " + value);
        }
        return value;
    }

    public static int positive(String setting, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(setting + " must be at least 1, was " + value);
        }
        return value;
    }

    /** Rejects what the server would reject, before anything is sent. */
    public static String path(String argument, String path) {
        return path(argument, path, false);
    }

    /** As {@link #path(String, String)}; a sequential create may end in '/' (the server appends the counter). */
    public static String path(String argument, String path, boolean sequential) {
        notNull(argument, path);
        try {
            PathUtils.validatePath(path, sequential);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    argument + " '" + path + "' is not a valid ZooKeeper path: " + e.getMessage(), e);
        }
        return path;
    }

    public static byte[] data(String argument, byte[] data, int maxBytes) {
        notNull(argument, data);
        if (data.length > maxBytes) {
            throw new IllegalArgumentException(
                    argument + " is " + data.length + " bytes, over the client's jute.maxbuffer limit of " + maxBytes
                            + " bytes; the server would refuse it");
        }
        return data;
    }

    public static int version(String argument, int version) {
        if (version < -1) {
            throw new IllegalArgumentException(argument + " must be -1 (any) or a node version >= 0, was " + version);
        }
        return version;
    }
}
