package dev.syncline.spi.source;

import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One committed change of one source row.
 *
 * @param table the table
 * @param kind insert, update, delete or truncate
 * @param before the row's replica identity (or full old row) for updates and deletes, when the source has it
 * @param after the new row for inserts and updates; {@code null} for deletes and truncates
 */
public record SourceChange(TableRef table, Kind kind, @Nullable SourceRow before, @Nullable SourceRow after) {
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
  }
}
