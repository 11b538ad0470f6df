/**
 * The sync stream service, transport-neutral ({@link dev.syncline.core.stream.SyncService}), and a
 * zero-dependency HTTP transport on the JDK's built-in server ({@link
 * dev.syncline.core.stream.JdkHttpSyncServer}). <em>Incubating</em>: the sync stream issue
 * completes it.
 */
@NullMarked
package dev.syncline.core.stream;

import org.jspecify.annotations.NullMarked;
