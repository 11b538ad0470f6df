package dev.syncline.testkit.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.BucketStorage.PartialChecksum;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.CurrentRow;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.Placement;
import dev.syncline.spi.storage.SourceKey;
import dev.syncline.spi.storage.WriteBatch;
import dev.syncline.spi.storage.WriteCheckpointKey;
import dev.syncline.testkit.postgres.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The JDBC storage's schema migrations on Postgres: an older database is upgraded in place, a newer
 * one refused.
 */
class JdbcBucketStorageMigrationTest {
  @RegisterExtension static final TestPostgres POSTGRES = new TestPostgres();

  @Test
  void a_version_1_database_gets_bytewise_key_collations_and_keeps_its_data() throws Exception {
    long version;
    Checkpoint written;
    try (JdbcBucketStorage storage =
        JdbcBucketStorage.builder(POSTGRES.dataSource()).tablePrefix("m1_").build()) {
      version = storage.addRulesVersion("bucket_definitions: {}").id();
      try (BucketStorageWriter w = storage.openWriter(version)) {
        written =
            w.commit(
                    new WriteBatch(
                        List.of(new NewOp("b[\"é\"]", OpType.PUT, "todos", "t1", "s1", "{}", 7)),
                        List.of(),
                        List.of(),
                        List.of(),
                        "0001"))
                .orElseThrow();
      }
    }
    // What version 1 created: the database's default collation, no op-pack columns, and no row for
    // version 2.
    try (Connection c = POSTGRES.dataSource().getConnection();
        Statement st = c.createStatement()) {
      undoVersion5(st, "m1_");
    }
    POSTGRES.execute(
        "DELETE FROM m1_schema_version WHERE version >= 2",
        "ALTER TABLE m1_bucket_data DROP COLUMN first_op_id, DROP COLUMN op_count",
        "ALTER TABLE m1_bucket_data ALTER COLUMN bucket TYPE varchar(2000) COLLATE \"default\"",
        "ALTER TABLE m1_current_data ALTER COLUMN source_table TYPE varchar(500) COLLATE \"default\", "
            + "ALTER COLUMN source_key TYPE varchar(2000) COLLATE \"default\"",
        "ALTER TABLE m1_parameters ALTER COLUMN lookup TYPE varchar(2000) COLLATE \"default\", "
            + "ALTER COLUMN source_table TYPE varchar(500) COLLATE \"default\", "
            + "ALTER COLUMN source_key TYPE varchar(2000) COLLATE \"default\"");
    assertThat(collations("m1_")).doesNotContain("C");

    try (JdbcBucketStorage storage =
        JdbcBucketStorage.builder(POSTGRES.dataSource()).tablePrefix("m1_").build()) {
      assertThat(collations("m1_")).containsOnly("C").hasSize(6);
      assertThat(schemaVersions("m1_")).containsExactly(1, 2, 3, 4, 5);
      List<OpRecord> ops = storage.ops(version, "b[\"é\"]", OpId.ZERO, written.opId(), 10);
      assertThat(ops).extracting(OpRecord::objectId).containsExactly("t1");
    }
  }

  @Test
  void a_version_2_database_on_postgres_gets_its_current_row_keys_rewritten() throws Exception {
    assertVersion2KeysAreRewritten(POSTGRES.dataSource(), "m3_");
  }

  @Test
  void a_version_2_database_on_h2_gets_its_current_row_keys_rewritten() throws Exception {
    assertVersion2KeysAreRewritten(h2(), "m3_");
  }

