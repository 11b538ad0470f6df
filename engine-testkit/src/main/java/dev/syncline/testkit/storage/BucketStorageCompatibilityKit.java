package dev.syncline.testkit.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.ParameterLookup;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.BucketStorage.PartialChecksum;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.CurrentRow;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.ParameterChange;
import dev.syncline.spi.storage.Placement;
import dev.syncline.spi.storage.RulesVersion;
import dev.syncline.spi.storage.SourceKey;
import dev.syncline.spi.storage.WriteBatch;
import dev.syncline.spi.storage.WriteCheckpointKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.NullUnmarked;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Certifies a {@link BucketStorage}: extend it, return a fresh, empty storage from {@link
 * #createStorage()}, and every test here runs against your implementation.
 *
 * <pre>{@code
 * class MyStorageCompatibilityTest extends BucketStorageCompatibilityKit {
 *   @Override
 *   protected BucketStorage createStorage() {
 *     return new MyStorage(freshDatabase());
 *   }
 * }
 * }</pre>
 */
@NullUnmarked // assertions: a null where a value belongs fails the test, which is what it should do
public abstract class BucketStorageCompatibilityKit {
  private static final TableRef TODOS = TableRef.of("public", "todos");

  /** The storage under test, created before each test and closed after it. */
  protected BucketStorage storage;

  /** A processing rules version of {@link #storage}. */
  protected long version;

  /** Returns a new, empty storage. Called once per test. */
  protected abstract BucketStorage createStorage();

  @BeforeEach
  void setUpStorage() {
    storage = createStorage();
    version = storage.addRulesVersion("bucket_definitions: {}").id();
  }

  @AfterEach
  void closeStorage() {
    storage.close();
  }

  // ---- helpers ----

  /** A PUT with its protocol checksum. */
  protected static NewOp put(String bucket, String row, String data) {
    return new NewOp(
        bucket, OpType.PUT, "todos", row, "sub-" + row, data, OpChecksums.put("todos", row, data));
  }

  /** A REMOVE with its protocol checksum. */
  protected static NewOp remove(String bucket, String row) {
    return new NewOp(
        bucket, OpType.REMOVE, "todos", row, "sub-" + row, null, OpChecksums.remove("sub-" + row));
  }

  /** A batch of ops at a position. */
  protected static WriteBatch ops(String position, NewOp... ops) {
    return new WriteBatch(List.of(ops), List.of(), List.of(), List.of(), position);
  }

  private static String pos(long n) {
    return String.format("%016x", n);
  }

  private Checkpoint commit(BucketStorageWriter writer, WriteBatch batch) {
    Optional<Checkpoint> c = writer.commit(batch);
    assertThat(c).as("a batch with a position creates a checkpoint").isPresent();
    return c.get();
  }

  private List<OpRecord> all(String bucket, OpId upTo) {
    return storage.ops(version, bucket, OpId.ZERO, upTo, Integer.MAX_VALUE);
  }

  /** The stored ops are the written ones, in order. */
  private static void assertStored(List<NewOp> written, List<OpRecord> stored) {
    assertThat(stored).hasSize(written.size());
    for (int i = 0; i < written.size(); i++) {
      NewOp expected = written.get(i);
      OpRecord actual = stored.get(i);
      assertThat(actual.bucket()).isEqualTo(expected.bucket());
      assertThat(actual.op()).isEqualTo(expected.op());
      assertThat(actual.objectType()).isEqualTo(expected.objectType());
      assertThat(actual.objectId()).isEqualTo(expected.objectId());
      assertThat(actual.subkey()).isEqualTo(expected.subkey());
      assertThat(actual.data()).isEqualTo(expected.data());
      assertThat(actual.checksum()).isEqualTo(expected.checksum());
    }
  }

  private static long sum(List<OpRecord> ops) {
    long s = 0;
    for (OpRecord op : ops) {
      s = OpChecksums.add(s, op.checksum());
    }
    return s;
  }

  // ---- tests ----

  @Test
  void appended_ops_are_read_back_in_order_with_increasing_op_ids() {
    try (BucketStorageWriter w = storage.openWriter(version)) {
      Checkpoint c1 =
          commit(
              w, ops(pos(1), put("b", "t1", "{\"id\":\"t1\"}"), put("c", "t2", "{\"id\":\"t2\"}")));
      Checkpoint c2 = commit(w, ops(pos(2), put("b", "t3", "{\"id\":\"t3\"}"), remove("b", "t1")));
      assertThat(c2.opId()).isGreaterThan(c1.opId());
      List<OpRecord> b = all("b", c2.opId());
      assertThat(b).extracting(OpRecord::op).containsExactly(OpType.PUT, OpType.PUT, OpType.REMOVE);
      assertThat(b).extracting(OpRecord::objectId).containsExactly("t1", "t3", "t1");
      assertThat(b.stream().mapToLong(o -> o.opId().value()).toArray())
          .isSorted()
          .doesNotHaveDuplicates();
      assertThat(b.get(0).data()).isEqualTo("{\"id\":\"t1\"}");
      assertThat(b.get(2).data()).isNull();
      assertThat(b.get(0).opId()).isLessThanOrEqualTo(c1.opId());
      assertThat(b.get(1).opId()).isGreaterThan(c1.opId());
    }
  }

  @Test
  void large_batches_round_trip_exactly() {
    List<NewOp> ops = new ArrayList<>();
    for (int i = 0; i < 1_200; i++) {
      String data =
          "{\"id\":\"r" + i + "\",\"text\":\"tab\\t\\\\ back\\n line \\u0000 é 😀 \\\"q\\\"\"}";
      ops.add(i % 7 == 6 ? remove("big", "r" + (i - 1)) : put("big", "r" + i, data + "\t\n\\N"));
    }
    try (BucketStorageWriter w = storage.openWriter(version)) {
      Checkpoint c = commit(w, new WriteBatch(ops, List.of(), List.of(), List.of(), pos(1)));
      List<OpRecord> read = all("big", c.opId());
      assertStored(ops, read);
      assertThat(storage.checksums(version, List.of("big"), null, c.opId()).get("big").checksum())
          .isEqualTo(sum(read));
    }
  }

  @Test
  void reads_respect_after_up_to_and_limit() {
    try (BucketStorageWriter w = storage.openWriter(version)) {
      Checkpoint c1 = commit(w, ops(pos(1), put("b", "t1", "1"), put("b", "t2", "2")));
      Checkpoint c2 = commit(w, ops(pos(2), put("b", "t3", "3")));
      List<OpRecord> first = all("b", c1.opId());
      assertThat(first).hasSize(2);
      assertThat(storage.ops(version, "b", first.get(0).opId(), c2.opId(), 10))
          .extracting(OpRecord::objectId)
          .containsExactly("t2", "t3");
      assertThat(storage.ops(version, "b", OpId.ZERO, c2.opId(), 1))
          .extracting(OpRecord::objectId)
          .containsExactly("t1");
      assertThat(storage.ops(version, "unknown", OpId.ZERO, c2.opId(), 10)).isEmpty();
      assertThatThrownBy(() -> storage.ops(version, "b", OpId.ZERO, c2.opId(), 0))
          .isInstanceOfSatisfying(
              SynclineException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
    }
  }

  /**
   * Storages may keep several ops in one record (the JDBC storage packs a batch's ops per bucket):
   * reads, sums and compaction must still answer any range exactly, wherever its ends fall.
   */
  @Test
  void any_range_of_a_large_interleaved_batch_is_read_summed_and_compacted_exactly() {
    SplittableRandom random = new SplittableRandom(5);
    List<String> buckets = List.of("x", "y", "z");
    List<NewOp> written = new ArrayList<>();
    List<Checkpoint> checkpoints = new ArrayList<>();
    try (BucketStorageWriter w = storage.openWriter(version)) {
      for (int batch = 1; batch <= 3; batch++) {
        List<NewOp> ops = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
          // Mostly one bucket in runs, sometimes interleaved; sizes from a few characters to more
          // than a pack holds.
          String bucket = buckets.get(random.nextInt(4) == 0 ? random.nextInt(3) : (i / 20) % 3);
          String row = "r" + random.nextInt(60);
          String text =
              "v"
                  .repeat(
                      random.nextInt(8) == 0 ? 2_000 + random.nextInt(500) : random.nextInt(200));
          ops.add(
              random.nextInt(5) == 0
                  ? remove(bucket, row)
                  : put(bucket, row, "{\"id\":\"" + row + "\",\"t\":\"" + text + "\\t\u00e9\"}"));
        }
        written.addAll(ops);
        checkpoints.add(
            commit(w, new WriteBatch(ops, List.of(), List.of(), List.of(), pos(batch))));
      }
    }
    try (BucketStorageWriter w = storage.openWriter(version)) { // and a bucket of one op per batch
      for (int i = 0; i < 80; i++) {
        NewOp op = put("w", "w" + i, "{}");
        written.add(op);
        checkpoints.add(commit(w, ops(pos(10 + i), op)));
      }
    }
    OpId last = checkpoints.get(checkpoints.size() - 1).opId();
    for (String bucket : List.of("x", "y", "z", "w")) {
      List<OpRecord> log = all(bucket, last);
      assertStored(written.stream().filter(o -> o.bucket().equals(bucket)).toList(), log);
      assertThat(log.stream().mapToLong(o -> o.opId().value()).toArray())
          .isSorted()
          .doesNotHaveDuplicates();
      for (int n = 0; n < 20; n++) {
        long a = random.nextLong(last.value() + 1);
        long b = a + random.nextLong(last.value() + 2 - a);
        List<OpRecord> range =
            log.stream().filter(o -> o.opId().value() > a && o.opId().value() <= b).toList();
        assertThat(storage.ops(version, bucket, new OpId(a), new OpId(b), Integer.MAX_VALUE))
            .as("ops of %s in (%d, %d]", bucket, a, b)
            .isEqualTo(range);
        for (int limit : new int[] {1, 3, 70}) {
          assertThat(storage.ops(version, bucket, new OpId(a), new OpId(b), limit))
              .isEqualTo(range.subList(0, Math.min(limit, range.size())));
        }
        assertThat(
                storage
                    .checksums(version, List.of(bucket), n == 0 ? null : new OpId(a), new OpId(b))
                    .get(bucket))
            .as("checksum of %s in (%d, %d]", bucket, n == 0 ? 0 : a, b)
            .isEqualTo(
                n == 0
                    ? new PartialChecksum(
                        sum(log.stream().filter(o -> o.opId().value() <= b).toList()),
                        log.stream().filter(o -> o.opId().value() <= b).count(),
                        true)
                    : new PartialChecksum(sum(range), range.size(), false));
      }
    }
    // Compaction up to an op id inside the log: what lies after it stays as it was, checksums stay
    // exact.
    Map<String, List<OpRecord>> before = new HashMap<>();
    buckets.forEach(b -> before.put(b, all(b, last)));
    List<OpRecord> x = before.get("x");
    OpId middle = x.get(x.size() / 2).opId();
    storage.compact(version, middle);
    for (String bucket : buckets) {
      List<OpRecord> old = before.get(bucket);
      List<OpRecord> now = all(bucket, last);
      assertThat(now.stream().filter(o -> o.opId().compareTo(middle) > 0).toList())
          .isEqualTo(old.stream().filter(o -> o.opId().compareTo(middle) > 0).toList());
      assertThat(storage.checksums(version, List.of(bucket), null, last).get(bucket).checksum())
          .isEqualTo(sum(old));
      assertThat(storage.checksums(version, List.of(bucket), null, middle).get(bucket).checksum())
          .isEqualTo(sum(old.stream().filter(o -> o.opId().compareTo(middle) <= 0).toList()));
      Client fresh = new Client();
      now.forEach(fresh::apply);
      Client early = new Client();
      old.forEach(early::apply);
      assertThat(fresh.rows).isEqualTo(early.rows);
      assertThat(fresh.checksum()).isEqualTo(sum(old));
    }
  }

  @Test
  void checkpoints_cover_the_position_and_batches_without_one_wait_for_the_next() {
    assertThat(storage.latestCheckpoint(version)).isEmpty();
    try (BucketStorageWriter w = storage.openWriter(version)) {
      assertThat(
              w.commit(
                  new WriteBatch(
                      List.of(put("b", "t1", "1")), List.of(), List.of(), List.of(), null)))
          .isEmpty();
      assertThat(storage.latestCheckpoint(version)).isEmpty();
      Checkpoint c = commit(w, ops(pos(7), put("b", "t2", "2")));
      assertThat(c.position()).isEqualTo(pos(7));
      assertThat(storage.latestCheckpoint(version)).contains(c);
      assertThat(all("b", c.opId())).hasSize(2);
      Checkpoint keepalive = commit(w, WriteBatch.keepalive(pos(8)));
      assertThat(keepalive.opId()).isEqualTo(c.opId());
      assertThat(keepalive.position()).isEqualTo(pos(8));
    }
  }

  @Test
  void checksums_are_sums_of_op_checksums_and_ranges_add_up() {
    try (BucketStorageWriter w = storage.openWriter(version)) {
      Checkpoint c1 = commit(w, ops(pos(1), put("b", "t1", "a"), put("b", "t2", "b")));
      Checkpoint c2 = commit(w, ops(pos(2), put("b", "t1", "c"), remove("b", "t2")));
      PartialChecksum full1 = storage.checksums(version, List.of("b"), null, c1.opId()).get("b");
      PartialChecksum delta =
          storage.checksums(version, List.of("b"), c1.opId(), c2.opId()).get("b");
      PartialChecksum full2 =
          storage.checksums(version, List.of("b", "empty"), null, c2.opId()).get("b");
      assertThat(full1.count()).isEqualTo(2);
      assertThat(full1.isFull()).isTrue();
      assertThat(delta.count()).isEqualTo(2);
      assertThat(delta.isFull()).isFalse();
      assertThat(OpChecksums.add(full1.checksum(), delta.checksum())).isEqualTo(full2.checksum());
      assertThat(full2.checksum()).isEqualTo(sum(all("b", c2.opId())));
      assertThat(storage.checksums(version, List.of("empty"), null, c2.opId()).get("empty"))
          .isEqualTo(new PartialChecksum(0, 0, true));
    }
  }

  @Test
  void compaction_keeps_checksums_exact_and_clients_agree() {
    SplittableRandom random = new SplittableRandom(11);
    List<Checkpoint> checkpoints = new ArrayList<>();
    try (BucketStorageWriter w = storage.openWriter(version)) {
      for (int i = 1; i <= 60; i++) {
        String row = "t" + random.nextInt(6);
        NewOp op =
            random.nextInt(4) == 0
                ? remove("b", row)
                : put("b", row, "{\"v\":" + random.nextInt(5) + "}");
        checkpoints.add(commit(w, ops(pos(i), op)));
      }
    }
    Checkpoint last = checkpoints.get(checkpoints.size() - 1);
    Checkpoint middle = checkpoints.get(29);
    long before = storage.checksums(version, List.of("b"), null, last.opId()).get("b").checksum();
    Client early = new Client();
    all("b", middle.opId()).forEach(early::apply);
    storage.compact(version, last.opId());
    assertThat(storage.checksums(version, List.of("b"), null, last.opId()).get("b").checksum())
        .isEqualTo(before);
    List<OpRecord> compacted = all("b", last.opId());
    assertThat(compacted).extracting(OpRecord::op).contains(OpType.MOVE);
    storage.ops(version, "b", middle.opId(), last.opId(), Integer.MAX_VALUE).forEach(early::apply);
    Client fresh = new Client();
    compacted.forEach(fresh::apply);
    assertThat(fresh.checksum()).isEqualTo(before);
    assertThat(early.checksum()).isEqualTo(before);
    assertThat(fresh.rows).isEqualTo(early.rows);
  }

  /**
   * A client stops in the middle of a download (after any op, not only at a checkpoint), the bucket
   * is compacted (up to a point before or after where the client stopped, with MOVEs and, where
   * everything before is superseded, a CLEAR), and the client continues after the last op it
   * received: its checksum must still be the bucket's and its rows a fresh client's. (PowerSync
   * 1.26 fixed a bug here; this holds it for every storage.)
   */
  @Test
  void a_client_that_stopped_mid_download_converges_after_a_compaction() {
    int clears = 0;
    int stoppedInsideCompaction = 0;
    for (int seed = 1; seed <= 16; seed++) {
      // A fresh rules version per seed: each compaction starts from raw ops.
      long v = storage.addRulesVersion("bucket_definitions: {} # seed " + seed).id();
      SplittableRandom random = new SplittableRandom(seed);
      List<Checkpoint> checkpoints = new ArrayList<>();
      try (BucketStorageWriter w = storage.openWriter(v)) {
        int n = 20 + random.nextInt(40);
        for (int i = 1; i <= n; ) {
          List<NewOp> batch = new ArrayList<>();
          for (int k = 1 + random.nextInt(4); k > 0 && i <= n; k--, i++) {
            String row = "t" + random.nextInt(5);
            batch.add(
                random.nextInt(3) == 0
                    ? remove("b", row)
                    : put("b", row, "{\"v\":" + random.nextInt(5) + "}"));
          }
          checkpoints.add(
              commit(
                  w,
                  new WriteBatch(
                      batch, List.of(), List.of(), List.of(), pos(checkpoints.size() + 1))));
        }
      }
      Checkpoint last = checkpoints.get(checkpoints.size() - 1);
      List<OpRecord> raw = storage.ops(v, "b", OpId.ZERO, last.opId(), Integer.MAX_VALUE);
      long expected = storage.checksums(v, List.of("b"), null, last.opId()).get("b").checksum();
      // The client got the first ops of its download, up to any op.
      int received = random.nextInt(raw.size() + 1);
      Client early = new Client();
      raw.subList(0, received).forEach(early::apply);
      OpId after = received == 0 ? OpId.ZERO : raw.get(received - 1).opId();
      // Compaction, up to a checkpoint before or after where the client stopped.
      Checkpoint upTo = checkpoints.get(random.nextInt(checkpoints.size()));
      storage.compact(v, upTo.opId());
      if (after.compareTo(upTo.opId()) < 0) {
        stoppedInsideCompaction++;
      }
      if (storage.ops(v, "b", OpId.ZERO, last.opId(), Integer.MAX_VALUE).stream()
          .anyMatch(r -> r.op() == OpType.CLEAR)) {
        clears++;
      }
      assertThat(storage.checksums(v, List.of("b"), null, last.opId()).get("b").checksum())
          .as("seed %d: compaction keeps the bucket's checksum", seed)
          .isEqualTo(expected);
      // The next request continues after the last op it received, in pages.
      OpId from = after;
      while (true) {
        List<OpRecord> page = storage.ops(v, "b", from, last.opId(), 1 + random.nextInt(7));
        if (page.isEmpty()) {
          break;
        }
        page.forEach(early::apply);
        from = page.get(page.size() - 1).opId();
      }
      Client fresh = new Client();
      storage.ops(v, "b", OpId.ZERO, last.opId(), Integer.MAX_VALUE).forEach(fresh::apply);
      assertThat(early.checksum())
          .as(
              "seed %d: stopped after op %d of %d, compacted up to %s",
              seed, received, raw.size(), upTo.opId())
          .isEqualTo(expected);
      assertThat(early.rows)
          .as("seed %d: the same rows as a fresh client", seed)
          .isEqualTo(fresh.rows);
      assertThat(fresh.checksum()).isEqualTo(expected);
    }
    assertThat(stoppedInsideCompaction)
        .as("seeds where the client stopped inside the compacted part")
        .isPositive();
    assertThat(clears).as("seeds whose compaction wrote a CLEAR").isPositive();
  }

  @Test
  void adopted_buckets_continue_the_other_versions_log_for_clients_holding_it() {
    long other = storage.addRulesVersion("bucket_definitions: {} # other").id();
    if (!storage.supportsBucketAdoption()) {
      try (BucketStorageWriter w = storage.openWriter(other)) {
        assertThatThrownBy(() -> w.adoptBuckets(version, b -> true))
            .isInstanceOfSatisfying(
                SynclineException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED_FEATURE));
      }
      return;
    }
    // The old version: a random history in x[1], x[2] and y[].
    SplittableRandom random = new SplittableRandom(5);
    List<Checkpoint> old = new ArrayList<>();
    try (BucketStorageWriter w = storage.openWriter(version)) {
      for (int i = 1; i <= 40; i++) {
        String bucket = List.of("x[1]", "x[2]", "y[]").get(random.nextInt(3));
        String row = "t" + random.nextInt(5);
        NewOp op =
            random.nextInt(4) == 0
                ? remove(bucket, row)
                : put(bucket, row, "{\"v\":" + random.nextInt(3) + "}");
        old.add(commit(w, ops(pos(i), op)));
      }
    }
    Checkpoint oldLast = old.get(old.size() - 1);
    // Clients of the old version: one holds x[1] up to the middle, one all of it.
    Client partial = new Client();
    storage
        .ops(version, "x[1]", OpId.ZERO, old.get(19).opId(), Integer.MAX_VALUE)
        .forEach(partial::apply);
    Client full = new Client();
    storage.ops(version, "x[1]", OpId.ZERO, oldLast.opId(), Integer.MAX_VALUE).forEach(full::apply);
    List<OpRecord> oldX1 =
        storage.ops(version, "x[1]", OpId.ZERO, oldLast.opId(), Integer.MAX_VALUE);

    // The new version: its own contents for x[1] (partly equal), x[3], y[]; nothing for x[2].
    Checkpoint adopted;
    Map<String, Client> expected = new HashMap<>();
    try (BucketStorageWriter w = storage.openWriter(other)) {
      Client x1 = new Client();
      storage.ops(version, "x[1]", OpId.ZERO, oldLast.opId(), Integer.MAX_VALUE).forEach(x1::apply);
      List<NewOp> mine = new ArrayList<>();
      for (int r = 0; r < 5; r++) {
        String row = "t" + r;
        String same = x1.rows.get("todos/" + row + "/sub-" + row);
        if (r == 0 && same != null) {
          mine.add(put("x[1]", row, same)); // unchanged row: no new op for it
        } else if (r % 2 == 1) {
          mine.add(put("x[1]", row, "{\"new\":" + r + "}"));
        }
      }
      mine.add(put("x[3]", "t9", "{\"v\":9}"));
      mine.add(put("y[]", "t8", "{\"v\":8}"));
      commit(w, new WriteBatch(mine, List.of(), List.of(), List.of(), pos(100)));
      Checkpoint before = storage.latestCheckpoint(other).orElseThrow();
      for (String b : List.of("x[1]", "x[2]", "x[3]", "y[]")) {
        Client c = new Client();
        storage.ops(other, b, OpId.ZERO, before.opId(), Integer.MAX_VALUE).forEach(c::apply);
        expected.put(b, c);
      }
      List<OpRecord> yBefore =
          storage.ops(other, "y[]", OpId.ZERO, before.opId(), Integer.MAX_VALUE);

      adopted = w.adoptBuckets(version, b -> b.startsWith("x[")).orElseThrow();
      assertThat(adopted.position()).isEqualTo(pos(100));
      assertThat(storage.latestCheckpoint(other)).contains(adopted);
      assertThat(storage.ops(other, "y[]", OpId.ZERO, adopted.opId(), Integer.MAX_VALUE))
          .as("buckets not selected are untouched")
          .isEqualTo(yBefore);
      // Later commits get op ids above both versions'.
      Checkpoint after = commit(w, ops(pos(101), put("x[3]", "t7", "{}")));
      assertThat(after.opId().value())
          .isGreaterThan(Math.max(adopted.opId().value(), oldLast.opId().value()));
      expected
          .get("x[3]")
          .apply(storage.ops(other, "x[3]", adopted.opId(), after.opId(), 10).get(0));
      adopted = after;
    }
    // x[1] starts with the old log, op for op, and both old clients continue from where they are.
    List<OpRecord> newX1 = storage.ops(other, "x[1]", OpId.ZERO, adopted.opId(), Integer.MAX_VALUE);
    assertThat(newX1.subList(0, oldX1.size())).isEqualTo(oldX1);
    long announced =
        storage.checksums(other, List.of("x[1]"), null, adopted.opId()).get("x[1]").checksum();
    for (Client c : List.of(partial, full)) {
      OpId from = c == full ? oldLast.opId() : old.get(19).opId();
      storage.ops(other, "x[1]", from, adopted.opId(), Integer.MAX_VALUE).stream()
          .filter(op -> op.opId().compareTo(from) > 0)
          .forEach(c::apply);
      assertThat(c.checksum()).isEqualTo(announced);
      assertThat(c.rows).isEqualTo(expected.get("x[1]").rows);
    }
    // A new client of the new version gets the same contents; x[2] (not in the new version) ends
    // empty.
    for (String b : List.of("x[1]", "x[2]", "x[3]")) {
      Client fresh = new Client();
      storage.ops(other, b, OpId.ZERO, adopted.opId(), Integer.MAX_VALUE).forEach(fresh::apply);
      assertThat(fresh.checksum())
          .as(b)
          .isEqualTo(
              storage
                  .checksums(other, List.of(b), null, adopted.opId())
                  .getOrDefault(b, new BucketStorage.PartialChecksum(0, 0, false))
                  .checksum());
      assertThat(fresh.rows).as(b).isEqualTo(expected.get(b).rows);
    }
  }

  @Test
  void parameter_lookups_are_answered_as_of_a_checkpoint() {
    ParameterLookup key = new ParameterLookup("lists#1", List.of(SqliteValue.of("u1")));
    SourceKey l1 = new SourceKey(TableRef.of("public", "lists"), "[\"l1\"]");
    SourceKey l2 = new SourceKey(TableRef.of("public", "lists"), "[\"l2\"]");
    Map<String, SqliteValue> row1 = Map.of("list_id", SqliteValue.of("l1"));
    Map<String, SqliteValue> row2 = Map.of("list_id", SqliteValue.of("l2"));
    try (BucketStorageWriter w = storage.openWriter(version)) {
      Checkpoint c1 =
          commit(
              w,
              new WriteBatch(
                  List.of(),
                  List.of(),
                  List.of(),
                  List.of(new ParameterChange(l1, key, List.of(row1))),
                  pos(1)));
      Checkpoint c2 =
          commit(
              w,
              new WriteBatch(
                  List.of(),
                  List.of(),
                  List.of(),
                  List.of(new ParameterChange(l2, key, List.of(row2))),
                  pos(2)));
      Checkpoint c3 =
          commit(
              w,
              new WriteBatch(
                  List.of(),
                  List.of(),
                  List.of(),
                  List.of(new ParameterChange(l1, key, List.of())),
                  pos(3)));
      assertThat(storage.lookup(version, c1.opId(), List.of(key)).get(key)).containsExactly(row1);
      assertThat(storage.lookup(version, c2.opId(), List.of(key)).get(key))
          .containsExactly(row1, row2);
      assertThat(storage.lookup(version, c3.opId(), List.of(key)).get(key)).containsExactly(row2);
      ParameterLookup unknown = new ParameterLookup("lists#1", List.of(SqliteValue.of("nobody")));
      assertThat(storage.lookup(version, c3.opId(), List.of(unknown)).get(unknown)).isEmpty();
    }
  }

  @Test
  void row_state_round_trips_and_can_be_listed_per_table() {
    SourceKey k1 = new SourceKey(TODOS, "[\"t1\"]");
    SourceKey k2 = new SourceKey(TODOS, "[\"t2\"]");
    SourceKey other = new SourceKey(TableRef.of("public", "lists"), "[\"l1\"]");
    CurrentRow r1 =
        new CurrentRow(
            k1,
            null,
            List.of(new Placement("b[]", "todos", "t1", 42)),
            List.of(new ParameterLookup("x#1", List.of(SqliteValue.of(1L)))));
    CurrentRow r2 = new CurrentRow(k2, null, List.of(), List.of());
    CurrentRow r3 = new CurrentRow(other, null, List.of(), List.of());
    try (BucketStorageWriter w = storage.openWriter(version)) {
      commit(w, new WriteBatch(List.of(), List.of(r1, r2, r3), List.of(), List.of(), pos(1)));
      assertThat(w.currentRows(List.of(k1, k2, new SourceKey(TODOS, "[\"missing\"]"))))
          .containsOnlyKeys(k1, k2)
          .containsEntry(k1, r1);
      commit(w, new WriteBatch(List.of(), List.of(), List.of(k2), List.of(), pos(2)));
      List<CurrentRow> todos = new ArrayList<>();
      w.forEachRow(TODOS, todos::add);
      assertThat(todos).containsExactly(r1);
    }
  }

  @Test
  void snapshot_progress_is_resumable() {
    try (BucketStorageWriter w = storage.openWriter(version)) {
      w.setSnapshotProgress(TODOS, "[\"t500\"]");
      assertThat(storage.snapshotState(version).progress()).containsEntry(TODOS, "[\"t500\"]");
      assertThat(storage.snapshotState(version).done()).isEmpty();
      w.setSnapshotDone(TODOS, true);
      assertThat(storage.snapshotState(version).done()).containsExactly(TODOS);
      assertThat(storage.snapshotState(version).progress()).isEmpty();
    }
  }

  @Test
  void write_checkpoints_resolve_once_replication_passes_their_position() {
    WriteCheckpointKey u1 = key("u1", "c1");
    WriteCheckpointKey u2 = key("u2", "c1");
    WriteCheckpointKey nobody = key("nobody", "");
    long first = storage.createWriteCheckpoint(u1, pos(10));
    long second = storage.createWriteCheckpoint(u1, pos(20));
    assertThat(first).isEqualTo(1);
    assertThat(second).isEqualTo(2);
    assertThat(storage.createWriteCheckpoint(u2, pos(5))).isEqualTo(1);
    assertThat(storage.writeCheckpoint(u1, new Checkpoint(OpId.ZERO, pos(9)))).isEmpty();
    assertThat(storage.writeCheckpoint(u1, new Checkpoint(OpId.ZERO, pos(10)))).contains(1L);
    assertThat(storage.writeCheckpoint(u1, new Checkpoint(OpId.ZERO, pos(25)))).contains(2L);
    assertThat(storage.writeCheckpoint(nobody, new Checkpoint(OpId.ZERO, pos(25)))).isEmpty();
    // In bulk, as the sync service asks for all its streams at once: the same answers, keys without
    // one absent.
    assertThat(storage.writeCheckpoints(List.of(u1, u2, nobody), new Checkpoint(OpId.ZERO, pos(9))))
        .containsExactlyInAnyOrderEntriesOf(Map.of(u2, 1L));
    assertThat(
            storage.writeCheckpoints(List.of(u1, u2, nobody), new Checkpoint(OpId.ZERO, pos(25))))
        .containsExactlyInAnyOrderEntriesOf(Map.of(u1, 2L, u2, 1L));
    List<WriteCheckpointKey> many = new ArrayList<>();
    for (int i = 0; i < 1_200; i++) {
      many.add(key("bulk" + i, "c"));
    }
    storage.createWriteCheckpoint(key("bulk1100", "c"), pos(30));
    assertThat(storage.writeCheckpoints(many, new Checkpoint(OpId.ZERO, pos(30))))
        .containsExactlyInAnyOrderEntriesOf(Map.of(key("bulk1100", "c"), 1L));
  }

  /**
   * Pruning forgets, of each key, the write checkpoints older than its newest one at or below the
   * position, and nothing any checkpoint at or above that position would answer; ids keep counting.
   */
  @Test
  void pruning_write_checkpoints_keeps_every_answer_from_the_position_on() {
    WriteCheckpointKey u = key("prune-u", "c");
    WriteCheckpointKey other = key("prune-other", "c");
    for (int p : new int[] {10, 20, 30, 40}) {
      storage.createWriteCheckpoint(u, pos(p)); // ids 1..4
    }
    storage.createWriteCheckpoint(other, pos(35)); // its only one lies after the position: kept
    Map<Integer, Optional<Long>> before = new TreeMap<>();
    for (int p : new int[] {30, 35, 40, 50}) {
      before.put(p, storage.writeCheckpoint(u, new Checkpoint(OpId.ZERO, pos(p))));
    }
    long removed = storage.pruneWriteCheckpoints(pos(30));
    assertThat(removed).as("ids 1 and 2 of the first key").isEqualTo(2);
    for (Map.Entry<Integer, Optional<Long>> e : before.entrySet()) {
      assertThat(storage.writeCheckpoint(u, new Checkpoint(OpId.ZERO, pos(e.getKey()))))
          .as("at " + e.getKey())
          .isEqualTo(e.getValue());
    }
    assertThat(storage.writeCheckpoint(u, new Checkpoint(OpId.ZERO, pos(25))))
        .as("below the position: gone")
        .isEmpty();
    assertThat(storage.writeCheckpoint(other, new Checkpoint(OpId.ZERO, pos(35)))).contains(1L);
    assertThat(storage.createWriteCheckpoint(u, pos(50))).as("ids keep counting").isEqualTo(5);
    assertThat(storage.pruneWriteCheckpoints(pos(30))).as("nothing more to forget").isZero();
  }

  /**
   * User and client are two parts of the key, never one string: user {@code a/b} with client {@code
   * c} and user {@code a} with client {@code b/c} count apart, and a user's key without a client is
   * another key again.
   */
  @Test
  void write_checkpoints_of_users_and_clients_that_join_alike_stay_apart() {
    WriteCheckpointKey ab = key("a/b", "c");
    WriteCheckpointKey a = key("a", "b/c");
    WriteCheckpointKey bare = key("a/b/c", "");
    assertThat(storage.createWriteCheckpoint(ab, pos(10))).isEqualTo(1);
    assertThat(storage.createWriteCheckpoint(ab, pos(10))).isEqualTo(2);
    assertThat(storage.createWriteCheckpoint(a, pos(10))).isEqualTo(1);
    assertThat(storage.requestWriteCheckpoint(bare, 40, pos(10))).isEqualTo(40);
    assertThat(storage.createWriteCheckpoint(ab, pos(10))).isEqualTo(3);
    Checkpoint at = new Checkpoint(OpId.ZERO, pos(10));
    assertThat(storage.writeCheckpoint(ab, at)).contains(3L);
    assertThat(storage.writeCheckpoint(a, at)).contains(1L);
    assertThat(storage.writeCheckpoint(bare, at)).contains(40L);
    assertThat(storage.writeCheckpoints(List.of(ab, a, bare), at))
        .containsExactlyInAnyOrderEntriesOf(Map.of(ab, 3L, a, 1L, bare, 40L));
  }

  @Test
  void requested_write_checkpoints_only_move_forward() {
    WriteCheckpointKey u1 = key("u1", "c1");
    assertThat(storage.requestWriteCheckpoint(u1, 5, pos(10))).isEqualTo(5);
    assertThat(storage.requestWriteCheckpoint(u1, 3, pos(30))).isEqualTo(5);
    assertThat(storage.requestWriteCheckpoint(u1, 7, pos(40))).isEqualTo(7);
    assertThat(storage.writeCheckpoint(u1, new Checkpoint(OpId.ZERO, pos(35)))).contains(5L);
    assertThat(storage.writeCheckpoint(u1, new Checkpoint(OpId.ZERO, pos(40)))).contains(7L);
    for (long bad : new long[] {0, -1, WriteCheckpointKey.MAX_ID + 1, Long.MAX_VALUE}) {
      assertThatThrownBy(() -> storage.requestWriteCheckpoint(u1, bad, pos(1)))
          .as(Long.toString(bad))
          .isInstanceOfSatisfying(
              SynclineException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
    }
    // The largest id a client may request still leaves room to count on.
    WriteCheckpointKey top = key("u1", "top");
    assertThat(storage.requestWriteCheckpoint(top, WriteCheckpointKey.MAX_ID, pos(1)))
        .isEqualTo(WriteCheckpointKey.MAX_ID);
    assertThat(storage.createWriteCheckpoint(top, pos(2))).isEqualTo(WriteCheckpointKey.MAX_ID + 1);
  }

  private static WriteCheckpointKey key(String user, String client) {
    return new WriteCheckpointKey(user, client);
  }

  @Test
  void only_one_writer_per_rules_version() {
    BucketStorageWriter first = storage.openWriter(version, "host-a:1234");
    assertThat(storage.replicator(version)).contains("host-a:1234");
    assertThatThrownBy(() -> storage.openWriter(version, "host-b:99"))
        .isInstanceOfSatisfying(
            SynclineException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.REPLICATION_LOCKED));
    first.close();
    first.close();
    storage.openWriter(version).close();
  }

  @Test
  void rules_versions_keep_their_data_apart_and_switch_atomically() {
    long next = storage.addRulesVersion("bucket_definitions: {a: {data: []}}").id();
    assertThat(next).isGreaterThan(version);
    try (BucketStorageWriter w = storage.openWriter(version);
        BucketStorageWriter w2 = storage.openWriter(next)) {
      commit(w, ops(pos(1), put("b", "t1", "old")));
      Checkpoint c2 = commit(w2, ops(pos(1), put("b", "t1", "new")));
      assertThat(storage.ops(next, "b", OpId.ZERO, c2.opId(), 10))
          .extracting(OpRecord::data)
          .containsExactly("new");
    }
    storage.activate(version);
    storage.activate(next);
    Map<Long, RulesVersion.State> states = new HashMap<>();
    storage.rulesVersions().forEach(v -> states.put(v.id(), v.state()));
    assertThat(states)
        .containsEntry(version, RulesVersion.State.RETIRED)
        .containsEntry(next, RulesVersion.State.ACTIVE);
    storage.drop(version);
    assertThat(storage.rulesVersions()).extracting(RulesVersion::id).containsExactly(next);
    assertThatThrownBy(() -> storage.latestCheckpoint(version))
        .isInstanceOfSatisfying(
            SynclineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    assertThatThrownBy(() -> storage.drop(next))
        .isInstanceOfSatisfying(
            SynclineException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
  }

  @Test
  void concurrent_readers_never_see_half_a_batch() throws Exception {
    // Every batch puts the same value into two buckets; a reader at any checkpoint must see equal
    // counts in both.
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    Thread reader =
        new Thread(
            () -> {
              try {
                while (done.getCount() > 0) {
                  Optional<Checkpoint> c = storage.latestCheckpoint(version);
                  if (c.isPresent()) {
                    Map<String, PartialChecksum> sums =
                        storage.checksums(version, List.of("x", "y"), null, c.get().opId());
                    if (sums.get("x").count() != sums.get("y").count()) {
                      throw new AssertionError("half a batch visible at " + c.get() + ": " + sums);
                    }
                  }
                }
              } catch (Throwable t) {
                failure.set(t);
              }
            },
            "compatibility-kit-reader");
    reader.start();
    try (BucketStorageWriter w = storage.openWriter(version)) {
      for (int i = 1; i <= 100; i++) {
        commit(w, ops(pos(i), put("x", "r" + i, "1"), put("y", "r" + i, "1")));
      }
    } finally {
      done.countDown();
      reader.join();
    }
    assertThat(failure.get()).isNull();
  }

  /**
   * Large batches take storages' bulk paths (Postgres: COPY), which must escape everything: ops and
   * current rows holding tabs, backslashes, line breaks, quotes, non-ASCII and astral characters
   * read back exactly.
   */
  @Test
  void large_batches_of_ops_and_current_rows_round_trip_exactly() {
    // Keys come from Postgres text (never NUL); what is stored as JSON may hold anything.
    String awkward = "tab\t back\\slash\n line\r \"q\" é 😀";
    List<CurrentRow> rows = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      SourceRow image =
          SourceRow.builder()
              .put("id", "r" + i)
              .put("text", awkward + "\u0000" + i)
              .put("n", (long) i)
              .put("none", (String) null)
              .build();
      rows.add(
          new CurrentRow(
              new SourceKey(TODOS, "[\"" + awkward + i + "\"]"),
              i % 3 == 0 ? null : image,
              List.of(
                  new Placement("b[\"" + awkward + "\"]", "todos", awkward + i, 4294967295L - i)),
              List.of(
                  new ParameterLookup(
                      "by\t" + i, List.of(SqliteValue.of(awkward), SqliteValue.of((long) i))))));
    }
    String bucket = "b[\"" + awkward + "\"]";
    List<NewOp> ops = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      ops.add(
          new NewOp(
              bucket,
              i % 4 == 0 ? OpType.REMOVE : OpType.PUT,
              "t\t" + awkward,
              awkward + i,
              "sub\\" + i,
              i % 4 == 0
                  ? null
                  : "{\"t\":\""
                      + awkward
                          .replace("\\", "\\\\")
                          .replace("\t", "\\t")
                          .replace("\n", "\\n")
                          .replace("\r", "\\r")
                          .replace("\"", "\\\"")
                      + i
                      + "\"}",
              i == 7 ? 0 : 4294967295L - i));
    }
    try (BucketStorageWriter w = storage.openWriter(version)) {
      Checkpoint c = commit(w, new WriteBatch(ops, rows, List.of(), List.of(), pos(1)));
      Map<SourceKey, CurrentRow> read = w.currentRows(rows.stream().map(CurrentRow::key).toList());
      assertThat(read).hasSize(rows.size());
      for (CurrentRow expected : rows) {
        assertThat(read.get(expected.key())).as(expected.key().key()).isEqualTo(expected);
      }
      assertStored(ops, storage.ops(version, bucket, new OpId(0), c.opId(), 1_000));
    }
  }

  @Test
  void a_wrong_new_rows_hint_still_replaces_stored_state_and_writes_once() {
    SourceKey stored = new SourceKey(TODOS, "[\"w0\"]");
    try (BucketStorageWriter w = storage.openWriter(version)) {
      commit(
          w,
          new WriteBatch(
              List.of(),
              List.of(
                  new CurrentRow(
                      stored, null, List.of(new Placement("b[]", "todos", "w0", 1)), List.of())),
              List.of(),
              List.of(),
              pos(1)));
      List<CurrentRow> rows = new ArrayList<>();
      Set<SourceKey> claimedNew = new HashSet<>();
      for (int i = 0; i < 150; i++) { // enough for bulk paths
        SourceKey k = new SourceKey(TODOS, "[\"w" + i + "\"]");
        rows.add(
            new CurrentRow(k, null, List.of(new Placement("b[]", "todos", "w" + i, 2)), List.of()));
        claimedNew.add(k); // wrong for w0
      }
      Checkpoint c =
          commit(
              w,
              new WriteBatch(
                  List.of(put("hinted", "w0", "{}")),
                  rows,
                  List.of(),
                  List.of(),
                  pos(2),
                  claimedNew));
      Map<SourceKey, CurrentRow> read = w.currentRows(rows.stream().map(CurrentRow::key).toList());
      assertThat(read).hasSize(150);
      assertThat(read.values()).allMatch(r -> r.placements().get(0).checksum() == 2);
      assertThat(all("hinted", c.opId())).hasSize(1);
    }
  }

  @Test
  void current_rows_read_during_a_commit_see_it_whole_or_not_at_all() throws Exception {
    int rows = 2_000;
    List<SourceKey> keys = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      keys.add(new SourceKey(TODOS, "[\"t" + i + "\"]"));
    }
    AtomicReference<Throwable> failure = new AtomicReference<>();
    try (BucketStorageWriter w = storage.openWriter(version)) {
      for (int round = 1; round <= 5; round++) {
        long checksum = round;
        List<CurrentRow> batch =
            keys.stream()
                .map(
                    k ->
                        new CurrentRow(
                            k,
                            null,
                            List.of(new Placement("b[]", "todos", k.key(), checksum)),
                            List.of()))
                .toList();
        CountDownLatch committed = new CountDownLatch(1);
        String position = pos(round);
        Thread committer =
            new Thread(
                () -> {
                  try {
                    commit(w, new WriteBatch(List.of(), batch, List.of(), List.of(), position));
                  } catch (Throwable t) {
                    failure.set(t);
                  } finally {
                    committed.countDown();
                  }
                },
                "compatibility-kit-committer");
        committer.start();
        do {
          Map<SourceKey, CurrentRow> seen = w.currentRows(keys);
          long fromThisRound =
              seen.values().stream()
                  .filter(r -> r.placements().get(0).checksum() == checksum)
                  .count();
          assertThat(fromThisRound)
              .as("rows of the batch being committed, round %d", checksum)
              .isIn(0L, (long) rows);
          assertThat(seen)
              .as("rows of earlier rounds stay")
              .hasSize(checksum == 1 && fromThisRound == 0 ? 0 : rows);
        } while (committed.getCount() > 0);
        committer.join();
        assertThat(failure.get()).isNull();
        assertThat(w.currentRows(keys).values())
            .allMatch(r -> r.placements().get(0).checksum() == checksum);
      }
    }
  }

  @Test
  void watchers_learn_of_new_checkpoints() throws Exception {
    BlockingQueue<Checkpoint> seen = new LinkedBlockingQueue<>();
    try (AutoCloseable watch = storage.watchCheckpoints(version, seen::add);
        BucketStorageWriter w = storage.openWriter(version)) {
      Checkpoint c1 = commit(w, ops(pos(1), put("b", "t1", "1")));
      assertThat(seen.poll(30, TimeUnit.SECONDS)).isEqualTo(c1);
      Checkpoint c2 = commit(w, ops(pos(2), put("b", "t2", "2")));
      Checkpoint next = seen.poll(30, TimeUnit.SECONDS);
      while (next != null && !next.equals(c2)) {
        next = seen.poll(30, TimeUnit.SECONDS);
      }
      assertThat(next).isEqualTo(c2);
    }
  }

  /** A client applying ops as the PowerSync client core does (protocol §3.1). */
  private static final class Client {
    final Map<String, String> rows = new LinkedHashMap<>();
    final Map<String, Long> rowChecksums = new HashMap<>();
    long add;
    long op;

    void apply(OpRecord r) {
      switch (r.op()) {
        case PUT, REMOVE -> {
          Long old = rowChecksums.remove(r.rowKey());
          rows.remove(r.rowKey());
          if (old != null) {
            add = OpChecksums.add(add, old);
            op = OpChecksums.add(op, -old);
          }
          if (r.op() == OpType.PUT) {
            rows.put(r.rowKey(), r.data());
            rowChecksums.put(r.rowKey(), r.checksum());
            op = OpChecksums.add(op, r.checksum());
          } else {
            add = OpChecksums.add(add, r.checksum());
          }
        }
        case MOVE -> add = OpChecksums.add(add, r.checksum());
        case CLEAR -> {
          rows.clear();
          rowChecksums.clear();
          add = r.checksum();
          op = 0;
        }
      }
    }

    long checksum() {
      return OpChecksums.add(add, op);
    }
  }
}
