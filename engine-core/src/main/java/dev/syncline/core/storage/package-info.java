/**
 * Built-in bucket storages: {@link dev.syncline.core.storage.InMemoryBucketStorage} for tests,
 * demos and as the reference of the storage compatibility kit.
 */
@NullMarked
package dev.syncline.core.storage;

import org.jspecify.annotations.NullMarked;
