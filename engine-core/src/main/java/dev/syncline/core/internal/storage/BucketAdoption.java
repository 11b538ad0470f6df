package dev.syncline.core.internal.storage;

import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.OpRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The log a bucket gets when one rules version adopts another's (storage-independent): the other
 * version's ops as they are, then PUTs and REMOVEs that take its contents to the adopting
 * version's. A client that holds any prefix of the other version's log continues from it: its
 * checksums keep adding up.
 */
public final class BucketAdoption {
  private BucketAdoption() {}

  /**
   * Merges the ops another rules version stored for a bucket with this version's own.
   *
   * @param adopted the other version's ops of the bucket, ascending (up to its checkpoint)
   * @param own this version's ops of the bucket, ascending
   * @param nextOpId allocates op ids above every id of both logs
   * @return the bucket's new log, ascending
   */
  public static List<OpRecord> merge(
      List<OpRecord> adopted, List<OpRecord> own, LongSupplier nextOpId) {
    Map<String, OpRecord> before = contents(adopted);
    Map<String, OpRecord> after = contents(own);
    List<OpRecord> log = new ArrayList<>(adopted);
    for (OpRecord put : after.values()) {
      OpRecord old = before.get(put.rowKey());
      if (old == null
          || old.checksum() != put.checksum()
          || !Objects.equals(old.data(), put.data())) {
        log.add(
            new OpRecord(
                new OpId(nextOpId.getAsLong()),
                put.bucket(),
                OpType.PUT,
                put.objectType(),
                put.objectId(),
                put.subkey(),
                put.data(),
                put.checksum(),
                null));
      }
    }
    for (OpRecord old : before.values()) {
      if (!after.containsKey(old.rowKey())) {
        log.add(
            new OpRecord(
                new OpId(nextOpId.getAsLong()),
                old.bucket(),
                OpType.REMOVE,
                old.objectType(),
                old.objectId(),
                old.subkey(),
                null,
                OpChecksums.remove(String.valueOf(old.subkey())),
                null));
      }
    }
    return log;
  }

  /**
   * The rows a log leaves in its bucket: row key to the PUT that wrote it, in the order they were
   * written.
   */
  private static Map<String, OpRecord> contents(List<OpRecord> ops) {
    Map<String, OpRecord> rows = new LinkedHashMap<>();
    for (OpRecord op : ops) {
      switch (op.op()) {
        case PUT -> {
          rows.remove(op.rowKey());
          rows.put(op.rowKey(), op);
        }
        case REMOVE -> rows.remove(op.rowKey());
        case CLEAR -> rows.clear();
        case MOVE -> {}
      }
    }
    return rows;
  }
}
