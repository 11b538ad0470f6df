package dev.syncline.spi.storage;

import dev.syncline.api.TableRef;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The single writer of one rules version. Holding it means holding the replication lock: only one writer exists
 * per rules version across all engine instances sharing the storage, and the lock is released when the writer is
 * closed or its process dies.
 *
 * <p>Threads: writes ({@link #commit}, {@link #setSnapshotDone}, {@link #setSnapshotProgress}) come from one thread
 * at a time. {@link #currentRows} and {@link #forEachRow} may be called from another thread while a commit runs;
 * they return the state before or after that commit, never part of it (the engine builds the next batch while the
 * previous one is written).
 */
public interface BucketStorageWriter extends AutoCloseable {
  /** The rules version written. */
  long versionId();

  /** The stored state of these rows (absent keys have none). */
  Map<SourceKey, CurrentRow> currentRows(Collection<SourceKey> keys);

  /** Streams the stored state of every row of a table (for truncates and dropped tables). */
  void forEachRow(TableRef table, Consumer<CurrentRow> consumer);

  /**
   * Commits a batch atomically. Returns only once it is durable; the returned checkpoint (empty when the batch
   * carries no position) is then visible to readers.
   */
  Optional<Checkpoint> commit(WriteBatch batch);

  /** Records that the initial snapshot of a table is complete (or, with {@code done} false, restarted). */
  void setSnapshotDone(TableRef table, boolean done);

  /** Records resumable progress of a table's initial snapshot (an opaque cursor, e.g. the last primary key). */
  void setSnapshotProgress(TableRef table, String cursor);

  /** Releases the replication lock; idempotent. */
  @Override
  void close();
}
