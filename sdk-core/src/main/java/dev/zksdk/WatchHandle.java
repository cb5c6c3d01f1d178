package dev.zksdk;

/**
 * A registered watch. {@link #close()} stops delivery at once (once it returns, the listener is called no more; a call
 * already running finishes) and removes the watch from the server: now when connected (waiting up to the connection
 * timeout for the answer), or once the session is connected again. Watches of Curator recipes on the same path stay.
 * Idempotent.
 */
public interface WatchHandle extends AutoCloseable {

    /**
     * The watched path.
     *
     * @return the absolute path given when the watch was made
     */
    String path();

    @Override
    void close();
}
