package dev.syncline.core.internal.replicate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.EvaluationError;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.rules.ResolvedBucket;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.OpRecord;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.assertj.core.api.Assertions;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Source changes become the right bucket operations and parameter-index entries. */
class BatchBuilderTest {
  static final SyncRules RULES =
      SyncRulesCompiler.compile(
          SyncRulesSource.ofYaml(
              """
      bucket_definitions:
        owned:
          parameters: SELECT id AS list_id FROM lists WHERE owner_id = request.user_id()
          data:
            - SELECT * FROM todos WHERE list_id = bucket.list_id
        by_status:
          parameters: SELECT request.jwt() ->> 'status' AS status
          data:
            - SELECT id, title FROM todos WHERE status = bucket.status
      """,
              "rules.yaml"));
  static final TableRef TODOS = TableRef.of("public", "todos");
  static final TableRef LISTS = TableRef.of("public", "lists");
  static final List<String> ID = List.of("id");

  final InMemoryBucketStorage storage = new InMemoryBucketStorage();
  final long version = storage.addRulesVersion("rules").id();
  final BucketStorageWriter writer = storage.openWriter(version);
  final List<EvaluationError> errors = new ArrayList<>();
  final BatchBuilder builder = new BatchBuilder(RULES, writer, errors::add);
  long position;

  @AfterEach
  void close() {
    writer.close();
    storage.close();
  }

  static SourceRow todo(String id, String list, String status, String title) {
    return SourceRow.builder()
        .put("id", id)
        .put("list_id", list)
        .put("status", status)
        .put("title", title)
        .build();
  }

  Checkpoint commit(SourceChange... changes) {
    for (SourceChange c : changes) {
      builder.apply(c);
    }
    return builder.commit(String.format("%016x", ++position)).orElseThrow();
  }

  List<OpRecord> ops(String bucket, Checkpoint c) {
    return storage.ops(version, bucket, OpId.ZERO, c.opId(), 1000);
  }

