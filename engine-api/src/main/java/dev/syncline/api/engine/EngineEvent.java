package dev.syncline.api.engine;

import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.EvaluationError;
import dev.syncline.spi.source.SourceEvent;
import org.jspecify.annotations.Nullable;

/**
 * Something an engine reports to its listeners: metrics, life-cycle changes, problems. Listeners
 * are called on the engine's threads (replication, scheduler) and must return quickly.
 */
public sealed interface EngineEvent {
  /** The rules version the event concerns. */
  long version();

  /**
   * A metric or notable event of the source's replication of a version (lag, throughput, snapshot
   * progress, ...).
   */
  record Source(long version, SourceEvent event) implements EngineEvent {}

  /**
   * This instance's replication of a version changed state; {@code error} is set when it is
   * retrying.
   */
  record ReplicationChanged(long version, ReplicationState state, @Nullable SynclineException error)
      implements EngineEvent {}

  /** New rules were stored as a version and are being filled while the active version serves. */
  record RulesDeployed(long version) implements EngineEvent {}

  /**
   * A version became the one served to clients; {@code previous} is the one it replaced ({@code 0}:
   * none).
   */
  record RulesActivated(long version, long previous) implements EngineEvent {}

  /** A retired version and its data were dropped. */
  record RulesDropped(long version) implements EngineEvent {}

  /** A row could not be evaluated by the rules (it is not synced); replication goes on. */
  record EvaluationFailed(long version, EvaluationError error) implements EngineEvent {}

  /**
   * A replicated row is larger than the engine's limits (one value, or the whole row): it is not
   * synced, and taken out of the buckets it was in, until a change brings it within them;
   * replication goes on.
   *
   * @param table the row's source table
   * @param key the row's key, as the source identifies it (JSON text of its primary key values)
   * @param reason which limit it passes
   */
  record RowTooLarge(long version, TableRef table, String key, String reason)
      implements EngineEvent {}

  /**
   * A detector's finding appeared ({@code active}) or cleared, on this instance; {@code version} is
   * the active version.
   */
  record DetectorChanged(long version, Finding finding, boolean active) implements EngineEvent {}
}
