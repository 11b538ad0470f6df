package dev.syncline.bench;

import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.core.internal.storage.ChecksumCache;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.WriteBatch;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
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
 * Bucket storage: appending batches (1,000 rows × 2 buckets = 2,000 ops per commit), streaming one
 * large bucket, and incremental checksums, in memory and on an embedded Postgres 17 (fsync off, as
 * in tests).
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
public class StorageBenchmark {
  static final int ROWS_PER_BATCH = 1000;
  static final int BIG_BUCKET = 1_000_000;

  /** {@code postgres-durable}: fsync and synchronous commit on. */
  @Param({"memory", "postgres", "postgres-durable"})
  public String storageKind;

  BenchStorage bench;
  BucketStorage storage;
  long version;
  BucketStorageWriter writer;
  long position;
  long row;

  long readVersion;
  Checkpoint readCheckpoint;
  ChecksumCache cache;
  BucketStorageWriter readWriter;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    bench = BenchStorage.open(storageKind);
    storage = bench.storage;
    version = storage.addRulesVersion("append").id();
    writer = storage.openWriter(version);

    readVersion = storage.addRulesVersion("read").id();
    readWriter = storage.openWriter(readVersion);
    for (int i = 0; i < BIG_BUCKET; i += 10_000) {
      List<NewOp> ops = new ArrayList<>(10_000);
      for (int j = 0; j < 10_000; j++) {
        ops.add(
            put(
                "big[]",
                "r" + ((i + j) % 50_000),
                "{\"id\":\"r" + (i + j) + "\",\"n\":" + j + "}"));
      }
      readCheckpoint =
          readWriter
              .commit(
                  new WriteBatch(
                      ops, List.of(), List.of(), List.of(), String.format("%016x", i + 1)))
              .orElseThrow();
    }
    cache = new ChecksumCache(storage, readVersion, 10_000, 8);
    cache.checksums(readCheckpoint.opId(), List.of("big[]"));
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    writer.close();
    readWriter.close();
    bench.close();
  }

  static NewOp put(String bucket, String id, String data) {
    return new NewOp(
        bucket, OpType.PUT, "todos", id, "sub-" + id, data, OpChecksums.put("todos", id, data));
  }

  /** Throughput in ops/s: one commit of 1,000 rows landing in 2 buckets each. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @OperationsPerInvocation(2 * ROWS_PER_BATCH)
  public Checkpoint append() {
    List<NewOp> ops = new ArrayList<>(2 * ROWS_PER_BATCH);
    for (int i = 0; i < ROWS_PER_BATCH; i++) {
      long r = row++;
      String data =
          "{\"id\":\"t"
              + r
              + "\",\"description\":\"Buy milk\",\"completed\":0,\"list_id\":\"l"
              + (r % 100)
              + "\"}";
      ops.add(put("owned[\"l" + (r % 100) + "\"]", "t" + r, data));
      ops.add(put("by_user[\"u" + (r % 37) + "\"]", "t" + r, data));
    }
    return writer
        .commit(
            new WriteBatch(
                ops, List.of(), List.of(), List.of(), String.format("%016x", ++position)))
        .orElseThrow();
  }

  /**
   * Throughput in ops/s: streaming every op of a 1,000,000-op bucket in pages of 1,000, as a sync
   * stream does.
   */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @OperationsPerInvocation(BIG_BUCKET)
  public long readBigBucket() {
    OpId after = OpId.ZERO;
    long n = 0;
    while (true) {
      List<OpRecord> page = storage.ops(readVersion, "big[]", after, readCheckpoint.opId(), 1000);
      if (page.isEmpty()) {
        return n;
      }
      n += page.size();
      after = page.get(page.size() - 1).opId();
    }
  }

  /**
   * A checkpoint 10 ops after the previous one on the 1,000,000-op bucket, committed before each
   * invocation.
   */
  @State(Scope.Thread)
  public static class TenMoreOps {
    Checkpoint checkpoint;

    @Setup(Level.Invocation)
    public void commit(StorageBenchmark b) {
      List<NewOp> ops = new ArrayList<>(10);
      for (int i = 0; i < 10; i++) {
        long r = b.row++;
        ops.add(put("big[]", "r" + (r % 50_000), "{\"id\":\"x" + r + "\"}"));
      }
      checkpoint =
          b.readWriter
              .commit(
                  new WriteBatch(
                      ops,
                      List.of(),
                      List.of(),
                      List.of(),
                      String.format("%016x", BIG_BUCKET + ++b.position)))
              .orElseThrow();
    }
  }

  /**
   * Average time: the checksum of the 1,000,000-op bucket at a new checkpoint 10 ops after the
   * cached one (the commit of the 10 ops is not measured).
   */
  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public long checksumAfterTenMoreOps(TenMoreOps fresh) {
    return cache.checksums(fresh.checkpoint.opId(), List.of("big[]")).get("big[]").checksum();
  }
}
