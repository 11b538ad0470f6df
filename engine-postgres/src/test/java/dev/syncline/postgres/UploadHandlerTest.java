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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The write path against a real Postgres: validation, authorization, conflicts, idempotency, value casts. */
class UploadHandlerTest {
  @RegisterExtension
  static final TestPostgres postgres = new TestPostgres();

  private static final AuthContext ALICE = new AuthContext(Map.of("sub", "alice"), Instant.now().plusSeconds(3600));
  private static final AuthContext BOB = new AuthContext(Map.of("sub", "bob"), Instant.now().plusSeconds(3600));
  private static final String L1 = "00000000-0000-0000-0000-0000000000a1";
  private static final String T1 = "00000000-0000-0000-0000-0000000000b1";

  /** Only the owner (column owner_id) may write a row; new rows must name the writer as owner. */
  private static final WriteAuthorizer OWNER_ONLY = (user, entry, current, tx) -> current != null
      ? user.userKey().equals(current.get("owner_id"))
      : entry.op() != CrudEntry.Op.PUT || user.userKey().equals(entry.data().get("owner_id"));

  @BeforeEach
  void schema() {
    postgres.execute("DROP TABLE IF EXISTS items, syncline_upload_clients CASCADE",
        "DROP TYPE IF EXISTS mood",
        "CREATE TYPE mood AS ENUM ('happy', 'sad')",
        "CREATE TABLE items (id uuid PRIMARY KEY, owner_id text NOT NULL, name text, qty integer, price numeric(10,2),"
            + " done boolean, due timestamptz, meta jsonb, tags text[], feeling mood, secret text,"
            + " CONSTRAINT qty_positive CHECK (qty IS NULL OR qty >= 0))");
  }

  private static UploadHandler.Builder handler() {
    return UploadHandler.builder(postgres.dataSource())
        .table("items", "owner_id", "name", "qty", "price", "done", "due", "meta", "tags", "feeling")
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
    UploadResult r = h.apply(ALICE, new UploadBatch("c1", 1L, List.of(
        put(L1, data("owner_id", "alice", "name", "Milk", "qty", 2L, "price", 1.5, "done", 1L,
            "due", "2024-05-01 10:00:00", "meta", Map.of("k", List.of(1, 2)), "tags", "[\"a\",\"b \\\"c\\\"\"]",
            "feeling", "happy")),
        put(T1, data("owner_id", "alice", "name", "Eggs")),
        new CrudEntry(CrudEntry.Op.PATCH, "items", L1, data("qty", 3L, "done", false)),
        new CrudEntry(CrudEntry.Op.DELETE, "items", T1, Map.of()))));
    assertThat(r).isEqualTo(new UploadResult.Applied(4, 0, null));
    assertThat(row(L1)).isEqualTo("alice|Milk|3|1.50|false|2024-05-01 10:00:00+00|{\"k\": [1, 2]}|{a,\"b \\\"c\\\"\"}|happy");
    assertThat(row(T1)).isNull();
  }

  @Test
  void aRetriedTransactionIsAppliedOnce() {
    UploadHandler h = handler().build();
    UploadBatch batch = new UploadBatch("c1", 7L, List.of(put(L1, data("owner_id", "alice", "name", "first"))));
    assertThat(h.apply(ALICE, batch)).isInstanceOf(UploadResult.Applied.class);
    postgres.execute("UPDATE items SET name = 'changed since'");
    assertThat(h.apply(ALICE, batch)).isEqualTo(new UploadResult.AlreadyApplied(7));
    assertThat(h.apply(ALICE, new UploadBatch("c1", 6L, List.of(put(L1, data("owner_id", "alice", "name", "old"))))))
        .as("an older transaction of the same client").isEqualTo(new UploadResult.AlreadyApplied(6));
    assertThat(row(L1)).startsWith("alice|changed since|");
    // Another client, or the same client id of another user, is counted apart.
    assertThat(h.apply(ALICE, new UploadBatch("c2", 7L, List.of(put(L1, data("owner_id", "alice", "name", "c2"))))))
        .isInstanceOf(UploadResult.Applied.class);
    assertThat(row(L1)).startsWith("alice|c2|");
  }

