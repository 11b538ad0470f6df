package dev.syncline.spi.storage;

import java.util.Objects;

/**
 * Where a source row currently sits: in which bucket, as which client row. Kept so that a later
 * change of the row can remove it from buckets it leaves.
 *
 * @param bucket the bucket name
 * @param table the output table name
 * @param rowId the output row id
 * @param checksum the checksum of the PUT that put it there (unsigned 32-bit), to skip unchanged
 *     rewrites
 */
public record Placement(String bucket, String table, String rowId, long checksum) {
  /** Validates the components. */
  public Placement {
    Objects.requireNonNull(bucket, "bucket");
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(rowId, "rowId");
  }
}
