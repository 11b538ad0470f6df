package dev.syncline.core.internal.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.OpRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CompactorTest {
  private static OpRecord put(long id, String row, String data) {
    return new OpRecord(
        new OpId(id),
        "b",
        OpType.PUT,
        "t",
        row,
        "s-" + row,
        data,
        OpChecksums.put("t", row, data),
        null);
  }

  private static OpRecord remove(long id, String row) {
    return new OpRecord(
        new OpId(id),
        "b",
        OpType.REMOVE,
        "t",
        row,
        "s-" + row,
        null,
        OpChecksums.remove("s-" + row),
        null);
  }

  private static long sum(List<OpRecord> ops) {
    long s = 0;
    for (OpRecord op : ops) {
      s = OpChecksums.add(s, op.checksum());
    }
    return s;
  }

  @Test
  void superseded_ops_become_moves_and_a_leading_run_one_clear() {
    List<OpRecord> ops =
        List.of(put(1, "t1", "a"), put(2, "t2", "b"), put(3, "t1", "c"), remove(4, "t2"));
    List<OpRecord> compacted = Compactor.compact(ops, new OpId(4));
    assertThat(compacted)
        .extracting(OpRecord::op)
        .containsExactly(OpType.CLEAR, OpType.PUT, OpType.REMOVE);
    OpRecord clear = compacted.get(0);
    assertThat(clear.opId()).isEqualTo(new OpId(2));
    assertThat(clear.targetOp()).isEqualTo(new OpId(4));
    assertThat(sum(compacted)).isEqualTo(sum(ops));
  }

  @Test
  void ops_after_the_limit_are_untouched() {
    List<OpRecord> ops = List.of(put(1, "t1", "a"), put(2, "t1", "b"));
    assertThat(Compactor.compact(ops, new OpId(1))).isEqualTo(ops);
  }

  /**
   * Property: clients that synced before, during and after compaction all verify checksums and end
   * with identical rows (seeded random histories).
   */
  @Test
  void clients_synced_at_any_point_agree_after_compaction() {
    SplittableRandom random = new SplittableRandom(99);
    for (int run = 0; run < 500; run++) {
      List<OpRecord> history = new ArrayList<>();
      int n = random.nextInt(1, 40);
      for (int i = 1; i <= n; i++) {
        String row = "r" + random.nextInt(5);
        history.add(random.nextInt(4) == 0 ? remove(i, row) : put(i, row, "d" + random.nextInt(3)));
      }
      int firstSync = random.nextInt(0, n + 1);
      long compactUpTo = random.nextInt(1, n + 1);
      List<OpRecord> compacted = Compactor.compact(history, new OpId(compactUpTo));

      ClientSimulator fresh = new ClientSimulator();
      compacted.forEach(fresh::apply);

      ClientSimulator early = new ClientSimulator();
      history.subList(0, firstSync).forEach(early::apply);
      long after = firstSync == 0 ? 0 : history.get(firstSync - 1).opId().value();
      compacted.stream().filter(op -> op.opId().value() > after).forEach(early::apply);

      ClientSimulator reference = new ClientSimulator();
      history.forEach(reference::apply);

      assertThat(fresh.checksum("b")).as("run %d fresh", run).isEqualTo(sum(history));
      assertThat(early.checksum("b")).as("run %d early", run).isEqualTo(sum(history));
      assertThat(fresh.rows("b")).as("run %d rows", run).isEqualTo(reference.rows("b"));
      assertThat(early.rows("b")).as("run %d rows", run).isEqualTo(reference.rows("b"));
      assertThat(compacted.stream().mapToLong(op -> op.opId().value()).toArray()).isSorted();
    }
  }
}
