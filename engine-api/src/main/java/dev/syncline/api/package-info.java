/**
 * Syncline's public API: wire-level values ({@link dev.syncline.api.SqliteValue}, {@link
 * dev.syncline.api.OpId}, {@link dev.syncline.api.BucketId}), errors ({@link
 * dev.syncline.api.ErrorCode}, {@link dev.syncline.api.SynclineException}) and the exact text
 * formats of the PowerSync protocol ({@link dev.syncline.api.WireFormat}).
 *
 * <p>Everything here is immutable and thread-safe unless a type says otherwise. Nothing in this
 * module depends on anything but the JDK.
 */
@NullMarked
package dev.syncline.api;

import org.jspecify.annotations.NullMarked;
