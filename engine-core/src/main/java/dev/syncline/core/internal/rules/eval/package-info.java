/**
 * Run-time semantics of sync-rules expressions, matching the reference implementation: SQLite-style
 * values ({@code null}, {@link java.lang.Long}, {@link java.math.BigInteger} for integer results
 * outside 64 bits, {@link java.lang.Double}, {@link java.lang.String}, {@code byte[]}), casts,
 * comparisons, arithmetic, every scalar function, and JSON parsing and writing with JavaScript's
 * number and key-order rules. Stateless and thread-safe.
 */
@NullMarked
package dev.syncline.core.internal.rules.eval;

import org.jspecify.annotations.NullMarked;
