/**
 * Sync rules: their source ({@link dev.syncline.api.rules.SyncRulesSource}), the compiled,
 * immutable form ({@link dev.syncline.api.rules.SyncRules}), what evaluating rows and requests
 * yields, and the errors ({@link dev.syncline.api.rules.SyncRulesException} with every {@link
 * dev.syncline.api.rules.Problem}).
 *
 * <p>Compile rules with {@code dev.syncline.core.rules.SyncRulesCompiler} (engine-core).
 */
@NullMarked
package dev.syncline.api.rules;

import org.jspecify.annotations.NullMarked;
