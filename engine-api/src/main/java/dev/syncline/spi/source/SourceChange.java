package dev.syncline.spi.source;

import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One committed change of one source row.
 *
 * @param table the table
 * @param kind insert, update, delete or truncate
 * @param keyColumns the replica identity columns (e.g. the primary key), in key order; empty for
 *     truncates
 * @param before the row's previous identity (or full old row) for updates and deletes, when the
 *     source has it; for an update that changes the key it must hold the old key columns
 * @param after the new row for inserts and updates; {@code null} for deletes and truncates
 * @param unchanged columns of an update whose values the source did not send because they did not
 *     change (Postgres sends large TOASTed values only when they change); the engine fills them
 *     from the row's stored image, which it keeps when {@link SourceAdapter#needsRowImages()} says
 *     so. In {@code after} they hold a placeholder (NULL) that keeps the column order.
 */
public record SourceChange(
    TableRef table,
    Kind kind,
    List<String> keyColumns,
    @Nullable SourceRow before,
    @Nullable SourceRow after,
    Set<String> unchanged) {
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
    unchanged = Set.copyOf(unchanged);
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

  /** A change without unchanged columns. */
  public SourceChange(
      TableRef table,
      Kind kind,
      List<String> keyColumns,
      @Nullable SourceRow before,
      @Nullable SourceRow after) {
    this(table, kind, keyColumns, before, after, Set.of());
  }

  /** An insert (or snapshot row). */
  public static SourceChange insert(TableRef table, List<String> keyColumns, SourceRow row) {
    return new SourceChange(table, Kind.INSERT, keyColumns, null, row);
  }

  /** An update; {@code before} may be null when the key did not change. */
  public static SourceChange update(
      TableRef table, List<String> keyColumns, @Nullable SourceRow before, SourceRow after) {
    return new SourceChange(table, Kind.UPDATE, keyColumns, before, after);
  }

  /** An update whose {@code unchanged} columns were not sent and keep their stored values. */
  public static SourceChange update(
      TableRef table,
      List<String> keyColumns,
      @Nullable SourceRow before,
      SourceRow after,
      Set<String> unchanged) {
    return new SourceChange(table, Kind.UPDATE, keyColumns, before, after, unchanged);
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
