package dev.syncline.api;

/**
 * An operation id: a position in the global, strictly increasing op sequence of one sync-rules
 * version. On the wire it is a base-10 string.
 *
 * @param value non-negative
 */
public record OpId(long value) implements Comparable<OpId> {
  /** The position before the first operation. */
  public static final OpId ZERO = new OpId(0);

  /** Rejects negative values. */
  public OpId {
    if (value < 0) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT, "op id must not be negative, got " + value);
    }
  }

  /** Parses the wire form, a base-10 string. */
  public static OpId parse(String text) {
    try {
      return new OpId(Long.parseLong(text));
    } catch (NumberFormatException e) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT, "op id must be a base-10 integer, got '" + text + "'", e);
    }
  }

  @Override
  public int compareTo(OpId o) {
    return Long.compare(value, o.value);
  }

  /** The wire form. */
  @Override
  public String toString() {
    return Long.toString(value);
  }
}
