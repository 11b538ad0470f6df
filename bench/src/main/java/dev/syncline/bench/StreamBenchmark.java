package dev.syncline.bench;

import dev.syncline.api.OpType;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.stream.JdkHttpSyncServer;
import dev.syncline.core.stream.SyncService;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.WriteBatch;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Initial sync of a 1,000,000-op bucket over loopback HTTP to a raw NDJSON reader (the client only
 * splits lines), from memory and from Postgres storage. Score: ops per second.
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 1, batchSize = 1)
@Measurement(iterations = 4, batchSize = 1)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
public class StreamBenchmark {
  static final int OPS = 1_000_000;

  /** {@code postgres-durable}: embedded PostgreSQL with its default (durable) settings. */
  @Param({"memory", "postgres-durable"})
  public String storageKind;

  /**
   * {@code jdk}: {@link JdkHttpSyncServer} (blocking writes); {@code servlet}: SyncServlet on Jetty
   * (non-blocking).
   */
  @Param({"jdk", "servlet"})
  public String adapter;

  BenchStorage bench;
  BucketStorage storage;
  ScheduledExecutorService scheduler;
  IdleStreamsBenchmark.Server server;
  String token;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    bench = BenchStorage.open(storageKind);
    storage = bench.storage;
    SyncRules rules =
        SyncRulesCompiler.compile(
            SyncRulesSource.ofYaml(
                "bucket_definitions:\n  global:\n    data:\n      - SELECT * FROM todos\n",
                "bench.yaml"));
    long version = storage.addRulesVersion("bench").id();
    try (BucketStorageWriter w = storage.openWriter(version)) {
      for (int i = 0; i < OPS; i += 10_000) {
        List<NewOp> ops = new ArrayList<>(10_000);
        for (int j = i; j < i + 10_000; j++) {
          String data =
              "{\"id\":\"t"
                  + j
                  + "\",\"description\":\"Buy milk and bread\",\"completed\":0,"
                  + "\"list_id\":\"l"
                  + (j % 100)
                  + "\"}";
          ops.add(
              new NewOp(
                  "global[]",
                  OpType.PUT,
                  "todos",
                  "t" + j,
                  "s" + j,
                  data,
                  OpChecksums.put("todos", "t" + j, data)));
        }
        w.commit(
            new WriteBatch(ops, List.of(), List.of(), List.of(), String.format("%016x", i + 1)));
      }
    }
    scheduler = Executors.newScheduledThreadPool(1);
    SyncService service =
        SyncService.builder()
            .rules(rules)
            .storage(storage, version)
            .scheduler(scheduler)
            .tokenVerifier(
                JwtTokenVerifier.builder()
                    .audience("bench")
                    .hmacSecret(IdleStreamsBenchmark.SECRET, null)
                    .build())
            .build();
    server = IdleStreamsBenchmark.start(adapter, service);
    token = IdleStreamsBenchmark.token("u", Duration.ofSeconds(20_000));
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    server.close();
    scheduler.shutdownNow();
    bench.close();
  }

  @Benchmark
  @OperationsPerInvocation(OPS)
  public long initialSync() throws Exception {
    HttpURLConnection c =
        (HttpURLConnection) new URL(server.base() + "/sync/stream").openConnection();
    c.setRequestMethod("POST");
    c.setDoOutput(true);
    c.setRequestProperty("Authorization", "Token " + token);
    c.setRequestProperty("Content-Type", "application/json");
    try (OutputStream out = c.getOutputStream()) {
      out.write("{\"buckets\":[],\"raw_data\":true}".getBytes(StandardCharsets.UTF_8));
    }
    long lines = 0;
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8), 1 << 16)) {
      String line;
      while ((line = r.readLine()) != null) {
        lines++;
        if (line.startsWith("{\"checkpoint_complete\"")) {
          break;
        }
      }
    } finally {
      c.disconnect();
    }
    return lines;
  }
}
