package dev.syncline.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.engine.Syncline;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.ProtocolClient;
import dev.syncline.testkit.ProtocolClient.Subscription;
import dev.syncline.testkit.TestTokens;
import dev.syncline.testkit.postgres.TestPostgres;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Sync Streams end to end: an edition-3 config replicated from a real Postgres, clients subscribing
 * over the wire with parameters, changing their subscriptions on reconnect, priorities, and
 * subscription errors reported without failing the connection. Every checkpoint is verified by
 * checksum as a client does.
 */
class SyncStreamsEndToEndTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final byte[] SECRET =
      "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RULES =
      """
      config:
        edition: 3
      streams:
        my_lists:
          auto_subscribe: true
          priority: 1
          query: SELECT * FROM lists WHERE owner_id = auth.user_id()
        list_todos:
          query: >-
            SELECT * FROM todos WHERE list_id = subscription.parameter('list')
            AND list_id IN (SELECT id FROM lists WHERE owner_id = auth.user_id())
        some_lists:
          query: SELECT * FROM lists WHERE id IN subscription.parameter('ids') AND owner_id = auth.user_id()
      """;

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private String prefix;
  private URI base;

  @BeforeEach
  void start() throws Exception {
    prefix = "str" + Long.toHexString(System.nanoTime() & 0xffffff);
    postgres.execute(
        "DROP TABLE IF EXISTS todos, lists CASCADE",
        "CREATE TABLE lists (id text PRIMARY KEY, name text, owner_id text)",
        "CREATE TABLE todos (id text PRIMARY KEY, description text, list_id text)",
        "INSERT INTO lists VALUES ('A', 'Alice A', 'alice'), ('B', 'Alice B', 'alice'), ('C', 'Bob C', 'bob')",
        "INSERT INTO todos VALUES ('a1', 'a one', 'A'), ('a2', 'a two', 'A'), ('b1', 'b one', 'B'),"
            + " ('c1', 'c one', 'C')");
    JdbcBucketStorage storage =
        JdbcBucketStorage.builder(postgres.dataSource()).tablePrefix(prefix + "_").build();
    closeables.add(storage);
    Syncline engine =
        Syncline.builder()
            .storage(storage)
            .identity("a")
            .name(prefix)
            .source(
                () ->
                    PostgresSource.builder()
                        .jdbcUrl(postgres.jdbcUrl())
                        .user(postgres.user())
                        .password(postgres.password())
                        .publication(prefix + "_pub", true)
                        .slotPrefix(prefix)
                        .statusInterval(Duration.ofMillis(500))
                        .build())
            .rules(SyncRulesSource.ofYaml(RULES, "streams.yaml"))
            .tokenVerifier(
                JwtTokenVerifier.builder().audience("test").hmacSecret(SECRET, null).build())
            .pollInterval(Duration.ofMillis(200))
            .build();
    closeables.add(engine);
    engine.start();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.createContext("/", engine.httpHandler("*"));
    server.start();
    closeables.add(() -> server.stop(0));
    base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    await(() -> engine.health().ready(), "the engine to be ready");
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
    postgres.execute(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE '"
            + prefix
            + "%' AND NOT active");
  }

  @Test
  void aSubscriptionReceivesExactlyItsRowsAndResubscribingMovesBuckets() throws Exception {
    String token = TestTokens.hs256(SECRET, "test").forUser("alice");
    // Alice subscribes to her list A, and to Bob's list C, which her authorization subquery must
    // refuse.
    ProtocolClient client =
        ProtocolClient.connect(
            base,
            token,
            true,
            List.of(
                Subscription.of("list_todos", Map.of("list", "A")),
                Subscription.of("list_todos", Map.of("list", "C"))));
    closeables.add(client);
    client.awaitCheckpoints(1, WAIT);
    assertThat(client.table("lists")).containsOnlyKeys("A", "B");
    assertThat(client.table("todos")).containsOnlyKeys("a1", "a2");
    assertThat(client.bucketPriorities())
        .containsOnly(
            Map.entry("1#my_lists|0[\"alice\"]", 1), Map.entry("1#list_todos|0[\"A\"]", 3));

    JsonNode checkpoint = firstLine(client, "checkpoint");
    assertThat(checkpoint.get("streams").toString())
        .isEqualTo(
            "[{\"name\":\"my_lists\",\"is_default\":true,\"errors\":[]},"
                + "{\"name\":\"list_todos\",\"is_default\":false,\"errors\":[]}]");
    for (JsonNode b : checkpoint.get("buckets")) {
      String expected =
          b.get("bucket").asText().contains("my_lists") ? "[{\"default\":0}]" : "[{\"sub\":0}]";
      assertThat(b.get("subscriptions").toString())
          .as(b.get("bucket").asText())
          .isEqualTo(expected);
    }
    // Priority 1 is completed (and could be published) before the rest.
    List<String> lines = client.lines();
    int partial = indexOf(lines, "partial_checkpoint_complete");
    assertThat(partial).isGreaterThan(0).isLessThan(indexOf(lines, "checkpoint_complete"));
    assertThat(lines.get(partial)).contains("\"priority\":1");

    // Live changes reach exactly the subscribed list.
    postgres.execute(
        "INSERT INTO todos VALUES ('a3', 'a three', 'A'), ('b2', 'b two', 'B'), ('c2', 'c two', 'C')");
    await(() -> client.table("todos").containsKey("a3"), "a3 to arrive");
    assertThat(client.table("todos")).containsOnlyKeys("a1", "a2", "a3");

    // The app switches to list B, at top priority: A's bucket and rows go, B's come. (The count is
    // read once the old stream is closed: it may still complete a checkpoint until then.)
    client.close();
    int done = client.completedCheckpoints();
    ProtocolClient moved =
        ProtocolClient.reconnect(
            base,
            token,
            client,
            true,
            List.of(new Subscription("list_todos", Map.of("list", "B"), 0)));
    closeables.add(moved);
    moved.awaitCheckpoints(done + 1, WAIT);
    assertThat(moved.table("todos")).containsOnlyKeys("b1", "b2");
    assertThat(moved.bucketPriorities())
        .containsOnly(
            Map.entry("1#my_lists|0[\"alice\"]", 1), Map.entry("1#list_todos|0[\"B\"]", 0));
    // The lists bucket was kept: the reconnecting client resumed it instead of downloading it
    // again.
    assertThat(data(moved)).noneMatch(d -> d.contains("my_lists"));

    // Without defaults, only the subscription's bucket remains.
    moved.close();
    done = moved.completedCheckpoints();
    ProtocolClient only =
        ProtocolClient.reconnect(
            base, token, moved, false, List.of(Subscription.of("list_todos", Map.of("list", "B"))));
    closeables.add(only);
    only.awaitCheckpoints(done + 1, WAIT);
    assertThat(only.bucketPriorities()).containsOnlyKeys("1#list_todos|0[\"B\"]");
    assertThat(only.table("lists")).isEmpty();
    assertThat(only.table("todos")).containsOnlyKeys("b1", "b2");
  }

  @Test
  void aBadSubscriptionIsReportedOnItsStreamWhileEverythingElseSyncs() throws Exception {
    String token = TestTokens.hs256(SECRET, "test").forUser("alice");
    ProtocolClient client =
        ProtocolClient.connect(
            base,
            token,
            true,
            List.of(
                Subscription.of("some_lists", Map.of("ids", "not an array")),
                Subscription.of("some_lists", Map.of("ids", List.of("B", "C")))));
    closeables.add(client);
    client.awaitCheckpoints(1, WAIT);
    JsonNode streams = firstLine(client, "checkpoint").get("streams");
    assertThat(streams.get(1).get("name").asText()).isEqualTo("some_lists");
    JsonNode errors = streams.get(1).get("errors");
    assertThat(errors).hasSize(1);
    assertThat(errors.get(0).get("subscription").asInt()).isEqualTo(0);
    assertThat(errors.get(0).get("message").asText())
        .contains("expected a JSON array, got not an array");
    // The second subscription works, and the default stream too; asking for Bob's C gives Alice an
    // empty bucket.
    assertThat(client.bucketPriorities())
        .containsOnlyKeys(
            "1#my_lists|0[\"alice\"]",
            "1#some_lists|0[\"alice\",\"B\"]",
            "1#some_lists|0[\"alice\",\"C\"]");
    assertThat(client.table("lists")).containsOnlyKeys("A", "B");
    assertThat(client.lines()).noneMatch(l -> l.contains("Bob C"));
  }

  private static List<String> data(ProtocolClient client) {
    return client.lines().stream().filter(l -> l.startsWith("{\"data\"")).toList();
  }

  private static int indexOf(List<String> lines, String type) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith("{\"" + type + "\"")) {
        return i;
      }
    }
    return -1;
  }

  private static JsonNode firstLine(ProtocolClient client, String type) throws Exception {
    for (String line : client.lines()) {
      JsonNode n = JSON.readTree(line);
      if (n.has(type)) {
        return n.get(type);
      }
    }
    throw new AssertionError("no " + type + " line in " + client.lines());
  }

  private static void await(BooleanSupplier condition, String what) {
    Await.until(WAIT, condition, what);
  }
}
