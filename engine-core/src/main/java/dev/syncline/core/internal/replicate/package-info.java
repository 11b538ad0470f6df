/**
 * Turning source changes into bucket operations: {@link
 * dev.syncline.core.internal.replicate.BatchBuilder} evaluates the rules for each changed row,
 * compares with the row's stored placement, and builds the {@link
 * dev.syncline.spi.storage.WriteBatch} committed with the source position. Runs on the replication
 * thread.
 */
@NullMarked
package dev.syncline.core.internal.replicate;

import org.jspecify.annotations.NullMarked;
