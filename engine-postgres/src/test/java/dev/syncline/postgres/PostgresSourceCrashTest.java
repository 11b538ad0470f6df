package dev.syncline.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpId;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.postgres.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Crashes: of Postgres (a killed backend makes the server restart and recover, which moves the
 * slot's confirmed position back so acknowledged transactions are sent again) and of the replicator
 * in the middle of a large transaction. Nothing may be lost, nothing duplicated, and no client may
 * see a partial transaction.
 */
class PostgresSourceCrashTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final String RULES =
      """
      bucket_definitions:
        global:
          data:
            - SELECT * FROM items
            - SELECT * FROM docs
      """;

  /** PUT/REMOVE ops per object id in the bucket up to a checkpoint. */
  private static Map<String, Long> opsPerRow(ReplicationHarness h, Checkpoint c) {
    List<OpRecord> ops = h.storage.ops(h.version, "global[]", OpId.ZERO, c.opId(), 1_000_000);
    return ops.stream().collect(Collectors.groupingBy(OpRecord::objectId, Collectors.counting()));
  }

  /**
   * Kills one server process with SIGKILL: the postmaster then restarts every backend and runs
   * crash recovery.
   */
  private static void crashPostgres() throws SQLException {
    long pid;
    try (Connection c = postgres.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      pid = rs.getLong(1);
      ProcessHandle.of(pid)
          .orElseThrow(() -> new AssertionError("the test server is not local"))
          .destroyForcibly();
    } catch (SQLException expected) {
      // The connection dies with the crash.
    }
    Await.until(
        Duration.ofSeconds(60),
        () -> {
          try (Connection c = postgres.dataSource().getConnection();
              Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            return true;
          } catch (SQLException e) {
            return false;
          }
        },
        "the server to accept connections again");
  }

  @Test
  void postgresCrashReplaysAcknowledgedTransactionsWithoutDuplicates() throws Exception {
    try (var h = new ReplicationHarness(postgres, RULES, "t_crash")) {
      h.sql(
          "CREATE TABLE items (id int PRIMARY KEY, n int)",
          "CREATE TABLE docs (id int PRIMARY KEY, v text)",
          "INSERT INTO items SELECT g, g FROM generate_series(1, 100) g");
      h.start();
      h.assertReplicaMatches("global[]", "items", "docs");
      h.sql("CHECKPOINT"); // the slot's durable state is from here on: later acknowledgements are
      // lost by a crash
      for (int i = 0; i < 20; i++) {
        // The same row changes again and again: a replay that re-applied these would add ops for
        // it.
        h.sql(
            "UPDATE items SET n = n + 1 WHERE id = 1",
            "INSERT INTO docs VALUES (" + i + ", 'd" + i + "')");
      }
      Checkpoint before = h.awaitCaughtUp();
      Map<String, Long> opsBefore = opsPerRow(h, before);

      crashPostgres();
      h.sql("INSERT INTO docs VALUES (1000, 'after the crash')");
      Map<String, String> rows = h.assertReplicaMatches("global[]", "items", "docs");
      assertThat(rows).containsKey("docs/1000");
      Checkpoint after = h.awaitCaughtUp();
      Map<String, Long> opsAfter = opsPerRow(h, after);
      opsAfter.remove("1000");
      assertThat(opsAfter).as("replayed transactions added no ops").isEqualTo(opsBefore);
    }
  }

  @Test
  void replicatorKilledInTheMiddleOfALargeTransaction() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_midtx")) {
      h.sql(
          "CREATE TABLE items (id int PRIMARY KEY, n int)",
          "CREATE TABLE docs (id int PRIMARY KEY, v text)",
          "INSERT INTO items VALUES (0, 0)");
      h.start(h.sourceBuilder().flushEveryChanges(1_000));
      Checkpoint initial = h.awaitCaughtUp();
      h.sql("INSERT INTO items SELECT g, g FROM generate_series(1, 150000) g");
      // Stop while the transaction is being received: parts of it are already in storage,
      // invisible.
      Await.until(
          Duration.ofSeconds(60),
          () ->
              !h.storage
                  .ops(h.version, "global[]", initial.opId(), new OpId(Long.MAX_VALUE), 10)
                  .isEmpty(),
          "the first ops of the transaction to be stored");
      h.stop();
      Checkpoint visible = h.storage.latestCheckpoint(h.version).orElseThrow();
      assertThat(h.bucket("global[]", visible))
          .as("clients see none of the unfinished transaction")
          .containsOnlyKeys("items/0");
      long written =
          h.storage
              .ops(h.version, "global[]", initial.opId(), new OpId(Long.MAX_VALUE), 1_000_000)
              .size();
      assertThat(written).as("parts were written before the stop").isPositive().isLessThan(150_000);

      h.start(h.sourceBuilder().flushEveryChanges(1_000));
      Map<String, String> rows = h.assertReplicaMatches("global[]", "items", "docs");
      assertThat(rows).hasSize(150_001);
      Map<String, Long> ops = opsPerRow(h, h.awaitCaughtUp());
      assertThat(ops.values().stream().filter(n -> n > 1).count())
          .as("rows written twice")
          .isZero();
      assertThat(ops.keySet().stream().collect(Collectors.toMap(Function.identity(), k -> 1)))
          .hasSize(150_001);
    }
  }
}
