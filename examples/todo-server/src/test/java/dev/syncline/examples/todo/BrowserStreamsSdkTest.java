package dev.syncline.examples.todo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.syncline.testkit.postgres.TestPostgres;
import java.sql.Connection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The official PowerSync web SDK with Sync Streams: the todo server runs its Sync Streams rules,
 * the page subscribes with {@code db.syncStream('list_todos', {list}).subscribe()}, and a
 * subscription's todos arrive, its status is reported, someone else's list brings nothing, and
 * unsubscribing removes the todos. Runs {@code web/test/streams.test.mjs}; needs Chromium like
 * {@link BrowserSdkTest}.
 */
class BrowserStreamsSdkTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  @Test
  void theOfficialWebSdkSubscribesToSyncStreams() throws Exception {
    String chromium = BrowserSdkTest.chromium();
    try (TodoServer server =
        TodoServer.start(
            TodoServer.Config.external(
                    0,
                    postgres.jdbcUrl(),
                    postgres.user(),
                    postgres.password(),
                    true,
                    "todo_streams")
                .withRules(TodoServer.streamsRules()))) {
      JsonNode result = BrowserSdkTest.runScript("streams.test.mjs", server, chromium);
      assertThat(result.get("todosBefore").asInt()).isZero();
      assertThat(result.get("afterForeign").asInt()).isEqualTo(1);
      assertThat(result.get("statuses").toString())
          .contains("\"name\":\"lists\"")
          .contains("\"name\":\"list_todos\"");
    } finally {
      try (Connection c = postgres.dataSource().getConnection()) {
        c.createStatement()
            .execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    + "WHERE slot_name LIKE 'todo_streams%' AND NOT active");
      }
    }
  }
}
