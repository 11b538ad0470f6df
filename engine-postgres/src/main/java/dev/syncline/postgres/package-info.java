/**
 * The Postgres source: a consistent initial snapshot and {@code pgoutput} logical replication into
 * bucket storage ({@link dev.syncline.postgres.PostgresSource}). Depends on the engine API only.
 * <em>Incubating.</em>
 */
@NullMarked
package dev.syncline.postgres;

import org.jspecify.annotations.NullMarked;
