package dev.syncline.core.internal.storage;

import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.OpRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Compaction of one bucket's op log (PowerSync protocol §4.1), as a pure function.
 *
 * <ol>
 *   <li>MOVE: a PUT or REMOVE superseded by a later PUT or REMOVE of the same row becomes a MOVE
 *       with the same op id and checksum; its {@code targetOp} is the superseding op id.
 *   <li>CLEAR: the leading run of non-PUT ops (REMOVE, MOVE, CLEAR), when it has at least two ops,
 *       becomes one CLEAR at the run's highest op id, whose checksum is the run's sum and whose
 *       {@code targetOp} is the run's highest.
 * </ol>
 *
 * <p>The bucket checksum at any checkpoint at or after the compacted range is unchanged.
 */
public final class Compactor {
  private Compactor() {}

  /**
   * Compacts the ops of one bucket with {@code opId <= upTo}; later ops are returned unchanged.
   *
   * @param ops the bucket's ops, ascending by op id
   * @return the compacted ops, ascending
   */
  public static List<OpRecord> compact(List<OpRecord> ops, OpId upTo) {
    List<OpRecord> moved = new ArrayList<>(ops);
    Map<String, OpId> latest = new HashMap<>();
    for (int i = moved.size() - 1; i >= 0; i--) {
      OpRecord op = moved.get(i);
      if (op.opId().compareTo(upTo) > 0 || (op.op() != OpType.PUT && op.op() != OpType.REMOVE)) {
        continue;
      }
      String key = op.rowKey();
      OpId superseding = latest.get(key);
      if (superseding != null) {
        moved.set(
            i,
            new OpRecord(
                op.opId(),
                op.bucket(),
                OpType.MOVE,
                null,
                null,
                null,
                null,
                op.checksum(),
                superseding));
      } else {
        latest.put(key, op.opId());
      }
    }
    int run = 0;
    while (run < moved.size()
        && moved.get(run).op() != OpType.PUT
        && moved.get(run).opId().compareTo(upTo) <= 0) {
      run++;
    }
    if (run < 2) {
      return moved;
    }
    long sum = 0;
    OpId target = null;
    for (int i = 0; i < run; i++) {
      OpRecord op = moved.get(i);
      sum = OpChecksums.add(sum, op.checksum());
      OpId t = op.targetOp() != null ? op.targetOp() : op.opId();
      if (target == null || t.compareTo(target) > 0) {
        target = t;
      }
    }
    OpRecord last = moved.get(run - 1);
    List<OpRecord> result = new ArrayList<>(moved.size() - run + 1);
    result.add(
        new OpRecord(
            last.opId(), last.bucket(), OpType.CLEAR, null, null, null, null, sum, target));
    result.addAll(moved.subList(run, moved.size()));
    return result;
  }
}
