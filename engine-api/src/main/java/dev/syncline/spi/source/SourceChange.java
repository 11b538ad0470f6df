package dev.syncline.spi.source;

import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One committed change of one source row.
 *
 * @param table the table
 * @param kind insert, update, delete or truncate
 * @param keyColumns the replica identity columns (e.g. the primary key), in key order; empty for truncates
 * @param before the row's previous identity (or full old row) for updates and deletes, when the source has it; for
 *     an update that changes the key it must hold the old key columns
 * @param after the new row for inserts and updates; {@code null} for deletes and truncates
 */
public record SourceChange(TableRef table, Kind kind, List<String> keyColumns, @Nullable SourceRow before,
    @Nullable SourceRow after) {
  /** What happened to the row. */
  public enum Kind {
    /** A new row (also used for snapshot rows). */
    INSERT,
    /** A changed row. */
    UPDATE,
    /** A removed row. */
    DELETE,
    /** Every row of the table was removed. */
    TRUNCATE
  }

  /** Validates the components. */
  public SourceChange {
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(kind, "kind");
    keyColumns = List.copyOf(keyColumns);
    if ((kind == Kind.INSERT || kind == Kind.UPDATE) && after == null) {
      throw new IllegalArgumentException(kind + " needs the new row");
    }
    if (kind == Kind.DELETE && before == null) {
      throw new IllegalArgumentException("DELETE needs the old row's key");
    }
    if (kind != Kind.TRUNCATE && keyColumns.isEmpty()) {
      throw new IllegalArgumentException(kind + " needs the key columns of " + table);
    }
  }

  /** An insert (or snapshot row). */
  public static SourceChange insert(TableRef table, List<String> keyColumns, SourceRow row) {
    return new SourceChange(table, Kind.INSERT, keyColumns, null, row);
  }

  /** An update; {@code before} may be null when the key did not change. */
  public static SourceChange update(TableRef table, List<String> keyColumns, @Nullable SourceRow before,
      SourceRow after) {
    return new SourceChange(table, Kind.UPDATE, keyColumns, before, after);
  }

  /** A delete, given at least the key columns of the old row. */
  public static SourceChange delete(TableRef table, List<String> keyColumns, SourceRow before) {
    return new SourceChange(table, Kind.DELETE, keyColumns, before, null);
  }

  /** A truncate of the table. */
  public static SourceChange truncate(TableRef table) {
    return new SourceChange(table, Kind.TRUNCATE, List.of(), null, null);
  }
}
