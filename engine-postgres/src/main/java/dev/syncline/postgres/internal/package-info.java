/**
 * Internals of the Postgres source: the {@code pgoutput} decoder, value conversion and catalog
 * queries. Not API: may change in any release.
 */
@NullMarked
package dev.syncline.postgres.internal;

import org.jspecify.annotations.NullMarked;
