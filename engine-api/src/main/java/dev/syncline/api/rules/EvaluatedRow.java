package dev.syncline.api.rules;

import dev.syncline.api.BucketId;
import java.util.Objects;

/**
 * One output row of a data query: the row as it is put into one bucket.
 *
 * @param bucket the bucket
 * @param table the output table name (the alias, or the source table name)
 * @param id the row id: the text form of the output {@code id} column ({@code ""} when NULL or
 *     missing)
 * @param data the row as a JSON object text, exactly as sent to clients and hashed for checksums
 */
public record EvaluatedRow(BucketId bucket, String table, String id, String data) {
  /** Validates the components. */
  public EvaluatedRow {
    Objects.requireNonNull(bucket, "bucket");
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(data, "data");
  }
}
