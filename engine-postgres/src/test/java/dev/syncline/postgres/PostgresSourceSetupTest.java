package dev.syncline.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.engine.ReplicationState;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.replicate.Replicator;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.source.ChangeSink;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.source.SourcePosition;
import dev.syncline.spi.source.SourceStart;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.postgres.TestPostgres;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Set-up checks with typed errors, the §8 type table through snapshot and stream, durable Postgres
 * storage.
 */
class PostgresSourceSetupTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final ChangeSink NO_SINK =
      new ChangeSink() {
        @Override
        public void accept(SourceChange change) {
          throw new AssertionError("no change expected");
        }

        @Override
        public void commit(SourcePosition position) {
          throw new AssertionError("no commit expected");
        }

        @Override
        public void flush() {}

        @Override
        public void snapshotProgress(TableRef table, String cursor) {}

        @Override
        public void snapshotDone(TableRef table) {}
      };

  private static SourceStart start(String... tables) {
    return new SourceStart(
        1,
        Arrays.stream(tables).map(t -> new TablePattern("default", "public", t)).toList(),
        null,
        Set.of(),
        Map.of());
  }

  private PostgresSource.Builder source() {
    return PostgresSource.builder()
        .jdbcUrl(postgres.jdbcUrl())
        .user(postgres.user())
        .password(postgres.password())
        .slotPrefix("t_setup");
  }

  @Test
  void tablesWithoutIdentityAreRefusedWithWhatToChange() {
    try (var h = new ReplicationHarness(postgres, "bucket_definitions: {}", "t_nopk")) {
      h.sql(
          "CREATE TABLE nopk (a int, b text)",
          "CREATE TABLE nothing (id int PRIMARY KEY)",
          "ALTER TABLE nothing REPLICA IDENTITY NOTHING");
      try (PostgresSource s = source().build()) {
        assertThatThrownBy(() -> s.run(start("nopk", "nothing"), NO_SINK))
            .isInstanceOfSatisfying(
                SynclineException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_MISCONFIGURED))
            .hasMessageContaining("public.nopk has no primary key")
            .hasMessageContaining("public.nothing has REPLICA IDENTITY NOTHING")
            .hasMessageContaining("REPLICA IDENTITY USING INDEX");
      }
      h.sql("DROP TABLE nopk, nothing");
    }
  }

  @Test
  void aUserManagedPublicationMustExistAndCoverTheTables() {
    try (var h = new ReplicationHarness(postgres, "bucket_definitions: {}", "t_pub")) {
      h.sql("CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY)");
      try (PostgresSource s = source().publication("mine", false).build()) {
        assertThatThrownBy(() -> s.run(start("a", "b"), NO_SINK))
            .isInstanceOfSatisfying(
                SynclineException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.PUBLICATION_MISSING))
            .hasMessageContaining(
                "CREATE PUBLICATION \"mine\" FOR TABLE \"public\".\"a\", \"public\".\"b\"");
        h.sql("CREATE PUBLICATION mine FOR TABLE a");
        assertThatThrownBy(() -> s.run(start("a", "b"), NO_SINK))
            .isInstanceOfSatisfying(
                SynclineException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.PUBLICATION_INCOMPLETE))
            .hasMessageContaining("ALTER PUBLICATION \"mine\" ADD TABLE \"public\".\"b\"");
        h.sql("ALTER PUBLICATION mine SET (publish = 'insert, update')");
        assertThatThrownBy(() -> s.run(start("a", "b"), NO_SINK))
            .isInstanceOfSatisfying(
                SynclineException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.PUBLICATION_INCOMPLETE))
            .hasMessageContaining("does not publish every change");
      }
      h.sql("DROP PUBLICATION mine", "DROP TABLE a, b");
    }
  }

  @Test
  void aRoleWithoutReplicationRightIsRefused() {
    try (var h = new ReplicationHarness(postgres, "bucket_definitions: {}", "t_role")) {
      h.sql("DROP ROLE IF EXISTS plain", "CREATE ROLE plain LOGIN PASSWORD 'pw'");
      try (PostgresSource s =
          PostgresSource.builder()
              .jdbcUrl(postgres.jdbcUrl())
              .user("plain")
              .password("pw")
              .build()) {
        assertThatThrownBy(() -> s.run(start(), NO_SINK))
            .isInstanceOfSatisfying(
                SynclineException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_MISCONFIGURED))
            .hasMessageContaining("ALTER ROLE \"plain\" WITH REPLICATION");
      }
      h.sql("DROP ROLE plain");
    }
  }

  @Test
  void unreachableServerIsATypedError() {
    try (PostgresSource s =
        PostgresSource.builder()
            .jdbcUrl("jdbc:postgresql://127.0.0.1:1/none?connectTimeout=2")
            .user("x")
            .password("secret")
            .build()) {
      assertThatThrownBy(() -> s.run(start(), NO_SINK))
          .isInstanceOfSatisfying(
              SynclineException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_UNAVAILABLE))
          .hasMessageNotContaining("secret");
    }
  }

  /**
   * Every type of PowerSync protocol §8.3, through the snapshot and through the stream: the same
   * data.
   */
  @Test
  void everyTypeConvertsAsTheProtocolSays() {
    String rules = "bucket_definitions:\n  global:\n    data:\n      - SELECT * FROM types\n";
    try (var h = new ReplicationHarness(postgres, rules, "t_types")) {
      h.sql(
          "DROP TYPE IF EXISTS mood CASCADE",
          "DROP DOMAIN IF EXISTS posint CASCADE",
          "CREATE TYPE mood AS ENUM ('happy', 'sad')",
          "CREATE DOMAIN posint AS int CHECK (VALUE > 0)",
          "CREATE TABLE types (id text PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, "
              + "num numeric(25,5), money money, js json, jb jsonb, d date, ts timestamp, tstz timestamptz, t time, "
              + "ttz timetz, iv interval, u uuid, by bytea, ch char(5), arr int4[], tarr text[], en mood, "
              + "moods mood[], dom posint, lsn pg_lsn, inf timestamptz, dinf date, nan float8, nul text, "
              + "pt point, ip inet)");
      String values =
          "true, -32768, 2147483647, 9223372036854775807, 1.1, 0.1, 12345678901234567890.12345, "
              + "12.34, '{\"b\": 1,  \"a\": [1, 2]}', '{\"b\": 1, \"a\": [1, 2]}', '2024-02-29', "
              + "'2024-02-29 13:45:00.5', '2024-02-29 12:34:56.789+05:30', '13:45:00', '12:00:00+02', "
              + "'1 day 2 hours', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '\\xdeadbeef', 'ab', '{1,NULL,3}', "
              + "'{\"a,b\",NULL,\"c\\\"d\"}', 'happy', '{happy,sad}', 5, '0/16B3748', 'infinity', '-infinity', 'NaN', "
              + "NULL, '(1.5,-2)', '192.168.0.1/24'";
      h.sql("INSERT INTO types VALUES ('snap', " + values + ")");
      h.start();
      h.awaitCaughtUp();
      h.sql("INSERT INTO types VALUES ('stream', " + values + ")");
      Map<String, String> rows = h.assertReplicaMatches("global[]", "types");
      String expected =
          "{\"id\":\"snap\",\"b\":1,\"i2\":-32768,\"i4\":2147483647,\"i8\":9223372036854775807,"
              + "\"f4\":1.1,\"f8\":0.1,\"num\":\"12345678901234567890.12345\",\"money\":\"$12.34\","
              + "\"js\":\"{\\\"b\\\": 1,  \\\"a\\\": [1, 2]}\",\"jb\":\"{\\\"a\\\": [1, 2], \\\"b\\\": 1}\","
              + "\"d\":\"2024-02-29\",\"ts\":\"2024-02-29 13:45:00.5\",\"tstz\":\"2024-02-29 07:04:56.789Z\","
              + "\"t\":\"13:45:00\",\"ttz\":\"12:00:00+02\",\"iv\":\"1 day 02:00:00\","
              + "\"u\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\",\"ch\":\"ab   \",\"arr\":\"[1,null,3]\","
              + "\"tarr\":\"[\\\"a,b\\\",null,\\\"c\\\\\\\"d\\\"]\",\"en\":\"happy\",\"moods\":\"[\\\"happy\\\",\\\"sad\\\"]\","
              + "\"dom\":\"5\",\"lsn\":\"00000000/016B3748\",\"inf\":\"9999-12-31 23:59:59Z\",\"dinf\":\"0000-01-01\","
              + "\"nan\":NaN,\"nul\":null,\"pt\":\"(1.5,-2)\",\"ip\":\"192.168.0.1/24\"}";
      assertThat(rows.get("types/snap")).isEqualTo(expected);
      assertThat(rows.get("types/stream"))
          .as("the stream converts exactly like the snapshot")
          .isEqualTo(expected.replace("\"id\":\"snap\"", "\"id\":\"stream\""));
      h.sql("DROP TABLE types", "DROP TYPE mood", "DROP DOMAIN posint");
    }
  }

  /**
   * Durable storage in Postgres itself, and a second replicator waiting as a standby for the lock.
   */
  @Test
  void postgresStorageWithAStandbyReplicator() {
    JdbcBucketStorage storage =
        JdbcBucketStorage.builder(postgres.dataSource()).tablePrefix("t_standby_").build();
    String rules = "bucket_definitions:\n  global:\n    data:\n      - SELECT * FROM items\n";
    try (storage;
        var h = new ReplicationHarness(postgres, storage, rules, "t_standby")) {
      // Bodies of random text are stored out of line (TOAST): updates that do not touch them need
      // the row images
      // storage wrote (in bulk with COPY) to fill them in.
      h.sql(
          "CREATE TABLE items (id int PRIMARY KEY, n int, body text)",
          "INSERT INTO items SELECT g, g, "
              + "(SELECT string_agg(md5(random()::text || g || i), '') FROM generate_series(1, 200) i) FROM "
              + "generate_series(1, 1000) g");
      h.start();
      h.assertReplicaMatches("global[]", "items");
      try (Replicator standby =
          Replicator.builder()
              .rules(h.rules)
              .storage(storage, h.version)
              .source(h.sourceBuilder().build())
              .identity("standby")
              .build()
              .start()) {
        Await.until(
            () -> standby.status().state() == ReplicationState.STANDBY,
            "the second one to stand by");
        h.sql("UPDATE items SET n = 0 WHERE id <= 10");
        h.assertReplicaMatches("global[]", "items");
        h.stop(); // the active one goes away: the standby takes over
        h.sql("DELETE FROM items WHERE id > 990");
        String head = h.source.writeCheckpointHead().serialize();
        Await.until(
            Duration.ofSeconds(40),
            () -> storage.latestCheckpoint(h.version).orElseThrow().position().compareTo(head) >= 0,
            "the standby to replicate past the delete");
        assertThat(standby.status().state()).isEqualTo(ReplicationState.STREAMING);
        var c = storage.latestCheckpoint(h.version).orElseThrow();
        assertThat(h.bucket("global[]", c)).isEqualTo(h.expected("global[]", "items"));
        assertThat(storage.replicator(h.version)).contains("standby");
      }
    }
  }

  @Test
  void positionsSerializeInWalOrder() {
    List<Lsn> lsns =
        List.of(
            Lsn.parse("0/1"), Lsn.parse("0/FFFFFFFF"), Lsn.parse("1/0"), Lsn.parse("FFFFFFFF/0"));
    for (int i = 1; i < lsns.size(); i++) {
      assertThat(lsns.get(i - 1).compareTo(lsns.get(i))).isNegative();
      assertThat(lsns.get(i - 1).serialize().compareTo(lsns.get(i).serialize())).isNegative();
      assertThat(Lsn.parse(lsns.get(i).serialize())).isEqualTo(lsns.get(i));
    }
    assertThat(Lsn.parse("16/B374D848")).hasToString("16/B374D848");
    assertThatThrownBy(() -> Lsn.parse("nope")).isInstanceOf(SynclineException.class);
    assertThatThrownBy(() -> Lsn.parse("1/2/3")).isInstanceOf(SynclineException.class);
  }
}
