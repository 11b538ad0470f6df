package dev.syncline.api.rules;

/** How bad a {@link Problem} is. */
public enum Severity {
  /** The rules cannot be used. */
  FATAL,
  /** The rules work, but probably not as intended. */
  WARNING
}
