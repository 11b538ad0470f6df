/**
 * The Postgres source adapter: consistent initial snapshot and pgoutput logical replication into bucket storage.
 * Depends on the engine API only. <em>Not implemented yet</em>: delivered by the Postgres source issue.
 */
@NullMarked
package dev.syncline.postgres;

import org.jspecify.annotations.NullMarked;