  @Test
  void concurrentRetriesOfOneTransactionApplyItOnce() throws Exception {
    postgres.execute("INSERT INTO items (id, owner_id, qty) VALUES ('" + L1 + "', 'alice', 0)");
    UploadHandler h = UploadHandler.builder(postgres.dataSource()).table("items").authorizer(OWNER_ONLY)
        .conflicts((entry, current) -> ConflictResolver.Resolution.apply(
            Map.of("qty", ((Number) current.get("qty")).longValue() + 1))) // increments: a double apply shows
        .build();
    UploadBatch batch = new UploadBatch("c1", 1L, List.of(new CrudEntry(CrudEntry.Op.PATCH, "items", L1, Map.of())));
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
    postgres.execute("INSERT INTO items (id, owner_id, qty) VALUES ('" + L1 + "', 'alice', 0), ('" + T1
        + "', 'alice', 0)");
    UploadHandler h = UploadHandler.builder(postgres.dataSource()).table("items").authorizer(OWNER_ONLY)
        .conflicts((entry, current) -> ConflictResolver.Resolution.apply(
            Map.of("qty", ((Number) current.get("qty")).longValue() + 1)))
        .build();
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<UploadResult>> results = new ArrayList<>();
      for (int i = 0; i < 120; i++) {
        List<String> order = i % 2 == 0 ? List.of(L1, T1) : List.of(T1, L1); // opposite lock orders if row by row
        List<CrudEntry> entries = order.stream()
            .map(id -> new CrudEntry(CrudEntry.Op.PATCH, "items", id, Map.of())).toList();
        UploadBatch batch = new UploadBatch("c" + i, 1L, entries);
        results.add(pool.submit(() -> h.apply(ALICE, batch)));
      }
      for (Future<UploadResult> f : results) {
        assertThat(f.get()).isEqualTo(new UploadResult.Applied(2, 0, null)); // no deadlock, no retry asked
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
    UploadResult r = h.apply(ALICE, new UploadBatch("c1", 1L, List.of(
        put(L1, data("owner_id", "alice", "name", "fine")),
        new CrudEntry(CrudEntry.Op.PUT, "users", "u1", data("name", "x")),
        put(T1, data("owner_id", "alice", "secret", "not uploadable", "nope", 1L)),
        put(T1, data("id", "another id")))));
    assertThat(r).isInstanceOf(UploadResult.Rejected.class);
    UploadResult.Rejected rejected = (UploadResult.Rejected) r;
    assertThat(rejected.code()).isEqualTo(ErrorCode.UPLOAD_INVALID);
    assertThat(rejected.problems()).extracting(UploadResult.Problem::index).containsExactly(1, 2, 2, 3);
    assertThat(rejected.problems()).extracting(UploadResult.Problem::message).containsExactly(
        "table users does not accept uploads", "column secret of table items does not accept uploads",
        "table items has no column nope", "column id differs from the entry id");
    assertThat(r.httpStatus()).isEqualTo(422);
    assertThat(row(L1)).as("nothing of the batch was written").isNull();
  }

  @Test
  void valuesTheDatabaseRefusesRejectTheBatchNamingTheEntry() {
    UploadHandler h = handler().build();
    for (CrudEntry bad : List.of(put(T1, data("owner_id", "alice", "qty", "many")),
        put(T1, data("owner_id", "alice", "qty", -1L)), put("not-a-uuid", data("owner_id", "alice")),
        put(T1, data("owner_id", "alice", "feeling", "angry")), put(T1, data("owner_id", "alice", "price", 1e12)))) {
      UploadResult r = h.apply(ALICE, new UploadBatch("c1", null, List.of(put(L1, data("owner_id", "alice")),
          bad)));
      assertThat(r).as("%s", bad).isInstanceOf(UploadResult.Rejected.class);
      assertThat(((UploadResult.Rejected) r).problems()).singleElement()
          .satisfies(p -> assertThat(p.index()).isEqualTo(1))
          .satisfies(p -> assertThat(p.code()).isEqualTo(ErrorCode.UPLOAD_INVALID));
      assertThat(row(L1)).as("rolled back").isNull();
    }
  }

  @Test
  void theAuthorizerSeesTheStoredRowAndDeniesForOthers() {
    postgres.execute("INSERT INTO items (id, owner_id, name) VALUES ('" + L1 + "', 'alice', 'mine')");
    UploadHandler h = handler().build();
    UploadResult r = h.apply(BOB, new UploadBatch("c1", 1L, List.of(
        new CrudEntry(CrudEntry.Op.PATCH, "items", L1, data("name", "stolen")))));
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
    postgres.execute("INSERT INTO items (id, owner_id, name) VALUES ('" + L1 + "', 'alice', 'server')");
    // Last write wins (default): a PUT over an existing row replaces the uploaded columns; a PATCH of a deleted
    // row is skipped.
    UploadHandler lww = handler().build();
    assertThat(lww.apply(ALICE, new UploadBatch("c1", null, List.of(put(L1, data("owner_id", "alice", "name",
        "client")), new CrudEntry(CrudEntry.Op.PATCH, "items", T1, data("name", "gone"))))))
        .isEqualTo(new UploadResult.Applied(1, 1, null));
    assertThat(row(L1)).startsWith("alice|client|");
    assertThat(row(T1)).isNull();
    // Reject: the same writes are conflicts.
    UploadHandler strict = handler().conflicts(ConflictResolver.rejectConflicts()).build();
    UploadResult r = strict.apply(ALICE, new UploadBatch("c1", null, List.of(put(L1, data("owner_id", "alice",
        "name", "again")))));
    assertThat(r).isInstanceOf(UploadResult.Rejected.class);
    assertThat(((UploadResult.Rejected) r).code()).isEqualTo(ErrorCode.UPLOAD_CONFLICT);
    assertThat(r.httpStatus()).isEqualTo(409);
    // Custom: the server's name is kept, the rest of the upload applied.
    UploadHandler merge = handler().conflicts((entry, current) -> {
      if (current == null) {
        return ConflictResolver.Resolution.apply();
      }
      Map<String, Object> merged = new LinkedHashMap<>(entry.data());
      merged.remove("name");
      return ConflictResolver.Resolution.apply(merged);
    }).build();
    assertThat(merge.apply(ALICE, new UploadBatch("c1", null, List.of(put(L1, data("owner_id", "alice", "name",
        "ignored", "qty", 5L)))))).isEqualTo(new UploadResult.Applied(1, 0, null));
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
      assertThat(h.apply(c, ALICE, new UploadBatch("c1", 1L, List.of(put(L1, data("owner_id", "alice"))))))
          .isInstanceOf(UploadResult.Applied.class);
      c.rollback();
    }
    assertThat(row(L1)).as("the host rolled back").isNull();
    assertThat(row(T1)).isNull();
    assertThatThrownBy(() -> h.apply(ALICE, new UploadBatch("c1", 1L, List.of())))
        .isInstanceOf(SynclineException.class).hasMessageContaining("without a DataSource");
  }

