package dev.syncline.spi.source;

import dev.syncline.api.TableRef;
import org.jspecify.annotations.Nullable;

/** Something a source reports for operators: metrics and notable events. */
public sealed interface SourceEvent {
  /**
   * Snapshot progress of one table.
   *
   * @param rowsCopied rows copied so far
   * @param rowsEstimated the planner's estimate of the table's rows ({@code -1} when unknown)
   */
  record SnapshotProgress(TableRef table, long rowsCopied, long rowsEstimated, boolean done)
      implements SourceEvent {}

  /**
   * Replication lag and slot state, reported periodically.
   *
   * @param lagBytes bytes of WAL written upstream but not yet durably applied
   * @param lagMillis age of the newest applied transaction's commit when it was applied ({@code -1}
   *     when idle)
   * @param retainedBytes WAL the source keeps for this stream
   * @param slotStatus the source's slot status (Postgres {@code wal_status}: reserved, extended,
   *     unreserved, lost)
   * @param safeBytes WAL that may still be written before the slot is invalidated ({@code -1}: no
   *     limit)
   */
  record Lag(long lagBytes, long lagMillis, long retainedBytes, String slotStatus, long safeBytes)
      implements SourceEvent {}

  /** A table's shape changed (columns added or removed, identity changed, renamed or dropped). */
  record SchemaChanged(TableRef table, String description) implements SourceEvent {}

  /** A warning operators should act on (e.g. the slot is close to invalidation). */
  record Warning(String code, String message, @Nullable TableRef table) implements SourceEvent {}

  /** Transactions and rows applied since the previous report. */
  record Throughput(long transactions, long rows, long intervalMillis) implements SourceEvent {}
}
