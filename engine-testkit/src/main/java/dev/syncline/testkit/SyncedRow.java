package dev.syncline.testkit;

import dev.syncline.api.BucketId;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A row as a client receives it in one bucket.
 *
 * @param bucket the bucket it arrives in
 * @param table the client-side table
 * @param id the row id
 * @param data the row data exactly as sent (JSON text)
 * @param values the same data parsed: JSON numbers as {@link Long} or {@link Double}, strings,
 *     nulls
 */
public record SyncedRow(
    BucketId bucket, String table, String id, String data, Map<String, @Nullable Object> values) {
  /** Validates the components. */
  public SyncedRow {
    Objects.requireNonNull(bucket, "bucket");
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(data, "data");
    values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  /** A column value, or null. */
  public @Nullable Object get(String column) {
    return values.get(column);
  }
}
