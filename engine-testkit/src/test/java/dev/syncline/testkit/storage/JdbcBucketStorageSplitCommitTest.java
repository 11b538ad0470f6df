package dev.syncline.testkit.storage;

import static dev.syncline.testkit.storage.ItemBatches.keys;
import static dev.syncline.testkit.storage.ItemBatches.puts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.SynclineException;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.Placement;
import dev.syncline.spi.storage.WriteBatch;
import dev.syncline.testkit.postgres.TestPostgres;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * On Postgres, a large batch without a position (a chunk of an initial copy) is written on two
 * connections at once: its ops in one transaction, its rows' state in another that commits only
 * after the ops did. Whatever fails, a row's state is never stored without the ops that put it
 * there (a later copy of the row would find it unchanged and write nothing: a loss); the reverse
 * costs only duplicate ops.
 */
class JdbcBucketStorageSplitCommitTest {
  @RegisterExtension static final TestPostgres POSTGRES = new TestPostgres();

  private static final int ROWS = 2_500;

  @Test
  void a_large_batch_without_position_is_stored_whole() {
    try (JdbcBucketStorage storage = storage("s1_")) {
      long version = storage.addRulesVersion("bucket_definitions: {}").id();
      try (BucketStorageWriter w = storage.openWriter(version)) {
        w.commit(puts(0, ROWS, 1, null, true));
        Checkpoint c = w.commit(WriteBatch.keepalive("0001")).orElseThrow();
        assertThat(c.opId()).isEqualTo(new OpId(ROWS));
        assertThat(storage.ops(version, "global[]", OpId.ZERO, c.opId(), ROWS + 1)).hasSize(ROWS);
        assertThat(w.currentRows(keys(0, ROWS)))
            .hasSize(ROWS)
            .allSatisfy((k, r) -> assertThat(r.placements().get(0).checksum()).isEqualTo(1));
      }
    }
  }

  @Test
  void a_wrong_new_rows_hint_in_a_large_batch_still_replaces_the_stored_state() {
    try (JdbcBucketStorage storage = storage("s2_")) {
      long version = storage.addRulesVersion("bucket_definitions: {}").id();
      try (BucketStorageWriter w = storage.openWriter(version)) {
        w.commit(puts(0, ROWS, 1, null, true));
        // The same rows again, claimed new: the insert of their state collides and is repeated
        // without the hint.
        w.commit(puts(0, ROWS, 2, null, true));
        assertThat(w.currentRows(keys(0, ROWS)))
            .hasSize(ROWS)
            .allSatisfy(
                (k, r) ->
                    assertThat(r.placements()).extracting(Placement::checksum).containsExactly(2L));
        Checkpoint c = w.commit(WriteBatch.keepalive("0001")).orElseThrow();
        assertThat(storage.ops(version, "global[]", OpId.ZERO, c.opId(), 3 * ROWS))
            .hasSize(2 * ROWS);
      }
    }
  }

  @Test
  void when_the_ops_fail_no_row_state_is_stored() {
    assertThat(failThenRepeat("s3_", "bucket_data", "1234")).as("no duplicates").hasSize(ROWS);
  }

  @Test
  void when_the_row_state_fails_the_commit_fails_and_a_repeat_stores_it() {
    // The engine repeats what was not covered by a checkpoint; the first attempt's ops may stay as
    // duplicates.
    assertThat(Set.copyOf(failThenRepeat("s4_", "current_data", "[1234]"))).hasSize(ROWS);
  }

  /**
   * Commits a large batch while inserting the row {@code key} into {@code table} fails: the commit
   * fails and no row state is stored. Then, without the failure, commits the batch again and a
   * checkpoint; every row's state is then stored. Returns the object ids of the ops that checkpoint
   * covers.
   */
  private static List<String> failThenRepeat(String prefix, String table, String key) {
    try (JdbcBucketStorage storage = storage(prefix)) {
      long version = storage.addRulesVersion("bucket_definitions: {}").id();
      failInsertsOf(prefix + table, key);
      try (BucketStorageWriter w = storage.openWriter(version)) {
        assertThatThrownBy(() -> w.commit(puts(0, ROWS, 1, null, true)))
            .isInstanceOfSatisfying(
                SynclineException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.STORAGE_FAILED));
        assertThat(w.currentRows(keys(0, ROWS))).as("no state without its ops").isEmpty();
        POSTGRES.execute("DROP TRIGGER fail ON " + prefix + table);
        w.commit(puts(0, ROWS, 1, null, true));
        Checkpoint c = w.commit(WriteBatch.keepalive("0001")).orElseThrow();
        assertThat(w.currentRows(keys(0, ROWS))).hasSize(ROWS);
        return storage.ops(version, "global[]", OpId.ZERO, c.opId(), 3 * ROWS).stream()
            .map(OpRecord::objectId)
            .toList();
      }
    }
  }

  private static JdbcBucketStorage storage(String prefix) {
    return JdbcBucketStorage.builder(POSTGRES.dataSource()).tablePrefix(prefix).build();
  }

  /**
   * Makes inserting a row whose key column ({@code object_id}, or a pack's text, or {@code
   * source_key}) contains {@code key} fail.
   */
  private static void failInsertsOf(String table, String key) {
    String column =
        table.endsWith("bucket_data") ? "coalesce(NEW.object_id, NEW.data)" : "NEW.source_key";
    POSTGRES.execute(
        "CREATE OR REPLACE FUNCTION fail_"
            + table
            + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            + "IF position('"
            + key
            + "' in "
            + column
            + ") > 0 THEN RAISE EXCEPTION 'injected failure'; END IF; "
            + "RETURN NEW; END $$",
        "CREATE TRIGGER fail BEFORE INSERT ON "
            + table
            + " FOR EACH ROW EXECUTE FUNCTION fail_"
            + table
            + "()");
  }
}
