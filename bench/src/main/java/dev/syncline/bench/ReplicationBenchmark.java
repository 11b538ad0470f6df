package dev.syncline.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.replicate.Replicator;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.postgres.Lsn;
import dev.syncline.postgres.PostgresSource;
import dev.syncline.spi.storage.Checkpoint;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

/**
 * The Postgres source end to end into durable Postgres bucket storage (embedded PostgreSQL 17 with
 * fsync and synchronous commit on, which zonky turns off unless told; storage where the fourth
 * argument says): initial snapshot rate and the CPU it took, streaming rate next to what raw pgjdbc
 * receives of the same WAL, and commit-to-checkpoint latency at a steady rate of small
 * transactions. A plain program (steady states, not micro-benchmarks):
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.syncline.bench.ReplicationBenchmark [snapshotRows] [streamRows] [tps] \
 *     [separate|server|same|memory]
 * </pre>
 */
public final class ReplicationBenchmark {
  private static final String RULES =
      "bucket_definitions:\n  global:\n    data:\n      - SELECT * FROM big\n";

  public static void main(String[] args) throws Exception {
    int snapshotRows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int streamRows = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
    int tps = args.length > 2 ? Integer.parseInt(args[2]) : 1_000;
    try (EmbeddedPostgres pg =
        BenchStorage.durable(EmbeddedPostgres.builder())
            .setServerConfig("wal_level", "logical")
            .setServerConfig("max_replication_slots", "10")
            .setServerConfig("max_wal_senders", "10")
            .setServerConfig("wal_writer_delay", System.getProperty("walWriterDelay", "200ms"))
            // The source's commits: durable by default; -DsourceSynchronousCommit=off shows the WAL
            // writer's delay.
            .setServerConfig(
                "synchronous_commit", System.getProperty("sourceSynchronousCommit", "on"))
            .start()) {
      String url = pg.getJdbcUrl("postgres", "postgres");
      String storageDb = args.length > 3 ? args[3] : "separate";
      // "server": storage in a second (durable) Postgres server on the same machine.
      EmbeddedPostgres storageServer =
          storageDb.equals("server")
              ? BenchStorage.durable(EmbeddedPostgres.builder()).start()
              : null;
      if (storageDb.equals("separate")) {
        try (Connection c = DriverManager.getConnection(url, "postgres", "");
            Statement s = c.createStatement()) {
          s.execute("CREATE DATABASE storage");
        }
      }
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(
          storageServer != null
              ? storageServer.getJdbcUrl("postgres", "postgres")
              : storageDb.equals("separate") ? pg.getJdbcUrl("postgres", "storage") : url);
      HikariConfig sourceConfig = new HikariConfig();
      sourceConfig.setJdbcUrl(url);
      sourceConfig.setMaximumPoolSize(2);
      config.setMaximumPoolSize(4);
      try (HikariDataSource ds = new HikariDataSource(sourceConfig);
          HikariDataSource storageDs = new HikariDataSource(config);
          dev.syncline.spi.storage.BucketStorage storage =
              storageDb.equals("memory")
                  ? new dev.syncline.core.storage.InMemoryBucketStorage()
                  : JdbcBucketStorage.builder(storageDs).build()) {
        System.out.println(
            "bucket storage: "
                + switch (storageDb) {
                  case "separate" -> "Postgres, a separate database of the same server";
                  case "server" -> "Postgres, a second server on the same machine";
                  case "memory" -> "in memory";
                  default -> "Postgres, the source database";
                });
        createTable(ds, "big");
        int warmup = Integer.getInteger("warmupRows", 0);
        if (warmup > 0) {
          warmUp(ds, url, storage, storageDb.equals("memory") ? null : storageDs, warmup);
        }
        long t0 = System.nanoTime();
        fill(ds, "big", 1, snapshotRows);
        System.out.printf(
            Locale.ROOT,
            "filled %,d rows in %.1f s%n",
            snapshotRows,
            (System.nanoTime() - t0) / 1e9);
        SyncRules rules = SyncRulesCompiler.compile(SyncRulesSource.ofYaml(RULES, "rules.yaml"));
        long version = storage.addRulesVersion(RULES).id();
        PostgresSource source =
            PostgresSource.builder()
                .jdbcUrl(url)
                .user("postgres")
                .password("")
                .snapshotChunkRows(Integer.getInteger("snapshotChunkRows", 10_000))
                .build();

        // The raw reader's slot starts where Syncline's does, so that both read the same WAL (with
        // bucket storage
        // in the same server, that includes everything storage wrote during the snapshot).
        try (Connection raw = replicationConnection(url)) {
          raw.unwrap(PGConnection.class)
              .getReplicationAPI()
              .createReplicationSlot()
              .logical()
              .withSlotName("bench_raw")
              .withOutputPlugin("pgoutput")
              .make();
        }
        sql(ds, "CREATE PUBLICATION bench_raw FOR TABLE big");

        // 1. Initial snapshot.
        javax.sql.DataSource walSource = storageServer != null ? storageDs : ds;
        long walBefore = walBytes(walSource);
        CpuUsage cpuBefore = CpuUsage.now();
        long start = System.nanoTime();
        WaitEvents waits =
            Boolean.getBoolean("waitEvents") && !storageDb.equals("memory")
                ? WaitEvents.start(config.getJdbcUrl())
                : null;
        Replicator replicator =
            Replicator.builder()
                .rules(rules)
                .storage(storage, version)
                .source(source)
                .events(e -> {})
                .build()
                .start();
        Checkpoint first = await(storage, version, source.writeCheckpointHead().serialize());
        if (waits != null) {
          System.out.println(waits.stop());
        }
        double snapshotSeconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(
            Locale.ROOT,
            "snapshot: %,d rows in %.1f s = %,.0f rows/s (checkpoint %s)%n",
            snapshotRows,
            snapshotSeconds,
            snapshotRows / snapshotSeconds,
            first);
        System.out.println(CpuUsage.now().since(cpuBefore));
        long wal = walBytes(walSource) - walBefore;
        System.out.printf(
            Locale.ROOT,
            "WAL written meanwhile by the storage's server: %,d MB = %,d bytes per row%n",
            wal >> 20,
            wal / Math.max(1, snapshotRows));
        if (Boolean.getBoolean("storageStats") && !storageDb.equals("memory")) {
          printStorageStats(storageDs);
        }
        replicator.close();
        if (streamRows <= 0 || tps <= 0) {
          System.out.println("streaming and latency phases skipped (stream rows or tps 0)");
          return;
        }

        // 2. Streaming, next to raw pgjdbc reading the same WAL from its own slot.
        try (Connection raw = replicationConnection(url)) {
          int perTx = 1_000;
          for (int i = 0; i < streamRows; i += perTx) {
            fill(ds, "big", snapshotRows + i + 1, snapshotRows + i + perTx);
          }
          String head = source.writeCheckpointHead().serialize();
          long rawStart = System.nanoTime();
          long inserts = readRaw(raw, streamRows);
          double rawSeconds = (System.nanoTime() - rawStart) / 1e9;
          long syncStart = System.nanoTime();
          source =
              PostgresSource.builder()
                  .jdbcUrl(url)
                  .user("postgres")
                  .password("")
                  .build(); // closing is final
          replicator =
              Replicator.builder()
                  .rules(rules)
                  .storage(storage, version)
                  .source(source)
                  .events(e -> {})
                  .build()
                  .start();
          await(storage, version, head);
          double syncSeconds = (System.nanoTime() - syncStart) / 1e9;
          System.out.printf(
              Locale.ROOT,
              "streaming %,d rows in %,d transactions: raw pgjdbc %.2f s = %,.0f rows/s; "
                  + "Syncline into Postgres storage %.2f s = %,.0f rows/s (%.0f %% of raw)%n",
              inserts,
              streamRows / perTx,
              rawSeconds,
              inserts / rawSeconds,
              syncSeconds,
              streamRows / syncSeconds,
              100 * rawSeconds / syncSeconds);
          // 3a. What raw pgjdbc sees of the same paced load: commit timestamp -> Commit message
          // received.
          replicator.close();
          List<Long> rawLatencies;
          try (Connection fresh = replicationConnection(url)) {
            // A new slot: the old one would first decode again the WAL storage wrote meanwhile.
            try (Statement s = fresh.createStatement()) {
              s.execute("DROP_REPLICATION_SLOT bench_raw");
            }
            fresh
                .unwrap(PGConnection.class)
                .getReplicationAPI()
                .createReplicationSlot()
                .logical()
                .withSlotName("bench_raw")
                .withOutputPlugin("pgoutput")
                .make();
            rawLatencies = rawLatency(fresh, ds, tps, snapshotRows + streamRows + 1_000_000);
          }
          System.out.printf(
              Locale.ROOT,
              "raw pgjdbc at %,d tx/s (%,d transactions): server commit -> commit message "
                  + "received p50 %.1f ms, p99 %.1f ms%n",
              tps,
              rawLatencies.size(),
              percentile(rawLatencies, 0.5),
              percentile(rawLatencies, 0.99));
          try (Statement s = raw.createStatement()) {
            s.execute("DROP_REPLICATION_SLOT bench_raw");
          }
        }
        source = PostgresSource.builder().jdbcUrl(url).user("postgres").password("").build();
        replicator =
            Replicator.builder()
                .rules(rules)
                .storage(storage, version)
                .source(source)
                .events(e -> {})
                .build()
                .start();
        await(storage, version, source.writeCheckpointHead().serialize());

        // 3. Commit-to-checkpoint latency at a steady rate of one-row transactions.
        record Pending(Lsn lsn, long committedNanos) {}
        ConcurrentLinkedQueue<Pending> pending = new ConcurrentLinkedQueue<>();
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        AutoCloseable watch =
            storage.watchCheckpoints(
                version,
                c -> {
                  long now = System.nanoTime();
                  Lsn pos = Lsn.parse(c.position());
                  for (Pending p; (p = pending.peek()) != null && p.lsn().compareTo(pos) <= 0; ) {
                    pending.poll();
                    latencies.add(now - p.committedNanos());
                  }
                });
        int seconds = 10;
        try (Connection c = ds.getConnection();
            Statement s = c.createStatement()) {
          long id = (long) snapshotRows + streamRows + 1;
          long begin = System.nanoTime();
          for (int i = 0; i < tps * seconds; i++) {
            long due = begin + (long) (i * (1e9 / tps));
            long wait = due - System.nanoTime();
            if (wait > 0) {
              java.util.concurrent.locks.LockSupport.parkNanos(
                  wait); // not a spin: the machine has 2 cores
            }
            // The LSN read inside the transaction is below its commit's end and above the previous
            // commit's.
            try (ResultSet rs =
                s.executeQuery(
                    "INSERT INTO big VALUES ("
                        + id++
                        + ", 'x', 1, now(), true) "
                        + "RETURNING pg_current_wal_insert_lsn()")) {
              rs.next();
              pending.add(new Pending(Lsn.parse(rs.getString(1)), System.nanoTime()));
            }
          }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!pending.isEmpty() && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        watch.close();
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        System.out.printf(
            Locale.ROOT,
            "latency at %,d tx/s for %d s (%,d transactions): commit -> checkpoint "
                + "p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
            tps,
            seconds,
            sorted.size(),
            sorted.get(sorted.size() / 2) / 1e6,
            sorted.get((int) (sorted.size() * 0.99)) / 1e6,
            sorted.get(sorted.size() - 1) / 1e6);
        replicator.close();
        source.dropVersion(version);
      } finally {
        if (storageServer != null) {
          storageServer.close();
        }
      }
    }
  }

  /**
   * With {@code -DwarmupRows=N}: the same pipeline first copies an N-row table of the same shape
   * under a rules version of its own (then dropped, slot included), so that the measured snapshot
   * runs in a JVM that has compiled its code already, as in an application server that has
   * replicated before.
   */
  private static void warmUp(
      javax.sql.DataSource ds,
      String url,
      dev.syncline.spi.storage.BucketStorage storage,
      javax.sql.@org.jspecify.annotations.Nullable DataSource storageDs,
      int rows)
      throws Exception {
    String rules = "bucket_definitions:\n  warm:\n    data:\n      - SELECT * FROM warm\n";
    createTable(ds, "warm");
    fill(ds, "warm", 1, rows);
    long version = storage.addRulesVersion(rules).id();
    PostgresSource source =
        PostgresSource.builder().jdbcUrl(url).user("postgres").password("").build();
    long start = System.nanoTime();
    try (Replicator replicator =
        Replicator.builder()
            .rules(SyncRulesCompiler.compile(SyncRulesSource.ofYaml(rules, "warm.yaml")))
            .storage(storage, version)
            .source(source)
            .events(e -> {})
            .build()
            .start()) {
      await(storage, version, source.writeCheckpointHead().serialize());
    }
    System.out.printf(
        Locale.ROOT,
        "warm-up: %,d rows copied in %.1f s (not measured)%n",
        rows,
        (System.nanoTime() - start) / 1e9);
    source.dropVersion(version);
    storage.drop(version);
    sql(ds, "DROP TABLE warm");
    if (storageDs != null) {
      // Storage starts the measured copy as a server whose autovacuum has run and that had a
      // checkpoint recently: not
      // amid the warm-up's deleted rows, and not past the WAL the warm-up wrote.
      sql(storageDs, "VACUUM");
      sql(storageDs, "CHECKPOINT");
    }
  }

  private static double percentile(List<Long> nanos, double p) {
    List<Long> sorted = new ArrayList<>(nanos);
    Collections.sort(sorted);
    return sorted.get(Math.min(sorted.size() - 1, (int) (sorted.size() * p))) / 1e6;
  }

  /** Paced one-row transactions for 5 s while raw pgjdbc reads them; latency per Commit message. */
  private static List<Long> rawLatency(
      Connection raw, javax.sql.DataSource ds, int tps, long firstId) throws Exception {
    PGReplicationStream stream =
        raw.unwrap(PGConnection.class)
            .getReplicationAPI()
            .replicationStream()
            .logical()
            .withSlotName("bench_raw")
            .withStartPosition(LogSequenceNumber.INVALID_LSN)
            .withSlotOption("proto_version", "1")
            .withSlotOption("publication_names", "bench_raw")
            .withAutomaticFlush(false)
            .start();
    List<Long> latencies = new ArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean writing =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    Thread writer =
        new Thread(
            () -> {
              try (Connection c = ds.getConnection();
                  Statement s = c.createStatement()) {
                long begin = System.nanoTime();
                long id = firstId;
                for (int i = 0; i < tps * 5; i++) {
                  long wait = begin + (long) (i * (1e9 / tps)) - System.nanoTime();
                  if (wait > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(wait);
                  }
                  s.execute("INSERT INTO big VALUES (" + id++ + ", 'x', 1, now(), true)");
                }
              } catch (Exception e) {
                throw new IllegalStateException(e);
              } finally {
                writing.set(false);
              }
            });
    long pgEpochMillis = 946_684_800_000L;
    long startedMillis = System.currentTimeMillis();
    writer.start();
    long quietSince = System.nanoTime();
    while (writing.get() || System.nanoTime() - quietSince < 1_000_000_000L) {
      ByteBuffer b = stream.readPending();
      if (b == null) {
        Thread.sleep(1);
        continue;
      }
      quietSince = System.nanoTime();
      if (b.get(b.position()) == 'C') {
        long commitMicros = b.getLong(b.position() + 1 + 1 + 8 + 8);
        long received = System.currentTimeMillis();
        long committedMillis = commitMicros / 1000 + pgEpochMillis;
        if (committedMillis >= startedMillis) { // not an older transaction still in the slot
          latencies.add((received - committedMillis) * 1_000_000L);
        }
      }
    }
    writer.join();
    stream.close();
    return latencies;
  }

  /**
   * With {@code -DwaitEvents=true}: what storage's client backends were doing during the snapshot,
   * sampled every 10 ms from {@code pg_stat_activity} (CPU, or the wait event they were in).
   */
  private static final class WaitEvents {
    private final java.util.Map<String, Integer> counts = new java.util.TreeMap<>();
    private final Thread thread;
    private volatile boolean stop;

    private WaitEvents(String url) {
      thread =
          new Thread(
              () -> {
                // A connection of its own: one from storage's pool would leave the engine one
                // fewer.
                try (Connection c = DriverManager.getConnection(url, "postgres", "");
                    Statement s = c.createStatement()) {
                  while (!stop) {
                    try (ResultSet rs =
                        s.executeQuery(
                            "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'), state "
                                + "FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
                                + "AND state <> 'idle'")) {
                      while (rs.next()) {
                        counts.merge(rs.getString(1), 1, Integer::sum);
                      }
                    }
                    Thread.sleep(10);
                  }
                } catch (Exception e) {
                  counts.merge("sampling failed: " + e, 1, Integer::sum);
                }
              },
              "wait-events");
      thread.setDaemon(true);
    }

    static WaitEvents start(String url) {
      WaitEvents w = new WaitEvents(url);
      w.thread.start();
      return w;
    }

    String stop() throws InterruptedException {
      stop = true;
      thread.join();
      return "storage backends (samples, non-idle): " + counts;
    }
  }

  /**
   * With {@code -DstorageStats=true}: size on disk of storage's two large tables and a sample row
   * of each.
   */
  private static void printStorageStats(javax.sql.DataSource ds) throws Exception {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      for (String table : List.of("syncline_bucket_data", "syncline_current_data")) {
        try (ResultSet rs =
            s.executeQuery(
                "SELECT pg_table_size('"
                    + table
                    + "'), pg_indexes_size('"
                    + table
                    + "'), (SELECT avg(pg_column_size(t.*)) FROM (SELECT * FROM "
                    + table
                    + " LIMIT 10000) t), "
                    + "(SELECT t::text FROM "
                    + table
                    + " t LIMIT 1), (SELECT count(*) FROM "
                    + table
                    + ")")) {
          rs.next();
          System.out.printf(
              Locale.ROOT,
              "%s: %,d rows, table %,d MB, indexes %,d MB, row %.0f bytes, e.g. %s%n",
              table,
              rs.getLong(5),
              rs.getLong(1) >> 20,
              rs.getLong(2) >> 20,
              rs.getDouble(3),
              rs.getString(4));
        }
      }
    }
  }

