package dev.syncline.spi.storage;

import dev.syncline.api.SourceRow;
import dev.syncline.api.rules.ParameterLookup;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The state storage keeps per source row.
 *
 * @param key the row
 * @param image the row's last full image, when the source needs it to fill unchanged (TOASTed)
 *     columns; else null
 * @param placements the buckets the row is in
 * @param lookups the parameter-index keys the row produced
 */
public record CurrentRow(
    SourceKey key,
    @Nullable SourceRow image,
    List<Placement> placements,
    List<ParameterLookup> lookups) {
  /** Copies the lists. */
  public CurrentRow {
    Objects.requireNonNull(key, "key");
    placements = List.copyOf(placements);
    lookups = List.copyOf(lookups);
  }
}
