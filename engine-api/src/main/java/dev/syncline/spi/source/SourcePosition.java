package dev.syncline.spi.source;

/**
 * An opaque, totally ordered position in a source's change stream (for Postgres, an LSN).
 * Implementations are immutable values with a printable, parseable form so storage can persist
 * them.
 */
public interface SourcePosition extends Comparable<SourcePosition> {
  /**
   * The persisted form; the adapter that created the position can parse it back. It must preserve
   * order under {@link String#compareTo}: storage compares positions as strings (e.g. an LSN as
   * fixed-width hex).
   */
  String serialize();
}
