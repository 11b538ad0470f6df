package dev.syncline.core.internal.replicate;

import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import org.jspecify.annotations.Nullable;

/**
 * How large a replicated row may be to be synced: at most {@code maxValueBytes} per column value
 * and {@code maxRowBytes} for the row, counted as UTF-8 bytes of text (a blob's bytes, 8 for a
 * number). A larger row is taken out of every bucket and parameter index until a change brings it
 * within the limits, and reported; it would otherwise be sent to every client that syncs it, as
 * often as it changes. Immutable.
 *
 * @param maxValueBytes the largest value of one column
 * @param maxRowBytes the largest row, all its values together
 */
public record RowLimits(long maxValueBytes, long maxRowBytes) {
  /** The engine's defaults: 1 MiB a value, 4 MiB a row (the upload handler's too). */
  public static final RowLimits DEFAULT = new RowLimits(1 << 20, 4 << 20);

  /** Why {@code row} is too large to sync, or null when it is within the limits. */
  public @Nullable String check(SourceRow row) {
    long total = 0;
    for (var column : row.columns().entrySet()) {
      long bytes = size(column.getValue(), maxValueBytes);
      if (bytes > maxValueBytes) {
        return "column " + column.getKey() + " holds more than " + maxValueBytes + " bytes";
      }
      total += bytes;
      if (total > maxRowBytes) {
        return "the row holds more than " + maxRowBytes + " bytes";
      }
    }
    return null;
  }

  /** The value's size, counted no further than just past {@code limit}. */
  private static long size(SourceValue value, long limit) {
    if (value instanceof SqliteValue.TextValue t) {
      return utf8(t.value(), limit);
    } else if (value instanceof SqliteValue.BlobValue b) {
      return b.value().length;
    } else if (value instanceof SourceValue.Timestamp t) {
      return t.iso8601().length();
    } else if (value instanceof SourceValue.TimeOfDay t) {
      return t.text().length();
    } else if (value instanceof SourceValue.SourceArray a) {
      long total = 2;
      for (Object e : a.elements()) {
        total += 1 + (e instanceof SourceValue v ? size(v, limit) : String.valueOf(e).length());
        if (total > limit) {
          break;
        }
      }
      return total;
    }
    return 8; // null, integer, real
  }

  private static long utf8(String s, long limit) {
    if (s.length() > limit) {
      return s.length(); // already past, whatever the encoding
    }
    long bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      bytes += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
    }
    return bytes;
  }
}