  /**
   * Version 2 stored current rows under their source keys; version 3 under {@code
   * StorageCodec.storedKey}. Rows written by version 3 are turned back into what version 2 wrote;
   * after the upgrade the writer finds each of them again (a miss would re-add rows without
   * removing their old ops), lists them and deletes them by key.
   */
  private static void assertVersion2KeysAreRewritten(DataSource ds, String prefix)
      throws Exception {
    TableRef table = TableRef.of("public", "items");
    List<String> keys =
        List.of(
            "[0]",
            "[7]",
            "[10]",
            "[123456]",
            "[9223372036854775807]",
            "[-1]",
            "[1,2]",
            "[\"a\"]",
            "[12345678901234567890]",
            "plain",
            "");
    long version;
    try (JdbcBucketStorage storage = JdbcBucketStorage.builder(ds).tablePrefix(prefix).build()) {
      version = storage.addRulesVersion("bucket_definitions: {}").id();
      try (BucketStorageWriter w = storage.openWriter(version)) {
        w.commit(
            new WriteBatch(
                List.of(),
                keys.stream().map(k -> row(table, k)).toList(),
                List.of(),
                List.of(),
                "0001"));
      }
    }
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      // What version 2 stored: the keys themselves.
      s.execute(
          "UPDATE \""
              + prefix
              + "current_data\" SET \"source_key\" = SUBSTRING(\"source_key\", 2) "
              + "WHERE \"source_key\" NOT LIKE '[%'");
      s.execute("DELETE FROM \"" + prefix + "schema_version\" WHERE \"version\" >= 3");
      undoVersion5(s, prefix);
      undoVersion4(s, prefix);
    }
    assertThat(storedKeys(ds, prefix)).containsExactlyInAnyOrderElementsOf(keys);

