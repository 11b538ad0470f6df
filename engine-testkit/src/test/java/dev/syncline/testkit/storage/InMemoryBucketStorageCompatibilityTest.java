package dev.syncline.testkit.storage;

import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.spi.storage.BucketStorage;

/** The in-memory storage passes the compatibility kit. */
class InMemoryBucketStorageCompatibilityTest extends BucketStorageCompatibilityKit {
  @Override
  protected BucketStorage createStorage() {
    return new InMemoryBucketStorage();
  }
}