  /**
   * A row larger than the limits is not synced: it leaves the buckets it was in (REMOVE) and its
   * parameter-index entries, is reported, and comes back once a change brings it within the limits.
   */
  @Test
  void a_row_larger_than_the_limits_is_taken_out_until_it_fits_again() {
    List<String> refused = new ArrayList<>();
    builder.rowLimits(
        new RowLimits(16, 30), (key, reason) -> refused.add(key.key() + ": " + reason));
    Checkpoint c1 =
        commit(
            SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "Milk")),
            SourceChange.insert(
                LISTS, ID, SourceRow.builder().put("id", "l1").put("owner_id", "alice").build()));
    assertThat(ops("owned[\"l1\"]", c1)).extracting(OpRecord::op).containsExactly(OpType.PUT);
    Checkpoint c2 =
        commit(
            SourceChange.update(TODOS, ID, null, todo("t1", "l1", "open", "é".repeat(9))),
            SourceChange.update(
                LISTS,
                ID,
                null,
                SourceRow.builder()
                    .put("id", "l1")
                    .put("owner_id", "alice-" + "x".repeat(40))
                    .build()));
    assertThat(refused)
        .containsExactly(
            "[\"t1\"]: column title holds more than 16 bytes",
            "[\"l1\"]: column owner_id holds more than 16 bytes");
    assertThat(ops("owned[\"l1\"]", c2))
        .extracting(OpRecord::op)
        .containsExactly(OpType.PUT, OpType.REMOVE);
    assertThat(ops("by_status[\"open\"]", c2))
        .extracting(OpRecord::op)
        .containsExactly(OpType.PUT, OpType.REMOVE);
    var alice = RULES.querier(RequestContext.forUser("alice"));
    assertThat(alice.dynamicBuckets(l -> storage.lookup(version, c1.opId(), l))).hasSize(1);
    assertThat(alice.dynamicBuckets(l -> storage.lookup(version, c2.opId(), l)))
        .as("out of the index")
        .isEmpty();
    refused.clear();
    Checkpoint c3 =
        commit(SourceChange.update(TODOS, ID, null, todo("t1", "l1", "open", "é".repeat(8))));
    assertThat(refused).isEmpty();
    assertThat(ops("owned[\"l1\"]", c3))
        .extracting(OpRecord::op)
        .containsExactly(OpType.PUT, OpType.REMOVE, OpType.PUT);
    Checkpoint c4 =
        commit(
            SourceChange.update(
                TODOS, ID, null, todo("t1", "l1", "closed-and-more", "0123456789ab")));
    assertThat(refused).singleElement().asString().endsWith("the row holds more than 30 bytes");
    assertThat(ops("owned[\"l1\"]", c4))
        .extracting(OpRecord::op)
        .containsExactly(OpType.PUT, OpType.REMOVE, OpType.PUT, OpType.REMOVE);
  }

  @Test
  void an_insert_puts_the_row_into_every_bucket_it_belongs_to() {
    Checkpoint c = commit(SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "Milk")));
    assertThat(ops("owned[\"l1\"]", c))
        .singleElement()
        .satisfies(
            op -> {
              assertThat(op.op()).isEqualTo(OpType.PUT);
              assertThat(op.data())
                  .isEqualTo(
                      "{\"id\":\"t1\",\"list_id\":\"l1\",\"status\":\"open\",\"title\":\"Milk\"}");
            });
    assertThat(ops("by_status[\"open\"]", c))
        .extracting(OpRecord::data)
        .containsExactly("{\"id\":\"t1\",\"title\":\"Milk\"}");
  }

  @Test
  void an_update_that_leaves_a_bucket_removes_it_there_and_unchanged_data_writes_nothing() {
    commit(SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "Milk")));
    Checkpoint c = commit(SourceChange.update(TODOS, ID, null, todo("t1", "l2", "open", "Milk")));
    assertThat(ops("owned[\"l1\"]", c))
        .extracting(OpRecord::op)
        .containsExactly(OpType.PUT, OpType.REMOVE);
    assertThat(ops("owned[\"l2\"]", c)).extracting(OpRecord::op).containsExactly(OpType.PUT);
    // by_status output (id, title) did not change: no new op there.
    assertThat(ops("by_status[\"open\"]", c)).hasSize(1);
  }

  @Test
  void a_primary_key_change_removes_the_old_row_and_adds_the_new_one() {
    commit(SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "Milk")));
    Checkpoint c =
        commit(
            SourceChange.update(
                TODOS,
                ID,
                SourceRow.builder().put("id", "t1").build(),
                todo("t9", "l1", "open", "Milk")));
    assertThat(ops("owned[\"l1\"]", c))
        .extracting(OpRecord::op, OpRecord::objectId)
        .containsExactly(
            Tuple.tuple(OpType.PUT, "t1"),
            Tuple.tuple(OpType.REMOVE, "t1"),
            Tuple.tuple(OpType.PUT, "t9"));
  }

  @Test
  void deletes_and_truncates_remove_rows_from_all_their_buckets() {
    commit(
        SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "a")),
        SourceChange.insert(TODOS, ID, todo("t2", "l1", "done", "b")));
    Checkpoint afterDelete =
        commit(SourceChange.delete(TODOS, ID, SourceRow.builder().put("id", "t1").build()));
    assertThat(ops("by_status[\"open\"]", afterDelete))
        .extracting(OpRecord::op)
        .containsExactly(OpType.PUT, OpType.REMOVE);
    Checkpoint afterTruncate = commit(SourceChange.truncate(TODOS));
    assertThat(ops("owned[\"l1\"]", afterTruncate))
        .extracting(OpRecord::op)
        .containsExactly(OpType.PUT, OpType.PUT, OpType.REMOVE, OpType.REMOVE);
    assertThat(ops("by_status[\"done\"]", afterTruncate))
        .extracting(OpRecord::op)
        .containsExactly(OpType.PUT, OpType.REMOVE);
  }

  @Test
  void a_row_changed_twice_in_one_batch_sees_its_own_first_change() {
    Checkpoint c =
        commit(
            SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "a")),
            SourceChange.update(TODOS, ID, null, todo("t1", "l2", "open", "a")));
    assertThat(ops("owned[\"l1\"]", c))
        .extracting(OpRecord::op)
        .containsExactly(OpType.PUT, OpType.REMOVE);
    assertThat(ops("owned[\"l2\"]", c)).extracting(OpRecord::op).containsExactly(OpType.PUT);
  }

  @Test
  void parameter_rows_feed_the_index_and_buckets_follow_ownership() {
    Checkpoint c1 =
        commit(
            SourceChange.insert(
                LISTS, ID, SourceRow.builder().put("id", "l1").put("owner_id", "alice").build()));
    var alice = RULES.querier(RequestContext.forUser("alice"));
    List<ResolvedBucket> at1 = alice.dynamicBuckets(l -> storage.lookup(version, c1.opId(), l));
    assertThat(at1).extracting(b -> b.bucket().name()).containsExactly("owned[\"l1\"]");
    Checkpoint c2 =
        commit(
            SourceChange.update(
                LISTS,
                ID,
                null,
                SourceRow.builder().put("id", "l1").put("owner_id", "bob").build()));
    assertThat(alice.dynamicBuckets(l -> storage.lookup(version, c2.opId(), l))).isEmpty();
    assertThat(alice.dynamicBuckets(l -> storage.lookup(version, c1.opId(), l))).hasSize(1);
    var bob = RULES.querier(RequestContext.forUser("bob"));
    assertThat(bob.dynamicBuckets(l -> storage.lookup(version, c2.opId(), l)))
        .extracting(b -> b.bucket().name())
        .containsExactly("owned[\"l1\"]");
    assertThat(errors).isEmpty();
  }

  /**
   * Storage reads of current rows, counted, for a builder whose source says inserts are of new
   * rows.
   */
  final class CountingReads {
    final List<Integer> reads = new ArrayList<>();
    final BucketStorageWriter counting =
        (BucketStorageWriter)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {BucketStorageWriter.class},
                (p, m, args) -> {
                  if (m.getName().equals("currentRows")) {
                    reads.add(((Collection<?>) args[0]).size());
                  }
                  try {
                    return m.invoke(writer, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    final BatchBuilder newInserts = new BatchBuilder(RULES, counting, errors::add, (t, r) -> false);

    Checkpoint commitAll(SourceChange... changes) {
      newInserts.applyAll(List.of(changes), false, true);
      return newInserts.commit(String.format("%016x", ++position)).orElseThrow();
    }
  }

  @Test
  void inserts_of_a_source_with_new_inserts_are_not_read_from_storage() {
    CountingReads b = new CountingReads();
    Checkpoint c =
        b.commitAll(
            SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "Milk")),
            SourceChange.insert(TODOS, ID, todo("t2", "l1", "open", "Eggs")));
    assertThat(b.reads).isEmpty();
    assertThat(ops("owned[\"l1\"]", c)).extracting(OpRecord::objectId).containsExactly("t1", "t2");
    // An update reads what it changes; a row deleted and inserted again in one group is read once,
    // for the delete.
    c =
        b.commitAll(
            SourceChange.update(TODOS, ID, null, todo("t1", "l2", "open", "Milk")),
            SourceChange.delete(TODOS, ID, todo("t2", "l1", "open", "Eggs")),
            SourceChange.insert(TODOS, ID, todo("t2", "l2", "done", "Eggs")));
    assertThat(b.reads).containsExactly(2);
    assertThat(ops("owned[\"l1\"]", c))
        .extracting(OpRecord::op, OpRecord::objectId)
        .endsWith(Tuple.tuple(OpType.REMOVE, "t1"), Tuple.tuple(OpType.REMOVE, "t2"));
    assertThat(ops("owned[\"l2\"]", c)).extracting(OpRecord::objectId).containsExactly("t1", "t2");
  }

  @Test
  void a_truncate_before_inserting_the_same_rows_again_still_removes_them_from_their_old_buckets() {
    CountingReads b = new CountingReads();
    b.commitAll(SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "Milk")));
    Checkpoint c =
        b.commitAll(
            SourceChange.truncate(TODOS),
            SourceChange.insert(TODOS, ID, todo("t1", "l2", "open", "Milk")));
    assertThat(lastOps("owned[\"l1\"]", c)).isEqualTo(OpType.REMOVE);
    assertThat(lastOps("owned[\"l2\"]", c)).isEqualTo(OpType.PUT);
  }

  @Test
  void a_replayed_insert_of_a_stored_row_ends_right_once_its_later_changes_are_replayed() {
    CountingReads b = new CountingReads();
    // Stored: t1 in l1 after insert and update (a transaction applied before a restart)...
    b.commitAll(SourceChange.insert(TODOS, ID, todo("t1", "l0", "open", "Milk")));
    b.commitAll(SourceChange.update(TODOS, ID, null, todo("t1", "l1", "open", "Milk")));
    // ...replayed in full: the insert is taken as new, the update that follows moves the row on.
    Checkpoint c =
        b.commitAll(
            SourceChange.insert(TODOS, ID, todo("t1", "l0", "open", "Milk")),
            SourceChange.update(TODOS, ID, null, todo("t1", "l1", "open", "Milk")));
    assertThat(lastOps("owned[\"l0\"]", c)).isEqualTo(OpType.REMOVE);
    assertThat(lastOps("owned[\"l1\"]", c)).isEqualTo(OpType.PUT);
    assertThat(
            writer
                .currentRows(List.of(BatchBuilder.key(TODOS, ID, todo("t1", "", "", ""))))
                .values())
        .singleElement()
        .satisfies(
            row ->
                assertThat(row.placements())
                    .extracting(p -> p.bucket())
                    .containsExactlyInAnyOrder("owned[\"l1\"]", "by_status[\"open\"]"));
  }

  private OpType lastOps(String bucket, Checkpoint c) {
    List<OpRecord> all = ops(bucket, c);
    return all.get(all.size() - 1).op();
  }

  @Test
  void row_images_are_kept_only_for_tables_that_need_them() {
    BatchBuilder withImages =
        new BatchBuilder(RULES, writer, errors::add, (t, row) -> t.equals(TODOS));
    SourceRow row = todo("t1", "l1", "open", "Milk");
    withImages.apply(SourceChange.insert(TODOS, ID, row));
    withImages.apply(
        SourceChange.insert(
            LISTS, ID, SourceRow.builder().put("id", "l1").put("owner_id", "a").build()));
    withImages.commit("0001");
    var stored =
        writer.currentRows(
            List.of(
                BatchBuilder.key(TODOS, ID, row),
                BatchBuilder.key(LISTS, ID, SourceRow.builder().put("id", "l1").build())));
    assertThat(stored.get(BatchBuilder.key(TODOS, ID, row)).image()).isEqualTo(row);
    assertThat(
            stored
                .get(BatchBuilder.key(LISTS, ID, SourceRow.builder().put("id", "l1").build()))
                .image())
        .isNull();
  }

  @Test
  void checksums_of_the_log_match_what_a_client_computes() {
    Checkpoint c =
        commit(
            SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "a")),
            SourceChange.insert(TODOS, ID, todo("t2", "l1", "open", "b")),
            SourceChange.delete(TODOS, ID, SourceRow.builder().put("id", "t1").build()));
    long expected = 0;
    for (OpRecord op : ops("owned[\"l1\"]", c)) {
      expected = OpChecksums.add(expected, op.checksum());
    }
    assertThat(
            storage
                .checksums(version, List.of("owned[\"l1\"]"), null, c.opId())
                .get("owned[\"l1\"]")
                .checksum())
        .isEqualTo(expected);
  }

  @Test
  void grouped_changes_read_stored_rows_once_and_give_the_same_ops_as_one_by_one() {
    commit(
        SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "Milk")),
        SourceChange.insert(TODOS, ID, todo("t2", "l1", "open", "Eggs")));
    List<SourceChange> group =
        List.of(
            SourceChange.update(TODOS, ID, null, todo("t1", "l1", "done", "Milk")),
            SourceChange.insert(TODOS, ID, todo("t3", "l2", "open", "Tea")),
            SourceChange.update(TODOS, ID, null, todo("t3", "l2", "done", "Tea")),
            SourceChange.delete(TODOS, ID, SourceRow.builder().put("id", "t2").build()),
            SourceChange.update(
                TODOS, ID, todo("t1", "l1", "done", "Milk"), todo("t9", "l1", "done", "Milk")));
    builder.applyAll(group);
    Checkpoint grouped = builder.commit(String.format("%016x", ++position)).orElseThrow();

    InMemoryBucketStorage other = new InMemoryBucketStorage();
    long v = other.addRulesVersion("rules").id();
    try (BucketStorageWriter w = other.openWriter(v)) {
      BatchBuilder single = new BatchBuilder(RULES, w, errors::add);
      single.apply(SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "Milk")));
      single.apply(SourceChange.insert(TODOS, ID, todo("t2", "l1", "open", "Eggs")));
      single.commit("1");
      group.forEach(single::apply);
      Checkpoint c = single.commit("2").orElseThrow();
      for (String bucket :
          List.of("owned[\"l1\"]", "owned[\"l2\"]", "by_status[\"open\"]", "by_status[\"done\"]")) {
        assertThat(ops(bucket, grouped))
            .extracting(OpRecord::op, OpRecord::objectId, OpRecord::data)
            .as(bucket)
            .isEqualTo(
                other.ops(v, bucket, OpId.ZERO, c.opId(), 1000).stream()
                    .map(o -> Tuple.tuple(o.op(), o.objectId(), o.data()))
                    .toList());
      }
      assertThat(ops("owned[\"l1\"]", grouped)).extracting(OpRecord::objectId).contains("t9");
    }
    other.close();
  }

  @Test
  void the_next_batch_builds_on_a_batch_still_being_committed() {
    builder.applyAll(
        List.of(
            SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "Milk")),
            SourceChange.insert(TODOS, ID, todo("t2", "l1", "open", "Eggs"))));
    var first = builder.takeBatch(String.format("%016x", ++position));
    // Not in storage yet: the next changes must still see t1 and t2 (moved, removed, truncated).
    builder.applyAll(
        List.of(SourceChange.update(TODOS, ID, null, todo("t1", "l2", "open", "Milk"))));
    builder.apply(SourceChange.truncate(TODOS));
    writer.commit(first);
    builder.committed();
    Checkpoint c = builder.commit(String.format("%016x", ++position)).orElseThrow();
    assertThat(ops("owned[\"l1\"]", c))
        .extracting(OpRecord::op, OpRecord::objectId)
        .containsExactly(
            Tuple.tuple(OpType.PUT, "t1"), Tuple.tuple(OpType.PUT, "t2"),
            Tuple.tuple(OpType.REMOVE, "t1"), Tuple.tuple(OpType.REMOVE, "t2"));
    assertThat(ops("owned[\"l2\"]", c))
        .extracting(OpRecord::op)
        .containsExactly(OpType.PUT, OpType.REMOVE);
    assertThat(
            writer.currentRows(
                List.of(BatchBuilder.key(TODOS, ID, todo("t1", "l2", "open", "Milk")))))
        .as("truncated")
        .isEmpty();
  }

  @Test
  void batches_taken_one_after_another_keep_the_newest_state_of_each_row_until_it_is_committed() {
    CountingReads b = new CountingReads();
    BatchBuilder builder = b.newInserts;
    SourceRow t1Key = SourceRow.builder().put("id", "t1").build();
    // Batch 1: new rows (t1 declared new by its insert, t2 read absent from storage).
    builder.applyAll(
        List.of(
            SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "Milk")),
            SourceChange.update(TODOS, ID, null, todo("t2", "l1", "open", "Eggs"))),
        false,
        true);
    var first = builder.takeBatch(null);
    assertThat(first.newRows())
        .extracting(k -> k.key())
        .containsExactlyInAnyOrder("[\"t1\"]", "[\"t2\"]");
    // Batch 2, while batch 1 is outstanding: t1 moves on (not new: batch 1 holds it), t3 is new.
    builder.applyAll(
        List.of(
            SourceChange.update(TODOS, ID, null, todo("t1", "l2", "open", "Milk")),
            SourceChange.insert(TODOS, ID, todo("t3", "l2", "open", "Tea"))),
        false,
        true);
    var second = builder.takeBatch(null);
    assertThat(second.newRows()).extracting(k -> k.key()).containsExactly("[\"t3\"]");
    assertThat(b.reads).as("read once, for batch 1's update of t2").containsExactly(1);
    // Batch 1 lands; t1's newest state is still batch 2's, which storage does not hold yet.
    writer.commit(first);
    builder.committed();
    assertThat(builder.currentRow(BatchBuilder.key(TODOS, ID, t1Key)).placements())
        .extracting(p -> p.bucket())
        .contains("owned[\"l2\"]")
        .doesNotContain("owned[\"l1\"]");
    builder.applyAll(List.of(SourceChange.delete(TODOS, ID, t1Key)), false, true);
    var third = builder.takeBatch(String.format("%016x", ++position));
    assertThat(third.ops())
        .extracting(o -> o.op(), o -> o.bucket())
        .containsExactlyInAnyOrder(
            Tuple.tuple(OpType.REMOVE, "owned[\"l2\"]"),
            Tuple.tuple(OpType.REMOVE, "by_status[\"open\"]"));
    writer.commit(second);
    builder.committed();
    writer.commit(third);
    builder.committed();
    // Everything committed: the builder forgets the rows and reads them from storage again.
    builder.applyAll(
        List.of(SourceChange.update(TODOS, ID, null, todo("t3", "l3", "open", "Tea"))),
        false,
        true);
    assertThat(b.reads).containsExactly(1, 1);
    var fourth = builder.takeBatch(String.format("%016x", ++position));
    assertThat(fourth.ops())
        .extracting(o -> o.op(), o -> o.bucket())
        .contains(Tuple.tuple(OpType.REMOVE, "owned[\"l2\"]"));
    assertThat(fourth.newRows()).isEmpty();
    Assertions.assertThatThrownBy(
            () -> {
              builder.committed();
              builder.committed();
            })
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void a_row_in_many_buckets_is_put_once_per_bucket_skipped_when_unchanged_and_removed_from_each() {
    StringBuilder yaml = new StringBuilder("bucket_definitions:\n");
    for (int i = 0; i < 12; i++) {
      yaml.append("  b").append(i).append(":\n    data:\n      - SELECT id, title FROM todos\n");
    }
    SyncRules many =
        SyncRulesCompiler.compile(SyncRulesSource.ofYaml(yaml.toString(), "many.yaml"));
    BatchBuilder b = new BatchBuilder(many, writer, errors::add);
    b.apply(SourceChange.insert(TODOS, ID, todo("t1", "l1", "open", "Milk")));
    assertThat(b.takeBatch("1").ops()).hasSize(12).allMatch(o -> o.op() == OpType.PUT);
    b.apply(SourceChange.update(TODOS, ID, null, todo("t1", "l2", "done", "Milk")));
    assertThat(b.takeBatch("2").ops()).as("columns no bucket syncs changed").isEmpty();
    b.apply(SourceChange.update(TODOS, ID, null, todo("t1", "l2", "done", "Tea")));
    assertThat(b.takeBatch("3").ops()).hasSize(12).allMatch(o -> o.op() == OpType.PUT);
    b.apply(SourceChange.delete(TODOS, ID, SourceRow.builder().put("id", "t1").build()));
    assertThat(b.takeBatch("4").ops())
        .extracting(o -> o.bucket())
        .hasSize(12)
        .doesNotHaveDuplicates()
        .allMatch(bucket -> bucket.startsWith("b"));
  }
}
