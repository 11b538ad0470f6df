package dev.syncline.core.internal.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.SynclineException;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.OpRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class OpPacksTest {
  private static NewOp put(String bucket, String id, String data) {
    return new NewOp(
        bucket, OpType.PUT, "todos", id, "sub/" + id, data, OpChecksums.put("todos", id, data));
  }

  private static NewOp remove(String bucket, String id) {
    return new NewOp(
        bucket, OpType.REMOVE, "todos", id, "sub/" + id, null, OpChecksums.remove("sub/" + id));
  }

  /** Every op of the rows, decoded, in op id order. */
  private static List<OpRecord> decodeAll(List<OpPacks.Row> rows) {
    List<OpRecord> out = new ArrayList<>();
    for (OpPacks.Row r : rows) {
      if (r.firstOpId() == null) {
        out.add(
            new OpRecord(
                new OpId(r.opId()),
                r.bucket(),
                OpType.valueOf(r.op()),
                r.objectType(),
                r.objectId(),
                r.subkey(),
                r.data(),
                r.checksum(),
                null));
      } else {
        List<OpRecord> ops = new ArrayList<>();
        OpPacks.decode(
            r.bucket(), r.firstOpId(), r.data(), Long.MIN_VALUE, Long.MAX_VALUE, ops::add);
        assertThat(ops).hasSize(r.count());
        assertThat(ops.get(0).opId().value()).isEqualTo(r.firstOpId());
        assertThat(ops.get(ops.size() - 1).opId().value()).isEqualTo(r.opId());
        assertThat(ops.stream().mapToLong(OpRecord::checksum).sum()).isEqualTo(r.checksum());
        out.addAll(ops);
      }
    }
    out.sort(Comparator.comparing(OpRecord::opId));
    return out;
  }

  @Test
  void ops_of_any_text_round_trip_in_their_buckets_with_consecutive_op_ids() {
    SplittableRandom random = new SplittableRandom(3);
    String[] odd = {"", ":", "12:", "a\tb\nc\\d", "é😀", "\u0001", "P1,", "{\"q\":\"\\\"\"}"};
    List<NewOp> ops = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      String bucket = "b" + random.nextInt(4);
      String id = odd[random.nextInt(odd.length)] + i;
      ops.add(
          random.nextInt(4) == 0
              ? remove(bucket, id)
              : put(bucket, id, odd[random.nextInt(odd.length)] + "x".repeat(random.nextInt(300))));
    }
    List<OpPacks.Row> rows = OpPacks.rows(ops, 1_000);
    assertThat(rows).as("packed").hasSizeLessThan(ops.size() / 3);
    List<OpRecord> decoded = decodeAll(rows);
    assertThat(decoded).hasSize(ops.size());
    for (int i = 0; i < ops.size(); i++) {
      NewOp expected = ops.get(i);
      OpRecord actual = decoded.get(i);
      assertThat(actual.opId().value()).isEqualTo(1_000 + i);
      assertThat(actual.bucket()).isEqualTo(expected.bucket());
      assertThat(actual.op()).isEqualTo(expected.op());
      assertThat(actual.objectType()).isEqualTo(expected.objectType());
      assertThat(actual.objectId()).isEqualTo(expected.objectId());
      assertThat(actual.subkey()).isEqualTo(expected.subkey());
      assertThat(actual.data()).isEqualTo(expected.data());
      assertThat(actual.checksum()).isEqualTo(expected.checksum());
      assertThat(actual.targetOp()).isNull();
    }
  }

  /**
   * Seeded property: for random batches and random windows {@code (after, upTo]}, decoding every
   * row yields exactly the window's ops of each bucket, in order, and their checksums add up as a
   * client adds them (wrapping 32-bit sums).
   */
  @Test
  void any_window_decodes_to_exactly_its_ops_and_their_checksum_sum() {
    SplittableRandom random = new SplittableRandom(11);
    for (int run = 0; run < 300; run++) {
      List<NewOp> ops = new ArrayList<>();
      int n = random.nextInt(1, 120);
      for (int i = 0; i < n; i++) {
        String bucket = "b" + random.nextInt(3);
        String id = "r" + random.nextInt(20);
        ops.add(
            random.nextInt(3) == 0
                ? remove(bucket, id)
                : put(bucket, id, "v" + random.nextInt(1_000) + "x".repeat(random.nextInt(80))));
      }
      long first = random.nextLong(1, 1L << 40);
      List<OpPacks.Row> rows = OpPacks.rows(ops, first);
      long after = first - 1 + random.nextInt(0, n + 1);
      long upTo = after + random.nextInt(0, n + 1);
      List<OpRecord> all = decodeAll(rows);
      for (String bucket : List.of("b0", "b1", "b2")) {
        List<OpRecord> expected =
            all.stream()
                .filter(o -> o.bucket().equals(bucket))
                .filter(o -> o.opId().value() > after && o.opId().value() <= upTo)
                .toList();
        List<OpRecord> actual = new ArrayList<>();
        for (OpPacks.Row r : rows) {
          if (!r.bucket().equals(bucket)) {
            continue;
          }
          if (r.firstOpId() == null) {
            if (r.opId() > after && r.opId() <= upTo) {
              actual.addAll(decodeAll(List.of(r)));
            }
          } else {
            OpPacks.decode(r.bucket(), r.firstOpId(), r.data(), after, upTo, actual::add);
          }
        }
        actual.sort(Comparator.comparing(OpRecord::opId));
        assertThat(actual)
            .as("run %d bucket %s (%d, %d]", run, bucket, after, upTo)
            .isEqualTo(expected);
        long clientSum = 0;
        long opSum = 0;
        for (OpRecord o : actual) {
          clientSum = OpChecksums.add(clientSum, o.checksum());
          opSum += o.checksum();
        }
        assertThat(clientSum).isEqualTo(OpChecksums.add(0, opSum));
      }
    }
  }

  @Test
  void packs_stay_within_their_op_count_span_and_size() {
    List<NewOp> many = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      many.add(new NewOp("b", OpType.PUT, "t", "r", "s", "{}", 1));
    }
    assertThat(OpPacks.rows(many, 1))
        .extracting(OpPacks.Row::count)
        .containsExactly(32, 32, 32, 32, 32, 32, 8);

    List<NewOp> sparse = new ArrayList<>();
    for (int i = 0; i < 30_000; i++) {
      sparse.add(put(i % 5_000 == 0 ? "rare" : "common", "r" + i, "{}"));
    }
    List<OpPacks.Row> sparseRows = OpPacks.rows(sparse, 1);
    assertThat(sparseRows)
        .allSatisfy(
            r ->
                assertThat(r.opId() - (r.firstOpId() == null ? r.opId() : r.firstOpId()))
                    .isLessThanOrEqualTo(OpPacks.MAX_SPAN));
    assertThat(sparseRows.stream().filter(r -> r.bucket().equals("rare")))
        .as("5,000 op ids apart: three within a span")
        .extracting(OpPacks.Row::count)
        .containsExactly(3, 3);

    List<NewOp> large =
        List.of(
            put("b", "a", "y".repeat(700)),
            put("b", "b", "y".repeat(700)),
            put("b", "c", "y".repeat(700)),
            put("b", "d", "y".repeat(5_000)),
            put("b", "e", "{}"));
    List<OpPacks.Row> rows = OpPacks.rows(large, 1);
    assertThat(rows).extracting(OpPacks.Row::count).containsExactly(2, 1, 1, 1);
    assertThat(rows.get(0).data().length()).isLessThanOrEqualTo(OpPacks.MAX_CHARS);
    assertThat(rows.get(2).data()).hasSize(5_000);
  }

  @Test
  void a_single_op_is_a_row_of_its_own() {
    List<OpPacks.Row> rows = OpPacks.rows(List.of(put("a", "1", "{}"), remove("b", "2")), 7);
    assertThat(rows)
        .hasSize(2)
        .allSatisfy(
            r -> {
              assertThat(r.firstOpId()).isNull();
              assertThat(r.count()).isEqualTo(1);
            });
    assertThat(rows).extracting(OpPacks.Row::op).containsExactlyInAnyOrder("PUT", "REMOVE");
    assertThat(rows).extracting(OpPacks.Row::opId).containsExactlyInAnyOrder(7L, 8L);
  }

  @Test
  void decoding_keeps_only_the_range_and_sums_it() {
    List<NewOp> ops =
        List.of(put("b", "1", "{}"), put("c", "x", "{}"), put("b", "2", "{}"), remove("b", "1"));
    OpPacks.Row pack =
        OpPacks.rows(ops, 10).stream()
            .filter(r -> r.bucket().equals("b"))
            .findFirst()
            .orElseThrow();
    assertThat(pack.firstOpId()).isEqualTo(10);
    assertThat(pack.opId()).isEqualTo(13);
    List<OpRecord> middle = new ArrayList<>();
    OpPacks.decode("b", 10, pack.data(), 10, 12, middle::add);
    assertThat(middle).extracting(OpRecord::objectId).containsExactly("2");
    assertThat(OpPacks.sum("b", 10, pack.data(), 9, 13))
        .containsExactly(ops.get(0).checksum() + ops.get(2).checksum() + ops.get(3).checksum(), 3);
    assertThat(OpPacks.sum("b", 10, pack.data(), 13, 20)).containsExactly(0, 0);
  }

  @Test
  void a_corrupt_pack_is_a_typed_storage_error() {
    String good = OpPacks.rows(List.of(put("b", "1", "{}"), put("b", "2", "{}")), 1).get(0).data();
    for (String bad :
        List.of(
            good.substring(0, good.length() - 1),
            "0X1,",
            "0P1,3:abc",
            "5P1,1:a1:b1:c",
            "0P1,1:a1:b1:c2:{}0P1,1:a1:b1:c2:{}",
            "0P1,999:a",
            "x")) {
      assertThatThrownBy(() -> OpPacks.decode("b", 1, bad, 0, 100, op -> {}))
          .as(bad)
          .isInstanceOfSatisfying(
              SynclineException.class,
              e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.STORAGE_FAILED);
                assertThat(e.getMessage()).contains("corrupt");
              });
    }
  }
}
