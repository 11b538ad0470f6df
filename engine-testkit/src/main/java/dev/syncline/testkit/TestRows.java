package dev.syncline.testkit;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.SynclineException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Converts plain Java values into source rows for tests. */
final class TestRows {
  private TestRows() {}

  /**
   * Converts a map of Java values: {@code null}, {@link String}, {@link Integer}/{@link
   * Long}/{@link BigInteger} (INTEGER), {@link Float}/{@link Double}/{@link BigDecimal} (REAL),
   * {@link Boolean} (1/0), {@code byte[]} (BLOB), or any {@link SourceValue}.
   */
  static SourceRow row(Map<String, ?> values) {
    Map<String, SourceValue> columns = new LinkedHashMap<>();
    values.forEach((k, v) -> columns.put(k, value(k, v)));
    return new SourceRow(columns);
  }

  static SourceValue value(String column, @Nullable Object v) {
    if (v == null) {
      return SqliteValue.NULL;
    } else if (v instanceof SourceValue s) {
      return s;
    } else if (v instanceof String s) {
      return SqliteValue.of(s);
    } else if (v instanceof Integer
        || v instanceof Long
        || v instanceof Short
        || v instanceof Byte) {
      return SqliteValue.of(((Number) v).longValue());
    } else if (v instanceof BigInteger b) {
      return SqliteValue.of(b.longValueExact());
    } else if (v instanceof Double || v instanceof Float || v instanceof BigDecimal) {
      return SqliteValue.of(((Number) v).doubleValue());
    } else if (v instanceof Boolean b) {
      return SqliteValue.of(b ? 1L : 0L);
    } else if (v instanceof byte[] b) {
      return new SqliteValue.BlobValue(b);
    }
    throw new SynclineException(
        ErrorCode.INVALID_ARGUMENT,
        "column '"
            + column
            + "': unsupported value type "
            + v.getClass().getName()
            + "; use String, a number, Boolean, byte[] or a SourceValue");
  }
}
