package dev.syncline.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.postgres.TestPostgres;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How replication looks at an idle connection: rarely when quiet, at once when changes are
 * announced.
 */
class PostgresIdlePollTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final String RULES =
      """
      bucket_definitions:
        global:
          data:
            - SELECT * FROM items
      """;

  @Test
  void waitsDoubleUpToTheActiveCapThenTheIdleIntervalOnceQuietUnlessChangesAreAnnounced() {
    long second = TimeUnit.SECONDS.toNanos(1);
    var poll = new PostgresSource.PollBackoff(50, 200, 10 * second, 0);
    List<Long> waits = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      waits.add(poll.nextSleepMillis(second));
    }
    assertThat(waits).containsExactly(1L, 2L, 4L, 8L, 16L, 32L, 50L, 50L, 50L);
    assertThat(poll.nextSleepMillis(10 * second - 1)).isEqualTo(50);
    assertThat(poll.nextSleepMillis(10 * second)).as("quiet for 10 s").isEqualTo(200);
    assertThat(poll.nextSleepMillis(60 * second)).isEqualTo(200);

    poll.activity(61 * second);
    assertThat(poll.nextSleepMillis(61 * second)).as("a message arrived").isEqualTo(1);
    assertThat(poll.nextSleepMillis(61 * second)).isEqualTo(2);
    assertThat(poll.nextSleepMillis(71 * second)).isEqualTo(200);

    poll.expect(80 * second);
    assertThat(poll.nextSleepMillis(80 * second)).as("changes announced").isEqualTo(1);
    assertThat(poll.nextSleepMillis(80 * second)).isEqualTo(2);
    assertThat(poll.nextSleepMillis(89 * second)).as("for 10 s").isEqualTo(4);
    assertThat(poll.nextSleepMillis(90 * second)).isEqualTo(200);
  }

  @Test
  void anAnnouncedChangeIsReadAtOnceWhileReplicationWaitsLongBetweenLooks() throws Exception {
    try (var h = new ReplicationHarness(postgres, RULES, "t_idlepoll")) {
      h.sql("CREATE TABLE items (id int PRIMARY KEY, v text)");
      h.start(h.sourceBuilder().idlePollInterval(Duration.ofMinutes(10)).quietAfter(Duration.ZERO));
      Checkpoint caughtUp = h.awaitCaughtUp();
      await(h.source::idleWaiting, "replication waits between looks");

      h.sql(
          "INSERT INTO items VALUES (1, 'one')"); // not looked at for 10 minutes, unless announced:
      h.source.changesExpected();

      await(
          () ->
              !h.bucket("global[]", h.storage.latestCheckpoint(h.version).orElse(caughtUp))
                  .isEmpty(),
          "the announced change arrives");
      assertThat(h.bucket("global[]", h.storage.latestCheckpoint(h.version).orElseThrow()))
          .containsOnlyKeys("items/1");
    }
  }

  @Test
  void anIdleSourceFollowsTheServersWalWithoutWritingStorage() throws Exception {
    // Storage on the source's cluster: a storage write for an idle position would make WAL of its
    // own.
    var storage = JdbcBucketStorage.builder(postgres.dataSource()).tablePrefix("idleack_").build();
    try (storage;
        var h = new ReplicationHarness(postgres, storage, RULES, "t_idleack")) {
      h.sql(
          "CREATE TABLE items (id int PRIMARY KEY, v text)",
          "CREATE TABLE unsynced (id int PRIMARY KEY)");
      h.start(h.sourceBuilder().statusInterval(Duration.ofMillis(100)));
      Checkpoint caughtUp = h.awaitCaughtUp();
      // WAL the stream has nothing of ours in: the slot must still follow it, or the server keeps
      // it all.
      h.sql("INSERT INTO unsynced SELECT g FROM generate_series(1, 1000) g");
      String walEnd = scalar("SELECT pg_current_wal_insert_lsn()::text");
      await(
          () ->
              scalar(
                      "SELECT confirmed_flush_lsn >= '"
                          + walEnd
                          + "'::pg_lsn FROM pg_replication_slots WHERE "
                          + "slot_name = 't_idleack_"
                          + h.version
                          + "'")
                  .equals("t"),
          "the slot passes the unrelated WAL");

      assertThat(storage.latestCheckpoint(h.version))
          .as("no checkpoint written for it")
          .contains(caughtUp);
    }
  }

  @Test
  void aTableCreatedWhileStreamingIsCopiedAndVisibleWithoutAnotherChange() throws Exception {
    String rules =
        """
        bucket_definitions:
          global:
            data:
              - SELECT * FROM items
              - SELECT * FROM later
        """;
    try (var h = new ReplicationHarness(postgres, rules, "t_later")) {
      h.sql("DROP TABLE IF EXISTS later", "CREATE TABLE items (id int PRIMARY KEY, v text)");
      h.start(
          h.sourceBuilder()
              .statusInterval(Duration.ofMillis(100))); // looks for new tables that often
      h.awaitCaughtUp();

      h.sql(
          "CREATE TABLE later (id int PRIMARY KEY, v text)",
          "INSERT INTO later VALUES (1, 'one'), (2, 'two')");
      // Nothing else changes, and nobody asks for a write checkpoint: the copy alone must become
      // visible.
      await(
          () ->
              h.bucket("global[]", h.storage.latestCheckpoint(h.version).orElseThrow()).size() == 2,
          "the new table's rows are visible");

      h.sql("UPDATE later SET v = 'uno' WHERE id = 1"); // and its changes stream from then on
      await(
          () ->
              h.bucket("global[]", h.storage.latestCheckpoint(h.version).orElseThrow())
                  .getOrDefault("later/1", "")
                  .contains("uno"),
          "the new table's change");
      assertThat(h.assertReplicaMatches("global[]", "items", "later")).hasSize(2);
    }
  }

  private static String scalar(String query) {
    try (var c = postgres.dataSource().getConnection();
        var s = c.createStatement();
        var rs = s.executeQuery(query)) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void await(BooleanSupplier condition, String what) {
    Await.until(Duration.ofSeconds(60), condition, what);
  }
}
