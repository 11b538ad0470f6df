package dev.syncline.api.rules;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import java.util.List;
import java.util.stream.Collectors;

/** Thrown when sync rules are invalid; lists every problem found, with its position. */
public final class SyncRulesException extends SynclineException {
  private static final long serialVersionUID = 1L;

  private final transient List<Problem> problems;

  /** Creates the exception for the problems of one sync config (warnings included). */
  public SyncRulesException(String origin, List<Problem> problems) {
    super(ErrorCode.SYNC_RULES_INVALID, describe(origin, problems));
    this.problems = List.copyOf(problems);
  }

  private static String describe(String origin, List<Problem> problems) {
    return "invalid sync rules in "
        + origin
        + ":\n"
        + problems.stream().map(p -> "  " + origin + ":" + p).collect(Collectors.joining("\n"));
  }

  /** Every problem, fatal ones and warnings, in the order they were found. */
  public List<Problem> problems() {
    return problems;
  }
}