    try (JdbcBucketStorage storage = JdbcBucketStorage.builder(ds).tablePrefix(prefix).build();
        BucketStorageWriter w = storage.openWriter(version)) {
      assertThat(storedKeys(ds, prefix))
          .contains("a[0]", "b[10]", "f[123456]", "[-1]", "[1,2]", "~plain", "~");
      Map<SourceKey, CurrentRow> found =
          w.currentRows(keys.stream().map(k -> new SourceKey(table, k)).toList());
      assertThat(found).hasSize(keys.size());
      found.forEach((k, r) -> assertThat(r.placements().get(0).rowId()).isEqualTo(k.key()));
      List<String> listed = new ArrayList<>();
      w.forEachRow(table, r -> listed.add(r.key().key()));
      assertThat(listed).containsExactlyInAnyOrderElementsOf(keys);
      w.commit(
          new WriteBatch(
              List.of(),
              List.of(),
              keys.stream().map(k -> new SourceKey(table, k)).toList(),
              List.of(),
              "0002"));
      assertThat(storedKeys(ds, prefix)).isEmpty();
    }
  }

  /** A fresh in-memory H2 database. */
  private static DataSource h2() {
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL("jdbc:h2:mem:migrate-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    return h2;
  }

  /**
   * Turns write checkpoints back into what version 4 kept: one table keyed by {@code
   * "<user>/<client>"}.
   */
  private static void undoVersion5(Statement s, String prefix) throws SQLException {
    s.execute("DROP TABLE \"" + prefix + "client_checkpoints\"");
    s.execute(
        "CREATE TABLE \""
            + prefix
            + "write_checkpoints\" (\"user_key\" varchar(500) NOT NULL, "
            + "\"checkpoint_id\" bigint NOT NULL, \"position\" varchar(200) NOT NULL, "
            + "PRIMARY KEY (\"user_key\", \"checkpoint_id\"))");
  }

  @Test
  void a_version_4_database_on_postgres_gets_write_checkpoints_keyed_by_user_and_client()
      throws Exception {
    assertVersion4WriteCheckpointsAreSplit(POSTGRES.dataSource(), "m5_");
  }

  @Test
  void a_version_4_database_on_h2_gets_write_checkpoints_keyed_by_user_and_client()
      throws Exception {
    assertVersion4WriteCheckpointsAreSplit(h2(), "m5_");
  }

  /**
   * Version 4 keyed write checkpoints by {@code "<user>/<client>"}; version 5 by user and client
   * apart. Keys are split at their last slash; rows no client could have made are dropped.
   */
  private static void assertVersion4WriteCheckpointsAreSplit(DataSource ds, String prefix)
      throws Exception {
    JdbcBucketStorage.builder(ds).tablePrefix(prefix).build().close();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DELETE FROM \"" + prefix + "schema_version\" WHERE \"version\" >= 5");
      undoVersion5(s, prefix);
      String t = "\"" + prefix + "write_checkpoints\"";
      s.execute(
          "INSERT INTO "
              + t
              + " VALUES ('alice/phone', 1, '0010'), ('alice/phone', 2, '0020'), "
              + "('a/b/c', 7, '0010'), ('bare', 3, '0010'), ('mallory/x', 9223372036854775807, '0010'), "
              + "('eve/"
              + "c".repeat(200)
              + "', 1, '0010')");
    }
    try (JdbcBucketStorage storage = JdbcBucketStorage.builder(ds).tablePrefix(prefix).build()) {
      Checkpoint at = new Checkpoint(OpId.ZERO, "0015");
      Checkpoint later = new Checkpoint(OpId.ZERO, "0030");
      assertThat(storage.writeCheckpoint(key("alice", "phone"), at)).contains(1L);
      assertThat(storage.writeCheckpoint(key("alice", "phone"), later)).contains(2L);
      assertThat(storage.writeCheckpoint(key("a/b", "c"), at)).contains(7L);
      assertThat(storage.writeCheckpoint(key("a", "b/c"), at)).isEmpty();
      assertThat(storage.writeCheckpoint(key("bare", ""), at)).contains(3L);
      assertThat(storage.writeCheckpoint(key("mallory", "x"), at))
          .as("an id beyond what clients may ask")
          .isEmpty();
      assertThat(storage.createWriteCheckpoint(key("alice", "phone"), "0040")).isEqualTo(3);
      assertThat(storage.createWriteCheckpoint(key("mallory", "x"), "0040")).isEqualTo(1);
    }
    try (Connection c = ds.getConnection()) {
      assertThat(c.getMetaData().getTables(null, null, prefix + "write_checkpoints", null).next())
          .as("the old table is gone")
          .isFalse();
    }
  }

  private static WriteCheckpointKey key(String user, String client) {
    return new WriteCheckpointKey(user, client);
  }

  /** Turns the op log back into what version 3 created: no op-pack columns. */
  private static void undoVersion4(Statement s, String prefix) throws SQLException {
    s.execute("ALTER TABLE \"" + prefix + "bucket_data\" DROP COLUMN \"first_op_id\"");
    s.execute("ALTER TABLE \"" + prefix + "bucket_data\" DROP COLUMN \"op_count\"");
  }

  @Test
  void a_version_3_database_on_postgres_keeps_its_ops_and_packs_new_ones() throws Exception {
    assertVersion3OpsAreKeptAndNewOnesPacked(POSTGRES.dataSource(), "m4_");
  }

  @Test
  void a_version_3_database_on_h2_keeps_its_ops_and_packs_new_ones() throws Exception {
    assertVersion3OpsAreKeptAndNewOnesPacked(h2(), "m4_");
  }

  /**
   * Version 3 stored one op per row; version 4 adds the columns of packs. Ops written before the
   * upgrade are read back with those written after it (packed), and checksums and counts cover
   * both.
   */
  private static void assertVersion3OpsAreKeptAndNewOnesPacked(DataSource ds, String prefix)
      throws Exception {
    long version;
    List<NewOp> before = List.of(put("old1"), put("old2"), put("old3"));
    try (JdbcBucketStorage storage = JdbcBucketStorage.builder(ds).tablePrefix(prefix).build()) {
      version = storage.addRulesVersion("bucket_definitions: {}").id();
    }
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DELETE FROM \"" + prefix + "schema_version\" WHERE \"version\" >= 4");
      undoVersion5(s, prefix);
      undoVersion4(s, prefix);
      long id = 0;
      for (NewOp op : before) { // as version 3 wrote them
        s.execute(
            "INSERT INTO \""
                + prefix
                + "bucket_data\" VALUES ("
                + version
                + ", 'b', "
                + ++id
                + ", 'PUT', "
                + "'todos', '"
                + op.objectId()
                + "', 's', '{}', "
                + op.checksum()
                + ", NULL)");
      }
      s.execute(
          "UPDATE \""
              + prefix
              + "rules\" SET \"last_op_id\" = 3, \"checkpoint_op_id\" = 3, "
              + "\"checkpoint_position\" = '0001'");
    }
    try (JdbcBucketStorage storage = JdbcBucketStorage.builder(ds).tablePrefix(prefix).build();
        BucketStorageWriter w = storage.openWriter(version)) {
      List<NewOp> after = List.of(put("new1"), put("new2"), put("new3"), put("new4"));
      Checkpoint c =
          w.commit(new WriteBatch(after, List.of(), List.of(), List.of(), "0002")).orElseThrow();
      assertThat(c.opId().value()).isEqualTo(7);
      try (Connection conn = ds.getConnection();
          Statement s = conn.createStatement();
          ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM \"" + prefix + "bucket_data\"")) {
        rs.next();
        assertThat(rs.getInt(1)).as("three old rows and one pack").isEqualTo(4);
      }
      assertThat(storage.ops(version, "b", OpId.ZERO, c.opId(), 100))
          .extracting(OpRecord::objectId)
          .containsExactly("old1", "old2", "old3", "new1", "new2", "new3", "new4");
      assertThat(storage.ops(version, "b", new OpId(2), new OpId(5), 100))
          .extracting(OpRecord::objectId)
          .containsExactly("old3", "new1", "new2");
      long sum = 0;
      for (NewOp op : before) {
        sum += op.checksum();
      }
      for (NewOp op : after) {
        sum += op.checksum();
      }
      assertThat(storage.checksums(version, List.of("b"), null, c.opId()).get("b"))
          .isEqualTo(new PartialChecksum(sum & 0xffffffffL, 7, true));
    }
  }

  private static NewOp put(String id) {
    return new NewOp("b", OpType.PUT, "todos", id, "s", "{}", OpChecksums.put("todos", id, "{}"));
  }

  private static CurrentRow row(TableRef table, String key) {
    return new CurrentRow(
        new SourceKey(table, key),
        null,
        List.of(new Placement("global[]", "items", key, 1)),
        List.of());
  }

  private static List<String> storedKeys(DataSource ds, String prefix) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT \"source_key\" FROM \"" + prefix + "current_data\"")) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  @Test
  void a_database_written_by_a_newer_syncline_is_refused_with_a_clear_error() {
    JdbcBucketStorage.builder(POSTGRES.dataSource()).tablePrefix("m2_").build().close();
    POSTGRES.execute("INSERT INTO m2_schema_version VALUES (99)");
    assertThatThrownBy(
            () -> JdbcBucketStorage.builder(POSTGRES.dataSource()).tablePrefix("m2_").build())
        .isInstanceOfSatisfying(
            SynclineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.STORAGE_FAILED);
              assertThat(e.getMessage()).contains("99").contains("upgrade Syncline");
            });
  }

  /** The collations of the key columns version 2 changes, by name (e.g. "C" or "default"). */
  private static List<String> collations(String prefix) throws SQLException {
    return strings(
        "SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation "
            + "WHERE (a.attrelid = '"
            + prefix
            + "bucket_data'::regclass AND a.attname = 'bucket') "
            + "OR (a.attrelid = '"
            + prefix
            + "current_data'::regclass AND a.attname IN ('source_table', 'source_key')) "
            + "OR (a.attrelid = '"
            + prefix
            + "parameters'::regclass "
            + "AND a.attname IN ('lookup', 'source_table', 'source_key'))");
  }

  private static List<Integer> schemaVersions(String prefix) throws SQLException {
    return strings("SELECT version FROM " + prefix + "schema_version ORDER BY version").stream()
        .map(Integer::valueOf)
        .toList();
  }

  private static List<String> strings(String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = POSTGRES.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }
}
