package dev.syncline.api.rules;

import java.util.List;

/**
 * What the data queries make of one source row.
 *
 * @param rows the output rows in definition order, then query order, then parameter expansion order
 * @param errors evaluation errors (e.g. invalid JSON in a column); a query with an error produces
 *     no rows
 */
public record RowEvaluation(List<EvaluatedRow> rows, List<EvaluationError> errors) {
  /** Copies the lists. */
  public RowEvaluation {
    rows = List.copyOf(rows);
    errors = List.copyOf(errors);
  }
}
