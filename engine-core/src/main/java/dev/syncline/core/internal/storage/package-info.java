/**
 * Storage internals shared by the built-in storages: operation checksums ({@link
 * dev.syncline.spi.storage.OpChecksums}), the compaction algorithm ({@link
 * dev.syncline.core.internal.storage.Compactor}), pure functions without I/O.
 */
@NullMarked
package dev.syncline.core.internal.storage;

import org.jspecify.annotations.NullMarked;
