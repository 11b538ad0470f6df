package dev.syncline.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpId;
import dev.syncline.api.TableRef;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.spi.source.SourceEvent;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.CurrentRow;
import dev.syncline.spi.storage.SourceKey;
import dev.syncline.spi.storage.WriteCheckpointKey;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.postgres.TestPostgres;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Postgres source against a real embedded Postgres ({@code wal_level=logical}): snapshot, every
 * change kind, TOAST, replica identity, schema changes, write checkpoints, restarts. Each test
 * compares storage with what the rules give for the tables' current contents.
 */
class PostgresSourceTest {
  @RegisterExtension static final TestPostgres postgres = new TestPostgres();

  private static final String RULES =
      """
      bucket_definitions:
        global:
          data:
            - SELECT * FROM items
            - SELECT id, owner, length(body) AS body_length, substring(body, 1, 20) AS body_start, note FROM docs
      """;

  private static String body(Random random, int chars) {
    StringBuilder sb = new StringBuilder(chars);
    for (int i = 0; i < chars; i++) {
      sb.append((char) ('a' + random.nextInt(26)));
    }
    return sb.toString(); // random letters do not compress: stored out of line (TOAST)
  }

  @Test
  void concurrentWriteCheckpointHeadsCoverEveryChangeCommittedBeforeTheCall() throws Exception {
    PostgresSource source =
        PostgresSource.builder()
            .jdbcUrl(postgres.jdbcUrl())
            .user(postgres.user())
            .password(postgres.password())
            .build();
    try (source;
        Connection setup = postgres.dataSource().getConnection();
        Statement s = setup.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS head_probe (n int)");
      ExecutorService pool = Executors.newFixedThreadPool(12);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 12; t++) {
          done.add(
              pool.submit(
                  () -> {
                    try (Connection c = postgres.dataSource().getConnection();
                        Statement st = c.createStatement()) {
                      for (int i = 0; i < 25; i++) {
                        st.execute("INSERT INTO head_probe VALUES (" + i + ")");
                        Lsn committed;
                        try (var rs = st.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
                          rs.next();
                          committed = Lsn.parse(rs.getString(1));
                        }
                        Lsn head = (Lsn) source.writeCheckpointHead();
                        assertThat(head.compareTo(committed))
                            .as("head %s covers %s", head, committed)
                            .isGreaterThanOrEqualTo(0);
                      }
                    }
                    return null;
                  }));
        }
        for (var f : done) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void snapshotThenEveryChangeKind() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_kinds")) {
      h.sql(
          "CREATE TABLE items (id text PRIMARY KEY, n int, price numeric(10,2), at timestamptz, tags text[])",
          "CREATE TABLE docs (id int PRIMARY KEY, owner text, body text, note text)",
          "INSERT INTO items SELECT 'i' || g, g, g * 1.5, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 s',"
              + " ARRAY['a', g::text] FROM generate_series(1, 500) g");
      h.start();
      Map<String, String> snapshot = h.assertReplicaMatches("global[]", "items", "docs");
      assertThat(snapshot)
          .hasSize(500)
          .containsEntry(
              "items/i1",
              "{\"id\":\"i1\",\"n\":1,\"price\":\"1.50\",\"at\":\"2024-01-01 00:00:01Z\",\"tags\":\"[\\\"a\\\",\\\"1\\\"]\"}");

      h.sql(
          "INSERT INTO items VALUES ('new', 1, 2, now(), NULL)",
          "UPDATE items SET n = n + 1000 WHERE n <= 10",
          "DELETE FROM items WHERE n BETWEEN 20 AND 29",
          "UPDATE items SET id = 'renamed' WHERE id = 'i100'",
          "INSERT INTO docs VALUES (1, 'ann', 'short', 'x')");
      Map<String, String> after = h.assertReplicaMatches("global[]", "items", "docs");
      assertThat(after)
          .containsKey("items/renamed")
          .doesNotContainKey("items/i100")
          .doesNotContainKey("items/i20")
          .containsKey("items/new")
          .containsKey("docs/1");

      h.sql(
          "BEGIN",
          "INSERT INTO items VALUES ('rolled-back', 1)",
          "ROLLBACK",
          "BEGIN",
          "INSERT INTO items VALUES ('sp', 1)",
          "SAVEPOINT s",
          "INSERT INTO items VALUES ('sp2', 2)",
          "ROLLBACK TO SAVEPOINT s",
          "COMMIT");
      assertThat(h.assertReplicaMatches("global[]", "items", "docs"))
          .containsKey("items/sp")
          .doesNotContainKeys("items/rolled-back", "items/sp2");

      h.sql("TRUNCATE items");
      assertThat(h.assertReplicaMatches("global[]", "items", "docs")).containsOnlyKeys("docs/1");
    }
  }

  @Test
  void snapshotUnderConcurrentWritesEqualsTheTable() throws Exception {
    try (var h = new ReplicationHarness(postgres, RULES, "t_concurrent")) {
      h.sql(
          "CREATE TABLE items (id text PRIMARY KEY, n int)",
          "CREATE TABLE docs (id int PRIMARY KEY, owner text, " + "body text, note text)",
          "INSERT INTO items SELECT 'i' || g, g FROM generate_series(1, 30000) g");
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger transactions = new AtomicInteger();
      Thread writer =
          new Thread(
              () -> {
                Random random = new Random(7);
                try (Connection c = postgres.dataSource().getConnection();
                    Statement s = c.createStatement()) {
                  while (!stop.get()) {
                    int id = 1 + random.nextInt(31000);
                    switch (random.nextInt(3)) {
                      case 0 ->
                          s.execute(
                              "INSERT INTO items VALUES ('i"
                                  + id
                                  + "', "
                                  + id
                                  + ") ON CONFLICT (id) DO UPDATE "
                                  + "SET n = items.n + 1");
                      case 1 -> s.execute("UPDATE items SET n = n * 2 WHERE id = 'i" + id + "'");
                      default -> s.execute("DELETE FROM items WHERE id = 'i" + id + "'");
                    }
                    transactions.incrementAndGet();
                  }
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      writer.start();
      Await.until(() -> transactions.get() >= 20, "the writer to get going");
      h.start(h.sourceBuilder().snapshotChunkRows(2_000));
      // Writes run while the snapshot copies (the source reports its progress table by table).
      int atStart = transactions.get();
      Await.until(() -> transactions.get() >= atStart + 200, "writes during the snapshot");
      stop.set(true);
      writer.join();
      assertThat(transactions.get()).as("writes ran during the snapshot").isGreaterThan(100);
      h.assertReplicaMatches("global[]", "items", "docs");
      assertThat(h.events(SourceEvent.SnapshotProgress.class)).isNotEmpty();
    }
  }

  @Test
  void toastedValuesAndReplicaIdentityFull() {
    Random random = new Random(3);
    try (var h = new ReplicationHarness(postgres, RULES, "t_toast")) {
      h.sql(
          "CREATE TABLE items (id text PRIMARY KEY, n int)",
          "CREATE TABLE docs (id int PRIMARY KEY, owner text, body text, note text)",
          "INSERT INTO docs VALUES (1, 'ann', '" + body(random, 20_000) + "', 'a')",
          "INSERT INTO docs VALUES (2, 'bob', '" + body(random, 20_000) + "', 'b')");
      h.start();
      h.assertReplicaMatches("global[]", "items", "docs");
      // Default identity: the body is not sent (TOAST 'u') and must come from the stored row.
      h.sql("UPDATE docs SET note = 'changed' WHERE id = 1");
      Map<String, String> rows = h.assertReplicaMatches("global[]", "items", "docs");
      assertThat(rows.get("docs/1"))
          .contains("\"body_length\":20000")
          .contains("\"note\":\"changed\"");
      // FULL identity: the old row carries the value; a key change moves the row.
      h.sql(
          "ALTER TABLE docs REPLICA IDENTITY FULL",
          "UPDATE docs SET note = 'full' WHERE id = 2",
          "UPDATE docs SET id = 3 WHERE id = 1");
      rows = h.assertReplicaMatches("global[]", "items", "docs");
      assertThat(rows).containsOnlyKeys("docs/2", "docs/3");
      assertThat(rows.get("docs/3")).contains("\"body_length\":20000");
      assertThat(h.events(SourceEvent.SchemaChanged.class))
          .as("the identity change is reported")
          .isNotEmpty();
    }
  }

  /**
   * A primary key moved to another column while the columns stayed: the stream's Relation message
   * flags the new key, and changes are keyed by it from then on. (Before, a relation with the same
   * columns and identity kind counted as unchanged and its rows stayed keyed by the old key.)
   */
  @Test
  void aPrimaryKeyMovedToAnotherColumnIsTakenFromTheStream() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_key_moved")) {
      h.sql(
          "CREATE TABLE items (id text PRIMARY KEY, n int)",
          "CREATE TABLE docs (id int PRIMARY KEY, owner text NOT NULL, body text, note text)",
          "INSERT INTO docs VALUES (1, 'ann', 'b', 'a')");
      h.start();
      h.assertReplicaMatches("global[]", "items", "docs");
      h.sql(
          "ALTER TABLE docs DROP CONSTRAINT docs_pkey",
          "ALTER TABLE docs ADD PRIMARY KEY (owner)",
          "UPDATE docs SET note = 'moved' WHERE id = 1");
      Await.until(
          () ->
              h.events(SourceEvent.SchemaChanged.class).stream()
                  .map(e -> ((SourceEvent.SchemaChanged) e).description())
                  .anyMatch(d -> d.contains("identity changed from [id] to [owner]")),
          "the key change is reported");
      Map<String, String> rows = h.assertReplicaMatches("global[]", "items", "docs");
      assertThat(rows.get("docs/1")).contains("\"note\":\"moved\"");
    }
  }

  /**
   * Storage keeps the image only of rows that can hold out-of-line values: a row that grows past
   * the TOAST threshold gets one from that change on, and updates that leave such values out are
   * completed from it.
   */
  @Test
  void rowImagesOnlyForRowsThatCanHoldToastedValues() {
    Random random = new Random(5);
    try (var h = new ReplicationHarness(postgres, RULES, "t_images")) {
      h.sql(
          "CREATE TABLE items (id text PRIMARY KEY, n int)",
          "CREATE TABLE docs (id int PRIMARY KEY, owner text, body text, note text)",
          "INSERT INTO docs VALUES (1, 'ann', 'short', 'a'), (2, 'bob', '"
              + body(random, 20_000)
              + "', 'b')");
      h.start();
      h.assertReplicaMatches("global[]", "items", "docs");
      h.sql(
          "INSERT INTO docs VALUES (3, 'cy', 'short', 'c')",
          "UPDATE docs SET body = '" + body(random, 20_000) + "' WHERE id = 1");
      h.assertReplicaMatches("global[]", "items", "docs");
      h.sql("UPDATE docs SET note = 'changed' WHERE id IN (1, 2, 3)"); // bodies of 1 and 2 not sent
      // ('u')
      Map<String, String> rows = h.assertReplicaMatches("global[]", "items", "docs");
      assertThat(rows.get("docs/1"))
          .contains("\"body_length\":20000")
          .contains("\"note\":\"changed\"");
      assertThat(rows.get("docs/2"))
          .contains("\"body_length\":20000")
          .contains("\"note\":\"changed\"");
      h.stop();
      TableRef docs = TableRef.of("public", "docs");
      try (BucketStorageWriter w = h.storage.openWriter(h.version)) {
        Map<SourceKey, CurrentRow> stored =
            w.currentRows(
                List.of(
                    new SourceKey(docs, "[1]"),
                    new SourceKey(docs, "[2]"),
                    new SourceKey(docs, "[3]")));
        assertThat(stored).hasSize(3);
        assertThat(stored.get(new SourceKey(docs, "[1]")).image())
            .as("grew past the threshold")
            .isNotNull();
        assertThat(stored.get(new SourceKey(docs, "[2]")).image())
            .as("large from the start")
            .isNotNull();
        assertThat(stored.get(new SourceKey(docs, "[3]")).image()).as("small").isNull();
      }
    }
  }

  /**
   * Streamed inserts are of rows storage does not hold: their stored state is not read, except in
   * the first transaction after a start (which may have been partly stored before a stop).
   */
  @Test
  void streamedInsertsAreNotLookedUpInStorage() {
    AtomicLong lookedUp = new AtomicLong();
    InMemoryBucketStorage memory = new InMemoryBucketStorage();
    var storage =
        (BucketStorage)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {BucketStorage.class},
                (proxy, method, args) -> {
                  Object result = invoke(memory, method, args);
                  if (!method.getName().equals("openWriter")) {
                    return result;
                  }
                  BucketStorageWriter w = (BucketStorageWriter) result;
                  return Proxy.newProxyInstance(
                      getClass().getClassLoader(),
                      new Class<?>[] {BucketStorageWriter.class},
                      (p, m, a) -> {
                        if (m.getName().equals("currentRows")) {
                          lookedUp.addAndGet(((Collection<?>) a[0]).size());
                        }
                        return invoke(w, m, a);
                      });
                });
    try (memory;
        var h = new ReplicationHarness(postgres, storage, RULES, "t_inserts")) {
      h.sql(
          "CREATE TABLE items (id text PRIMARY KEY, n int)",
          "CREATE TABLE docs (id int PRIMARY KEY, owner text, body text, note text)");
      h.start();
      h.awaitCaughtUp();
      h.sql("INSERT INTO items VALUES ('first', 0)"); // the first transaction after the start is
      // looked up
      h.assertReplicaMatches("global[]", "items", "docs");
      long before = lookedUp.get();
      assertThat(before).as("the first transaction after the start is read").isEqualTo(1);
      h.sql("INSERT INTO items SELECT 'i' || g, g FROM generate_series(1, 500) g");
      assertThat(h.assertReplicaMatches("global[]", "items", "docs")).hasSize(501);
      assertThat(lookedUp.get()).as("inserted rows are not read").isEqualTo(before);
      h.sql("UPDATE items SET n = -1 WHERE id IN ('i1', 'i2')");
      h.assertReplicaMatches("global[]", "items", "docs");
      assertThat(lookedUp.get() - before).as("updated rows are read").isEqualTo(2);
    }
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  @Test
  void schemaChangesApplyFromTheNextChange() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_schema")) {
      h.sql(
          "CREATE TABLE items (id text PRIMARY KEY, n int)",
          "CREATE TABLE docs (id int PRIMARY KEY, owner text, " + "body text, note text)",
          "INSERT INTO items VALUES ('a', 1)");
      h.start();
      h.assertReplicaMatches("global[]", "items", "docs");
      h.sql(
          "ALTER TABLE items ADD COLUMN color text DEFAULT 'red'",
          "INSERT INTO items VALUES ('b', 2, 'blue')");
      Map<String, String> rows = h.bucket("global[]", h.awaitCaughtUp());
      assertThat(rows.get("items/b")).isEqualTo("{\"id\":\"b\",\"n\":2,\"color\":\"blue\"}");
      // DDL is not replicated: a row nobody changed keeps its old shape until its next change (as
      // in PowerSync).
      assertThat(rows.get("items/a")).isEqualTo("{\"id\":\"a\",\"n\":1}");
      h.sql("ALTER TABLE items DROP COLUMN n", "UPDATE items SET color = 'green'");
      rows = h.assertReplicaMatches("global[]", "items", "docs");
      assertThat(rows.get("items/a")).isEqualTo("{\"id\":\"a\",\"color\":\"green\"}");
      assertThat(h.events(SourceEvent.SchemaChanged.class).toString())
          .contains("columns added: [color]")
          .contains("columns removed: [n]");
    }
  }

  @Test
  void largeTransaction() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_large")) {
      h.sql(
          "CREATE TABLE items (id bigint PRIMARY KEY, name text, amount numeric(12,2), flag bool)",
          "CREATE TABLE docs (id int PRIMARY KEY, owner text, body text, note text)");
      h.start();
      h.awaitCaughtUp();
      h.sql(
          "INSERT INTO items SELECT g, 'name ' || g, g / 100.0, g % 2 = 0 FROM generate_series(1, 100000) g");
      Map<String, String> rows = h.assertReplicaMatches("global[]", "items", "docs");
      assertThat(rows)
          .hasSize(100_000)
          .containsEntry(
              "items/7", "{\"id\":7,\"name\":\"name 7\",\"amount\":\"0.07\",\"flag\":0}");
    }
  }

  @Test
  void writeCheckpointResolvesOnAnIdleDatabase() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_wcp")) {
      h.sql(
          "CREATE TABLE items (id text PRIMARY KEY)",
          "CREATE TABLE docs (id int PRIMARY KEY, owner text, " + "body text, note text)");
      h.start();
      Checkpoint before = h.awaitCaughtUp();
      long id =
          h.storage.createWriteCheckpoint(
              new WriteCheckpointKey("user1", "client"),
              h.source.writeCheckpointHead().serialize());
      Await.until(
          () ->
              h.storage
                  .writeCheckpoint(
                      new WriteCheckpointKey("user1", "client"),
                      h.storage.latestCheckpoint(h.version).orElseThrow())
                  .isPresent(),
          "the write checkpoint to resolve");
      var latest = h.storage.latestCheckpoint(h.version).orElseThrow();
      assertThat(h.storage.writeCheckpoint(new WriteCheckpointKey("user1", "client"), latest))
          .contains(id);
      assertThat(latest.opId()).as("no data changed").isEqualTo(before.opId());
    }
  }

  @Test
  void restartAfterStopResumesWithoutLossOrDuplicates() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_restart")) {
      h.sql(
          "CREATE TABLE items (id text PRIMARY KEY, n int)",
          "CREATE TABLE docs (id int PRIMARY KEY, owner text, " + "body text, note text)",
          "INSERT INTO items SELECT 'i' || g, g FROM generate_series(1, 100) g");
      h.start();
      h.assertReplicaMatches("global[]", "items", "docs");
      h.stop();
      h.sql(
          "UPDATE items SET n = -n WHERE n <= 50",
          "DELETE FROM items WHERE n > 90",
          "INSERT INTO items VALUES ('late', 0)");
      h.start();
      h.assertReplicaMatches("global[]", "items", "docs");
      // A replayed transaction must not add ops: every row is PUT at most once per change.
      Checkpoint c = h.awaitCaughtUp();
      long puts =
          h.storage.ops(h.version, "global[]", OpId.ZERO, c.opId(), 100_000).stream()
              .filter(o -> o.objectId().equals("i1"))
              .count();
      assertThat(puts).as("snapshot PUT + one update").isEqualTo(2);
    }
  }

  @Test
  void interruptedSnapshotResumesFromItsRecordedKey() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_resume")) {
      h.sql(
          "CREATE TABLE items (id int PRIMARY KEY, n int)",
          "CREATE TABLE docs (id int PRIMARY KEY, owner text, " + "body text, note text)",
          "INSERT INTO items SELECT g, g FROM generate_series(1, 200000) g");
      h.start(h.sourceBuilder().snapshotChunkRows(1_000));
      Await.until(
          Duration.ofSeconds(60),
          () -> h.events(SourceEvent.SnapshotProgress.class).size() >= 3,
          "three chunks of the snapshot");
      h.stop();
      var state = h.storage.snapshotState(h.version);
      assertThat(h.storage.latestCheckpoint(h.version))
          .as("nothing visible mid-snapshot")
          .isEmpty();
      assertThat(state.progress()).as("progress was recorded").isNotEmpty();
      h.sql(
          "UPDATE items SET n = -1 WHERE id IN (1, 150000)",
          "DELETE FROM items WHERE id IN (2, 150001)",
          "INSERT INTO items VALUES (300000, 3)");
      h.events.clear();
      h.start();
      h.assertReplicaMatches("global[]", "items", "docs");
      long copied =
          h.events(SourceEvent.SnapshotProgress.class).stream()
              .map(e -> (SourceEvent.SnapshotProgress) e)
              .filter(SourceEvent.SnapshotProgress::done)
              .filter(e -> e.table().name().equals("items"))
              .mapToLong(SourceEvent.SnapshotProgress::rowsCopied)
              .sum();
      assertThat(copied)
          .as("the resumed copy skipped what was already copied")
          .isLessThan(200_000)
          .isPositive();
      assertThat(h.storage.snapshotState(h.version).done()).hasSize(2);
    }
  }

  @Test
  void interruptedSnapshotResumesAfterKeysThatNeedQuotingAndEscaping() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_resume_text")) {
      // Keys and values with quotes, backslashes, tabs and newlines: escaped by COPY, quoted in the
      // resume query.
      h.sql(
          "CREATE TABLE items (k text, id text, v text, PRIMARY KEY (k, id))",
          "CREATE TABLE docs (id int " + "PRIMARY KEY, owner text, body text, note text)",
          "INSERT INTO items SELECT E'it''s \\\\ ' || (g % 3), "
              + "E'id\\t' || g || E'\\n\"', E'v\\\\' || g FROM generate_series(1, 60000) g");
      h.start(h.sourceBuilder().snapshotChunkRows(500));
      Await.until(
          Duration.ofSeconds(60),
          () -> h.events(SourceEvent.SnapshotProgress.class).size() >= 3,
          "three chunks of the snapshot");
      h.stop();
      assertThat(h.storage.snapshotState(h.version).progress())
          .as("progress was recorded")
          .isNotEmpty();
      h.events.clear();
      h.start();
      assertThat(h.assertReplicaMatches("global[]", "items", "docs"))
          .hasSize(60_000)
          .containsKey("items/id\t7\n\"");
      long copied =
          h.events(SourceEvent.SnapshotProgress.class).stream()
              .map(e -> (SourceEvent.SnapshotProgress) e)
              .filter(SourceEvent.SnapshotProgress::done)
              .filter(e -> e.table().name().equals("items"))
              .mapToLong(SourceEvent.SnapshotProgress::rowsCopied)
              .sum();
      assertThat(copied)
          .as("the resumed copy skipped what was already copied")
          .isLessThan(60_000)
          .isPositive();
    }
  }

  @Test
  void reconnectsAfterTheConnectionIsKilled() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_kill")) {
      h.sql(
          "CREATE TABLE items (id text PRIMARY KEY, n int)",
          "CREATE TABLE docs (id int PRIMARY KEY, owner text, " + "body text, note text)",
          "INSERT INTO items VALUES ('a', 1)");
      h.start();
      h.assertReplicaMatches("global[]", "items", "docs");
      h.sql(
          "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name LIKE 't_kill_%'",
          "INSERT INTO items VALUES ('b', 2)");
      assertThat(h.assertReplicaMatches("global[]", "items", "docs"))
          .containsKeys("items/a", "items/b");
    }
  }

  @Test
  void lagThroughputAndDroppedTablesAreReported() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_report")) {
      h.sql(
          "CREATE TABLE items (id text PRIMARY KEY, n int)",
          "CREATE TABLE docs (id int PRIMARY KEY, owner text, " + "body text, note text)",
          "INSERT INTO docs VALUES (1, 'a', 'b', 'c')");
      h.start(h.sourceBuilder().statusInterval(Duration.ofMillis(100)));
      h.awaitCaughtUp();
      h.sql("INSERT INTO items VALUES ('a', 1)", "DROP TABLE docs");
      h.awaitCaughtUp();
      // Status comes every 100 ms: wait for a report that counted the streamed row as well as for
      // the warning.
      Await.until(
          () ->
              streamedRows(h) > 0
                  && !h.events(SourceEvent.Lag.class).isEmpty()
                  && h.events(SourceEvent.Warning.class).stream()
                      .anyMatch(w -> ((SourceEvent.Warning) w).code().equals("SYNCLINE_P1004")),
          "a status report counting the streamed row, and the warning");
      assertThat(h.events(SourceEvent.SchemaChanged.class).toString())
          .contains("public.docs")
          .contains("dropped");
      assertThat(h.events(SourceEvent.Lag.class))
          .isNotEmpty()
          .allSatisfy(
              e -> {
                SourceEvent.Lag lag = (SourceEvent.Lag) e;
                assertThat(lag.slotStatus()).isIn("reserved", "extended");
                assertThat(lag.lagBytes()).isNotNegative();
                assertThat(lag.retainedBytes()).isNotNegative();
              });
      assertThat(streamedRows(h)).as("rows counted").isPositive();
    }
  }

  private static long streamedRows(ReplicationHarness h) {
    return h.events(SourceEvent.Throughput.class).stream()
        .mapToLong(e -> ((SourceEvent.Throughput) e).rows())
        .sum();
  }

  @Test
  void aTableCreatedAfterReplicationStartedIsCopiedThenStreamed() {
    try (var h = new ReplicationHarness(postgres, RULES, "t_later")) {
      h.sql("CREATE TABLE items (id text PRIMARY KEY, n int)");
      h.start(h.sourceBuilder().statusInterval(Duration.ofMillis(100)));
      h.awaitCaughtUp();
      assertThat(h.events(SourceEvent.Warning.class).toString()).contains("public.docs");
      // Rows written before Syncline noticed the table (and added it to its publication) must not
      // be lost.
      h.sql(
          "CREATE TABLE docs (id int PRIMARY KEY, owner text, body text, note text)",
          "INSERT INTO docs SELECT g, 'o', 'b', 'n' FROM generate_series(1, 500) g");
      Await.until(
          () ->
              h.events(SourceEvent.SchemaChanged.class).stream()
                  .anyMatch(e -> e.toString().contains("docs")),
          "the new table to be noticed");
      h.sql("UPDATE docs SET note = 'streamed' WHERE id <= 10", "DELETE FROM docs WHERE id > 490");
      Map<String, String> rows = h.assertReplicaMatches("global[]", "items", "docs");
      assertThat(rows).hasSize(490);
      assertThat(rows.get("docs/1")).contains("\"note\":\"streamed\"");
      assertThat(h.storage.snapshotState(h.version).done())
          .extracting(TableRef::name)
          .contains("docs");
    }
  }
}
