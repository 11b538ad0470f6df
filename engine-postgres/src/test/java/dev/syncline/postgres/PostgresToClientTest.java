package dev.syncline.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.core.stream.JdkHttpSyncServer;
import dev.syncline.core.stream.SyncService;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.ProtocolClient;
import dev.syncline.testkit.TestTokens;
import dev.syncline.testkit.postgres.TestPostgres;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole path: rows written to Postgres reach a protocol-speaking client over HTTP (logical
 * replication → rules → durable Postgres bucket storage → sync stream), checksums verified by the
 * client; parameter changes move buckets; a write checkpoint taken from Postgres' WAL position
 * resolves.
 */
class PostgresToClientTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final byte[] SECRET =
      "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String RULES =
      """
      bucket_definitions:
        owned:
          parameters: SELECT id AS list_id FROM lists WHERE owner_id = request.user_id()
          data:
            - SELECT * FROM lists WHERE id = bucket.list_id
            - SELECT * FROM todos WHERE list_id = bucket.list_id
      """;

  private static String token(String user) {
    return TestTokens.hs256(SECRET, "test").forUser(user);
  }

  @Test
  void rowsWrittenToPostgresReachTheClient() throws Exception {
    JdbcBucketStorage storage =
        JdbcBucketStorage.builder(postgres.dataSource()).tablePrefix("e2e_").build();
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    ExecutorService http = Executors.newFixedThreadPool(2);
    try (storage;
        var h = new ReplicationHarness(postgres, storage, RULES, "t_e2e")) {
      h.sql(
          "CREATE TABLE lists (id uuid PRIMARY KEY, created_at timestamptz, name text, owner_id text)",
          "CREATE TABLE todos (id uuid PRIMARY KEY, created_at timestamptz, completed_at timestamptz, "
              + "description text, completed boolean, created_by text, completed_by text, list_id uuid)",
          "INSERT INTO lists VALUES ('00000000-0000-0000-0000-00000000000a', '2024-01-01 10:00:00+00', 'Groceries', "
              + "'alice')",
          "INSERT INTO todos VALUES ('00000000-0000-0000-0000-0000000000a1', '2024-01-01 10:01:00+00', NULL, "
              + "'Milk', false, 'alice', NULL, '00000000-0000-0000-0000-00000000000a')");
      h.start();
      h.awaitCaughtUp();
      SyncService service =
          SyncService.builder()
              .rules(h.rules)
              .storage(storage, h.version)
              .scheduler(scheduler)
              .tokenVerifier(
                  JwtTokenVerifier.builder().audience("test").hmacSecret(SECRET, null).build())
              .sourceHead(() -> h.source.writeCheckpointHead().serialize())
              .build();
      try (JdkHttpSyncServer server =
              JdkHttpSyncServer.start(new InetSocketAddress("127.0.0.1", 0), service, "*", http);
          service) {
        URI base = server.baseUri();
        String alice = token("alice");
        try (ProtocolClient a = ProtocolClient.connect(base, alice);
            ProtocolClient b = ProtocolClient.connect(base, token("bob"))) {
          a.awaitCheckpoints(1, WAIT);
          b.awaitCheckpoints(1, WAIT);
          assertThat(a.table("todos")).containsOnlyKeys("00000000-0000-0000-0000-0000000000a1");
          assertThat(a.table("todos").get("00000000-0000-0000-0000-0000000000a1"))
              .contains("\"description\":\"Milk\"")
              .contains("\"created_at\":\"2024-01-01 10:01:00Z\"")
              .contains("\"completed\":0");
          assertThat(b.table("todos")).isEmpty();

          // A change in Postgres arrives as a diff and data.
          h.sql(
              "UPDATE todos SET completed = true, completed_by = 'alice' WHERE description = 'Milk'",
              "INSERT INTO todos (id, description, list_id) VALUES ('00000000-0000-0000-0000-0000000000a2', 'Eggs', "
                  + "'00000000-0000-0000-0000-00000000000a')");
          awaitTodos(a, 2);
          assertThat(a.table("todos").get("00000000-0000-0000-0000-0000000000a1"))
              .contains("\"completed\":1");

          // A write checkpoint taken from the WAL position resolves once the stream passes it.
          HttpResponse<String> r =
              HttpClient.newHttpClient()
                  .send(
                      HttpRequest.newBuilder(
                              base.resolve("/write-checkpoint2.json?client_id=protocol-client"))
                          .header("Authorization", "Token " + alice)
                          .build(),
                      HttpResponse.BodyHandlers.ofString());
          assertThat(r.body()).isEqualTo("{\"data\":{\"write_checkpoint\":\"1\"}}");
          Await.untilAsserted(
              WAIT,
              () ->
                  assertThat(a.writeCheckpoint())
                      .as("resolved without any other change")
                      .isEqualTo("1"),
              "the write checkpoint to resolve");

          // Handing the list to bob moves the bucket: bob gets it, alice loses it.
          h.sql("UPDATE lists SET owner_id = 'bob'");
          awaitTodos(b, 2);
          awaitTodos(a, 0);
          assertThat(b.table("lists")).containsOnlyKeys("00000000-0000-0000-0000-00000000000a");
        }
      }
    } finally {
      scheduler.shutdownNow();
      http.shutdownNow();
    }
  }

  private static void awaitTodos(ProtocolClient client, int count) {
    Await.untilAsserted(
        WAIT, () -> assertThat(client.table("todos")).hasSize(count), count + " todos");
  }
}
