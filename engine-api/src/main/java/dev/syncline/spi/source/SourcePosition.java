package dev.syncline.spi.source;

/**
 * An opaque, totally ordered position in a source's change stream (for Postgres, an LSN). Implementations are
 * immutable values with a printable, parseable form so storage can persist them.
 */
public interface SourcePosition extends Comparable<SourcePosition> {
  /** The persisted form; the adapter that created the position can parse it back. */
  String serialize();
}
