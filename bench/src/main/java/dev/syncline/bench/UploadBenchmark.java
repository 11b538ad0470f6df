package dev.syncline.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.upload.CrudEntry;
import dev.syncline.api.upload.UploadBatch;
import dev.syncline.api.upload.UploadResult;
import dev.syncline.api.upload.WriteAuthorizer;
import dev.syncline.core.upload.UploadHandler;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The write path: client transactions applied by {@link UploadHandler} to a durable embedded
 * PostgreSQL 17, each a PUT of a list and {@code opsPerUpload - 1} todos, with the idempotency
 * check and the authorizer reading the row. Reports uploads/s and ops/s and the latency per upload,
 * for 1 and for {@code threads} concurrent clients.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.syncline.bench.UploadBenchmark [uploads] [opsPerUpload] [threads]
 * </pre>
 */
public final class UploadBenchmark {
  private UploadBenchmark() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("org.jooq.no-logo", "true");
    System.setProperty("org.jooq.no-tips", "true");
    int uploads = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
    int ops = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : 8;
    try (EmbeddedPostgres pg = BenchStorage.durable(EmbeddedPostgres.builder()).start()) {
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(pg.getJdbcUrl("postgres", "postgres"));
      config.setMaximumPoolSize(threads + 2);
      try (HikariDataSource ds = new HikariDataSource(config)) {
        try (Connection c = ds.getConnection();
            Statement s = c.createStatement()) {
          s.execute(
              "CREATE TABLE lists (id uuid PRIMARY KEY, created_at timestamptz, name text, owner_id text)");
          s.execute(
              "CREATE TABLE todos (id uuid PRIMARY KEY, created_at timestamptz, description text, "
                  + "completed boolean, list_id uuid REFERENCES lists (id))");
        }
        WriteAuthorizer owner =
            (user, entry, current, tx) ->
                current == null
                    || user.userId().equals(current.get("owner_id"))
                    || entry.table().equals("todos");
        UploadHandler handler =
            UploadHandler.builder(ds).table("lists").table("todos").authorizer(owner).build();
        run(handler, Math.max(200, uploads / 10), ops, 1, "warm-up");
        run(handler, uploads / 2, ops, 1, "1 client");
        run(handler, uploads, ops, threads, threads + " clients");
      }
    }
  }

  private static void run(UploadHandler handler, int uploads, int ops, int threads, String label)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    long start = System.nanoTime();
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int share = uploads / threads;
      String user = "user-" + UUID.randomUUID();
      AuthContext auth = new AuthContext(Map.of("sub", user), Instant.now().plusSeconds(3600));
      futures.add(
          pool.submit(
              () -> {
                for (int i = 1; i <= share; i++) {
                  String list = UUID.randomUUID().toString();
                  List<CrudEntry> entries = new ArrayList<>();
                  entries.add(
                      new CrudEntry(
                          CrudEntry.Op.PUT,
                          "lists",
                          list,
                          data(
                              "created_at",
                              "2024-05-01T10:00:00Z",
                              "name",
                              "List " + i,
                              "owner_id",
                              user)));
                  for (int k = 1; k < ops; k++) {
                    entries.add(
                        new CrudEntry(
                            CrudEntry.Op.PUT,
                            "todos",
                            UUID.randomUUID().toString(),
                            data(
                                "created_at",
                                "2024-05-01T10:00:00Z",
                                "description",
                                "todo " + k,
                                "completed",
                                0L,
                                "list_id",
                                list)));
                  }
                  long t0 = System.nanoTime();
                  UploadResult r =
                      handler.apply(auth, new UploadBatch("client", (long) i, entries));
                  latencies.add(System.nanoTime() - t0);
                  if (!(r instanceof UploadResult.Applied)) {
                    throw new IllegalStateException("not applied: " + r);
                  }
                }
                return null;
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    pool.awaitTermination(10, TimeUnit.SECONDS);
    List<Long> sorted = new ArrayList<>(latencies);
    Collections.sort(sorted);
    System.out.printf(
        Locale.ROOT,
        "%s: %,d uploads of %d ops in %.1f s = %,.0f uploads/s, %,.0f ops/s; "
            + "latency p50 %.1f ms, p99 %.1f ms%n",
        label,
        sorted.size(),
        ops,
        seconds,
        sorted.size() / seconds,
        sorted.size() * ops / seconds,
        sorted.get(sorted.size() / 2) / 1e6,
        sorted.get((int) (sorted.size() * 0.99)) / 1e6);
  }

  private static Map<String, Object> data(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }
}
