package dev.syncline.api.rules;

import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import java.util.ArrayList;
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

  /**
   * The {@code event_definitions:} of the config, in declaration order. Rules that have none, and
   * implementations that do not read them, return an empty list.
   */
  default List<EventDefinitionInfo> eventDefinitions() {
    return List.of();
  }

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

  /**
   * Explains where one source row lands, for people debugging their rules: one line per bucket
   * definition and data query. Rules compiled by Syncline say for each query why the row matched or
   * not; this default lists the buckets {@link #evaluateRow} places the row in and its evaluation
   * errors.
   */
  default List<String> explainRow(TableRef table, SourceRow row) {
    RowEvaluation evaluation = evaluateRow(table, row);
    List<String> lines = new ArrayList<>();
    for (EvaluatedRow r : evaluation.rows()) {
      lines.add("in bucket " + r.bucket() + " as " + r.table() + "/" + r.id());
    }
    for (EvaluationError e : evaluation.errors()) {
      lines.add("error in " + e.definition() + ": " + e.message());
    }
    if (lines.isEmpty()) {
      lines.add("in no bucket");
    }
    return List.copyOf(lines);
  }
}
