package dev.syncline.examples.todo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.api.engine.ReplicationState;
import dev.syncline.testkit.ProtocolClient;
import dev.syncline.testkit.postgres.TestPostgres;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import jdk.net.ExtendedSocketOptions;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * End to end through the example: Postgres, the todo server's engine and endpoints, and protocol
 * clients that verify every checksum. Each test uses its own users, so they share one server.
 */
class TodoServerTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static TodoServer server;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    server =
        TodoServer.start(
            TodoServer.Config.external(
                0, postgres.jdbcUrl(), postgres.user(), postgres.password(), true, "todo_test"));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    postgres.execute(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            + "WHERE slot_name LIKE 'todo_test%' AND NOT active");
  }

  @AfterEach
  void closeClients() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  @Test
  void offlineWritesAreAppliedOnceAndReachEveryDevice() throws Exception {
    String user = "u" + UUID.randomUUID();
    String token = token(user, 3600);
    ProtocolClient phone = connect(token);
    phone.awaitCheckpoints(1, WAIT);
    String list = UUID.randomUUID().toString();
    String todo = UUID.randomUUID().toString();
    // The upload's client id is the one the phone's stream sends (as the SDKs do), so its write
    // checkpoint applies.
    String body =
        upload(
            "protocol-client",
            1,
            op(
                "PUT",
                "lists",
                list,
                "{\"created_at\":\"2024-05-01T10:00:00.000Z\","
                    + "\"name\":\"Groceries\",\"owner_id\":\""
                    + user
                    + "\"}"),
            op(
                "PUT",
                "todos",
                todo,
                "{\"created_at\":\"2024-05-01T10:01:00.000Z\",\"description\":\"Milk\",\"completed\":0,\"created_by\":\""
                    + user
                    + "\",\"list_id\":\""
                    + list
                    + "\"}"));
    HttpResponse<String> r = post("/api/upload", token, body);
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode applied = JSON.readTree(r.body());
    assertThat(applied.get("applied").asInt()).isEqualTo(2);
    String writeCheckpoint = applied.get("write_checkpoint").asText();

    await(() -> phone.table("todos").containsKey(todo), "the upload comes back to the phone");
    assertThat(phone.table("todos").get(todo))
        .contains("\"description\":\"Milk\"")
        .contains("\"completed\":0")
        .contains("\"created_at\":\"2024-05-01 10:01:00Z\"");
    assertThat(phone.table("lists").get(list)).contains("\"name\":\"Groceries\"");
    await(
        () -> writeCheckpoint.equals(phone.writeCheckpoint()),
        "the phone sees its write checkpoint");

    // The SDK retries an upload whose response it did not get: applied once, later changes are not
    // undone.
    postgres.execute("UPDATE todos SET description = 'Oat milk' WHERE id = '" + todo + "'");
    HttpResponse<String> retry = post("/api/upload", token, body);
    assertThat(retry.statusCode()).isEqualTo(200);
    assertThat(retry.body()).contains("\"already_applied\":true");
    assertThat(count("SELECT count(*) FROM todos WHERE list_id = '" + list + "'")).isEqualTo(1);
    await(
        () -> phone.table("todos").get(todo).contains("Oat milk"),
        "a change made in Postgres arrives");

    // A second device of the same user gets the same rows; a change from it reaches the first.
    ProtocolClient laptop = connect(token);
    laptop.awaitCheckpoints(1, WAIT);
    assertThat(laptop.table("todos")).isEqualTo(phone.table("todos"));
    assertThat(
            post(
                    "/api/upload",
                    token,
                    upload(
                        "laptop",
                        1,
                        op(
                            "PATCH",
                            "todos",
                            todo,
                            "{\"completed\":1,\"completed_by\":\"" + user + "\"}")))
                .statusCode())
        .isEqualTo(200);
    await(
        () -> phone.table("todos").get(todo).contains("\"completed\":1"),
        "the laptop's change reaches the phone");
  }

  @Test
  void concurrentOfflineEditsResolveLastWriteWinsAndEveryDeviceConverges() throws Exception {
    String user = "u" + UUID.randomUUID();
    String token = token(user, 3600);
    String list = UUID.randomUUID().toString();
    String todo = UUID.randomUUID().toString();
    String gone = UUID.randomUUID().toString();
    assertThat(
            post(
                    "/api/upload",
                    token,
                    upload(
                        "setup",
                        1,
                        op(
                            "PUT",
                            "lists",
                            list,
                            "{\"name\":\"L\"," + "\"owner_id\":\"" + user + "\"}"),
                        op(
                            "PUT",
                            "todos",
                            todo,
                            "{\"description\":\"original\"," + "\"list_id\":\"" + list + "\"}"),
                        op(
                            "PUT",
                            "todos",
                            gone,
                            "{\"description\":\"to delete\"," + "\"list_id\":\"" + list + "\"}")))
                .statusCode())
        .isEqualTo(200);
    ProtocolClient phone = connect(token);
    ProtocolClient laptop = connect(token);
    await(
        () -> phone.table("todos").size() == 2 && laptop.table("todos").size() == 2,
        "both devices synced");
    // Both edited the same todo while offline; the phone's upload arrives first, the laptop's last:
    // it wins.
    assertThat(
            post(
                    "/api/upload",
                    token,
                    upload(
                        "phone",
                        1,
                        op(
                            "PATCH",
                            "todos",
                            todo,
                            "{\"description\":\"from the phone\",\"completed\":1}")))
                .statusCode())
        .isEqualTo(200);
    // Meanwhile someone deletes the other todo; the laptop's edit of it is skipped, not a
    // resurrection.
    postgres.execute("DELETE FROM todos WHERE id = '" + gone + "'");
    HttpResponse<String> laptopUpload =
        post(
            "/api/upload",
            token,
            upload(
                "laptop",
                1,
                op("PATCH", "todos", todo, "{\"description\":\"from the laptop\"}"),
                op("PATCH", "todos", gone, "{\"completed\":1}")));
    assertThat(laptopUpload.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(laptopUpload.body()).get("skipped").asInt()).isEqualTo(1);
    for (ProtocolClient device : List.of(phone, laptop)) {
      await(
          () ->
              device.table("todos").size() == 1
                  && device
                      .table("todos")
                      .get(todo)
                      .contains("\"description\":\"from the laptop\""),
          "converged");
      // Last write wins per column: the phone's completed flag stays, the laptop's description
      // wins.
      assertThat(device.table("todos").get(todo)).contains("\"completed\":1");
    }
    assertThat(count("SELECT count(*) FROM todos WHERE id = '" + gone + "'")).isZero();
  }

  @Test
  void unauthorizedAndInvalidWritesAreRejectedSoTheClientDiscardsThem() throws Exception {
    String alice = "a" + UUID.randomUUID();
    String mallory = "m" + UUID.randomUUID();
    String list = UUID.randomUUID().toString();
    String aliceToken = token(alice, 3600);
    String malloryToken = token(mallory, 3600);
    assertThat(
            post(
                    "/api/upload",
                    aliceToken,
                    upload(
                        "c",
                        1,
                        op(
                            "PUT",
                            "lists",
                            list,
                            "{\"name\":\"Private\",\"owner_id\":\"" + alice + "\"}")))
                .statusCode())
        .isEqualTo(200);

    record Case(String token, String body, int status, String code) {}
    for (Case c :
        List.of(
            new Case(
                malloryToken,
                upload("m", 1, op("PATCH", "lists", list, "{\"name\":\"Mine now\"}")),
                403,
                "SYNCLINE_U0002"),
            new Case(
                malloryToken,
                upload(
                    "m",
                    2,
                    op(
                        "PUT",
                        "lists",
                        UUID.randomUUID().toString(),
                        "{\"name\":\"In alice's name\",\"owner_id\":\"" + alice + "\"}")),
                403,
                "SYNCLINE_U0002"),
            new Case(
                malloryToken,
                upload(
                    "m",
                    3,
                    op(
                        "PUT",
                        "todos",
                        UUID.randomUUID().toString(),
                        "{\"description\":\"spam\",\"list_id\":\"" + list + "\"}")),
                403,
                "SYNCLINE_U0002"),
            new Case(
                malloryToken,
                upload("m", 4, op("PUT", "list_shares", list, "{\"user_id\":\"" + mallory + "\"}")),
                422,
                "SYNCLINE_U0001"),
            new Case(
                aliceToken,
                upload("c", 2, op("PATCH", "lists", list, "{\"name\":\"x\",\"nope\":1}")),
                422,
                "SYNCLINE_U0001"),
            new Case(
                aliceToken,
                upload("c", 3, op("PATCH", "lists", list, "{\"created_at\":\"yesterday-ish\"}")),
                422,
                "SYNCLINE_U0001"),
            new Case(aliceToken, "{\"ops\":", 400, "PSYNC_S2001"),
            new Case(null, upload("c", 4, op("DELETE", "lists", list, "{}")), 401, "PSYNC_S2106"),
            new Case(
                "not-a-jwt",
                upload("c", 4, op("DELETE", "lists", list, "{}")),
                401,
                "PSYNC_S2101"))) {
      HttpResponse<String> r = post("/api/upload", c.token(), c.body());
      assertThat(r.statusCode()).as(c.body()).isEqualTo(c.status());
      assertThat(JSON.readTree(r.body()).at("/error/code").asText())
          .as(c.body())
          .isEqualTo(c.code());
    }
    assertThat(count("SELECT count(*) FROM lists WHERE id = '" + list + "' AND name = 'Private'"))
        .isEqualTo(1);
    assertThat(count("SELECT count(*) FROM todos WHERE list_id = '" + list + "'")).isZero();
    assertThat(count("SELECT count(*) FROM list_shares WHERE list_id = '" + list + "'")).isZero();
    // Mallory's device never sees alice's list.
    ProtocolClient m = connect(malloryToken);
    m.awaitCheckpoints(1, WAIT);
    assertThat(m.table("lists")).isEmpty();
  }

  @Test
  void sharingAListSendsItAndUnsharingRemovesIt() throws Exception {
    String alice = "a" + UUID.randomUUID();
    String bob = "b" + UUID.randomUUID();
    String list = UUID.randomUUID().toString();
    String aliceToken = token(alice, 3600);
    String bobToken = token(bob, 3600);
    assertThat(
            post(
                    "/api/upload",
                    aliceToken,
                    upload(
                        "c",
                        1,
                        op(
                            "PUT",
                            "lists",
                            list,
                            "{\"name\":\"Shared\"," + "\"owner_id\":\"" + alice + "\"}"),
                        op(
                            "PUT",
                            "todos",
                            UUID.randomUUID().toString(),
                            "{\"description\":\"Bread\",\"list_id\":\"" + list + "\"}")))
                .statusCode())
        .isEqualTo(200);
    ProtocolClient bobs = connect(bobToken);
    bobs.awaitCheckpoints(1, WAIT);
    assertThat(bobs.table("lists")).isEmpty();

    assertThat(put("/api/lists/" + list + "/shares/" + bob, bobToken).statusCode())
        .as("only the owner shares")
        .isEqualTo(403);
    assertThat(put("/api/lists/" + list + "/shares/" + bob, aliceToken).statusCode())
        .isEqualTo(200);
    await(
        () -> bobs.table("todos").size() == 1 && bobs.table("lists").containsKey(list),
        "bob gets the list");
    // Bob may now add todos to it.
    String bobsTodo = UUID.randomUUID().toString();
    assertThat(
            post(
                    "/api/upload",
                    bobToken,
                    upload(
                        "b",
                        1,
                        op(
                            "PUT",
                            "todos",
                            bobsTodo,
                            "{\"description\":"
                                + "\"Butter\",\"created_by\":\""
                                + bob
                                + "\",\"list_id\":\""
                                + list
                                + "\"}")))
                .statusCode())
        .isEqualTo(200);
    await(() -> bobs.table("todos").containsKey(bobsTodo), "bob's todo comes back");

    HttpResponse<String> unshare =
        HTTP.send(
            HttpRequest.newBuilder(
                    server.baseUri().resolve("/api/lists/" + list + "/shares/" + bob))
                .DELETE()
                .header("Authorization", "Bearer " + aliceToken)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(unshare.statusCode()).isEqualTo(200);
    await(
        () -> bobs.table("lists").isEmpty() && bobs.table("todos").isEmpty(),
        "the list is removed from bob");
    assertThat(
            post(
                    "/api/upload",
                    bobToken,
                    upload("b", 2, op("PATCH", "todos", bobsTodo, "{\"completed\":1}")))
                .statusCode())
        .as("no access after unsharing")
        .isEqualTo(403);
  }

  @Test
  void anExpiredTokenEndsTheStreamAndARefreshedTokenResumesWhereItStopped() throws Exception {
    String user = "u" + UUID.randomUUID();
    String list = UUID.randomUUID().toString();
    assertThat(
            post(
                    "/api/upload",
                    token(user, 3600),
                    upload(
                        "c",
                        1,
                        op("PUT", "lists", list, "{\"name\":\"L\",\"owner_id\":\"" + user + "\"}")))
                .statusCode())
        .isEqualTo(200);
    ProtocolClient first = ProtocolClient.connect(server.baseUri(), token(user, 3));
    closeables.add(first);
    await(() -> first.table("lists").containsKey(list), "the list arrives");
    first.awaitEnd(WAIT); // the token expired
    postgres.execute(
        "INSERT INTO todos (description, list_id) VALUES ('while away', '" + list + "')");
    ProtocolClient refreshed = ProtocolClient.reconnect(server.baseUri(), token(user, 3600), first);
    closeables.add(refreshed);
    await(() -> refreshed.table("todos").size() == 1, "what changed meanwhile arrives");
    assertThat(refreshed.table("lists")).containsOnlyKeys(list);
  }

  @Test
  void theDevelopmentTokenEndpointValidatesAndIsOffUnlessAskedFor() throws Exception {
    assertThat(get(server.devTokenUri() + "?user=").statusCode()).isEqualTo(400);
    assertThat(get(server.devTokenUri() + "?user=x&expires_in=0").statusCode()).isEqualTo(400);
    HttpResponse<String> ok = get(server.devTokenUri() + "?user=alice");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(ok.body()).fieldNames()).toIterable().containsExactly("token");
    // A second instance on the same database (it stands by for replication and serves streams) with
    // tokens off.
    try (TodoServer prod =
        TodoServer.start(
            TodoServer.Config.external(
                0, postgres.jdbcUrl(), postgres.user(), postgres.password(), false, "todo_test"))) {
      HttpResponse<String> off = get(prod.devTokenUri() + "?user=alice");
      assertThat(off.statusCode()).isEqualTo(404);
      assertThat(off.body()).doesNotContain("token\"");
      await(
          () -> prod.engine().health().replication() == ReplicationState.STANDBY,
          "the second instance stands by");
    }
  }

  @Test
  void probesAndTheHealthEndpointShowTheEngine() throws Exception {
    await(() -> server.engine().health().ready(), "ready");
    HttpResponse<String> ready = get(server.baseUri() + "/probes/readiness");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).isEqualTo("{\"ready\":true}");
    HttpResponse<String> health = get(server.baseUri() + "/internal/health");
    assertThat(health.statusCode()).isEqualTo(200);
    JsonNode h = JSON.readTree(health.body());
    assertThat(h.get("ready").asBoolean()).isTrue();
    assertThat(h.get("replication").asText()).isIn("STREAMING", "STANDBY");
    assertThat(h.at("/metrics/concurrent_connections").isNumber()).isTrue();
  }

  @Test
  void everyAcceptedConnectionProbesItsPeerWithTcpKeepalive() throws Exception {
    try (Socket client = new Socket("127.0.0.1", server.baseUri().getPort())) {
      client
          .getOutputStream()
          .write(
              "GET /probes/liveness HTTP/1.1\r\nHost: x\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      assertThat(client.getInputStream().read())
          .as("an answer")
          .isNotNegative(); // accepted and configured by now
      int local = client.getLocalPort();
      SocketChannel accepted =
          server.connector().getConnectedEndPoints().stream()
              .filter(
                  e ->
                      e.getRemoteSocketAddress() instanceof InetSocketAddress a
                          && a.getPort() == local)
              .map(e -> (SocketChannel) e.getTransport())
              .findFirst()
              .orElseThrow();
      assertThat(accepted.getOption(StandardSocketOptions.SO_KEEPALIVE)).isTrue();
      assertThat(accepted.getOption(ExtendedSocketOptions.TCP_KEEPIDLE)).isEqualTo(10);
      assertThat(accepted.getOption(ExtendedSocketOptions.TCP_KEEPINTERVAL)).isEqualTo(3);
      assertThat(accepted.getOption(ExtendedSocketOptions.TCP_KEEPCOUNT)).isEqualTo(3);
      // A client that vanished right after its last answer is reset before the next keepalive line
      // (20 s) would put
      // data on its way (from then on only the kernel's retransmission limit would end it).
      assertThat(KeepaliveConnector.detection()).isLessThan(Duration.ofSeconds(20));
    }
  }

  // ---- helpers

  private ProtocolClient connect(String token) throws Exception {
    ProtocolClient c = ProtocolClient.connect(server.baseUri(), token);
    closeables.add(c);
    return c;
  }

  static String token(String user, int seconds) throws Exception {
    HttpResponse<String> r = get(server.devTokenUri() + "?user=" + user + "&expires_in=" + seconds);
    assertThat(r.statusCode()).isEqualTo(200);
    return JSON.readTree(r.body()).get("token").asText();
  }

  static String op(String op, String table, String id, String data) {
    return "{\"op\":\""
        + op
        + "\",\"table\":\""
        + table
        + "\",\"id\":\""
        + id
        + "\",\"data\":"
        + data
        + "}";
  }

  static String upload(String clientId, long transactionId, String... ops) {
    return "{\"client_id\":\""
        + clientId
        + "\",\"transaction_id\":"
        + transactionId
        + ",\"ops\":["
        + String.join(",", ops)
        + "]}";
  }

  static HttpResponse<String> post(String path, @Nullable String token, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(server.baseUri().resolve(path))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> put(String path, String token) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(server.baseUri().resolve(path))
            .PUT(HttpRequest.BodyPublishers.noBody())
            .header("Authorization", "Bearer " + token)
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(String uri) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(uri)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    TodoTestSupport.await(condition, what);
  }

  private static long count(String query) {
    return TodoTestSupport.count(postgres.dataSource(), query);
  }
}
