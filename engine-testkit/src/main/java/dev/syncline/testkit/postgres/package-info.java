/**
 * A real Postgres for tests, with no manual set-up: {@link
 * dev.syncline.testkit.postgres.TestPostgres}.
 */
@NullMarked
package dev.syncline.testkit.postgres;

import org.jspecify.annotations.NullMarked;
