package dev.syncline.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One row of a source table, columns in source order (the order {@code SELECT *} outputs them).
 *
 * @param columns column name to value; copied, order kept
 */
public record SourceRow(Map<String, SourceValue> columns) {
  /** Copies the columns, keeping their order. */
  public SourceRow {
    Objects.requireNonNull(columns, "columns");
    LinkedHashMap<String, SourceValue> copy = new LinkedHashMap<>(columns.size() * 4 / 3 + 1);
    columns.forEach(
        (k, v) -> copy.put(Objects.requireNonNull(k, "column name"), Objects.requireNonNull(v, k)));
    columns = Collections.unmodifiableMap(copy);
  }

  /**
   * The value of a column, or {@code null} if the row has no such column (which differs from SQL
   * NULL).
   */
  public @Nullable SourceValue get(String column) {
    return columns.get(column);
  }

  /** Starts a row; {@code SourceRow.builder().put("id", "t1").put("n", 3).build()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link SourceRow} column by column. Not thread-safe. */
  public static final class Builder {
    private final LinkedHashMap<String, SourceValue> columns = new LinkedHashMap<>();

    private Builder() {}

    /** Sets a column to any value. */
    public Builder put(String column, SourceValue value) {
      columns.put(column, value);
      return this;
    }

    /** Sets a TEXT column, or NULL for {@code null}. */
    public Builder put(String column, @Nullable String value) {
      return put(column, SqliteValue.of(value));
    }

    /** Sets an INTEGER column. */
    public Builder put(String column, long value) {
      return put(column, SqliteValue.of(value));
    }

    /** Sets a REAL column. */
    public Builder put(String column, double value) {
      return put(column, SqliteValue.of(value));
    }

    /** The row. */
    public SourceRow build() {
      return new SourceRow(columns);
    }
  }
}
