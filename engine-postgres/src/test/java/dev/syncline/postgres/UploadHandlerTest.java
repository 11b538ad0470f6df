package dev.syncline.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.upload.ConflictResolver;
import dev.syncline.api.upload.CrudEntry;
import dev.syncline.api.upload.UploadBatch;
import dev.syncline.api.upload.UploadResult;
import dev.syncline.api.upload.WriteAuthorizer;
import dev.syncline.core.upload.UploadHandler;
import dev.syncline.testkit.postgres.TestPostgres;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The write path against a real Postgres: validation, authorization, conflicts, idempotency, value
 * casts.
 */
class UploadHandlerTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final AuthContext ALICE =
      new AuthContext(Map.of("sub", "alice"), Instant.parse("2100-01-01T00:00:00Z"));
  private static final AuthContext BOB =
      new AuthContext(Map.of("sub", "bob"), Instant.parse("2100-01-01T00:00:00Z"));
  private static final String L1 = "00000000-0000-0000-0000-0000000000a1";
  private static final String T1 = "00000000-0000-0000-0000-0000000000b1";

  /** Only the owner (column owner_id) may write a row; new rows must name the writer as owner. */
  private static final WriteAuthorizer OWNER_ONLY =
      (user, entry, current, tx) ->
          current != null
              ? user.userId().equals(current.get("owner_id"))
              : entry.op() != CrudEntry.Op.PUT
                  || user.userId().equals(entry.data().get("owner_id"));

  @BeforeEach
  void schema() {
    postgres.execute(
        "DROP TABLE IF EXISTS items, syncline_upload_clients CASCADE",
        "DROP TYPE IF EXISTS mood",
        "CREATE TYPE mood AS ENUM ('happy', 'sad')",
        "CREATE TABLE items (id uuid PRIMARY KEY, owner_id text NOT NULL, name text, qty integer, price numeric(10,2),"
            + " done boolean, due timestamptz, meta jsonb, tags text[], feeling mood, secret text,"
            + " CONSTRAINT qty_positive CHECK (qty IS NULL OR qty >= 0))");
  }

  private static UploadHandler.Builder handler() {
    return UploadHandler.builder(postgres.dataSource())
        .table(
            "items", "owner_id", "name", "qty", "price", "done", "due", "meta", "tags", "feeling")
        .authorizer(OWNER_ONLY);
  }

  private static CrudEntry put(String id, Map<String, Object> data) {
    return new CrudEntry(CrudEntry.Op.PUT, "items", id, data);
  }

  private static Map<String, Object> data(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void appliesEveryOpKindAndCastsJsonValuesToTheColumnTypes() {
    UploadHandler h = handler().build();
    UploadResult r =
        h.apply(
            ALICE,
            new UploadBatch(
                "c1",
                1L,
                List.of(
                    put(
                        L1,
                        data(
                            "owner_id",
                            "alice",
                            "name",
                            "Milk",
                            "qty",
                            2L,
                            "price",
                            1.5,
                            "done",
                            1L,
                            "due",
                            "2024-05-01 10:00:00",
                            "meta",
                            Map.of("k", List.of(1, 2)),
                            "tags",
                            "[\"a\",\"b \\\"c\\\"\"]",
                            "feeling",
                            "happy")),
                    put(T1, data("owner_id", "alice", "name", "Eggs")),
                    new CrudEntry(CrudEntry.Op.PATCH, "items", L1, data("qty", 3L, "done", false)),
                    new CrudEntry(CrudEntry.Op.DELETE, "items", T1, Map.of()))));
    assertThat(r).isEqualTo(new UploadResult.Applied(4, 0, null));
    assertThat(row(L1))
        .isEqualTo(
            "alice|Milk|3|1.50|false|2024-05-01 10:00:00+00|{\"k\": [1, 2]}|{a,\"b \\\"c\\\"\"}|happy");
    assertThat(row(T1)).isNull();
  }

  @Test
  void aRetriedTransactionIsAppliedOnce() {
    UploadHandler h = handler().build();
    UploadBatch batch =
        new UploadBatch("c1", 7L, List.of(put(L1, data("owner_id", "alice", "name", "first"))));
    assertThat(h.apply(ALICE, batch)).isInstanceOf(UploadResult.Applied.class);
    postgres.execute("UPDATE items SET name = 'changed since'");
    assertThat(h.apply(ALICE, batch)).isEqualTo(new UploadResult.AlreadyApplied(7));
    assertThat(
            h.apply(
                ALICE,
                new UploadBatch(
                    "c1", 6L, List.of(put(L1, data("owner_id", "alice", "name", "old"))))))
        .as("an older transaction of the same client")
        .isEqualTo(new UploadResult.AlreadyApplied(6));
    assertThat(row(L1)).startsWith("alice|changed since|");
    // Another client, or the same client id of another user, is counted apart.
    assertThat(
            h.apply(
                ALICE,
                new UploadBatch(
                    "c2", 7L, List.of(put(L1, data("owner_id", "alice", "name", "c2"))))))
        .isInstanceOf(UploadResult.Applied.class);
    assertThat(row(L1)).startsWith("alice|c2|");
  }

  @Test
  void concurrentRetriesOfOneTransactionApplyItOnce() throws Exception {
    postgres.execute("INSERT INTO items (id, owner_id, qty) VALUES ('" + L1 + "', 'alice', 0)");
    UploadHandler h =
        UploadHandler.builder(postgres.dataSource())
            .table("items")
            .authorizer(OWNER_ONLY)
            .conflicts(
                (entry, current) ->
                    ConflictResolver.Resolution.apply(
                        Map.of(
                            "qty",
                            ((Number) current.get("qty")).longValue()
                                + 1))) // increments: a double apply shows
            .build();
    UploadBatch batch =
        new UploadBatch(
            "c1", 1L, List.of(new CrudEntry(CrudEntry.Op.PATCH, "items", L1, Map.of())));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<UploadResult>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        results.add(pool.submit(() -> h.apply(ALICE, batch)));
      }
      int applied = 0;
      for (Future<UploadResult> f : results) {
        applied += f.get() instanceof UploadResult.Applied ? 1 : 0;
      }
      assertThat(applied).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
    assertThat(row(L1)).startsWith("alice||1|");
  }

  @Test
  void concurrentUploadsOfTheSameRowsInAnyOrderNeitherDeadlockNorLoseUpdates() throws Exception {
    postgres.execute(
        "INSERT INTO items (id, owner_id, qty) VALUES ('"
            + L1
            + "', 'alice', 0), ('"
            + T1
            + "', 'alice', 0)");
    UploadHandler h =
        UploadHandler.builder(postgres.dataSource())
            .table("items")
            .authorizer(OWNER_ONLY)
            .conflicts(
                (entry, current) ->
                    ConflictResolver.Resolution.apply(
                        Map.of("qty", ((Number) current.get("qty")).longValue() + 1)))
            .build();
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<UploadResult>> results = new ArrayList<>();
      for (int i = 0; i < 120; i++) {
        List<String> order =
            i % 2 == 0 ? List.of(L1, T1) : List.of(T1, L1); // opposite lock orders if row by row
        List<CrudEntry> entries =
            order.stream()
                .map(id -> new CrudEntry(CrudEntry.Op.PATCH, "items", id, Map.of()))
                .toList();
        UploadBatch batch = new UploadBatch("c" + i, 1L, entries);
        results.add(pool.submit(() -> h.apply(ALICE, batch)));
      }
      for (Future<UploadResult> f : results) {
        assertThat(f.get())
            .isEqualTo(new UploadResult.Applied(2, 0, null)); // no deadlock, no retry asked
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(row(L1)).startsWith("alice||120|");
    assertThat(row(T1)).startsWith("alice||120|");
  }

  @Test
  void unknownTablesAndColumnsRejectTheWholeBatchListingEveryProblem() {
    UploadHandler h = handler().build();
    UploadResult r =
        h.apply(
            ALICE,
            new UploadBatch(
                "c1",
                1L,
                List.of(
                    put(L1, data("owner_id", "alice", "name", "fine")),
                    new CrudEntry(CrudEntry.Op.PUT, "users", "u1", data("name", "x")),
                    put(T1, data("owner_id", "alice", "secret", "not uploadable", "nope", 1L)),
                    put(T1, data("id", "another id")))));
    assertThat(r).isInstanceOf(UploadResult.Rejected.class);
    UploadResult.Rejected rejected = (UploadResult.Rejected) r;
    assertThat(rejected.code()).isEqualTo(ErrorCode.UPLOAD_INVALID);
    assertThat(rejected.problems())
        .extracting(UploadResult.Problem::index)
        .containsExactly(1, 2, 2, 3);
    assertThat(rejected.problems())
        .extracting(UploadResult.Problem::message)
        .containsExactly(
            "table users does not accept uploads",
                "column secret of table items does not accept uploads",
            "column nope of table items does not accept uploads",
                "column id differs from the entry id");
    assertThat(r.httpStatus()).isEqualTo(422);
    assertThat(row(L1)).as("nothing of the batch was written").isNull();
  }

  @Test
  void valuesTheDatabaseRefusesRejectTheBatchNamingTheEntry() {
    UploadHandler h = handler().build();
    for (CrudEntry bad :
        List.of(
            put(T1, data("owner_id", "alice", "qty", "many")),
            put(T1, data("owner_id", "alice", "qty", -1L)),
            put("not-a-uuid", data("owner_id", "alice")),
            put(T1, data("owner_id", "alice", "feeling", "angry")),
            put(T1, data("owner_id", "alice", "price", 1e12)))) {
      UploadResult r =
          h.apply(
              ALICE, new UploadBatch("c1", null, List.of(put(L1, data("owner_id", "alice")), bad)));
      assertThat(r).as("%s", bad).isInstanceOf(UploadResult.Rejected.class);
      assertThat(((UploadResult.Rejected) r).problems())
          .singleElement()
          .satisfies(p -> assertThat(p.index()).isEqualTo(1))
          .satisfies(p -> assertThat(p.code()).isEqualTo(ErrorCode.UPLOAD_INVALID));
      assertThat(row(L1)).as("rolled back").isNull();
    }
  }

  @Test
  void theAuthorizerSeesTheStoredRowAndDeniesForOthers() {
    postgres.execute(
        "INSERT INTO items (id, owner_id, name) VALUES ('" + L1 + "', 'alice', 'mine')");
    UploadHandler h = handler().build();
    UploadResult r =
        h.apply(
            BOB,
            new UploadBatch(
                "c1",
                1L,
                List.of(new CrudEntry(CrudEntry.Op.PATCH, "items", L1, data("name", "stolen")))));
    assertThat(r).isInstanceOf(UploadResult.Rejected.class);
    assertThat(((UploadResult.Rejected) r).code()).isEqualTo(ErrorCode.UPLOAD_FORBIDDEN);
    assertThat(r.httpStatus()).isEqualTo(403);
    // Bob cannot create a row in alice's name either, nor take hers over with a PUT.
    assertThat(h.apply(BOB, new UploadBatch("c1", 2L, List.of(put(T1, data("owner_id", "alice"))))))
        .isInstanceOf(UploadResult.Rejected.class);
    assertThat(h.apply(BOB, new UploadBatch("c1", 3L, List.of(put(L1, data("owner_id", "bob"))))))
        .isInstanceOf(UploadResult.Rejected.class);
    assertThat(row(L1)).startsWith("alice|mine|");
    assertThat(row(T1)).isNull();
  }

  @Test
  void conflictPolicies() {
    postgres.execute(
        "INSERT INTO items (id, owner_id, name) VALUES ('" + L1 + "', 'alice', 'server')");
    // Last write wins (default): a PUT over an existing row replaces the uploaded columns; a PATCH
    // of a deleted
    // row is skipped.
    UploadHandler lww = handler().build();
    assertThat(
            lww.apply(
                ALICE,
                new UploadBatch(
                    "c1",
                    null,
                    List.of(
                        put(L1, data("owner_id", "alice", "name", "client")),
                        new CrudEntry(CrudEntry.Op.PATCH, "items", T1, data("name", "gone"))))))
        .isEqualTo(new UploadResult.Applied(1, 1, null));
    assertThat(row(L1)).startsWith("alice|client|");
    assertThat(row(T1)).isNull();
    // Reject: the same writes are conflicts.
    UploadHandler strict = handler().conflicts(ConflictResolver.rejectConflicts()).build();
    UploadResult r =
        strict.apply(
            ALICE,
            new UploadBatch(
                "c1", null, List.of(put(L1, data("owner_id", "alice", "name", "again")))));
    assertThat(r).isInstanceOf(UploadResult.Rejected.class);
    assertThat(((UploadResult.Rejected) r).code()).isEqualTo(ErrorCode.UPLOAD_CONFLICT);
    assertThat(r.httpStatus()).isEqualTo(409);
    // Custom: the server's name is kept, the rest of the upload applied.
    UploadHandler merge =
        handler()
            .conflicts(
                (entry, current) -> {
                  if (current == null) {
                    return ConflictResolver.Resolution.apply();
                  }
                  Map<String, Object> merged = new LinkedHashMap<>(entry.data());
                  merged.remove("name");
                  return ConflictResolver.Resolution.apply(merged);
                })
            .build();
    assertThat(
            merge.apply(
                ALICE,
                new UploadBatch(
                    "c1",
                    null,
                    List.of(put(L1, data("owner_id", "alice", "name", "ignored", "qty", 5L))))))
        .isEqualTo(new UploadResult.Applied(1, 0, null));
    assertThat(row(L1)).startsWith("alice|client|5|");
  }

  @Test
  void runsInsideTheHostsTransaction() throws SQLException {
    UploadHandler h = UploadHandler.builder().table("items").authorizer(OWNER_ONLY).build();
    try (Connection c = postgres.dataSource().getConnection()) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute("INSERT INTO items (id, owner_id, name) VALUES ('" + T1 + "', 'alice', 'host')");
      }
      assertThat(
              h.apply(
                  c, ALICE, new UploadBatch("c1", 1L, List.of(put(L1, data("owner_id", "alice"))))))
          .isInstanceOf(UploadResult.Applied.class);
      c.rollback();
    }
    assertThat(row(L1)).as("the host rolled back").isNull();
    assertThat(row(T1)).isNull();
    assertThatThrownBy(() -> h.apply(ALICE, new UploadBatch("c1", 1L, List.of())))
        .isInstanceOf(SynclineException.class)
        .hasMessageContaining("without a DataSource");
  }

  @Test
  void httpExchangeAnswersTheStatusTheClientActsOn() {
    UploadHandler h = handler().build();
    String ok =
        "{\"client_id\":\"c1\",\"transaction_id\":1,\"extra\":true,\"ops\":[{\"op\":\"PUT\",\"type\":\"items\","
            + "\"id\":\""
            + L1
            + "\",\"opData\":{\"owner_id\":\"alice\",\"name\":\"x\"}}]}";
    assertThat(h.handle(ALICE, ok.getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(new UploadHandler.Response(200, "{\"applied\":1,\"skipped\":0}"));
    assertThat(h.handle(ALICE, ok.getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(
            new UploadHandler.Response(200, "{\"already_applied\":true,\"transaction_id\":1}"));
    for (String bad :
        List.of(
            "",
            "[]",
            "{\"ops\":[]}",
            "{\"client_id\":\"c\",\"ops\":[{\"op\":\"UPSERT\",\"table\":"
                + "\"items\",\"id\":\"x\"}]}",
            "{\"client_id\":\"c\",\"transaction_id\":\"x\",\"ops\":[]}")) {
      UploadHandler.Response r = h.handle(ALICE, bad.getBytes(StandardCharsets.UTF_8));
      assertThat(r.status()).as(bad).isEqualTo(400);
      assertThat(r.json()).contains("\"code\":\"PSYNC_S2001\"");
    }
    UploadHandler.Response denied =
        h.handle(
            BOB,
            ("{\"client_id\":\"c1\",\"ops\":[{\"op\":\"DELETE\",\"table\":"
                    + "\"items\",\"id\":\""
                    + L1
                    + "\"}]}")
                .getBytes(StandardCharsets.UTF_8));
    assertThat(denied.status()).isEqualTo(403);
    assertThat(denied.json())
        .contains("\"code\":\"SYNCLINE_U0002\"")
        .contains(
            "\"problems\":[{\"index\":0,"
                + "\"table\":\"items\",\"id\":\""
                + L1
                + "\",\"code\":\"SYNCLINE_U0002\"");
  }

  @Test
  void aDatabaseOutageIsForTheClientToRetry() {
    UploadHandler h =
        UploadHandler.builder(
                new PGSimpleDataSource() {
                  {
                    setUrl("jdbc:postgresql://127.0.0.1:1/nothing");
                    setConnectTimeout(1);
                  }
                })
            .table("items")
            .authorizer(OWNER_ONLY)
            .build();
    assertThatThrownBy(
            () ->
                h.apply(
                    ALICE, new UploadBatch("c1", 1L, List.of(put(L1, data("owner_id", "alice"))))))
        .isInstanceOfSatisfying(
            SynclineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UPLOAD_RETRY));
    assertThat(
            h.handle(ALICE, "{\"client_id\":\"c1\",\"ops\":[]}".getBytes(StandardCharsets.UTF_8))
                .status())
        .isEqualTo(503);
  }

  /**
   * Whatever a client sends that can never be stored is its own mistake: a 4xx it discards, never a
   * 503 that would keep its upload queue retrying forever. Numbers beyond any column's range (even
   * {@code 1e999999999}, whose digits would not fit in memory), NUL characters, over-long ids and
   * constraint violations alike.
   */
  @Test
  void valuesThatCanNeverBeStoredAreTheClientsMistakeNeverARetry() {
    postgres.execute(
        "CREATE UNIQUE INDEX items_name_is_unique ON items (name)",
        "INSERT INTO items (id, owner_id, name) VALUES ('" + L1 + "', 'alice', 'taken')");
    UploadHandler h = handler().build();
    record Case(String data, int status, String code) {}
    for (Case c :
        List.of(
            new Case("{\"owner_id\":\"alice\",\"qty\":1e999}", 422, "SYNCLINE_U0001"),
            new Case("{\"owner_id\":\"alice\",\"price\":-1e999}", 422, "SYNCLINE_U0001"),
            new Case("{\"owner_id\":\"alice\",\"price\":1e999999999}", 422, "SYNCLINE_U0001"),
            new Case(
                "{\"owner_id\":\"alice\",\"qty\":123456789012345678901234567890}",
                422,
                "SYNCLINE_U0001"),
            new Case("{\"owner_id\":\"alice\",\"name\":\"a\\u0000b\"}", 422, "SYNCLINE_U0001"),
            new Case(
                "{\"owner_id\":\"alice\",\"meta\":{\"k\":\"\\u0000\"}}", 422, "SYNCLINE_U0001"),
            new Case("{\"owner_id\":\"alice\",\"qty\":-1}", 422, "SYNCLINE_U0001"),
            new Case("{\"owner_id\":\"alice\",\"name\":\"taken\"}", 409, "SYNCLINE_U0003"),
            new Case(
                "{\"owner_id\":\"alice\",\"due\":\"the 31st of February\"}",
                422,
                "SYNCLINE_U0001"))) {
      UploadHandler.Response r =
          h.handle(
              ALICE,
              ("{\"client_id\":\"c1\",\"ops\":[{\"op\":\"PUT\","
                      + "\"table\":\"items\",\"id\":\""
                      + T1
                      + "\",\"data\":"
                      + c.data()
                      + "}]}")
                  .getBytes(StandardCharsets.UTF_8));
      assertThat(r.status()).as(c.data()).isEqualTo(c.status());
      assertThat(r.json())
          .as(c.data())
          .contains("\"code\":\"" + c.code() + "\"")
          // Nothing of the database's own words: no SQL, constraint or column type names, no
          // values.
          .doesNotContain("SQLSTATE")
          .doesNotContain("violates")
          .doesNotContain("qty_positive")
          .doesNotContain("items_name_is_unique")
          .doesNotContain("ERROR")
          .doesNotContain("taken")
          .doesNotContain("February")
          .doesNotContain("numeric")
          .doesNotContain("Exception");
    }
    for (String id :
        List.of("x".repeat(UploadHandler.MAX_ID_LENGTH + 1), "a\\u0000b", "not-a-uuid")) {
      UploadHandler.Response r =
          h.handle(
              ALICE,
              ("{\"client_id\":\"c1\",\"ops\":[{\"op\":\"PUT\","
                      + "\"table\":\"items\",\"id\":\""
                      + id
                      + "\",\"data\":{\"owner_id\":\"alice\"}}]}")
                  .getBytes(StandardCharsets.UTF_8));
      assertThat(r.status()).as(id).isEqualTo(422);
      assertThat(r.json().length()).as(id).isLessThan(1_000);
    }
    for (String clientId : List.of("c".repeat(129), "a\\nb", "a\\u0000b")) {
      UploadHandler.Response r =
          h.handle(
              ALICE,
              ("{\"client_id\":\"" + clientId + "\",\"transaction_id\":1," + "\"ops\":[]}")
                  .getBytes(StandardCharsets.UTF_8));
      assertThat(r.status()).as(clientId).isEqualTo(400);
      assertThat(r.json()).contains("\"code\":\"PSYNC_S2001\"");
    }
    assertThat(row(T1)).isNull();
    assertThat(row(L1)).startsWith("alice|taken|");
  }

  @Test
  void valuesAndRowsAboveTheLimitsAreRefusedBeforeTheDatabaseSeesThem() {
    UploadHandler h = handler().maxValueBytes(16).maxRowBytes(40).build();
    assertThat(
            h.apply(
                ALICE,
                new UploadBatch(
                    "c1",
                    null,
                    List.of(put(L1, data("owner_id", "alice", "name", "é".repeat(8)))))))
        .as("16 bytes")
        .isInstanceOf(UploadResult.Applied.class);
    UploadResult value =
        h.apply(
            ALICE,
            new UploadBatch(
                "c1",
                null,
                List.of(put(T1, data("owner_id", "alice", "name", "é".repeat(8) + "!")))));
    assertThat(value)
        .isInstanceOfSatisfying(
            UploadResult.Rejected.class,
            r ->
                assertThat(r.problems())
                    .singleElement()
                    .satisfies(
                        p ->
                            assertThat(p.message())
                                .isEqualTo(
                                    "the value of column name is larger " + "than 16 bytes")));
    UploadResult json =
        h.apply(
            ALICE,
            new UploadBatch(
                "c1",
                null,
                List.of(
                    put(
                        T1,
                        data(
                            "owner_id",
                            "alice",
                            "meta",
                            Map.of("k", List.of("0123456789", "abcdef")))))));
    assertThat(json)
        .as("a JSON value's size is its JSON text")
        .isInstanceOf(UploadResult.Rejected.class);
    UploadResult row =
        h.apply(
            ALICE,
            new UploadBatch(
                "c1",
                null,
                List.of(
                    put(
                        T1,
                        data(
                            "owner_id",
                            "alice-0123456789",
                            "name",
                            "0123456789abcdef",
                            "feeling",
                            "happy-happy")))));
    assertThat(row)
        .isInstanceOfSatisfying(
            UploadResult.Rejected.class,
            r ->
                assertThat(r.problems())
                    .singleElement()
                    .satisfies(
                        p -> assertThat(p.message()).isEqualTo("the row is larger than 40 bytes")));
    assertThat(row(T1)).isNull();
  }

  /**
   * An upload of many bad entries gets a short answer (the first problems and their count), and
   * tables and columns outside the allow-list cost no query of the database's catalog.
   */
  @Test
  void manyProblemsGetAShortAnswerAndUnknownColumnsCostNoCatalogQuery() {
    CountingDataSource counting = new CountingDataSource(postgres.dataSource());
    UploadHandler listed =
        UploadHandler.builder(counting)
            .table("items", "owner_id", "name")
            .authorizer(OWNER_ONLY)
            .build();
    StringBuilder ops = new StringBuilder();
    for (int i = 0; i < 5_000; i++) {
      ops.append(i == 0 ? "" : ",")
          .append("{\"op\":\"PATCH\",\"table\":\"items\",\"id\":\"")
          .append(T1)
          .append("\",\"data\":{\"col")
          .append(i)
          .append("\":1}}");
    }
    byte[] body = ("{\"client_id\":\"c1\",\"ops\":[" + ops + "]}").getBytes(StandardCharsets.UTF_8);
    for (int round = 0; round < 2; round++) {
      UploadHandler.Response r = listed.handle(ALICE, body);
      assertThat(r.status()).isEqualTo(422);
      assertThat(r.json().length())
          .as("an answer of a few KiB for a %d KiB upload", body.length / 1024)
          .isLessThan(4_096);
      assertThat(r.json()).contains("\"problem_count\":5000");
    }
    assertThat(counting.catalogQueries()).as("allow-listed columns need no catalog").isZero();
    // With every column of the table allowed, the catalog is read once, not once per unknown
    // column.
    UploadHandler all =
        UploadHandler.builder(counting).table("items").authorizer(OWNER_ONLY).build();
    UploadHandler.Response r = all.handle(ALICE, body);
    assertThat(r.status()).isEqualTo(422);
    assertThat(r.json().length()).isLessThan(4_096);
    assertThat(counting.catalogQueries()).isEqualTo(1);
    // Asked again at once, it neither reads the catalog nor discards the client's data on a
    // minute-old view: a
    // column may have been added since, so the client retries later.
    assertThat(all.handle(ALICE, body).status()).isEqualTo(503);
    assertThat(counting.catalogQueries()).isEqualTo(1);
  }

  /** Every rejected upload and every failure to retry is logged with its code and cause. */
  @Test
  void rejectionsAndRetriesAreLoggedWithTheirCause() {
    List<LogRecord> records = new CopyOnWriteArrayList<>();
    Logger logger = Logger.getLogger(UploadHandler.class.getName());
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
    logger.addHandler(capture);
    try {
      postgres.execute(
          "INSERT INTO items (id, owner_id, name) VALUES ('" + L1 + "', 'alice', 'mine')");
      UploadHandler h = handler().build();
      h.handle(
          BOB,
          ("{\"client_id\":\"c1\",\"ops\":[{\"op\":\"DELETE\",\"table\":\"items\",\"id\":\""
                  + L1
                  + "\"}]}")
              .getBytes(StandardCharsets.UTF_8));
      h.handle(
          ALICE,
          ("{\"client_id\":\"c1\",\"ops\":[{\"op\":\"PUT\",\"table\":\"items\",\"id\":\""
                  + T1
                  + "\",\"data\":{\"owner_id\":\"alice\",\"qty\":1e999}}]}")
              .getBytes(StandardCharsets.UTF_8));
      h.handle(ALICE, "{\"ops\":".getBytes(StandardCharsets.UTF_8));
      UploadHandler down =
          UploadHandler.builder(
                  new PGSimpleDataSource() {
                    {
                      setUrl("jdbc:postgresql://127.0.0.1:1/nothing");
                      setConnectTimeout(1);
                    }
                  })
              .table("items")
              .authorizer(OWNER_ONLY)
              .build();
      down.handle(ALICE, "{\"client_id\":\"c1\",\"ops\":[]}".getBytes(StandardCharsets.UTF_8));
    } finally {
      logger.removeHandler(capture);
    }
    assertThat(records)
        .extracting(r -> r.getLevel().getName() + " " + r.getMessage())
        .satisfiesExactly(
            m ->
                assertThat(m)
                    .startsWith("INFO upload of user bob client c1 rejected: SYNCLINE_U0002"),
            m ->
                assertThat(m)
                    .startsWith("INFO upload of user alice client c1 rejected: SYNCLINE_U0001")
                    .contains("SQLSTATE 22003"),
            m -> assertThat(m).startsWith("INFO upload of user alice refused: PSYNC_S2001"),
            m ->
                assertThat(m)
                    .startsWith(
                        "WARNING upload of user alice client c1 not applied, the client will retry: "
                            + "SYNCLINE_U0004")
                    .contains("SQLSTATE 08001"));
    assertThat(records.get(3).getThrown()).isNotNull();
  }

  /** A data source counting the statements that read the catalog's columns. */
  private static final class CountingDataSource extends PGSimpleDataSource {
    private final DataSource target;
    private final AtomicInteger catalog = new AtomicInteger();

    CountingDataSource(DataSource target) {
      this.target = target;
    }

    int catalogQueries() {
      return catalog.get();
    }

    @Override
    public Connection getConnection() throws SQLException {
      Connection c = target.getConnection();
      return (Connection)
          Proxy.newProxyInstance(
              Connection.class.getClassLoader(),
              new Class<?>[] {Connection.class},
              (proxy, method, args) -> {
                if (method.getName().startsWith("prepare")
                    && args != null
                    && args[0] instanceof String sql
                    && sql.contains("pg_attribute")) {
                  catalog.incrementAndGet();
                }
                try {
                  return method.invoke(c, args);
                } catch (InvocationTargetException e) {
                  throw e.getCause();
                }
              });
    }
  }

  private static String row(String id) {
    try (Connection c = postgres.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("SET TIME ZONE 'UTC'");
      try (ResultSet rs =
          s.executeQuery(
              "SELECT concat_ws('|', owner_id, coalesce(name, ''), coalesce(qty::text, ''), "
                  + "coalesce(price::text, ''), coalesce(done::text, ''), coalesce(due::text, ''), coalesce(meta::text, ''), "
                  + "coalesce(tags::text, ''), coalesce(feeling::text, '')) FROM items WHERE id = '"
                  + id
                  + "'")) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
