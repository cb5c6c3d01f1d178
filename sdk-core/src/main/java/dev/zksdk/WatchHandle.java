package dev.zksdk;

/** A registered watch. {@link #close()} removes it from the server and stops delivery; idempotent. */
public interface WatchHandle extends AutoCloseable {

  /** The watched path. */
  String path();

  @Override
  void close();
}
