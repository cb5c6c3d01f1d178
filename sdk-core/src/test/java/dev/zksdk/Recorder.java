package dev.zksdk;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/** Records what a pool tells its listeners and what watches deliver, for assertions in recovery tests. */
final class Recorder implements SessionListener, WatchListener {

  final List<SessionEvent> sessionEvents = new CopyOnWriteArrayList<>();
  final List<RecoveryEvent> recoveries = new CopyOnWriteArrayList<>();
  final List<WatchEvent> watchEvents = new CopyOnWriteArrayList<>();
  final List<String> conflicts = new CopyOnWriteArrayList<>();
  final List<String> missing = new CopyOnWriteArrayList<>();
  final java.util.Map<String, ZkException> missingCauses = new java.util.concurrent.ConcurrentHashMap<>();
  final List<String> restored = new CopyOnWriteArrayList<>();

  @Override
  public void onStateChange(SessionEvent event) {
    sessionEvents.add(event);
  }

  @Override
  public void onRecovered(RecoveryEvent event) {
    recoveries.add(event);
  }

  @Override
  public void onEphemeralConflict(String path, long ownerSessionId) {
    conflicts.add(path);
  }

  @Override
  public void onEphemeralMissing(String path, ZkException cause) {
    missing.add(path);
    missingCauses.put(path, cause);
  }

  @Override
  public void onEphemeralRestored(String path) {
    restored.add(path);
  }

  @Override
  public void onEvent(WatchEvent event) {
    watchEvents.add(event);
  }

  long count(WatchEvent.Type type) {
    return watchEvents.stream().filter(e -> e.type() == type).count();
  }

  boolean saw(WatchEvent.Type type, String path) {
    return watchEvents.stream().anyMatch(e -> e.type() == type && e.path().equals(path));
  }

  boolean sawState(SessionState state) {
    return sessionEvents.stream().anyMatch(e -> e.state() == state);
  }

  boolean sawSession(Predicate<SessionEvent> p) {
    return sessionEvents.stream().anyMatch(p);
  }

  void clear() {
    sessionEvents.clear();
    recoveries.clear();
    watchEvents.clear();
    conflicts.clear();
    missing.clear();
    missingCauses.clear();
    restored.clear();
  }
}
