package dev.syncline.postgres.internal;

import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Decides whether storage must keep a row's full image so that a later update can be completed.
 *
 * <p>pgoutput leaves out a column of an update's new row ({@code 'u'}, unchanged TOAST) only when
 * the value was already stored out of line before the transaction and was not changed by it.
 * Postgres moves values out of line only while writing a row whose stored size exceeds the table's
 * TOAST threshold, and that write reaches the replication stream (or the initial copy) with every
 * value in full. So a row whose stored size, bounded from the values the engine received, stays
 * below the threshold cannot have out-of-line values, and its image is not needed until a change
 * makes it larger (which is again received in full). The bound is deliberately generous: any doubt
 * keeps the image, which costs space, never data.
 *
 * <p>Immutable; built by the replication thread from the catalog, used on it.
 */
public final class RowImages {
  /** Tuple header, null bitmap and slack. */
  private static final int ROW_OVERHEAD = 64;

  /**
   * What bounds a column's stored size.
   *
   * @param type the column's type
   * @param element for arrays, the element type; else null
   */
  public record Column(Type type, @Nullable Type element) {}

  /**
   * A type as far as its stored size goes.
   *
   * @param oid the type's oid
   * @param length {@code typlen}: the fixed size in bytes, or negative for variable-length types
   * @param category {@code typcategory} ({@code S} string, {@code N} numeric, {@code A} array, ...)
   */
  public record Type(int oid, int length, char category) {}

  private final Map<String, Column> columns;
  private final int limit;
  private final boolean utf8;

  /**
   * @param columns the table's physical columns by name, including those the stream does not send
   *     (generated columns, columns left out of a publication's column list): they count toward the
   *     stored size too
   * @param toastLimit the smallest stored row size at which Postgres may move values out of line
   * @param utf8 whether the database stores text as UTF-8 (then a text's stored size is known
   *     exactly; in other encodings it is bounded by 4 bytes per character)
   */
  public RowImages(Map<String, Column> columns, int toastLimit, boolean utf8) {
    this.columns = Map.copyOf(columns);
    this.limit = toastLimit;
    this.utf8 = utf8;
  }

  /**
   * The smallest row size that may be TOASTed: Postgres's threshold for a page of {@code blockSize}
   * bytes ({@code TOAST_TUPLE_THRESHOLD}), or the table's {@code toast_tuple_target} when set
   * lower.
   */
  public static int toastLimit(int blockSize, int toastTupleTarget) {
    int threshold = ((blockSize - 40) / 4) & ~7;
    return toastTupleTarget > 0 ? Math.min(threshold, toastTupleTarget) : threshold;
  }

  /**
   * Whether storage must keep {@code row}'s image (a row of this table as the engine received it,
   * complete).
   */
  public boolean needed(SourceRow row) {
    if (row.columns().size() < columns.size()) {
      return true; // columns the engine never sees count toward the stored size
    }
    // A quick bound first (UTF-8 takes at most 3 bytes per UTF-16 unit): most rows are far below
    // the limit.
    return sizeAtLeast(row, true) && sizeAtLeast(row, false);
  }

  /**
   * Whether the row's bound reaches the limit; {@code quick} bounds UTF-8 text without reading it.
   */
  private boolean sizeAtLeast(SourceRow row, boolean quick) {
    long size = ROW_OVERHEAD;
    for (Map.Entry<String, SourceValue> e : row.columns().entrySet()) {
      Column c = columns.get(e.getKey());
      if (c == null) {
        return true; // a column the catalog did not describe (the table changed): no bound
      }
      size += bound(c, e.getValue(), utf8, quick);
      if (size >= limit) {
        return true;
      }
    }
    return false;
  }

  /** An upper bound of a value's stored size, in bytes, including its header and alignment. */
  static long bound(Column c, SourceValue value, boolean utf8) {
    return bound(c, value, utf8, false);
  }

  private static long bound(Column c, SourceValue value, boolean utf8, boolean quick) {
    if (value instanceof SqliteValue.NullValue) {
      return 0;
    } else if (c.type().length() > 0) {
      return c.type().length() + 8L;
    } else if (value instanceof SqliteValue.TextValue t) {
      return text(c.type(), t.value(), utf8, quick);
    } else if (value instanceof SqliteValue.BlobValue b) {
      return b.value().length + 8L;
    } else if (value instanceof SourceValue.SourceArray a) {
      return 64 + elements(c.element(), a, utf8);
    }
    return 32; // numbers, dates and times of variable-length types
  }

  /** A value sent as text, stored as at most {@link #bytes} of it (fewer for numeric). */
  private static long text(Type type, String text, boolean utf8, boolean quick) {
    char category = type.category();
    if (category == 'S' || category == 'N' || type.oid() == PgValues.JSON || type.oid() == 142) {
      // strings, numeric (fewer bytes than digits), json and xml (their text)
      return (quick && utf8 ? 3L * text.length() : bytes(text, utf8)) + 8;
    } else if (type.oid() == PgValues.JSONB
        || category == 'R'
        || category == 'G'
        || category == 'I') {
      // jsonb's [1,1,1] takes six bytes per character; ranges, polygons and addresses grow less
      return 8L * bytes(text, utf8) + 64;
    }
    return 32L * bytes(text, utf8)
        + 64; // composite, full-text and extension types: no bound known, be generous
  }

  /** The text's size in UTF-8, or a bound for any server encoding (4 bytes per UTF-16 unit). */
  private static long bytes(String s, boolean utf8) {
    int len = s.length();
    if (!utf8) {
      return 4L * len;
    }
    long n = len;
    for (int i = 0; i < len; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        n += c < 0x800 || Character.isSurrogate(c) ? 1 : 2; // a surrogate pair: 2 units, 4 bytes
      }
    }
    return n;
  }

  private static long elements(@Nullable Type element, SourceValue.SourceArray a, boolean utf8) {
    Type type = element == null ? new Type(0, -1, 'U') : element;
    long size = 0;
    for (Object e : a.elements()) {
      if (e instanceof SourceValue.SourceArray nested) {
        size += 64 + elements(element, nested, utf8);
      } else if (e instanceof SqliteValue.NullValue || e == null) {
        size += 1;
      } else if (type.length() > 0) {
        size += type.length() + 8L;
      } else if (e instanceof SqliteValue.TextValue t) {
        size += text(type, t.value(), utf8, false);
      } else if (e instanceof SqliteValue.BlobValue b) {
        size += b.value().length + 8L;
      } else {
        size += 32; // a number, boolean, date or time of a variable-length type
      }
    }
    return size;
  }
}
