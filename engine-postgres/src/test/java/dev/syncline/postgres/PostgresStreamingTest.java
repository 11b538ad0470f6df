package dev.syncline.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.testkit.postgres.TestPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Protocol 2: large in-progress transactions streamed by Postgres before they commit (the
 * walsender's {@code logical_decoding_work_mem} is set to 64 kB so that a few thousand rows are
 * "large").
 */
class PostgresStreamingTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final String RULES =
      """
      bucket_definitions:
        global:
          data:
            - SELECT * FROM items
      """;

  private static PostgresSource.Builder streaming(ReplicationHarness h, long spoolMemory) {
    return h.sourceBuilder()
        .property("options", "-c logical_decoding_work_mem=64kB")
        .streamLargeTransactions(true, spoolMemory);
  }

  @Test
  void committedAbortedAndPartlyRolledBackLargeTransactions() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_stream")) {
      h.sql("CREATE TABLE items (id int PRIMARY KEY, v text)");
      h.start(streaming(h, 64L * 1024 * 1024));
      h.awaitCaughtUp();
      h.sql("INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 20000) g");
      assertThat(h.assertReplicaMatches("global[]", "items")).hasSize(20_000);
      assertThat(h.source.streamedTransactions.get())
          .as("the transaction arrived streamed")
          .isPositive();

      h.sql(
          "BEGIN",
          "INSERT INTO items SELECT g, 'aborted' FROM generate_series(100001, 120000) g",
          "ROLLBACK");
      h.sql(
          "BEGIN",
          "UPDATE items SET v = 'kept' WHERE id <= 10000",
          "SAVEPOINT s",
          "UPDATE items SET v = 'rolled back' WHERE id > 10000",
          "INSERT INTO items SELECT g, 'gone' FROM " + "generate_series(200001, 210000) g",
          "ROLLBACK TO SAVEPOINT s",
          "DELETE FROM items WHERE id > 19000",
          "COMMIT");
      Map<String, String> rows = h.assertReplicaMatches("global[]", "items");
      assertThat(rows)
          .hasSize(19_000)
          .containsEntry("items/1", "{\"id\":1,\"v\":\"kept\"}")
          .containsEntry("items/10001", "{\"id\":10001,\"v\":\"v10001\"}");
      assertThat(h.source.streamedTransactions.get()).isGreaterThanOrEqualTo(2);
    }
  }

  @Test
  void aSmallTransactionCommittedMeanwhileIsVisibleFirst() throws Exception {
    try (var h = new ReplicationHarness(postgres, RULES, "t_interleave")) {
      h.sql("CREATE TABLE items (id int PRIMARY KEY, v text)");
      h.start(
          streaming(
              h, 1024)); // a tiny memory limit: the streamed transaction goes to a temporary file
      h.awaitCaughtUp();
      try (Connection big = postgres.dataSource().getConnection();
          Statement s = big.createStatement()) {
        big.setAutoCommit(false);
        s.execute("INSERT INTO items SELECT g, 'big' FROM generate_series(1, 20000) g");
        h.sql("INSERT INTO items VALUES (-1, 'small')");
        Map<String, String> visible = h.bucket("global[]", h.awaitCaughtUp());
        assertThat(visible).as("the small transaction only").containsOnlyKeys("items/-1");
        big.commit();
      }
      assertThat(h.assertReplicaMatches("global[]", "items")).hasSize(20_001);
      assertThat(h.source.streamedTransactions.get()).isPositive();
    }
  }

  @Test
  void protocolOneStillWorks() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_proto1")) {
      h.sql("CREATE TABLE items (id int PRIMARY KEY, v text)");
      h.start(
          h.sourceBuilder()
              .property("options", "-c logical_decoding_work_mem=64kB")
              .streamLargeTransactions(false, 0));
      h.awaitCaughtUp();
      h.sql("INSERT INTO items SELECT g, 'v' FROM generate_series(1, 20000) g");
      assertThat(h.assertReplicaMatches("global[]", "items")).hasSize(20_000);
      assertThat(h.source.streamedTransactions.get()).isZero();
    }
  }
}
