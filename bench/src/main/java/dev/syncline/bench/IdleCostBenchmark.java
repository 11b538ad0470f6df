package dev.syncline.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.engine.Syncline;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.postgres.PostgresSource;
import dev.syncline.spi.storage.Checkpoint;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;

/**
 * What an idle engine costs: an engine with Postgres replication into {@link JdbcBucketStorage} on
 * the same embedded cluster (the todo server's set-up, durable settings), ready and caught up after
 * a few writes, then left alone with no clients and no writes. Prints the CPU time of this JVM's
 * threads and of every Postgres process over the measured window (default 60 s, after 10 s of
 * settling).
 *
 * <p>Not JMH: the subject is an idle steady state. Linux only (reads {@code /proc}).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.syncline.bench.IdleCostBenchmark [seconds] [settle-seconds]
 * </pre>
 */
public final class IdleCostBenchmark {
  static final String RULES =
      """
      bucket_definitions:
        by_user:
          parameters: SELECT request.user_id() AS user_id
          data:
            - SELECT * FROM todos WHERE owner = bucket.user_id
      """;

  static final String ENGINE_NAME = "idle";

  private IdleCostBenchmark() {}

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
    int settle = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    try (EmbeddedPostgres pg =
        BenchStorage.durable(EmbeddedPostgres.builder())
            .setServerConfig("wal_level", "logical")
            .setServerConfig("max_replication_slots", "4")
            .setServerConfig("max_wal_senders", "4")
            .start()) {
      String url = "jdbc:postgresql://localhost:" + pg.getPort() + "/postgres";
      HikariConfig hc = new HikariConfig();
      hc.setJdbcUrl(url);
      hc.setUsername("postgres");
      hc.setMaximumPoolSize(4);
      try (HikariDataSource ds = new HikariDataSource(hc)) {
        try (Connection c = ds.getConnection();
            Statement s = c.createStatement()) {
          s.execute("CREATE TABLE todos (id text PRIMARY KEY, owner text, description text)");
        }
        if (args.length > 2 && args[2].equals("baseline")) {
          measure(seconds, settle, "baseline (no engine: the JVM, its pool and Postgres alone)");
          return;
        }
        JdbcBucketStorage storage = JdbcBucketStorage.builder(ds).tablePrefix("syncline_").build();
        try (Syncline engine =
            Syncline.builder()
                .storage(storage)
                .source(
                    () ->
                        PostgresSource.builder()
                            .jdbcUrl(url)
                            .user("postgres")
                            .password("")
                            .publication("syncline", true)
                            .build())
                .rules(SyncRulesSource.ofYaml(RULES, "idle.yaml"))
                .tokenVerifier(
                    JwtTokenVerifier.builder()
                        .audience("idle")
                        .hmacSecret(IdleStreamsBenchmark.SECRET, "k")
                        .build())
                .name(ENGINE_NAME)
                .build()) {
          long started = System.nanoTime();
          engine.start();
          await(() -> engine.health().ready(), Duration.ofSeconds(60), "ready");
          System.out.printf(
              Locale.ROOT, "ready after %d ms%n", (System.nanoTime() - started) / 1_000_000);
          // Some traffic first, so that every path has run once; then nothing.
          try (Connection c = ds.getConnection();
              Statement s = c.createStatement()) {
            for (int i = 0; i < 20; i++) {
              s.execute("INSERT INTO todos VALUES ('t" + i + "', 'u" + (i % 3) + "', 'x')");
            }
          }
          Checkpoint before = engine.service().latestCheckpoint().orElseThrow();
          await(
              () -> !engine.service().latestCheckpoint().orElseThrow().equals(before),
              Duration.ofSeconds(30),
              "the writes replicated");
          measure(seconds, settle, "engine");
        }
      }
    }
  }

  private static void measure(int seconds, int settle, String what) throws InterruptedException {
    System.out.println("measuring: " + what);
    System.out.printf(Locale.ROOT, "settling %d s, then measuring %d s idle%n", settle, seconds);
    sleepSeconds(settle);
    CpuUsage start = CpuUsage.now();
    Map<String, Long> threadsBefore = javaThreads();
    long processBefore = processCpuNanos();
    long wall = System.nanoTime();
    sleepSeconds(seconds);
    CpuUsage end = CpuUsage.now();
    long process = processCpuNanos() - processBefore;
    Map<String, Long> threadsAfter = javaThreads();
    double elapsed = (System.nanoTime() - wall) / 1e9;
    System.out.println(end.since(start));
    StringBuilder detail = new StringBuilder();
    long engine =
        threadsAfter.entrySet().stream()
            .filter(
                e -> e.getKey().startsWith("syncline-") || e.getKey().startsWith(ENGINE_NAME + "-"))
            .mapToLong(e -> e.getValue() - threadsBefore.getOrDefault(e.getKey(), 0L))
            .sum();
    threadsAfter.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), e.getValue() - threadsBefore.getOrDefault(e.getKey(), 0L)))
        .filter(e -> e.getValue() >= 1_000_000)
        .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
        .forEach(
            e ->
                detail.append(
                    String.format(Locale.ROOT, "%s %.3f s, ", e.getKey(), e.getValue() / 1e9)));
    System.out.printf(Locale.ROOT, "Java threads (ThreadMXBean, ns-precise): %s%n", detail);
    System.out.printf(
        Locale.ROOT,
        "engine threads: %.3f CPU-s = %.3f %% of one core%n",
        engine / 1e9,
        100.0 * engine / 1e9 / elapsed);
    System.out.printf(
        Locale.ROOT,
        "whole JVM (OperatingSystemMXBean; JIT, GC and JVM threads included): %.3f CPU-s"
            + " = %.3f %% of one core over %.0f s%n",
        process / 1e9,
        100.0 * process / 1e9 / elapsed,
        elapsed);
    System.out.printf(
        Locale.ROOT,
        "Postgres processes: %.2f CPU-s = %.2f %% of one core%n",
        end.postgresTotal(start),
        100.0 * end.postgresTotal(start) / elapsed);
  }

  /** CPU nanoseconds of every live Java thread, by name (threads of the same name summed). */
  private static Map<String, Long> javaThreads() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Map<String, Long> cpu = new TreeMap<>();
    for (ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
      if (info != null) {
        long t = mx.getThreadCpuTime(info.getThreadId());
        if (t > 0) {
          cpu.merge(info.getThreadName(), t, Long::sum);
        }
      }
    }
    return cpu;
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static void await(
      java.util.function.BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not " + what + " within " + timeout);
      }
      LockSupport.parkNanos(10_000_000);
    }
  }

  private static void sleepSeconds(int seconds) throws InterruptedException {
    Thread.sleep(seconds * 1000L);
  }
}
