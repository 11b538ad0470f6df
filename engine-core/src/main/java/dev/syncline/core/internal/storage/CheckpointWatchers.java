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

  /**
   * Reads the version's checkpoint and notifies listeners if it is newer than the last one they
   * were given.
   */
  public void check(long versionId) {
    Set<Consumer<Checkpoint>> set = listeners.get(versionId);
    if (set == null || set.isEmpty()) {
      return;
    }
    latest.apply(versionId).ifPresent(c -> advance(versionId, c, set));
  }

  /**
   * Notifies listeners of a checkpoint this process has just committed, without reading it back.
   * Called by the committing thread after its transaction committed.
   */
  public void publish(long versionId, Checkpoint checkpoint) {
    Set<Consumer<Checkpoint>> set = listeners.get(versionId);
    if (set != null && !set.isEmpty()) {
      advance(versionId, checkpoint, set);
    }
  }

  /**
   * Hands {@code c} to the listeners if it is newer (a higher op id, or the same op id at a later
   * source position) than the last checkpoint handed out: a read that raced with a commit never
   * takes listeners back.
   */
  private void advance(long versionId, Checkpoint c, Set<Consumer<Checkpoint>> set) {
    boolean[] newer = {false};
    lastSeen.compute(
        versionId,
        (k, previous) -> {
          if (previous == null || isNewer(c, previous)) {
            newer[0] = true;
            return c;
          }
          return previous;
        });
    if (newer[0]) {
      for (Consumer<Checkpoint> l : set) {
        l.accept(c);
      }
    }
  }

  private static boolean isNewer(Checkpoint c, Checkpoint than) {
    int byOp = c.opId().compareTo(than.opId());
    return byOp > 0 || (byOp == 0 && c.position().compareTo(than.position()) > 0);
  }

  /** Checks every watched version. */
  public void checkAll() {
    for (Long v : listeners.keySet()) {
      check(v);
    }
  }
}