  @Test
  void httpExchangeAnswersTheStatusTheClientActsOn() {
    UploadHandler h = handler().build();
    String ok = "{\"client_id\":\"c1\",\"transaction_id\":1,\"extra\":true,\"ops\":[{\"op\":\"PUT\",\"type\":\"items\","
        + "\"id\":\"" + L1 + "\",\"opData\":{\"owner_id\":\"alice\",\"name\":\"x\"}}]}";
    assertThat(h.handle(ALICE, ok.getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(new UploadHandler.Response(200, "{\"applied\":1,\"skipped\":0}"));
    assertThat(h.handle(ALICE, ok.getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(new UploadHandler.Response(200, "{\"already_applied\":true,\"transaction_id\":1}"));
    for (String bad : List.of("", "[]", "{\"ops\":[]}", "{\"client_id\":\"c\",\"ops\":[{\"op\":\"UPSERT\",\"table\":"
        + "\"items\",\"id\":\"x\"}]}", "{\"client_id\":\"c\",\"transaction_id\":\"x\",\"ops\":[]}")) {
      UploadHandler.Response r = h.handle(ALICE, bad.getBytes(StandardCharsets.UTF_8));
      assertThat(r.status()).as(bad).isEqualTo(400);
      assertThat(r.json()).contains("\"code\":\"PSYNC_S2001\"");
    }
    UploadHandler.Response denied = h.handle(BOB, ("{\"client_id\":\"c1\",\"ops\":[{\"op\":\"DELETE\",\"table\":"
        + "\"items\",\"id\":\"" + L1 + "\"}]}").getBytes(StandardCharsets.UTF_8));
    assertThat(denied.status()).isEqualTo(403);
    assertThat(denied.json()).contains("\"code\":\"SYNCLINE_U0002\"").contains("\"problems\":[{\"index\":0,"
        + "\"table\":\"items\",\"id\":\"" + L1 + "\",\"code\":\"SYNCLINE_U0002\"");
  }

  @Test
  void aDatabaseOutageIsForTheClientToRetry() {
    UploadHandler h = UploadHandler.builder(new org.postgresql.ds.PGSimpleDataSource() {
      {
        setUrl("jdbc:postgresql://127.0.0.1:1/nothing");
        setConnectTimeout(1);
      }
    }).table("items").authorizer(OWNER_ONLY).build();
    assertThatThrownBy(() -> h.apply(ALICE, new UploadBatch("c1", 1L, List.of(put(L1, data("owner_id", "alice"))))))
        .isInstanceOfSatisfying(SynclineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UPLOAD_RETRY));
    assertThat(h.handle(ALICE, ("{\"client_id\":\"c1\",\"ops\":[]}").getBytes(StandardCharsets.UTF_8)).status())
        .isEqualTo(503);
  }

  private static String row(String id) {
    try (Connection c = postgres.dataSource().getConnection(); Statement s = c.createStatement()) {
      s.execute("SET TIME ZONE 'UTC'");
      try (ResultSet rs = s.executeQuery("SELECT concat_ws('|', owner_id, coalesce(name, ''), coalesce(qty::text, ''), "
          + "coalesce(price::text, ''), coalesce(done::text, ''), coalesce(due::text, ''), coalesce(meta::text, ''), "
          + "coalesce(tags::text, ''), coalesce(feeling::text, '')) FROM items WHERE id = '" + id + "'")) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
