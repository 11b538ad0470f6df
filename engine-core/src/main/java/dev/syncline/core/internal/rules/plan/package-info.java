/**
 * The sync-rules compiler: turns parsed queries into compiled clauses (closures evaluated per row
 * or per request, never an AST walk at run time) and assembles them into {@link
 * dev.syncline.api.rules.SyncRules}.
 *
 * <p>Life cycle: {@code SyncConfigReader} reads the YAML and hands each query to the query
 * compilers ({@code DataQuery}, {@code TableParameterQuery}, {@code StaticParameterQuery}, {@code
 * TableValuedParameterQuery}), which use {@code ClauseCompiler} for expressions; every problem is
 * collected with its position and mapped back into the YAML text. The resulting {@code
 * CompiledSyncRules} is immutable and thread-safe.
 */
@NullMarked
package dev.syncline.core.internal.rules.plan;

import org.jspecify.annotations.NullMarked;
