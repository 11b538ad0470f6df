package dev.syncline.spi.storage;

import dev.syncline.api.OpId;
import java.util.Optional;

/**
 * Stores bucket operations and checkpoints. <em>Incubating</em>: only the parts the rest of the engine needs today;
 * the storage issue completes the contract. Implementations are thread-safe: one replication thread writes, any
 * number of stream threads read.
 */
public interface BucketStorage extends AutoCloseable {
  /** The latest committed checkpoint, if any. */
  Optional<OpId> latestCheckpoint();

  /** Releases resources; idempotent. */
  @Override
  void close();
}
