package dev.syncline.core.internal.rules.sql;

import java.util.Objects;

/** A syntax error at a position in the SQL text. */
public final class SqlSyntaxException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int start;
  private final int end;

  SqlSyntaxException(String message, int start, int end) {
    super(message);
    this.start = start;
    this.end = end;
  }

  /** The message given at construction; never {@code null}. */
  @Override
  public String getMessage() {
    return Objects.requireNonNull(super.getMessage());
  }

  /** Offset of the offending token. */
  public int start() {
    return start;
  }

  /** Offset after the offending token. */
  public int end() {
    return end;
  }
}
