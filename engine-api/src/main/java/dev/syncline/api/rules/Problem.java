package dev.syncline.api.rules;

import java.util.Locale;
import java.util.Objects;

/**
 * One problem found in a sync config.
 *
 * @param severity fatal or warning
 * @param message what is wrong, and where possible what to change
 * @param start offset of the first character in the YAML text, in UTF-16 code units ({@link String}
 *     indices)
 * @param end offset after the last character, exclusive
 * @param line 1-based line of {@code start}
 * @param column 1-based column of {@code start}, in UTF-16 code units
 */
public record Problem(Severity severity, String message, int start, int end, int line, int column) {
  /** Validates the components. */
  public Problem {
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(message, "message");
  }

  /** {@code line:column: severity: message}. */
  @Override
  public String toString() {
    return line + ":" + column + ": " + severity.name().toLowerCase(Locale.ROOT) + ": " + message;
  }
}
