package dev.syncline.api.rules;

import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import java.util.List;

/**
 * Compiled sync rules: immutable, thread-safe, evaluated without re-parsing. Obtain one from {@code
 * dev.syncline.core.rules.SyncRulesCompiler}.
 */
public interface SyncRules {
  /** The source this was compiled from. */
  SyncRulesSource source();

  /** The bucket definitions and streams, in declaration order. */
  List<DefinitionInfo> definitions();

  /** Every table the rules read (data and parameter queries), without duplicates. */
  List<TablePattern> sourceTables();

  /** Warnings found while compiling (fatal problems make compilation throw instead). */
  List<Problem> warnings();

  /** Whether any data query reads {@code table}. */
  boolean syncsData(TableRef table);

  /** Whether any parameter query reads {@code table}. */
  boolean syncsParameters(TableRef table);

  /** Evaluates the data queries for one source row: the buckets it lands in and its data there. */
  RowEvaluation evaluateRow(TableRef table, SourceRow row);

  /**
   * Evaluates the parameter queries for one source row: the parameter-index entries it produces.
   */
  ParameterEvaluation evaluateParameterRow(TableRef table, SourceRow row);

  /** Resolves which buckets a request receives. */
  RequestQuerier querier(RequestContext request);

  /**
   * A human-readable description of every compiled plan, including the snapshot SQL for each source
   * table.
   */
  String explain();
}
