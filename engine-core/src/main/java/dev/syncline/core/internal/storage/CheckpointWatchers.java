package dev.syncline.core.internal.storage;

import dev.syncline.spi.storage.Checkpoint;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * Listeners for new checkpoints, per rules version, and the dispatch that calls them once per
 * change. A storage calls {@link #check(long)} whenever a checkpoint may have changed (after a
 * local commit, on a database notification, on a poll). Thread-safe; listeners run on the calling
 * thread and must not block.
 */
public final class CheckpointWatchers {
  private final LongFunction<Optional<Checkpoint>> latest;
  private final Map<Long, Set<Consumer<Checkpoint>>> listeners = new ConcurrentHashMap<>();
  private final Map<Long, Checkpoint> lastSeen = new ConcurrentHashMap<>();

  /**
   * @param latest reads the latest checkpoint of a version
   */
  public CheckpointWatchers(LongFunction<Optional<Checkpoint>> latest) {
    this.latest = latest;
  }

  /** Adds a listener; the returned handle removes it. */
  public AutoCloseable add(long versionId, Consumer<Checkpoint> listener) {
    Set<Consumer<Checkpoint>> set =
        listeners.computeIfAbsent(versionId, v -> new CopyOnWriteArraySet<>());
    set.add(listener);
    latest.apply(versionId).ifPresent(c -> lastSeen.putIfAbsent(versionId, c));
    return () -> set.remove(listener);
  }

  /** Versions with listeners. */
  public Set<Long> watchedVersions() {
    return listeners.keySet();
  }

  /** Whether anyone listens. */
  public boolean isEmpty() {
    return listeners.values().stream().allMatch(Set::isEmpty);
  }

  /** Reads the version's checkpoint and notifies listeners if it changed since the last call. */
  public void check(long versionId) {
    Set<Consumer<Checkpoint>> set = listeners.get(versionId);
    if (set == null || set.isEmpty()) {
      return;
    }
    Optional<Checkpoint> current = latest.apply(versionId);
    if (current.isEmpty()) {
      return;
    }
    Checkpoint c = current.get();
    Checkpoint previous = lastSeen.put(versionId, c);
    if (c.equals(previous)) {
      return;
    }
    for (Consumer<Checkpoint> l : set) {
      l.accept(c);
    }
  }

  /** Checks every watched version. */
  public void checkAll() {
    for (Long v : listeners.keySet()) {
      check(v);
    }
  }
}
