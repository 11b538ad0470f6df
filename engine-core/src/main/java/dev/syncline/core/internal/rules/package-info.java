/**
 * Sync rules internals: the YAML reader ({@code yaml}), SQL front end ({@code sql}), value
 * semantics ({@code eval}) and the compiler ({@code plan}).
 */
@NullMarked
package dev.syncline.core.internal.rules;

import org.jspecify.annotations.NullMarked;
