package dev.syncline.spi.storage;

import dev.syncline.api.OpId;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.ParameterLookup;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Bucket storage: op logs, row state, parameter index and checkpoints of every rules version.
 * <em>Incubating.</em>
 *
 * <p>Implementations are thread-safe: one writer per rules version (see {@link #openWriter}) and
 * any number of concurrent readers. Reads are consistent as of the checkpoint they are given: data
 * committed later is never returned.
 */
public interface BucketStorage extends AutoCloseable {

  // ---- rules versions ----

  /** Adds a rules version in state {@code PROCESSING}; returns it. */
  RulesVersion addRulesVersion(String content);

  /** Every version not yet dropped, oldest first. */
  List<RulesVersion> rulesVersions();

  /** Makes a version active and retires the previously active one, atomically. */
  void activate(long versionId);

  /**
   * Whether writers of this storage can {@linkplain BucketStorageWriter#adoptBuckets adopt} another
   * version's buckets, which lets clients keep the buckets a rules deployment did not change.
   * Default {@code false}: every deployment then gives clients new buckets.
   */
  default boolean supportsBucketAdoption() {
    return false;
  }

  /** Drops a retired or processing version and all its data. */
  void drop(long versionId);

  // ---- writing ----

  /**
   * Acquires the replication lock of a version and returns its writer.
   *
   * @param replicator identifies the replicating process (e.g. host and process id), recorded for
   *     operators
   * @throws dev.syncline.api.SynclineException with {@code REPLICATION_LOCKED} when another writer
   *     holds it
   */
  BucketStorageWriter openWriter(long versionId, String replicator);

  /**
   * Acquires the replication lock with an anonymous replicator identity; see {@link
   * #openWriter(long, String)}.
   */
  default BucketStorageWriter openWriter(long versionId) {
    return openWriter(versionId, "anonymous");
  }

  /** The identity of the replicator that holds, or last held, the version's lock. */
  Optional<String> replicator(long versionId);

  // ---- reading ----

  /** The latest checkpoint of a version, if any. */
  Optional<Checkpoint> latestCheckpoint(long versionId);

  /**
   * Calls {@code listener} with each new checkpoint of a version, whichever engine instance
   * committed it (promptly: in-process at once, across instances through the database's
   * notifications or polling). Checkpoints may be coalesced: only the newest matters. The listener
   * runs on a storage-owned thread and must not block.
   *
   * @return a handle; closing it stops the calls
   */
  AutoCloseable watchCheckpoints(long versionId, Consumer<Checkpoint> listener);

  /**
   * Checksums and counts of buckets over the ops in {@code (after, upTo]} ({@code after} null: from
   * the beginning). A range that contains a CLEAR starts at that CLEAR: {@link
   * PartialChecksum#isFull()} then says the value is a whole-bucket value rather than a delta.
   */
  Map<String, PartialChecksum> checksums(
      long versionId, Collection<String> buckets, @Nullable OpId after, OpId upTo);

  /**
   * Operations of one bucket with {@code after < opId <= upTo}, ascending, at most {@code limit}.
   */
  List<OpRecord> ops(long versionId, String bucket, OpId after, OpId upTo, int limit);

  /** Parameter-index rows stored under each key as of a checkpoint, in insertion order. */
  Map<ParameterLookup, List<Map<String, SqliteValue>>> lookup(
      long versionId, OpId asOf, List<ParameterLookup> lookups);

  /** Which tables completed their initial snapshot, and the progress cursor of the others. */
  SnapshotState snapshotState(long versionId);

  // ---- write checkpoints (PowerSync protocol §7) ----

  /**
   * Creates the next managed write checkpoint of a user's client: increments its counter (first
   * value 1) and records the source head {@code position} it waits for. Returns the new value.
   * Concurrent calls for one key (from any engine instance on this storage) get distinct,
   * increasing values.
   *
   * <p>Requested ids are at most {@link WriteCheckpointKey#MAX_ID}, so the counter has room for
   * 2^63 - 2^53 more ids; an implementation still fails with {@code INVALID_REQUEST} rather than
   * overflow.
   */
  long createWriteCheckpoint(WriteCheckpointKey key, String position);

  /**
   * Records a client-chosen write checkpoint id (checkpoint-request mode): stored with {@code
   * position} when greater than the stored id, else unchanged. Returns the id stored afterwards.
   *
   * @throws dev.syncline.api.SynclineException {@code INVALID_REQUEST} unless {@code 1 <=
   *     requestedId <= }{@link WriteCheckpointKey#MAX_ID}
   */
  long requestWriteCheckpoint(WriteCheckpointKey key, long requestedId, String position);

  /**
   * The largest write checkpoint of the key whose position is covered by {@code checkpoint}, if
   * any.
   */
  Optional<Long> writeCheckpoint(WriteCheckpointKey key, Checkpoint checkpoint);

  /**
   * {@link #writeCheckpoint} for many keys at once (the sync service asks for every open stream at
   * each new checkpoint); keys without one are absent. The default asks key by key; storages with a
   * network round trip per call should answer in bulk.
   */
  default Map<WriteCheckpointKey, Long> writeCheckpoints(
      Collection<WriteCheckpointKey> keys, Checkpoint checkpoint) {
    Map<WriteCheckpointKey, Long> out = new HashMap<>();
    for (WriteCheckpointKey key : keys) {
      writeCheckpoint(key, checkpoint).ifPresent(id -> out.put(key, id));
    }
    return out;
  }

  /**
   * Forgets the write checkpoints no stream can ask for any more: of each key, those older than its
   * newest one whose position is at or below {@code position}, the lowest position of the
   * checkpoints now served (of every live rules version). {@link #writeCheckpoint} answers the same
   * for every checkpoint at or above {@code position}, and the next id of each key stays as it was.
   * Called by the replicating instance with compaction; without it storage keeps a row per write
   * checkpoint (a client asks for one after each upload) for ever.
   *
   * @return how many write checkpoints were removed
   */
  default long pruneWriteCheckpoints(String position) {
    return 0;
  }

  // ---- compaction ----

  /**
   * Compacts the op logs of a version up to {@code upTo} (PowerSync protocol §4.1): superseded
   * PUT/REMOVE become MOVE, and a bucket's leading run of non-PUT ops becomes one CLEAR. Checksums
   * stay exact. Safe while clients stream.
   */
  void compact(long versionId, OpId upTo);

  /** Releases resources; idempotent. */
  @Override
  void close();

  /**
   * A checksum over a range of a bucket's ops.
   *
   * @param checksum sum mod 2^32, unsigned
   * @param count number of ops
   * @param isFull whether the range began at a CLEAR (the value is the bucket's whole checksum)
   */
  record PartialChecksum(long checksum, long count, boolean isFull) {}

  /**
   * Initial snapshot state.
   *
   * @param done tables whose snapshot is complete
   * @param progress cursors of tables whose snapshot is in progress
   */
  record SnapshotState(List<TableRef> done, Map<TableRef, String> progress) {
    /** Copies the collections. */
    public SnapshotState {
      done = List.copyOf(done);
      progress = Map.copyOf(progress);
    }
  }
}
