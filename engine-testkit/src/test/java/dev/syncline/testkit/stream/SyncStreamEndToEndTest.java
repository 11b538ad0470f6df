package dev.syncline.testkit.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpId;
import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.internal.replicate.BatchBuilder;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.core.stream.SyncService;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.WriteCheckpointKey;
import dev.syncline.testkit.ProtocolClient;
import dev.syncline.testkit.TestTokens;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rows written to storage reach a protocol-speaking client over real HTTP, with verified checksums.
 * Runs once per HTTP adapter (see the subclasses).
 */
abstract class SyncStreamEndToEndTest {
  /** A path the adapter answers itself with its 404 envelope. */
  String unknownRoute() {
    return "/nope";
  }

  static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
  static final SyncRules RULES =
      SyncRulesCompiler.compile(
          SyncRulesSource.ofYaml(
              """
      bucket_definitions:
        owned:
          parameters: SELECT id AS list_id FROM lists WHERE owner_id = request.user_id()
          data:
            - SELECT * FROM lists WHERE id = bucket.list_id
            - SELECT * FROM todos WHERE list_id = bucket.list_id
      """,
              "rules.yaml"));
  static final List<String> ID = List.of("id");
  static final TableRef LISTS = TableRef.of("public", "lists");
  static final TableRef TODOS = TableRef.of("public", "todos");
  static final Duration WAIT = Duration.ofSeconds(20);

  InMemoryBucketStorage storage;
  SyncService service;
  long version;
  BucketStorageWriter writer;
  BatchBuilder batch;
  ScheduledExecutorService scheduler;
  AutoCloseable server;
  URI base;
  long position;

  @BeforeEach
  void start() throws Exception {
    storage = new InMemoryBucketStorage();
    version = storage.addRulesVersion("rules").id();
    writer = storage.openWriter(version);
    batch =
        new BatchBuilder(
            RULES,
            writer,
            e -> {
              throw new AssertionError(e.toString());
            });
    scheduler = Executors.newScheduledThreadPool(2);
    service =
        SyncService.builder()
            .rules(RULES)
            .storage(storage, version)
            .scheduler(scheduler)
            .tokenVerifier(
                JwtTokenVerifier.builder().audience("test").hmacSecret(SECRET, null).build())
            .build();
    server = serve(service);
  }

  /**
   * Starts the adapter under test on a free loopback port, sets {@link #base}, returns how to stop
   * it.
   */
  abstract AutoCloseable serve(SyncService service) throws Exception;

  @AfterEach
  void stop() throws Exception {
    server.close();
    scheduler.shutdownNow();
    writer.close();
  }

  static String token(String user, Duration lifetime) {
    return TestTokens.hs256(SECRET, "test").forUser(user, lifetime);
  }

  void commit(SourceChange... changes) {
    for (SourceChange c : changes) {
      batch.apply(c);
    }
    batch.commit(String.format("%016x", ++position));
  }

  static SourceRow row(String... kv) {
    SourceRow.Builder b = SourceRow.builder();
    for (int i = 0; i < kv.length; i += 2) {
      b.put(kv[i], kv[i + 1]);
    }
    return b.build();
  }

  HttpResponse<String> http(String method, String path, String auth, String body) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(WAIT)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (auth != null) {
      r.header("Authorization", auth);
    }
    return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void a_client_syncs_its_rows_then_live_changes() throws Exception {
    commit(
        SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")),
        SourceChange.insert(TODOS, ID, row("id", "t1", "list_id", "l1", "description", "Milk")),
        SourceChange.insert(TODOS, ID, row("id", "t2", "list_id", "l2", "description", "Bob's")));
    try (ProtocolClient client =
        ProtocolClient.connect(base, token("alice", Duration.ofHours(1)))) {
      client.awaitCheckpoints(1, WAIT);
      assertThat(client.table("todos")).containsOnlyKeys("t1");
      commit(
          SourceChange.update(
              TODOS, ID, null, row("id", "t1", "list_id", "l1", "description", "Oat milk")),
          SourceChange.insert(TODOS, ID, row("id", "t3", "list_id", "l1", "description", "Eggs")));
      client.awaitCheckpoints(2, WAIT);
      assertThat(client.table("todos")).containsOnlyKeys("t1", "t3");
      assertThat(client.table("todos").get("t1")).contains("Oat milk");
      assertThat(client.lines()).anySatisfy(l -> assertThat(l).startsWith("{\"checkpoint_diff\":"));
    }
  }

