/**
 * Sync rules internals: the YAML reader ({@code yaml}), SQL front end ({@code sql}), value
 * semantics ({@code eval}) and the compiler ({@code plan}); {@link
 * dev.syncline.core.internal.rules.ParameterIndex} is an in-memory parameter index for tests and
 * tools.
 */
@NullMarked
package dev.syncline.core.internal.rules;

import org.jspecify.annotations.NullMarked;
