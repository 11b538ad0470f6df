/**
 * The bucket storage SPI: per sync-rules version, an op log per bucket, the current state of every
 * source row, the parameter index, checkpoints and resume state. <em>Incubating.</em>
 *
 * <p>Division of labour: the engine evaluates sync rules and decides which operations to write
 * ({@code PUT}/{@code REMOVE} with their checksums); storage persists them atomically with a
 * checkpoint, assigns op ids from one strictly increasing sequence per rules version, and answers
 * reads as of a checkpoint. Implementations are certified by {@code
 * dev.syncline.testkit.storage.BucketStorageCompatibilityKit}.
 *
 * <p>Threads: one writer (the replication thread holding the {@link
 * dev.syncline.spi.storage.BucketStorageWriter}) and any number of concurrent readers. Every method
 * may block on I/O.
 */
@NullMarked
package dev.syncline.spi.storage;

import org.jspecify.annotations.NullMarked;
