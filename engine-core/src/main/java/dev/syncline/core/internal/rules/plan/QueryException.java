package dev.syncline.core.internal.rules.plan;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** Aborts compiling one query with a problem (the reference's thrown SqlRuleError). */
final class QueryException extends Exception {
  private static final long serialVersionUID = 1L;

  final transient @Nullable SqlProblem problem;

  /** The message given at construction; never {@code null}. */
  @Override
  public String getMessage() {
    return Objects.requireNonNull(super.getMessage());
  }

  /** A problem with a position. */
  QueryException(SqlProblem problem) {
    super(problem.message());
    this.problem = problem;
  }

  /** A problem without position: reported over the whole YAML scalar. */
  QueryException(String message) {
    super(message);
    this.problem = null;
  }
}
