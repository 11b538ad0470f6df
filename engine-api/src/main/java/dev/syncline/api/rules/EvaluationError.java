package dev.syncline.api.rules;

import java.util.Objects;

/**
 * An error evaluating one query for one row or request.
 *
 * @param definition the bucket definition or stream whose query failed
 * @param message what failed
 */
public record EvaluationError(String definition, String message) {
  /** Validates the components. */
  public EvaluationError {
    Objects.requireNonNull(definition, "definition");
    Objects.requireNonNull(message, "message");
  }
}