  private static long walBytes(javax.sql.DataSource ds) throws Exception {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * Waits for a checkpoint at or past {@code head}, told by storage (polling would take CPU from
   * the replicator).
   */
  private static Checkpoint await(
      dev.syncline.spi.storage.BucketStorage storage, long version, String head) throws Exception {
    java.util.concurrent.CompletableFuture<Checkpoint> reached =
        new java.util.concurrent.CompletableFuture<>();
    try (AutoCloseable watch =
        storage.watchCheckpoints(
            version,
            c -> {
              if (c.position() != null && c.position().compareTo(head) >= 0) {
                reached.complete(c);
              }
            })) {
      var now = storage.latestCheckpoint(version);
      if (now.isPresent() && now.get().position().compareTo(head) >= 0) {
        return now.get();
      }
      return reached.get(10, TimeUnit.MINUTES);
    }
  }

  private static long readRaw(Connection raw, int expected) throws Exception {
    PGReplicationStream stream =
        raw.unwrap(PGConnection.class)
            .getReplicationAPI()
            .replicationStream()
            .logical()
            .withSlotName("bench_raw")
            .withStartPosition(LogSequenceNumber.INVALID_LSN)
            .withSlotOption("proto_version", "1")
            .withSlotOption("publication_names", "bench_raw")
            .withAutomaticFlush(false)
            .start();
    long inserts = 0;
    while (inserts < expected) {
      ByteBuffer b = stream.readPending();
      if (b == null) {
        Thread.sleep(1);
        continue;
      }
      if (b.get(b.position()) == 'I') {
        inserts++;
      }
    }
    stream.setFlushedLSN(
        stream.getLastReceiveLSN()); // the next reader starts after what was read here
    stream.setAppliedLSN(stream.getLastReceiveLSN());
    stream.forceUpdateStatus();
    stream.close();
    return inserts;
  }

  private static Connection replicationConnection(String url) throws Exception {
    Properties p = new Properties();
    PGProperty.USER.set(p, "postgres");
    PGProperty.REPLICATION.set(p, "database");
    PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "14");
    PGProperty.PREFER_QUERY_MODE.set(p, "simple");
    return DriverManager.getConnection(url, p);
  }

  /** A table of the benchmark's shape. */
  private static void createTable(javax.sql.DataSource ds, String name) throws Exception {
    sql(
        ds,
        "CREATE TABLE "
            + name
            + " (id bigint PRIMARY KEY, name text, amount numeric(12,2), created timestamptz, "
            + "flag bool)");
  }

  /** Inserts rows with ids {@code from} to {@code to} (inclusive) in one transaction. */
  private static void fill(javax.sql.DataSource ds, String table, long from, long to)
      throws Exception {
    sql(
        ds,
        "INSERT INTO "
            + table
            + " SELECT g, 'name ' || g, g / 100.0, now(), g % 2 = 0 FROM generate_series("
            + from
            + ", "
            + to
            + ") g");
  }

  private static void sql(javax.sql.DataSource ds, String sql) throws Exception {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
