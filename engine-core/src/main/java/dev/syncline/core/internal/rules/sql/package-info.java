/**
 * The sync-rules SQL front end: a hand-written lexer and recursive-descent parser for the SELECT
 * subset sync rules use, producing a typed AST ({@link dev.syncline.core.internal.rules.sql.Ast})
 * in which every node knows its start and end offset in the SQL text. Pure functions, no state
 * shared between calls.
 */
@NullMarked
package dev.syncline.core.internal.rules.sql;

import org.jspecify.annotations.NullMarked;
