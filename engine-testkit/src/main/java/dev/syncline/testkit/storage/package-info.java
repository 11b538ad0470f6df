/**
 * The bucket storage compatibility kit: {@link
 * dev.syncline.testkit.storage.BucketStorageCompatibilityKit}, an abstract JUnit 5 class that
 * certifies a {@link dev.syncline.spi.storage.BucketStorage} implementation.
 */
@NullMarked
package dev.syncline.testkit.storage;

import org.jspecify.annotations.NullMarked;
