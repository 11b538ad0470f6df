package dev.syncline.api.rules;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An error evaluating one query for one row or request.
 *
 * @param definition the bucket definition or stream whose query failed
 * @param message what failed
 * @param subscription for a request, the index of the stream subscription (in the request's {@code
 *     streams.subscriptions}) whose parameters could not be resolved; null for default
 *     subscriptions and for rows
 */
public record EvaluationError(String definition, String message, @Nullable Integer subscription) {
  /** Validates the components. */
  public EvaluationError {
    Objects.requireNonNull(definition, "definition");
    Objects.requireNonNull(message, "message");
  }

  /** An error not tied to a subscription. */
  public EvaluationError(String definition, String message) {
    this(definition, message, null);
  }
}