  @Test
  void a_watching_client_wakes_for_each_new_checkpoint_and_a_quiet_wait_is_no_failure()
      throws Exception {
    commit(SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")));
    try (ProtocolClient client =
        ProtocolClient.connect(base, token("alice", Duration.ofHours(1)))) {
      int first = client.awaitCheckpointAfter(0, WAIT);
      assertThat(first).isGreaterThanOrEqualTo(1);
      assertThat(client.awaitCheckpointAfter(first, Duration.ofMillis(100)))
          .as("nothing new: the wait times out without failing")
          .isEqualTo(first);
      commit(
          SourceChange.insert(TODOS, ID, row("id", "t1", "list_id", "l1", "description", "Tea")));
      assertThat(client.awaitCheckpointAfter(first, WAIT)).isGreaterThan(first);
      assertThat(client.table("todos")).containsOnlyKeys("t1");
    }
  }

  @Test
  void clients_preferring_bson_and_gzip_get_them() throws Exception {
    commit(
        SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")),
        SourceChange.insert(TODOS, ID, row("id", "t1", "list_id", "l1", "description", "Milk 😀")));
    try (ProtocolClient client =
        ProtocolClient.connectPreferringBsonAndGzip(base, token("alice", Duration.ofHours(1)))) {
      client.awaitCheckpoints(1, WAIT);
      assertThat(client.contentType()).isEqualTo("application/vnd.powersync.bson-stream");
      assertThat(client.contentEncoding()).isEqualTo("gzip");
      assertThat(client.table("todos").get("t1")).contains("Milk 😀");
      commit(
          SourceChange.insert(TODOS, ID, row("id", "t2", "list_id", "l1", "description", "Eggs")));
      client.awaitCheckpoints(2, WAIT);
      assertThat(client.table("todos")).containsOnlyKeys("t1", "t2");
    }
  }

  @Test
  void a_reconnecting_client_receives_only_what_it_missed() throws Exception {
    commit(
        SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")),
        SourceChange.insert(TODOS, ID, row("id", "t1", "list_id", "l1", "description", "Milk")));
    String token = token("alice", Duration.ofHours(1));
    ProtocolClient first = ProtocolClient.connect(base, token);
    first.awaitCheckpoints(1, WAIT);
    first.close();
    commit(SourceChange.insert(TODOS, ID, row("id", "t2", "list_id", "l1", "description", "Eggs")));
    try (ProtocolClient second = ProtocolClient.reconnect(base, token, first)) {
      second.awaitCheckpoints(2, WAIT);
      assertThat(second.table("todos")).containsOnlyKeys("t1", "t2");
      assertThat(String.join("\n", second.lines())).contains("Eggs").doesNotContain("Milk");
    }
  }

  @Test
  void a_write_checkpoint_round_trips() throws Exception {
    commit(SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")));
    String token = token("alice", Duration.ofHours(1));
    try (ProtocolClient client = ProtocolClient.connect(base, token)) {
      client.awaitCheckpoints(1, WAIT);
      HttpResponse<String> r =
          http("GET", "/write-checkpoint2.json?client_id=protocol-client", "Token " + token, null);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("{\"data\":{\"write_checkpoint\":\"1\"}}");
      batch.commit(String.format("%016x", ++position));
      client.awaitCheckpoints(2, WAIT);
      assertThat(client.writeCheckpoint()).isEqualTo("1");
    }
  }

  @Test
  void the_stream_ends_when_the_token_expires() throws Exception {
    commit(SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")));
    try (ProtocolClient client =
        ProtocolClient.connect(base, token("alice", Duration.ofSeconds(2)))) {
      client.awaitCheckpoints(1, WAIT);
      client.awaitEnd(WAIT);
      List<String> lines = client.lines();
      assertThat(lines.get(lines.size() - 1)).isEqualTo("{\"token_expires_in\":0}");
    }
  }

  @Test
  void bad_requests_get_the_error_envelope_and_the_server_stays_healthy() throws Exception {
    String token = token("alice", Duration.ofHours(1));
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> noAuth = http("POST", "/sync/stream", null, "{}");
      assertThat(noAuth.statusCode()).isEqualTo(401);
      assertThat(noAuth.body()).contains("\"code\":\"PSYNC_S2106\"");
      HttpResponse<String> badToken = http("POST", "/sync/stream", "Bearer x.y.z", "{}");
      assertThat(badToken.statusCode()).isEqualTo(401);
      assertThat(badToken.body()).contains("\"code\":\"PSYNC_S2101\"");
      HttpResponse<String> badJson = http("POST", "/sync/stream", "Token " + token, "{not json");
      assertThat(badJson.statusCode()).isEqualTo(400);
      assertThat(badJson.body()).contains("\"code\":\"PSYNC_S2001\"").doesNotContain("Exception");
      HttpResponse<String> badTypes =
          http("POST", "/sync/stream", "Token " + token, "{\"buckets\":5}");
      assertThat(badTypes.statusCode()).isEqualTo(400);
      HttpResponse<String> huge =
          http("POST", "/sync/stream", "Token " + token, "x".repeat(2 << 20));
      assertThat(huge.statusCode()).isEqualTo(400);
      HttpResponse<String> unknown = http("GET", unknownRoute(), null, null);
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(unknown.body()).startsWith("{\"error\":");
      HttpResponse<String> badRequestId =
          http(
              "POST",
              "/sync/checkpoint-request",
              "Token " + token,
              "{\"client_id\":\"c\",\"checkpoint_request_id\":0}");
      assertThat(badRequestId.statusCode()).isEqualTo(400);
    }
    commit(SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")));
    try (ProtocolClient client = ProtocolClient.connect(base, token)) {
      client.awaitCheckpoints(1, WAIT);
    }
  }

  @Test
  void the_authorization_scheme_is_read_alike_on_every_endpoint_in_any_case() throws Exception {
    commit(SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")));
    String token = token("alice", Duration.ofHours(1));
    for (String scheme : List.of("bearer", "BEARER", "Bearer", "token", "Token")) {
      HttpRequest r =
          HttpRequest.newBuilder(base.resolve("/sync/stream"))
              .POST(HttpRequest.BodyPublishers.ofString("{}"))
              .header("Authorization", scheme + "  " + token)
              .build();
      HttpResponse<InputStream> stream =
          HttpClient.newHttpClient().send(r, HttpResponse.BodyHandlers.ofInputStream());
      assertThat(stream.statusCode()).as(scheme).isEqualTo(200);
      try (var lines =
          new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
        assertThat(lines.readLine()).as(scheme).startsWith("{\"checkpoint\":");
      }
      assertThat(
              http("GET", "/write-checkpoint2.json?client_id=c", scheme + " " + token, null)
                  .statusCode())
          .as(scheme)
          .isEqualTo(200);
      assertThat(
              http(
                      "POST",
                      "/sync/checkpoint-request",
                      scheme + " " + token,
                      "{\"client_id\":\"d\",\"checkpoint_request_id\":\"1\"}")
                  .statusCode())
          .as(scheme)
          .isEqualTo(200);
    }
  }

  @Test
  void a_token_without_a_string_subject_is_refused_on_every_endpoint() throws Exception {
    TestTokens tokens = TestTokens.hs256(SECRET, "test");
    long now = System.currentTimeMillis() / 1000;
    String times = "\"aud\":\"test\",\"iat\":" + now + ",\"exp\":" + (now + 600);
    for (String sub :
        List.of(
            "\"sub\":null,",
            "",
            "\"sub\":\"\",",
            "\"sub\":42,",
            "\"sub\":{\"id\":\"a\"},",
            "\"sub\":[\"a\"],")) {
      String token = tokens.signed("{" + sub + times + "}");
      for (String[] call :
          List.of(
              new String[] {"POST", "/sync/stream", "{}"},
              new String[] {"GET", "/write-checkpoint2.json?client_id=c", null},
              new String[] {
                "POST",
                "/sync/checkpoint-request",
                "{\"client_id\":\"c\",\"checkpoint_request_id\":1}"
              })) {
        HttpResponse<String> r = http(call[0], call[1], "Bearer " + token, call[2]);
        assertThat(r.statusCode()).as(sub + " " + call[1]).isEqualTo(401);
        assertThat(r.body()).as(sub + " " + call[1]).contains("\"code\":\"PSYNC_S2101\"");
      }
    }
    assertThat(
            storage.writeCheckpoint(
                new WriteCheckpointKey("null", "c"), new Checkpoint(OpId.ZERO, "z")))
        .isEmpty();
  }

  @Test
  void requested_write_checkpoint_ids_are_bounded_so_later_ones_never_overflow() throws Exception {
    String token = "Bearer " + token("alice", Duration.ofHours(1));
    for (String id :
        List.of(
            "9223372036854775807",
            "\"9223372036854775807\"",
            "\"9007199254740992\"",
            "\"99999999999999999999\"",
            "1.5",
            "-3",
            "\"0\"")) {
      HttpResponse<String> r =
          http(
              "POST",
              "/sync/checkpoint-request",
              token,
              "{\"client_id\":\"c1\",\"checkpoint_request_id\":" + id + "}");
      assertThat(r.statusCode()).as(id).isEqualTo(400);
      assertThat(r.body()).as(id).contains("\"code\":\"PSYNC_S2001\"");
    }
    HttpResponse<String> top =
        http(
            "POST",
            "/sync/checkpoint-request",
            token,
            "{\"client_id\":\"c1\",\"checkpoint_request_id\":\"9007199254740991\"}");
    assertThat(top.body()).isEqualTo("{\"data\":{\"checkpoint_request_id\":\"9007199254740991\"}}");
    assertThat(http("GET", "/write-checkpoint2.json?client_id=c1", token, null).body())
        .isEqualTo("{\"data\":{\"write_checkpoint\":\"9007199254740992\"}}");
    assertThat(
            http("GET", "/write-checkpoint2.json?client_id=" + "x".repeat(200), token, null)
                .statusCode())
        .isEqualTo(400);
  }

  @Test
  void write_checkpoints_of_users_and_clients_that_join_alike_stay_apart() throws Exception {
    String ab = "Bearer " + token("a/b", Duration.ofHours(1));
    String a = "Bearer " + token("a", Duration.ofHours(1));
    assertThat(http("GET", "/write-checkpoint2.json?client_id=c", ab, null).body())
        .contains("\"1\"");
    assertThat(http("GET", "/write-checkpoint2.json?client_id=c", ab, null).body())
        .contains("\"2\"");
    assertThat(http("GET", "/write-checkpoint2.json?client_id=b%2Fc", a, null).body())
        .contains("\"1\"");
    assertThat(
            http(
                    "POST",
                    "/sync/checkpoint-request",
                    a,
                    "{\"client_id\":\"b/c\",\"checkpoint_request_id\":50}")
                .body())
        .contains("\"50\"");
    assertThat(http("GET", "/write-checkpoint2.json?client_id=c", ab, null).body())
        .contains("\"3\"");
  }

  @Test
  void a_request_without_a_valid_token_is_answered_before_its_body_arrives() throws Exception {
    for (String auth : new String[] {null, "Bearer x.y.z"}) {
      try (Socket socket = new Socket(base.getHost(), base.getPort())) {
        socket.setSoTimeout((int) WAIT.toMillis()); // a hang guard only: the answer comes at once
        String head =
            "POST /sync/stream HTTP/1.1\r\nHost: "
                + base.getHost()
                + "\r\nContent-Type: application/json"
                + "\r\nContent-Length: 100000\r\n"
                + (auth == null ? "" : "Authorization: " + auth + "\r\n")
                + "\r\n{";
        socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        var in =
            new BufferedReader(
                new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
        assertThat(in.readLine()).as(String.valueOf(auth)).startsWith("HTTP/1.1 401");
      }
    }
  }

  /**
   * A request whose declared body is far too large is answered at once and its connection closed
   * (the body is never read); an empty body is an empty request. (A body up to four times too large
   * is read and dropped, so that the client gets its answer: {@link
   * #bad_requests_get_the_error_envelope_and_the_server_stays_healthy}.)
   */
  @Test
  void declared_body_sizes_are_answered_before_reading_the_body() throws Exception {
    commit(SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")));
    String token = token("alice", Duration.ofHours(1));
    try (Socket socket = new Socket(base.getHost(), base.getPort())) {
      socket.setSoTimeout((int) WAIT.toMillis()); // a hang guard only
      socket
          .getOutputStream()
          .write(
              ("POST /sync/stream HTTP/1.1\r\nHost: "
                      + base.getHost()
                      + "\r\nAuthorization: "
                      + "Bearer "
                      + token
                      + "\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{")
                  .getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 400").contains("\"code\":\"PSYNC_S2001\"");
    }
    HttpRequest empty =
        HttpRequest.newBuilder(base.resolve("/sync/stream"))
            .timeout(WAIT)
            .POST(HttpRequest.BodyPublishers.noBody())
            .header("Authorization", "Bearer " + token)
            .build();
    HttpResponse<InputStream> stream =
        HttpClient.newHttpClient().send(empty, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(stream.statusCode()).isEqualTo(200);
    try (var lines =
        new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
      assertThat(lines.readLine()).startsWith("{\"checkpoint\":");
    }
  }
}
