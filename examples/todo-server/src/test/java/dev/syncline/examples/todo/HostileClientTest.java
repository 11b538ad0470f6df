package dev.syncline.examples.todo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.MACSigner;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.ProtocolClient;
import dev.syncline.testkit.postgres.TestPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The todo server as an attacker meets it: one test per way a client once got the server to hang,
 * to act for the wrong user, to answer "retry" for a permanent mistake (sticking an SDK's upload
 * queue), to amplify, or to keep quiet in its log (issue 17). Every test here failed before that
 * issue's fixes; {@code docs/security.md} maps each to the threat it covers.
 */
@Timeout(
    value = 3,
    unit = TimeUnit.MINUTES) // an attack that works must fail the build, not hang it
class HostileClientTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static TodoServer server;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    server =
        TodoServer.start(
            TodoServer.Config.external(
                0, postgres.jdbcUrl(), postgres.user(), postgres.password(), true, "todo_hostile"));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    postgres.execute(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            + "WHERE slot_name LIKE 'todo_hostile%' AND NOT active");
  }

  @AfterEach
  void closeClients() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  /**
   * 64 connections send their request one byte a second (headers, or a body after complete headers;
   * with a valid token and without) for 30 seconds. Meanwhile the liveness probe answers within a
   * second every time and a normal client keeps syncing its writes. (Before: 8 such connections
   * hung the whole server, probes included.)
   */
  @Test
  void slowConnectionsDrippingHeadersOrBodiesCannotStarveTheServer() throws Exception {
    String user = "u" + UUID.randomUUID();
    String token = token(user);
    List<Dripper> drippers = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      String path = i % 2 == 0 ? "/sync/stream" : "/api/upload";
      String auth = i % 4 < 2 ? "Authorization: Bearer " + token + "\r\n" : "";
      boolean headersComplete =
          i % 8 < 4; // half drip their headers, half a body after complete headers
      String head =
          "POST "
              + path
              + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              + auth
              + "Content-Type: application/json\r\n"
              + "Content-Length: 4096\r\n\r\n";
      drippers.add(
          new Dripper(
              server.baseUri(),
              headersComplete ? head : "",
              headersComplete ? "{\"ops\":[" + " ".repeat(200) : head));
    }
    ScheduledExecutorService clock = Executors.newScheduledThreadPool(2);
    List<String> slowProbes = new CopyOnWriteArrayList<>();
    AtomicInteger probes = new AtomicInteger();
    AtomicLong slowest = new AtomicLong();
    HttpClient probeClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    int[] roundsDone = {0};
    try {
      for (Dripper d : drippers) {
        d.open();
      }
      ScheduledFuture<?> unusedDrips =
          clock.scheduleAtFixedRate(() -> drippers.forEach(Dripper::drip), 1, 1, TimeUnit.SECONDS);
      ScheduledFuture<?> unusedProbes =
          clock.scheduleAtFixedRate(
              () -> {
                long started = System.nanoTime();
                try {
                  HttpResponse<String> r =
                      probeClient.send(
                          HttpRequest.newBuilder(server.baseUri().resolve("/probes/liveness"))
                              .timeout(Duration.ofSeconds(1))
                              .build(),
                          HttpResponse.BodyHandlers.ofString());
                  if (r.statusCode() != 200) {
                    slowProbes.add("status " + r.statusCode());
                  }
                  slowest.accumulateAndGet((System.nanoTime() - started) / 1_000, Math::max);
                } catch (IOException | InterruptedException e) {
                  slowProbes.add(e + " after " + (System.nanoTime() - started) / 1_000_000 + " ms");
                }
                probes.incrementAndGet();
              },
              0,
              250,
              TimeUnit.MILLISECONDS);

      // A normal client syncs its own writes, round after round, for the 30 s the attack lasts.
      ProtocolClient phone = connect(token);
      String list = UUID.randomUUID().toString();
      assertThat(
              upload(
                      token,
                      "phone",
                      1,
                      op("PUT", "lists", list, "{\"name\":\"L\",\"owner_id\":\"" + user + "\"}"))
                  .statusCode())
          .isEqualTo(200);
      long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      int rounds = 0;
      while (System.nanoTime() < end) {
        String todo = UUID.randomUUID().toString();
        assertThat(
                upload(
                        token,
                        "phone",
                        rounds + 2,
                        op(
                            "PUT",
                            "todos",
                            todo,
                            "{\"description\":\"round "
                                + rounds
                                + "\",\"list_id\":\""
                                + list
                                + "\"}"))
                    .statusCode())
            .isEqualTo(200);
        // On a timeout the failure says where the change stopped: the engine's health (replication,
        // storage, streams) and the phone's stream.
        Await.untilAsserted(
            WAIT,
            () ->
                assertThat(phone.table("todos"))
                    .as(
                        () ->
                            "engine "
                                + server.engine().health()
                                + "; phone ended "
                                + phone.ended()
                                + ", checkpoints "
                                + phone.completedCheckpoints()
                                + ", last lines "
                                + lastLines(phone))
                    .containsKey(todo),
            "round " + rounds + " reaches the phone");
        rounds++;
      }
      assertThat(rounds).isGreaterThan(1);
      roundsDone[0] = rounds;
      assertThat(drippers).as("the attack was still on at the end").anyMatch(Dripper::stillOpen);
    } finally {
      clock.shutdownNow();
      clock.awaitTermination(5, TimeUnit.SECONDS);
      drippers.forEach(Dripper::close);
    }
    System.out.printf(
        "dripping connections: %d liveness probes, the slowest %.1f ms; %d rounds of a client's write "
            + "synced back%n",
        probes.get(), slowest.get() / 1000.0, roundsDone[0]);
    assertThat(probes.get()).isGreaterThan(80);
    assertThat(slowProbes).as("liveness probes that took a second or failed").isEmpty();
  }

  /** A client sending its request a byte at a time. */
  private static final class Dripper {
    private final URI base;
    private final byte[] atOnce;
    private final byte[] slowly;
    private @Nullable Socket socket;
    private @Nullable OutputStream out;
    private int sent;
    private volatile boolean open;

    Dripper(URI base, String atOnce, String slowly) {
      this.base = base;
      this.atOnce = atOnce.getBytes(StandardCharsets.UTF_8);
      this.slowly = slowly.getBytes(StandardCharsets.UTF_8);
    }

    void open() throws IOException {
      socket = new Socket(base.getHost(), base.getPort());
      out = socket.getOutputStream();
      out.write(atOnce);
      out.flush();
      open = true;
    }

    synchronized void drip() {
      if (!open || sent >= slowly.length) {
        return;
      }
      try {
        out.write(slowly[sent++]);
        out.flush();
      } catch (IOException e) {
        open = false; // the server answered and closed it, or timed it out: fine
      }
    }

    boolean stillOpen() {
      return open;
    }

    void close() {
      try {
        if (socket != null) {
          socket.close();
        }
      } catch (IOException e) {
        // closing anyway
      }
    }
  }

  /**
   * A token whose {@code sub} is null, missing, empty or not a string names no user: refused
   * everywhere (401), and nothing is written in the name of {@code "null"}. (Before: accepted;
   * uploads acted as the user "null".)
   */
  @Test
  void aTokenWithoutAStringSubjectIsRefusedOnEveryEndpoint() throws Exception {
    long now = System.currentTimeMillis() / 1000;
    String claims =
        "\"aud\":\"" + TodoServer.AUDIENCE + "\",\"iat\":" + now + ",\"exp\":" + (now + 600);
    String list = UUID.randomUUID().toString();
    for (String sub :
        List.of(
            "\"sub\":null,",
            "",
            "\"sub\":\"\",",
            "\"sub\":42,",
            "\"sub\":true,",
            "\"sub\":[\"alice\"],")) {
      String token = signed("{" + sub + claims + "}");
      List<HttpResponse<String>> answers =
          List.of(
              send("POST", "/sync/stream", token, "{}"),
              send("GET", "/write-checkpoint2.json?client_id=c", token, null),
              send(
                  "POST",
                  "/sync/checkpoint-request",
                  token,
                  "{\"client_id\":\"c\",\"checkpoint_request_id\":1}"),
              send(
                  "POST",
                  "/api/upload",
                  token,
                  uploadBody(
                      "c", 1, op("PUT", "lists", list, "{\"name\":\"L\",\"owner_id\":\"null\"}"))),
              send("PUT", "/api/lists/" + list + "/shares/bob", token, null));
      for (HttpResponse<String> r : answers) {
        assertThat(r.statusCode()).as(sub + " " + r.uri()).isEqualTo(401);
        assertThat(code(r)).as(sub + " " + r.uri()).isEqualTo("PSYNC_S2101");
      }
    }
    assertThat(count("SELECT count(*) FROM lists WHERE owner_id = 'null' OR id = '" + list + "'"))
        .isZero();
  }

  /**
   * A requested write checkpoint id the protocol's numbers cannot carry is refused, and the
   * client's next write checkpoint still counts on. (Before: id 9223372036854775807 was stored, and
   * every later write checkpoint of that client overflowed and failed.)
   */
  @Test
  void aRequestedWriteCheckpointIdBeyondTheProtocolsNumbersIsRefused() throws Exception {
    String token = token("u" + UUID.randomUUID());
    for (String id :
        List.of("\"9223372036854775807\"", "9223372036854775807", "\"9007199254740992\"")) {
      HttpResponse<String> r =
          send(
              "POST",
              "/sync/checkpoint-request",
              token,
              "{\"client_id\":\"c1\",\"checkpoint_request_id\":" + id + "}");
      assertThat(r.statusCode()).as(id).isEqualTo(400);
      assertThat(code(r)).isEqualTo("PSYNC_S2001");
    }
    HttpResponse<String> next = send("GET", "/write-checkpoint2.json?client_id=c1", token, null);
    assertThat(next.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(next.body()).at("/data/write_checkpoint").asText()).isEqualTo("1");
  }

  /**
   * User {@code a/b} with client {@code c} and user {@code a} with client {@code b/c} have their
   * own write checkpoints. (Before: both were the key "a/b/c", and one user's requests moved the
   * other's checkpoints.)
   */
  @Test
  void writeCheckpointsOfUsersAndClientsThatJoinAlikeStayApart() throws Exception {
    String prefix = "u" + UUID.randomUUID();
    String ab = token(prefix + "/b");
    String a = token(prefix);
    HttpResponse<String> first =
        send(
            "POST",
            "/sync/checkpoint-request",
            ab,
            "{\"client_id\":\"c\",\"checkpoint_request_id\":500}");
    assertThat(first.body()).contains("\"500\"");
    HttpResponse<String> other = send("GET", "/write-checkpoint2.json?client_id=b%2Fc", a, null);
    assertThat(JSON.readTree(other.body()).at("/data/write_checkpoint").asText())
        .as("its own counter")
        .isEqualTo("1");
    HttpResponse<String> again = send("GET", "/write-checkpoint2.json?client_id=c", ab, null);
    assertThat(JSON.readTree(again.body()).at("/data/write_checkpoint").asText()).isEqualTo("501");
  }

  /**
   * Numbers no column can hold are the client's mistake: 422, and the SDK drops the transaction
   * instead of retrying it forever. (Before: 503 "retry later", the client's upload queue stuck for
   * good, nothing logged.)
   */
  @Test
  void anUploadedNumberBeyondAnyRangeIsRefusedForGoodNotRetried() throws Exception {
    String user = "u" + UUID.randomUUID();
    String token = token(user);
    String list = UUID.randomUUID().toString();
    String todo = UUID.randomUUID().toString();
    assertThat(
            upload(
                    token,
                    "c",
                    1,
                    op("PUT", "lists", list, "{\"name\":\"L\",\"owner_id\":\"" + user + "\"}"),
                    op(
                        "PUT",
                        "todos",
                        todo,
                        "{\"description\":\"x\",\"list_id\":\"" + list + "\"}"))
                .statusCode())
        .isEqualTo(200);
    for (String value : List.of("1e999", "-1e999", "1e999999999")) {
      for (String change :
          List.of(
              op("PATCH", "todos", todo, "{\"completed\":" + value + "}"),
              op(
                  "PUT",
                  "todos",
                  UUID.randomUUID().toString(),
                  "{\"description\":\"x\",\"list_id\":\""
                      + list
                      + "\",\"completed_at\":"
                      + value
                      + "}"))) {
        HttpResponse<String> r = upload(token, "c", 0, change);
        assertThat(r.statusCode()).as(change).isEqualTo(422);
        assertThat(code(r)).isEqualTo("SYNCLINE_U0001");
      }
    }
  }

  /**
   * What can never be applied is a 4xx with a stable code, and no answer carries SQL, constraint
   * names or values. (Before: 503 for a constraint violation, a huge or NUL-containing share target
   * and a long client id, with the table, constraint and key values in the body.)
   */
  @Test
  void permanentFailuresAre4xxAndNoAnswerCarriesSql() throws Exception {
    String user = "u" + UUID.randomUUID();
    String token = token(user);
    String list = UUID.randomUUID().toString();
    assertThat(
            upload(
                    token,
                    "c",
                    1,
                    op("PUT", "lists", list, "{\"name\":\"L\",\"owner_id\":\"" + user + "\"}"))
                .statusCode())
        .isEqualTo(200);
    record Case(HttpResponse<String> answer, int status, String code) {}
    String missing = UUID.randomUUID().toString();
    for (Case c :
        List.of(
            // NOT NULL: a todo without its description
            new Case(
                upload(
                    token, "c", 2, op("PUT", "todos", missing, "{\"list_id\":\"" + list + "\"}")),
                422,
                "SYNCLINE_U0001"),
            // a value its column refuses
            new Case(
                upload(
                    token,
                    "c",
                    3,
                    op("PATCH", "lists", list, "{\"created_at\":\"yesterday-ish\"}")),
                422,
                "SYNCLINE_U0001"),
            // a NUL character
            new Case(
                upload(token, "c", 4, op("PATCH", "lists", list, "{\"name\":\"a\\u0000b\"}")),
                422,
                "SYNCLINE_U0001"),
            // a client id no SDK sends
            new Case(
                upload(token, "c".repeat(5_000), 5, op("PATCH", "lists", list, "{\"name\":\"x\"}")),
                400,
                "PSYNC_S2001"),
            new Case(
                send("GET", "/write-checkpoint2.json?client_id=" + "c".repeat(5_000), token, null),
                400,
                "PSYNC_S2001"),
            // share targets no token could name
            new Case(
                send("PUT", "/api/lists/" + list + "/shares/" + "b".repeat(5_000), token, null),
                400,
                "PSYNC_S2001"),
            new Case(
                send("PUT", "/api/lists/" + list + "/shares/bo%00b", token, null),
                400,
                "PSYNC_S2001"),
            new Case(
                send("PUT", "/api/lists/not-a-list/shares/bob", token, null),
                404,
                "SYNCLINE_S0002"),
            // an upload larger than any the server takes: answered (not a reset connection the SDK
            // would retry)
            new Case(
                send(
                    "POST",
                    "/api/upload",
                    token,
                    "{\"client_id\":\"c\",\"ops\":[],\"pad\":\"" + "x".repeat(17 << 20) + "\"}"),
                400,
                "PSYNC_S2001"))) {
      assertThat(c.answer().statusCode())
          .as(c.answer().uri() + " " + c.answer().body())
          .isEqualTo(c.status());
      assertThat(code(c.answer())).as(c.answer().uri().toString()).isEqualTo(c.code());
      assertThat(c.answer().body())
          .doesNotContain("SQLSTATE")
          .doesNotContain("violates")
          .doesNotContain("null value")
          .doesNotContain("todos_")
          .doesNotContain("ERROR:")
          .doesNotContain("yesterday")
          .doesNotContain("timestamp")
          .doesNotContain("Exception")
          .doesNotContain("INSERT")
          .doesNotContain("\tat ");
    }
    assertThat(count("SELECT count(*) FROM todos WHERE id = '" + missing + "'")).isZero();
    assertThat(count("SELECT count(*) FROM lists WHERE id = '" + list + "' AND name = 'L'"))
        .isEqualTo(1);
  }

  /**
   * Bob cannot plant a list in alice's account: not by creating it as his and handing it over in
   * the same upload, nor by giving it to nobody. (Before: 200, and the list showed in alice's
   * account as hers.)
   */
  @Test
  void bobCannotPlantAListInAlicesAccount() throws Exception {
    String alice = "a" + UUID.randomUUID();
    String bob = "b" + UUID.randomUUID();
    String bobToken = token(bob);
    ProtocolClient alicesPhone = connect(token(alice));
    alicesPhone.awaitCheckpoints(1, WAIT);
    for (String newOwner : List.of("\"" + alice + "\"", "\"\"", "null")) {
      String list = UUID.randomUUID().toString();
      HttpResponse<String> r =
          upload(
              bobToken,
              "b",
              0,
              op("PUT", "lists", list, "{\"name\":\"From bob\"," + "\"owner_id\":\"" + bob + "\"}"),
              op("PATCH", "lists", list, "{\"owner_id\":" + newOwner + "}"));
      assertThat(r.statusCode()).as(newOwner).isEqualTo(403);
      assertThat(code(r)).isEqualTo("SYNCLINE_U0002");
      assertThat(count("SELECT count(*) FROM lists WHERE id = '" + list + "'"))
          .as("nothing of it written")
          .isZero();
    }
    // Nor afterwards, once the list is his, nor by writing a todo in alice's name.
    String list = UUID.randomUUID().toString();
    assertThat(
            upload(
                    bobToken,
                    "b",
                    0,
                    op("PUT", "lists", list, "{\"name\":\"Bob's\",\"owner_id\":\"" + bob + "\"}"))
                .statusCode())
        .isEqualTo(200);
    assertThat(
            upload(bobToken, "b", 0, op("PATCH", "lists", list, "{\"owner_id\":\"" + alice + "\"}"))
                .statusCode())
        .isEqualTo(403);
    assertThat(
            upload(
                    bobToken,
                    "b",
                    0,
                    op(
                        "PUT",
                        "todos",
                        UUID.randomUUID().toString(),
                        "{\"description\":\"x\","
                            + "\"list_id\":\""
                            + list
                            + "\",\"created_by\":\""
                            + alice
                            + "\"}"))
                .statusCode())
        .isEqualTo(403);
    // Alice's own write after bob's attempts: once it arrives, everything before it has been seen.
    String marker = UUID.randomUUID().toString();
    assertThat(
            upload(
                    token(alice),
                    "a",
                    0,
                    op(
                        "PUT",
                        "lists",
                        marker,
                        "{\"name\":\"Mine\",\"owner_id\":\"" + alice + "\"}"))
                .statusCode())
        .isEqualTo(200);
    await(() -> alicesPhone.table("lists").containsKey(marker), "alice's own list arrives");
    assertThat(alicesPhone.table("lists")).containsOnlyKeys(marker);
    assertThat(count("SELECT count(*) FROM lists WHERE owner_id = '" + alice + "'")).isEqualTo(1);
  }

  /**
   * A request with many problems gets a short answer: the first problems and how many there are.
   * (Before: a 600 KB sync request got an 18.8 MB error, a 4.5 MB upload an 11.6 MB one.) That
   * unknown tables and columns cost no catalog query is shown by {@code
   * UploadHandlerTest.manyProblemsGetAShortAnswerAndUnknownColumnsCostNoCatalogQuery}.
   */
  @Test
  void manyProblemsGetAShortAnswer() throws Exception {
    String token = token("u" + UUID.randomUUID());
    StringBuilder buckets = new StringBuilder("{\"buckets\":[");
    while (buckets.length() < 600_000) {
      buckets.append("1,");
    }
    HttpResponse<String> stream =
        send("POST", "/sync/stream", token, buckets.append("1]}").toString());
    assertThat(stream.statusCode()).isEqualTo(400);
    assertThat(stream.body().length()).as("answer to a 600 KB request").isLessThan(4_096);
    assertThat(stream.body()).contains("more problems");

    StringBuilder ops = new StringBuilder();
    int n = 0;
    while (ops.length() < 4_500_000) {
      ops.append(n == 0 ? "" : ",")
          .append(
              op(
                  "PATCH",
                  "todos",
                  UUID.randomUUID().toString(),
                  "{\"colour" + n + "\":\"red\",\"size" + n + "\":1}"));
      n++;
    }
    HttpResponse<String> upload =
        send("POST", "/api/upload", token, "{\"client_id\":\"c\",\"ops\":[" + ops + "]}");
    assertThat(upload.statusCode()).isEqualTo(422);
    assertThat(upload.body().length()).as("answer to a 4.5 MB upload").isLessThan(4_096);
    assertThat(JSON.readTree(upload.body()).at("/error/problem_count").asInt()).isEqualTo(2 * n);
    System.out.printf(
        "answers: %d bytes to a %d KB sync request, %d bytes to a %d KB upload%n",
        stream.body().length(),
        buckets.length() / 1000,
        upload.body().length(),
        ops.length() / 1000);
  }

  /**
   * A 15 MB value is refused at upload, and one written to Postgres directly is not streamed: the
   * engine reports it and the client gets the rest. (Before: accepted, and sent to every fresh
   * client until compaction.)
   */
  @Test
  void aHugeValueIsRefusedAtUploadAndNotStreamedFromReplication() throws Exception {
    String user = "u" + UUID.randomUUID();
    String token = token(user);
    String huge = "x".repeat(15 << 20);
    String list = UUID.randomUUID().toString();
    HttpResponse<String> r =
        upload(
            token,
            "c",
            1,
            op("PUT", "lists", list, "{\"name\":\"" + huge + "\",\"owner_id\":\"" + user + "\"}"));
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(r.body()).contains("larger than 1048576 bytes");
    assertThat(count("SELECT count(*) FROM lists WHERE id = '" + list + "'")).isZero();

    ProtocolClient phone = connect(token);
    phone.awaitCheckpoints(1, WAIT);
    String small = UUID.randomUUID().toString();
    postgres.execute(
        "INSERT INTO lists (id, name, owner_id) VALUES ('"
            + list
            + "', repeat('x', 15 * 1024 * 1024), '"
            + user
            + "')",
        "INSERT INTO lists (id, name, owner_id) VALUES ('" + small + "', 'small', '" + user + "')");
    await(
        () -> phone.table("lists").containsKey(small),
        "the small list, written after the huge one, arrives");
    assertThat(phone.table("lists")).containsOnlyKeys(small);
    assertThat(phone.lines().stream().mapToInt(String::length).max().orElse(0)).isLessThan(1 << 20);
  }

  /**
   * {@code bearer} in lower case (or {@code Token}) is read alike by every endpoint. (Before: it
   * worked on the upload endpoint and was refused on {@code /sync/stream}.)
   */
  @Test
  void theAuthorizationSchemeIsReadAlikeEverywhereInAnyCase() throws Exception {
    String user = "u" + UUID.randomUUID();
    String token = token(user);
    for (String scheme : List.of("bearer", "BEARER", "token", "Token")) {
      HttpResponse<InputStream> stream =
          HTTP.send(
              HttpRequest.newBuilder(server.baseUri().resolve("/sync/stream"))
                  .timeout(WAIT)
                  .POST(HttpRequest.BodyPublishers.ofString("{}"))
                  .header("Authorization", scheme + " " + token)
                  .build(),
              HttpResponse.BodyHandlers.ofInputStream());
      assertThat(stream.statusCode()).as(scheme).isEqualTo(200);
      stream.body().close();
      HttpRequest.Builder b =
          HttpRequest.newBuilder(server.baseUri().resolve("/api/upload"))
              .timeout(WAIT)
              .POST(
                  HttpRequest.BodyPublishers.ofString(
                      uploadBody(
                          "c",
                          0,
                          op(
                              "PUT",
                              "lists",
                              UUID.randomUUID().toString(),
                              "{\"name\":\"L\",\"owner_id\":\"" + user + "\"}"))))
              .header("Authorization", scheme + " " + token);
      assertThat(HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode())
          .as(scheme)
          .isEqualTo(200);
      assertThat(
              sendAs("GET", "/write-checkpoint2.json?client_id=c", null, scheme + " " + token)
                  .statusCode())
          .as(scheme)
          .isEqualTo(200);
    }
  }

  /**
   * A request Jetty refuses itself (here a NUL in the path) is answered with {@code Connection:
   * close}, and the server then closes: a client must not send its next request on that connection.
   * (Before: the answer said nothing, the server closed anyway, and a client that reused the
   * connection got a dropped request, which it retries, instead of this answer.)
   */
  @Test
  void aRequestTheServerRefusesItselfEndsItsConnectionAndSaysSo() throws Exception {
    String token = token("u" + UUID.randomUUID());
    try (Socket socket = new Socket(server.baseUri().getHost(), server.baseUri().getPort())) {
      socket.setSoTimeout((int) WAIT.toMillis()); // a hang guard only: the server closes first
      socket
          .getOutputStream()
          .write(
              ("PUT /api/lists/l/shares/bo%00b HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                      + token
                      + "\r\nContent-Length: 0\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      // readAllBytes returns only when the server has closed the connection.
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 400 ");
      assertThat(answer.lines().map(l -> l.toLowerCase(java.util.Locale.ROOT)))
          .contains("connection: close");
      assertThat(answer)
          .endsWith(
              "\"code\":\"PSYNC_S2001\",\"status\":400,"
                  + "\"description\":\"the request was not understood (HTTP 400)\"}}");
    }
  }

  /**
   * Every refusal and every failure is in the server's log, with its code: a hostile client is
   * visible to the operator. (Before: the log stayed empty for all of the above.)
   */
  @Test
  void everyRefusalIsLoggedWithItsCode() throws Exception {
    List<LogRecord> records = new CopyOnWriteArrayList<>();
    Logger syncline = Logger.getLogger("dev.syncline");
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            records.add(record);
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    syncline.addHandler(capture);
    String user = "u" + UUID.randomUUID();
    String token = token(user);
    try {
      send("POST", "/sync/stream", "not-a-jwt", "{}");
      send(
          "POST",
          "/sync/checkpoint-request",
          token,
          "{\"client_id\":\"c\",\"checkpoint_request_id\":0}");
      upload(
          token,
          "c",
          1,
          op(
              "PUT",
              "todos",
              UUID.randomUUID().toString(),
              "{\"description\":1e999," + "\"list_id\":\"" + UUID.randomUUID() + "\"}"));
      upload(
          token,
          "c",
          2,
          op("PUT", "lists", UUID.randomUUID().toString(), "{\"name\":\"L\",\"owner_id\":\"x\"}"));
      send("POST", "/api/upload", token, "{\"ops\":");
    } finally {
      syncline.removeHandler(capture);
    }
    List<String> lines = records.stream().map(r -> r.getLevel() + " " + r.getMessage()).toList();
    assertThat(lines)
        .anySatisfy(l -> assertThat(l).contains("/sync/stream").contains("401 PSYNC_S2101"));
    assertThat(lines)
        .anySatisfy(
            l -> assertThat(l).contains("/sync/checkpoint-request").contains("400 PSYNC_S2001"));
    assertThat(lines)
        .anySatisfy(l -> assertThat(l).contains("user " + user).contains("SYNCLINE_U0002"));
    assertThat(lines)
        .anySatisfy(l -> assertThat(l).contains("user " + user).contains("PSYNC_S2001"));
    assertThat(lines).hasSizeGreaterThanOrEqualTo(4);
  }

  // ---- helpers

  private ProtocolClient connect(String token) throws Exception {
    ProtocolClient c = ProtocolClient.connect(server.baseUri(), token);
    closeables.add(c);
    return c;
  }

  private static String token(String user) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(
                        server.devTokenUri()
                            + "?user="
                            + URLEncoder.encode(user, StandardCharsets.UTF_8)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return JSON.readTree(r.body()).get("token").asText();
  }

  /** A token with exactly this payload, signed with the server's development key. */
  private static String signed(String payload) throws Exception {
    byte[] secret;
    try (Connection c = postgres.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT secret FROM todo_dev_key WHERE id = 1")) {
      rs.next();
      secret = rs.getBytes(1);
    }
    JWSObject jws =
        new JWSObject(
            new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("dev").build(), new Payload(payload));
    jws.sign(new MACSigner(secret));
    return jws.serialize();
  }

  private static String op(String op, String table, String id, String data) {
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

  private static String uploadBody(String clientId, long transactionId, String... ops) {
    return "{\"client_id\":\""
        + clientId
        + "\","
        + (transactionId > 0 ? "\"transaction_id\":" + transactionId + "," : "")
        + "\"ops\":["
        + String.join(",", ops)
        + "]}";
  }

  private static HttpResponse<String> upload(
      String token, String clientId, long transactionId, String... ops) throws Exception {
    return send("POST", "/api/upload", token, uploadBody(clientId, transactionId, ops));
  }

  private static HttpResponse<String> send(
      String method, String path, @Nullable String token, @Nullable String body) throws Exception {
    return sendAs(method, path, body, token == null ? null : "Bearer " + token);
  }

  private static HttpResponse<String> sendAs(
      String method, String path, @Nullable String body, @Nullable String authorization)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(server.baseUri().resolve(path))
            .timeout(WAIT)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json");
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    // The status first: a stream that was wrongly opened would never end, so its body is not waited
    // for.
    HttpResponse<InputStream> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    String text;
    try (InputStream in = r.body()) {
      text =
          r.statusCode() == 200 && path.startsWith("/sync/stream")
              ? "(a stream)"
              : new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    return new HttpResponse<>() {
      @Override
      public int statusCode() {
        return r.statusCode();
      }

      @Override
      public HttpRequest request() {
        return r.request();
      }

      @Override
      public Optional<HttpResponse<String>> previousResponse() {
        return Optional.empty();
      }

      @Override
      public HttpHeaders headers() {
        return r.headers();
      }

      @Override
      public String body() {
        return text;
      }

      @Override
      public Optional<SSLSession> sslSession() {
        return r.sslSession();
      }

      @Override
      public URI uri() {
        return r.uri();
      }

      @Override
      public HttpClient.Version version() {
        return r.version();
      }
    };
  }

  private static String code(HttpResponse<String> r) throws IOException {
    JsonNode node = JSON.readTree(r.body());
    return node.at("/error/code").asText();
  }

  private static List<String> lastLines(ProtocolClient client) {
    List<String> lines = client.lines();
    return lines.subList(Math.max(0, lines.size() - 3), lines.size());
  }

  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    TodoTestSupport.await(condition, what);
  }

  private static long count(String query) {
    return TodoTestSupport.count(postgres.dataSource(), query);
  }
}
