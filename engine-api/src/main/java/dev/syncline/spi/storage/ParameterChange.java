package dev.syncline.spi.storage;

import dev.syncline.api.SqliteValue;
import dev.syncline.api.rules.ParameterLookup;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Replaces what one source row stores under one parameter-index key.
 *
 * @param source the source row
 * @param lookup the index key
 * @param bucketParameters the rows now stored; empty removes the row's entry
 */
public record ParameterChange(
    SourceKey source, ParameterLookup lookup, List<Map<String, SqliteValue>> bucketParameters) {
  /** Copies the rows. */
  public ParameterChange {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(lookup, "lookup");
    bucketParameters =
        bucketParameters.stream()
            .map(m -> Collections.unmodifiableMap(new LinkedHashMap<>(m)))
            .toList();
  }
}
