package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.rules.Severity;

/**
 * A problem in one SQL query, positioned in the SQL text (mapped into the YAML text later).
 *
 * @param start offset in the SQL text, or -1 for "the whole query"
 */
record SqlProblem(String message, int start, int end, Severity severity) {
  static SqlProblem fatal(String message, int start, int end) {
    return new SqlProblem(message, start, end, Severity.FATAL);
  }

  static SqlProblem warning(String message, int start, int end) {
    return new SqlProblem(message, start, end, Severity.WARNING);
  }
}
