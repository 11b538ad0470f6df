package dev.syncline.spi.storage;

import dev.syncline.api.OpType;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An operation to append to a bucket; storage assigns its op id at commit.
 *
 * @param bucket the bucket name
 * @param op {@code PUT} or {@code REMOVE}
 * @param objectType the output table name
 * @param objectId the output row id
 * @param subkey the source row identity within the bucket (opaque to clients)
 * @param data the row JSON for {@code PUT}, null for {@code REMOVE}
 * @param checksum the operation checksum (unsigned 32-bit, PowerSync protocol §3.3)
 */
public record NewOp(
    String bucket,
    OpType op,
    String objectType,
    String objectId,
    String subkey,
    @Nullable String data,
    long checksum) {
  /** Validates the components. */
  public NewOp {
    Objects.requireNonNull(bucket, "bucket");
    Objects.requireNonNull(op, "op");
    Objects.requireNonNull(objectType, "objectType");
    Objects.requireNonNull(objectId, "objectId");
    Objects.requireNonNull(subkey, "subkey");
    if (op != OpType.PUT && op != OpType.REMOVE) {
      throw new IllegalArgumentException(
          "only PUT and REMOVE are written; MOVE and CLEAR come from compaction");
    }
    if ((op == OpType.PUT) != (data != null)) {
      throw new IllegalArgumentException("PUT needs data and REMOVE has none");
    }
    if (checksum < 0 || checksum > 0xffffffffL) {
      throw new IllegalArgumentException(
          "checksum must be an unsigned 32-bit value, got " + checksum);
    }
  }
}
