package dev.zksdk;

import java.util.Objects;

/** One change seen by a watch, or {@link Type#RESYNC}: state may have changed unseen, so re-read it. */
public final class WatchEvent {

    /** What happened. */
    public enum Type {
        /** The node at {@link #path()} was created. */
        CREATED,
        /** The data of the node at {@link #path()} changed. */
        DATA_CHANGED,
        /** The node at {@link #path()} was deleted. */
        DELETED,
        /** The children of the node at {@link #path()} changed. */
        CHILDREN_CHANGED,
        /**
         * A new session replaced the old one: events may have been missed while no session was connected (a node
         * created and deleted in that gap leaves no trace). The watch is already re-armed when this arrives, so a change
         * made after it is always seen. {@link #path()} is the watched path.
         */
        RESYNC
    }

    private final Type type;
    private final String path;

    /**
     * An event; the pool makes these, a test may make one to drive a {@link WatchListener}.
     *
     * @param type what happened
     * @param path the node it happened to (for {@link Type#RESYNC}, the watched path)
     * @throws NullPointerException when {@code type} or {@code path} is null
     */
    public WatchEvent(Type type, String path) {
        this.type = Objects.requireNonNull(type, "type");
        this.path = Objects.requireNonNull(path, "path");
    }

    /**
     * What happened.
     *
     * @return the event's type
     */
    public Type type() {
        return type;
    }

    /**
     * The node it happened to: for a tree watch, the node below the watched path that changed.
     *
     * @return the absolute path
     */
    public String path() {
        return path;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WatchEvent && ((WatchEvent) o).type == type && ((WatchEvent) o).path.equals(path);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, path);
    }

    @Override
    public String toString() {
        return type + " " + path;
    }
}
