package dev.syncline.examples.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.core.engine.Syncline;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.ProtocolClient;
import dev.syncline.testkit.TestTokens;
import dev.syncline.testkit.postgres.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The engine inside Spring Boot: sync endpoints served by Boot's Tomcat, uploads in Spring
 * transactions behind Spring Security, a protocol client verifying checksums.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class TodoApplicationTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final String SECRET = "a-development-secret-of-32-bytes!";
  private static final TestTokens TOKENS =
      TestTokens.hs256(SECRET.getBytes(StandardCharsets.UTF_8), "todo-app");
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    registry.add("spring.datasource.url", postgres::jdbcUrl);
    registry.add("spring.datasource.username", postgres::user);
    registry.add("spring.datasource.password", postgres::password);
    registry.add("syncline.jwt.secret", () -> SECRET);
    registry.add("syncline.slot-prefix", () -> "boot_test");
  }

  private static ConfigurableApplicationContext context;

  @Autowired
  void context(ConfigurableApplicationContext c) {
    context = c;
  }

  /**
   * Stops the engine (it replicates from the test database) and its storage before the extension
   * drops the database; Spring closes the rest of the cached context at the end of the run (closing
   * them again is a no-op).
   */
  @AfterAll
  static void stopEngineAndDropSlots() {
    if (context != null) {
      context.getBean(Syncline.class).close();
      context.getBean(JdbcBucketStorage.class).close();
    }
    new JdbcTemplate(postgres.dataSource())
        .execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM "
                + "pg_replication_slots WHERE slot_name LIKE 'boot_test%' AND NOT active");
  }

  @LocalServerPort int port;

  @Autowired Syncline engine;

  @Autowired JdbcTemplate jdbc;

  private URI base() {
    return URI.create("http://127.0.0.1:" + port);
  }

  @Test
  void uploadsRunInSpringTransactionsAndSyncBackThroughBootsServer() throws Exception {
    String list = UUID.randomUUID().toString();
    String alice = TOKENS.forUser("alice");
    try (ProtocolClient client = ProtocolClient.connect(base(), alice)) {
      client.awaitCheckpoints(1, Duration.ofSeconds(60));
      HttpResponse<String> r =
          upload(
              alice,
              "{\"client_id\":\"protocol-client\",\"transaction_id\":1,\"ops\":["
                  + "{\"op\":\"PUT\",\"table\":\"lists\",\"id\":\""
                  + list
                  + "\",\"data\":{\"name\":\"Boot\","
                  + "\"owner_id\":\"alice\"}}]}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      await(() -> client.table("lists").containsKey(list), "the list syncs back");
      await(
          () -> client.writeCheckpoint() != null,
          "the write checkpoint created after commit resolves");
      assertThat(engine.health().ready()).isTrue();
    }
  }

  @Test
  void aRejectedEntryRollsBackTheWholeSpringTransaction() throws Exception {
    String list = UUID.randomUUID().toString();
    HttpResponse<String> r =
        upload(
            TOKENS.forUser("alice"),
            "{\"client_id\":\"c\",\"transaction_id\":1,\"ops\":["
                + "{\"op\":\"PUT\",\"table\":\"lists\",\"id\":\""
                + list
                + "\",\"data\":{\"name\":\"L\",\"owner_id\":\"alice\"}},"
                + "{\"op\":\"PUT\",\"table\":\"todos\",\"id\":\""
                + UUID.randomUUID()
                + "\",\"data\":{\"description\":\"x\","
                + "\"list_id\":\""
                + list
                + "\",\"completed_at\":\"not a time\"}}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    assertThat(r.body()).contains("\"index\":1");
    assertThat(
            jdbc.queryForObject("SELECT count(*) FROM lists WHERE id = ?::uuid", Long.class, list))
        .isZero();
  }

  @Test
  void springSecurityGuardsTheApiWithTheEnginesTokenVerifier() throws Exception {
    assertThat(upload(null, "{}").statusCode()).isEqualTo(401);
    HttpResponse<String> forged =
        upload(
            TestTokens.hs256(
                    "another-secret-another-secret-123".getBytes(StandardCharsets.UTF_8),
                    "todo-app")
                .forUser("alice"),
            "{}");
    assertThat(forged.statusCode()).isEqualTo(401);
    assertThat(forged.body()).contains("PSYNC_S2102");
    String list = UUID.randomUUID().toString();
    jdbc.update(
        "INSERT INTO lists (id, name, owner_id) VALUES (?::uuid, 'Alice''s', 'alice')", list);
    HttpResponse<String> denied =
        upload(
            TOKENS.forUser("mallory"),
            "{\"client_id\":\"m\",\"ops\":[{\"op\":\"PATCH\","
                + "\"table\":\"lists\",\"id\":\""
                + list
                + "\",\"data\":{\"name\":\"Mine\"}}]}");
    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(upload(TOKENS.forUser("alice"), "not json").statusCode()).isEqualTo(400);
    assertThat(jdbc.queryForObject("SELECT name FROM lists WHERE id = ?::uuid", String.class, list))
        .isEqualTo("Alice's");
  }

  /**
   * The same refusals as the todo server's: identity, header schemes, numbers, owners (the shared
   * authorizer).
   */
  @Test
  void theApiRefusesWhatTheTodoServerRefuses() throws Exception {
    long now = System.currentTimeMillis() / 1000;
    String nullSub =
        TOKENS.signed(
            "{\"sub\":null,\"aud\":\"todo-app\",\"iat\":" + now + ",\"exp\":" + (now + 600) + "}");
    assertThat(upload(nullSub, "{}").statusCode()).isEqualTo(401);
    String list = UUID.randomUUID().toString();
    HttpRequest lowerCase =
        HttpRequest.newBuilder(base().resolve("/api/upload"))
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"client_id\":\"c\",\"ops\":[{\"op\":\"PUT\",\"table\":"
                        + "\"lists\",\"id\":\""
                        + list
                        + "\",\"data\":{\"name\":\"L\",\"owner_id\":\"bob\"}}]}"))
            .header("Content-Type", "application/json")
            .header("Authorization", "token " + TOKENS.forUser("bob"))
            .build();
    assertThat(HTTP.send(lowerCase, HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(200);
    HttpResponse<String> handOver =
        upload(
            TOKENS.forUser("bob"),
            "{\"client_id\":\"c\",\"ops\":[{\"op\":"
                + "\"PATCH\",\"table\":\"lists\",\"id\":\""
                + list
                + "\",\"data\":{\"owner_id\":\"alice\"}}]}");
    assertThat(handOver.statusCode()).isEqualTo(403);
    HttpResponse<String> huge =
        upload(
            TOKENS.forUser("bob"),
            "{\"client_id\":\"c\",\"ops\":[{\"op\":\"PUT\","
                + "\"table\":\"todos\",\"id\":\""
                + UUID.randomUUID()
                + "\",\"data\":{\"description\":\"x\",\"list_id\":\""
                + list
                + "\",\"completed_at\":1e999}}]}");
    assertThat(huge.statusCode()).as(huge.body()).isEqualTo(422);
    assertThat(
            jdbc.queryForObject(
                "SELECT owner_id FROM lists WHERE id = ?::uuid", String.class, list))
        .isEqualTo("bob");
  }

  private HttpResponse<String> upload(String token, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base().resolve("/api/upload"))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void await(BooleanSupplier condition, String what) {
    Await.until(Duration.ofSeconds(60), condition, what);
  }
}
