package dev.syncline.spi.storage;

import dev.syncline.api.TableRef;
import java.util.Objects;

/**
 * Identifies one source row: its table and its replica identity (e.g. the primary key) as a stable
 * string.
 *
 * @param table the source table
 * @param key the replica identity, stable for the row's lifetime (the engine renders it as JSON of
 *     the key columns)
 */
public record SourceKey(TableRef table, String key) {
  /** Validates the components. */
  public SourceKey {
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(key, "key");
  }
}
