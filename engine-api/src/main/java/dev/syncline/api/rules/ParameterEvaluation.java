package dev.syncline.api.rules;

import java.util.List;

/**
 * What the parameter queries make of one source row.
 *
 * @param entries parameter index entries
 * @param errors evaluation errors
 */
public record ParameterEvaluation(List<ParameterIndexEntry> entries, List<EvaluationError> errors) {
  /** Copies the lists. */
  public ParameterEvaluation {
    entries = List.copyOf(entries);
    errors = List.copyOf(errors);
  }
}
