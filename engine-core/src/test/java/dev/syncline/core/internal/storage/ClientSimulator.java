package dev.syncline.core.internal.storage;

import dev.syncline.api.OpType;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.OpRecord;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A client's view of buckets, applying operations exactly as the PowerSync client core does
 * (protocol §3.1): per bucket, stored ops by row key and two checksum accumulators.
 */
final class ClientSimulator {
  private static final class Bucket {
    final Map<String, OpRecord> rows = new LinkedHashMap<>();
    long opChecksum;
    long addChecksum;
  }

  private final Map<String, Bucket> buckets = new HashMap<>();

  void apply(OpRecord op) {
    Bucket b = buckets.computeIfAbsent(op.bucket(), k -> new Bucket());
    switch (op.op()) {
      case PUT -> {
        OpRecord old = b.rows.remove(op.rowKey());
        if (old != null) {
          b.addChecksum = OpChecksums.add(b.addChecksum, old.checksum());
          b.opChecksum = OpChecksums.add(b.opChecksum, -old.checksum());
        }
        b.rows.put(op.rowKey(), op);
        b.opChecksum = OpChecksums.add(b.opChecksum, op.checksum());
      }
      case REMOVE -> {
        OpRecord old = b.rows.remove(op.rowKey());
        if (old != null) {
          b.addChecksum = OpChecksums.add(b.addChecksum, old.checksum());
          b.opChecksum = OpChecksums.add(b.opChecksum, -old.checksum());
        }
        b.addChecksum = OpChecksums.add(b.addChecksum, op.checksum());
      }
      case MOVE -> b.addChecksum = OpChecksums.add(b.addChecksum, op.checksum());
      case CLEAR -> {
        b.rows.clear();
        b.addChecksum = op.checksum();
        b.opChecksum = 0;
      }
    }
  }

  long checksum(String bucket) {
    Bucket b = buckets.get(bucket);
    return b == null ? 0 : OpChecksums.add(b.addChecksum, b.opChecksum);
  }

  /** Visible rows of a bucket: row key to data. */
  Map<String, String> rows(String bucket) {
    Bucket b = buckets.get(bucket);
    Map<String, String> out = new LinkedHashMap<>();
    if (b != null) {
      b.rows.forEach((k, v) -> out.put(k, v.data()));
    }
    return out;
  }

  static boolean isDataOp(OpRecord op) {
    return op.op() == OpType.PUT || op.op() == OpType.REMOVE;
  }
}
