/**
 * The sync stream: {@link dev.syncline.api.stream.SyncRequest} (what a client asks for) and the
 * {@link dev.syncline.api.stream.SyncLine}s sent back, one record per PowerSync protocol line type
 * (§2). <em>Incubating</em>: the sync stream issue completes it.
 */
@NullMarked
package dev.syncline.api.stream;

import org.jspecify.annotations.NullMarked;
