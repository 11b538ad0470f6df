package dev.syncline.spi.storage;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The single writer of one rules version. Holding it means holding the replication lock: only one
 * writer exists per rules version across all engine instances sharing the storage, and the lock is
 * released when the writer is closed or its process dies.
 *
 * <p>Threads: writes ({@link #commit}, {@link #setSnapshotDone}, {@link #setSnapshotProgress}) come
 * from one thread at a time. {@link #currentRows} and {@link #forEachRow} may be called from
 * another thread while a commit runs; they return the state before or after that commit, never part
 * of it (the engine builds the next batch while the previous one is written).
 */
public interface BucketStorageWriter extends AutoCloseable {
  /** The rules version written. */
  long versionId();

  /** The stored state of these rows (absent keys have none). */
  Map<SourceKey, CurrentRow> currentRows(Collection<SourceKey> keys);

  /** Streams the stored state of every row of a table (for truncates and dropped tables). */
  void forEachRow(TableRef table, Consumer<CurrentRow> consumer);

  /**
   * Commits a batch atomically. Returns only once it is durable; the returned checkpoint (empty
   * when the batch carries no position) is then visible to readers.
   *
   * <p>A batch without a position is covered by no checkpoint yet, and after a crash the engine
   * repeats it from the stored state. Storage may therefore make such a batch durable in two steps:
   * its ops and parameter changes first, its rows' state ({@code upserts}, {@code deletes}) second,
   * never the other way round (state without its ops would make the repeat find nothing to write: a
   * loss; ops without their state make it write them again: duplicates, which no checkpoint exposes
   * before the batch is complete). It may also return before such a batch (or a snapshot record) is
   * durable, provided that nothing written after it can survive a crash without it and that the
   * next commit with a position makes it durable (as one write-ahead log does). Batches with a
   * position stay atomic and durable on return.
   */
  Optional<Checkpoint> commit(WriteBatch batch);

  /**
   * Records that the initial snapshot of a table is complete (or, with {@code done} false,
   * restarted).
   */
  void setSnapshotDone(TableRef table, boolean done);

  /**
   * Records resumable progress of a table's initial snapshot (an opaque cursor, e.g. the last
   * primary key).
   */
  void setSnapshotProgress(TableRef table, String cursor);

  /**
   * Makes the buckets {@code buckets} selects continue the logs of version {@code fromVersion} (as
   * of its latest checkpoint), so that clients holding them keep them when this version replaces
   * that one: each selected bucket's log becomes the other version's log, op ids and checksums
   * unchanged, followed by PUT and REMOVE ops (with new op ids above both versions' ids) that take
   * its contents to what this version holds. Both versions must name the bucket alike. Atomic;
   * commits a checkpoint of this version at its latest position that covers the new ops and returns
   * it (empty when this version has no checkpoint yet: then nothing is changed). Called between
   * batches, on the thread that commits.
   *
   * @throws dev.syncline.api.SynclineException with {@code UNSUPPORTED_FEATURE} unless {@link
   *     BucketStorage#supportsBucketAdoption()}
   */
  default Optional<Checkpoint> adoptBuckets(long fromVersion, Predicate<String> buckets) {
    throw new SynclineException(
        ErrorCode.UNSUPPORTED_FEATURE,
        "this bucket storage cannot adopt another version's buckets");
  }

  /** Releases the replication lock; idempotent. */
  @Override
  void close();
}
