package dev.syncline.api.rules;

import dev.syncline.api.SqliteValue;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a parameter query makes of one source row: under {@code lookup}, these bucket parameter
 * rows.
 *
 * @param lookup the index key
 * @param bucketParameters the rows stored under the key (output column name to value, in output
 *     order)
 */
public record ParameterIndexEntry(
    ParameterLookup lookup, List<Map<String, SqliteValue>> bucketParameters) {
  /** Copies the rows. */
  public ParameterIndexEntry {
    Objects.requireNonNull(lookup, "lookup");
    bucketParameters =
        bucketParameters.stream()
            .map(m -> Collections.unmodifiableMap(new LinkedHashMap<>(m)))
            .toList();
  }
}
