package dev.syncline.testkit.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.SynclineException;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.WriteBatch;
import dev.syncline.testkit.postgres.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The JDBC storage's schema migrations on Postgres: an older database is upgraded in place, a newer one refused. */
class JdbcBucketStorageMigrationTest {
  @RegisterExtension
  static final TestPostgres POSTGRES = new TestPostgres();

  @Test
  void a_version_1_database_gets_bytewise_key_collations_and_keeps_its_data() throws Exception {
    long version;
    Checkpoint written;
    try (JdbcBucketStorage storage = JdbcBucketStorage.builder(POSTGRES.dataSource()).tablePrefix("m1_").build()) {
      version = storage.addRulesVersion("bucket_definitions: {}").id();
      try (BucketStorageWriter w = storage.openWriter(version)) {
        written = w.commit(new WriteBatch(List.of(new NewOp("b[\"é\"]", OpType.PUT, "todos", "t1", "s1", "{}", 7)),
            List.of(), List.of(), List.of(), "0001")).orElseThrow();
      }
    }
    // What version 1 created: the database's default collation, and no row for version 2.
    POSTGRES.execute("DELETE FROM m1_schema_version WHERE version = 2",
        "ALTER TABLE m1_bucket_data ALTER COLUMN bucket TYPE varchar(2000) COLLATE \"default\"",
        "ALTER TABLE m1_current_data ALTER COLUMN source_table TYPE varchar(500) COLLATE \"default\", "
            + "ALTER COLUMN source_key TYPE varchar(2000) COLLATE \"default\"",
        "ALTER TABLE m1_parameters ALTER COLUMN lookup TYPE varchar(2000) COLLATE \"default\", "
            + "ALTER COLUMN source_table TYPE varchar(500) COLLATE \"default\", "
            + "ALTER COLUMN source_key TYPE varchar(2000) COLLATE \"default\"");
    assertThat(collations("m1_")).doesNotContain("C");

    try (JdbcBucketStorage storage = JdbcBucketStorage.builder(POSTGRES.dataSource()).tablePrefix("m1_").build()) {
      assertThat(collations("m1_")).containsOnly("C").hasSize(6);
      assertThat(schemaVersions("m1_")).containsExactly(1, 2);
      List<OpRecord> ops = storage.ops(version, "b[\"é\"]", OpId.ZERO, written.opId(), 10);
      assertThat(ops).extracting(OpRecord::objectId).containsExactly("t1");
    }
  }

  @Test
  void a_database_written_by_a_newer_syncline_is_refused_with_a_clear_error() {
    JdbcBucketStorage.builder(POSTGRES.dataSource()).tablePrefix("m2_").build().close();
    POSTGRES.execute("INSERT INTO m2_schema_version VALUES (99)");
    assertThatThrownBy(() -> JdbcBucketStorage.builder(POSTGRES.dataSource()).tablePrefix("m2_").build())
        .isInstanceOfSatisfying(SynclineException.class, e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.STORAGE_FAILED);
          assertThat(e.getMessage()).contains("99").contains("upgrade Syncline");
        });
  }

  /** The collations of the key columns version 2 changes, by name (e.g. "C" or "default"). */
  private static List<String> collations(String prefix) throws SQLException {
    return strings("SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation "
        + "WHERE (a.attrelid = '" + prefix + "bucket_data'::regclass AND a.attname = 'bucket') "
        + "OR (a.attrelid = '" + prefix + "current_data'::regclass AND a.attname IN ('source_table', 'source_key')) "
        + "OR (a.attrelid = '" + prefix + "parameters'::regclass "
        + "AND a.attname IN ('lookup', 'source_table', 'source_key'))");
  }

  private static List<Integer> schemaVersions(String prefix) throws SQLException {
    return strings("SELECT version FROM " + prefix + "schema_version ORDER BY version").stream()
        .map(Integer::valueOf).toList();
  }

  private static List<String> strings(String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = POSTGRES.dataSource().getConnection(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }
}
