package dev.syncline.testkit.storage;

import static dev.syncline.testkit.storage.ItemBatches.puts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.WriteBatch;
import dev.syncline.testkit.postgres.TestPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A writer that lost its rules version (its lock connection died, or it was closed while a commit
 * was on its way) writes nothing more: every commit is fenced by the rules row naming the writer.
 * Without the fence, its late commit would add ops under op ids the next writer hands out again,
 * and move the checkpoint under the next writer's clients: a checksum that does not match the ops.
 */
class JdbcBucketStorageFencingTest {
  @RegisterExtension static final TestPostgres POSTGRES = new TestPostgres();

  @Test
  void a_writer_that_lost_its_version_writes_nothing_on_postgres() throws Exception {
    assertFenced(POSTGRES.dataSource(), "f1_");
  }

  @Test
  void a_writer_that_lost_its_version_writes_nothing_on_h2() throws Exception {
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL("jdbc:h2:mem:fencing-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    assertFenced(h2, "f2_");
  }

  private static void assertFenced(DataSource ds, String prefix) throws Exception {
    try (JdbcBucketStorage storage = JdbcBucketStorage.builder(ds).tablePrefix(prefix).build()) {
      long version = storage.addRulesVersion("bucket_definitions: {}").id();
      try (BucketStorageWriter a = storage.openWriter(version, "instance-a")) {
        Checkpoint before = a.commit(puts(0, 10, 1, "0001", false)).orElseThrow();
        assertThat(storage.replicator(version)).contains("instance-a");
        // Another instance takes the version over, as it does once a's lock is gone: it names
        // itself in the row.
        try (Connection c = ds.getConnection();
            Statement s = c.createStatement()) {
          s.execute(
              "UPDATE \""
                  + prefix
                  + "rules\" SET \"replicator\" = 'instance-b [0badcafe]' WHERE \"id\" = "
                  + version);
        }
        for (WriteBatch late :
            List.of(
                puts(10, 20, 1, "0002", false),
                puts(10, 20, 1, null, false),
                WriteBatch.keepalive("0003"))) {
          assertThatThrownBy(() -> a.commit(late))
              .isInstanceOfSatisfying(
                  SynclineException.class,
                  e -> assertThat(e.code()).isEqualTo(ErrorCode.REPLICATION_LOCKED));
        }
        assertThatThrownBy(() -> a.setSnapshotProgress(TableRef.of("public", "items"), "[5]"))
            .isInstanceOf(SynclineException.class);
        assertThat(storage.latestCheckpoint(version)).contains(before);
        assertThat(storage.ops(version, "global[]", OpId.ZERO, new OpId(1_000), 1_000)).hasSize(10);
        assertThat(storage.snapshotState(version).progress()).isEmpty();
        assertThat(storage.replicator(version)).contains("instance-b");
      }
    }
  }
}
