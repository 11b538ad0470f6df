package dev.syncline.spi.storage;

import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A stored operation, as sent to clients (PowerSync protocol §3.1).
 *
 * @param opId its op id
 * @param bucket the bucket
 * @param op the operation
 * @param objectType output table (PUT, REMOVE), else null
 * @param objectId output row id (PUT, REMOVE), else null
 * @param subkey source row identity (PUT, REMOVE), else null
 * @param data row JSON (PUT), else null
 * @param checksum unsigned 32-bit checksum
 * @param targetOp for MOVE and CLEAR, the op id that superseded what they replaced (never sent to
 *     clients)
 */
public record OpRecord(
    OpId opId,
    String bucket,
    OpType op,
    @Nullable String objectType,
    @Nullable String objectId,
    @Nullable String subkey,
    @Nullable String data,
    long checksum,
    @Nullable OpId targetOp) {
  /** Validates the components. */
  public OpRecord {
    Objects.requireNonNull(opId, "opId");
    Objects.requireNonNull(bucket, "bucket");
    Objects.requireNonNull(op, "op");
  }

  /** The row identity within the bucket: {@code type/id/subkey}, as the client keys it. */
  public String rowKey() {
    return objectType + "/" + objectId + "/" + subkey;
  }
}
