/**
 * The sync stream's core, transport-neutral: {@link dev.syncline.core.internal.stream.SyncSession}
 * decides which lines a connection gets for each checkpoint, {@link
 * dev.syncline.core.internal.stream.NdjsonEncoder} writes them.
 */
@NullMarked
package dev.syncline.core.internal.stream;

import org.jspecify.annotations.NullMarked;
