package dev.syncline.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.syncline.api.engine.ReplicationState;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.engine.Syncline;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.ProtocolClient;
import dev.syncline.testkit.TestTokens;
import dev.syncline.testkit.postgres.RestartablePostgres;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Postgres restarts (fast shutdown) with the source and storage on the same server, storage's
 * connections coming from a data source that, as a pool does, waits for a connection while the
 * database cannot be reached (ten minutes here). A fast shutdown waits for its walsenders' clients
 * to confirm the WAL they were sent; an engine whose replication waits for storage (on the server
 * going down) can confirm nothing, so unless it lets go of its replication connection the restart
 * waits as long as the pool does. Each restart here must complete well within that, idle and under
 * writes, and the engine must then carry on with no write lost. The times are printed
 * (docs/benchmarks.md, "Postgres restarts").
 */
class PostgresRestartTest {
  private static final Duration WAIT = Duration.ofMinutes(2);
  private static final byte[] SECRET =
      "restart-test-secret-of-at-least-32-bytes".getBytes(StandardCharsets.UTF_8);
  private static final String RULES =
      "bucket_definitions:\n  all:\n    data:\n      - SELECT * FROM items\n";
  private static RestartablePostgres pg;

  @BeforeAll
  static void startPostgres() throws Exception {
    pg = RestartablePostgres.start();
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE items (id text PRIMARY KEY, n int)");
    }
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (pg != null) {
      pg.close();
    }
  }

  @Test
  void restartsCompleteWithTheEngineAttachedIdleAndUnderWritesAndNothingIsLost() throws Exception {
    long alone = restart();
    try (JdbcBucketStorage storage =
            JdbcBucketStorage.builder(new WaitingDataSource(pg)).tablePrefix("restart_").build();
        Syncline engine =
            Syncline.builder()
                .storage(storage)
                .identity("restart")
                .source(
                    () ->
                        PostgresSource.builder()
                            .jdbcUrl(pg.jdbcUrl())
                            .user(pg.user())
                            .password("")
                            .publication("restart_pub", true)
                            .slotPrefix("restart")
                            .statusInterval(Duration.ofMillis(500))
                            .build())
                .rules(SyncRulesSource.ofYaml(RULES, "rules.yaml"))
                .tokenVerifier(
                    JwtTokenVerifier.builder().audience("test").hmacSecret(SECRET, null).build())
                .pollInterval(Duration.ofMillis(200))
                .build()) {
      engine.start();
      await(() -> engine.health().ready(), "the engine is ready");
      Set<String> written = ConcurrentHashMap.newKeySet();
      URI base = serve(engine);
      insert("before", written);
      awaitReplicated(base, "before");

      long idle = restart();
      await(
          () ->
              engine.health().replication() == ReplicationState.STREAMING
                  && engine.health().ready(),
          "replication streams again after the idle restart");
      insert("after-idle", written);
      awaitReplicated(base, "after-idle");

      // Writes from two threads all along the restart: each row is counted once Postgres
      // acknowledged it.
      AtomicBoolean writing = new AtomicBoolean(true);
      Thread[] writers = new Thread[2];
      for (int w = 0; w < writers.length; w++) {
        int n = w;
        writers[w] =
            new Thread(
                () -> {
                  for (int i = 0; writing.get(); i++) {
                    try {
                      insert("busy-" + n + "-" + i, written);
                    } catch (SQLException e) {
                      // The server is restarting: this row was not acknowledged; the next one tries
                      // again.
                    }
                  }
                },
                "restart-writer-" + w);
        writers[w].start();
      }
      await(() -> written.size() > 200, "writes are under way");
      await(
          () -> engine.health().replication() == ReplicationState.STREAMING, "replication streams");
      long busy = restart();
      await(() -> written.size() > 400, "writes continue after the restart");
      writing.set(false);
      for (Thread w : writers) {
        w.join();
      }
      await(() -> engine.health().ready(), "ready again");

      // Everything Postgres acknowledged, and nothing else, reaches a client, with verified
      // checksums.
      Set<String> inPostgres = ids();
      assertThat(inPostgres).containsAll(written);
      awaitClient(
          base,
          c -> c.completedCheckpoints() > 0 && c.table("items").keySet().equals(inPostgres),
          "a client holds exactly the rows in Postgres");
      System.out.printf(
          "Postgres restart (fast shutdown until accepting connections again): alone %d ms, with the "
              + "engine idle %d ms, under writes %d ms",
          alone, idle, busy);
    }
    System.out.printf(", alone again %d ms%n", restart());
  }

  private static long restart() {
    return pg.restart().toMillis();
  }

  private static void insert(String id, Set<String> written) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("INSERT INTO items VALUES ('" + id + "', 1)");
    }
    written.add(id);
  }

  private static Set<String> ids() throws SQLException {
    Set<String> ids = new HashSet<>();
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT id FROM items")) {
      while (r.next()) {
        ids.add(r.getString(1));
      }
    }
    return ids;
  }

  /**
   * Waits until a client receives the row {@code id}. As an SDK does, the client connects again
   * when its stream is refused or ends (a stream may end while storage's pooled connections are
   * replaced after the restart).
   */
  private static void awaitReplicated(URI base, String id) throws Exception {
    awaitClient(base, c -> c.table("items").containsKey(id), "a client receives " + id);
  }

  /**
   * Connects clients until one sees {@code condition}: while storage is away a stream is refused
   * (503) or ends, and the next try starts a new one.
   */
  private static void awaitClient(URI base, Predicate<ProtocolClient> condition, String what) {
    Await.until(
        WAIT,
        () -> {
          try (ProtocolClient client =
              ProtocolClient.connect(base, TestTokens.hs256(SECRET, "test").forUser("u"))) {
            try {
              Await.until(
                  Duration.ofSeconds(10),
                  () -> condition.test(client) || client.ended(),
                  "one stream to see it or end");
            } catch (AssertionError nothingYet) {
              // This stream saw nothing in time; a broken one fails the test at once below.
            }
            Throwable failure = client.failure();
            if (failure != null) {
              throw new IllegalStateException("the stream failed", failure);
            }
            return condition.test(client);
          } catch (IOException refused) {
            return false; // storage is away: the stream is refused
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // ends the outer wait
            return false;
          }
        },
        what);
  }

  /**
   * Storage's connections as a pool hands them out when the database cannot be reached: {@code
   * getConnection} waits (here up to ten minutes, pools' defaults are 30 s) until a connection can
   * be made. No connection is reused, so none is handed out dead.
   */
  private static final class WaitingDataSource extends PGSimpleDataSource {
    WaitingDataSource(RestartablePostgres server) {
      setURL(server.jdbcUrl());
      setUser(server.user());
    }

    @Override
    public Connection getConnection() throws SQLException {
      // The database is shutting down or starting: try again until it answers.
      Connection[] connection = new Connection[1];
      try {
        Await.untilAsserted(
            Duration.ofMinutes(10),
            () -> {
              try {
                connection[0] = super.getConnection();
              } catch (SQLException e) {
                throw new AssertionError("the database refused a connection", e);
              }
            },
            "the database to accept connections");
      } catch (AssertionError e) { // timed out, or interrupted (the engine is closing)
        throw new SQLException("no connection: " + e.getMessage(), "08001", e);
      }
      return connection[0];
    }
  }

  private static URI serve(Syncline engine) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.createContext("/", engine.httpHandler("*"));
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    await(condition, () -> what);
  }

  private static void await(BooleanSupplier condition, Supplier<String> what) {
    Await.untilAsserted(
        WAIT, () -> assertThat(condition.getAsBoolean()).as(what.get()).isTrue(), "the condition");
  }
}
