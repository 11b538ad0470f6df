package dev.syncline.examples.todo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.engine.ReplicationState;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.testkit.ProtocolClient;
import dev.syncline.testkit.postgres.TestPostgres;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two servers on one database: the replicating one is killed (SIGKILL, no clean shutdown) while
 * rows are being written; the other takes over, and its client ends with every row, each applied
 * once.
 */
class FailoverProcessTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = new ObjectMapper();

  @AfterAll
  static void dropSlots() throws SQLException {
    try (Connection c = postgres.dataSource().getConnection()) {
      c.createStatement()
          .execute(
              "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                  + "WHERE slot_name LIKE 'todo_sync%' AND NOT active");
    }
  }

  @Test
  void theStandbyTakesOverFromAKilledServerWithoutLossOrDuplicates() throws Exception {
    Process a =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "--port",
                "0",
                "--dev",
                "--jdbc-url",
                postgres.jdbcUrl(),
                "--db-user",
                postgres.user(),
                "--db-password",
                postgres.password())
            .redirectErrorStream(true)
            .start();
    List<String> output = new CopyOnWriteArrayList<>();
    try {
      BufferedReader out =
          new BufferedReader(new InputStreamReader(a.getInputStream(), StandardCharsets.UTF_8));
      String line;
      URI baseA = null;
      while ((line = out.readLine()) != null && !line.startsWith("press Ctrl-C")) {
        output.add(line);
        if (line.startsWith("sync endpoint: ")) {
          baseA = URI.create(line.substring("sync endpoint: ".length()));
        }
      }
      assertThat(baseA).as("%s", output).isNotNull();
      Thread drain = new Thread(() -> out.lines().forEach(output::add));
      drain.setDaemon(true);
      drain.start();
      URI infoA = baseA.resolve("/api/info");
      TodoServerTest.await(
          () -> get(infoA).contains("\"replication\":\"STREAMING\""), "server a replicates");

      try (TodoServer b =
          TodoServer.start(
              TodoServer.Config.external(
                  0,
                  postgres.jdbcUrl(),
                  postgres.user(),
                  postgres.password(),
                  true,
                  "todo_sync"))) {
        TodoServerTest.await(
            () -> b.engine().health().replication() == ReplicationState.STANDBY, "b stands by");
        String token =
            JSON.readTree(get(URI.create(b.devTokenUri() + "?user=alice"))).get("token").asText();
        String list = UUID.randomUUID().toString();
        HttpResponse<String> created =
            HTTP.send(
                HttpRequest.newBuilder(b.baseUri().resolve("/api/upload"))
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"client_id\":\"c\",\"ops\":[{\"op\":\"PUT\",\"table\":"
                                + "\"lists\",\"id\":\""
                                + list
                                + "\",\"data\":{\"name\":\"L\",\"owner_id\":\"alice\"}}]}"))
                    .header("Authorization", "Bearer " + token)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        try (ProtocolClient client = ProtocolClient.connect(b.baseUri(), token)) {
          TodoServerTest.await(
              () -> client.table("lists").containsKey(list), "the list arrives through b");
          AtomicInteger written = new AtomicInteger();
          Thread writer =
              new Thread(
                  () -> {
                    try (Connection c = postgres.dataSource().getConnection();
                        PreparedStatement s =
                            c.prepareStatement(
                                "INSERT INTO todos (description, list_id) VALUES (?, ?::uuid)")) {
                      for (int i = 0; i < 300; i++) {
                        s.setString(1, "todo " + i);
                        s.setString(2, list);
                        s.executeUpdate();
                        written.incrementAndGet();
                      }
                    } catch (SQLException e) {
                      throw new IllegalStateException(e);
                    }
                  });
          writer.start();
          // Kill a with the writer mid-way: rows before, during and after the takeover.
          TodoServerTest.await(() -> written.get() >= 30, "the first todos to be written");
          a.destroyForcibly(); // SIGKILL: no shutdown hook, its connections just drop
          assertThat(a.waitFor(30, TimeUnit.SECONDS)).isTrue();
          TodoServerTest.await(
              () -> b.engine().health().replication() == ReplicationState.STREAMING, "b took over");
          writer.join();
          TodoServerTest.await(
              () -> client.table("todos").size() == 300, "every row reaches the client");

          JdbcBucketStorage storage =
              JdbcBucketStorage.builder(postgres.dataSource()).tablePrefix("syncline_").build();
          try (storage) {
            long version = b.engine().health().activeVersion();
            Checkpoint cp = storage.latestCheckpoint(version).orElseThrow();
            long puts =
                storage
                    .ops(
                        version,
                        version + "#owned_lists[\"" + list + "\"]",
                        OpId.ZERO,
                        cp.opId(),
                        100_000)
                    .stream()
                    .filter(o -> o.op() == OpType.PUT && "todos".equals(o.objectType()))
                    .count();
            assertThat(puts).as("one PUT per row: nothing applied twice").isEqualTo(300);
          }
        }
      }
    } finally {
      a.destroyForcibly();
    }
  }

  private static String get(URI uri) {
    try {
      return HTTP.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (Exception e) {
      return "";
    }
  }
}
