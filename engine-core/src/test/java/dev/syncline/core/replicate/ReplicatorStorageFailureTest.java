package dev.syncline.core.replicate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.engine.ReplicationState;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.TestPosition;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.spi.source.ChangeSink;
import dev.syncline.spi.source.SourceAdapter;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.source.SourcePosition;
import dev.syncline.spi.source.SourceStart;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Storage writes run on a committer thread while the replication thread reads on; a failed batch
 * must stop every write queued behind it, or a snapshot's progress would be recorded past rows that
 * were never stored.
 */
class ReplicatorStorageFailureTest {
  private static final String RULES =
      "bucket_definitions:\n  all:\n    data:\n      - SELECT * FROM items\n";
  private static final TableRef ITEMS = TableRef.of("public", "items");

  @Test
  void snapshot_progress_is_not_recorded_past_a_batch_that_failed() throws Exception {
    try (InMemoryBucketStorage memory = new InMemoryBucketStorage()) {
      long version = memory.addRulesVersion(RULES).id();
      AtomicInteger commits = new AtomicInteger();
      BucketStorage storage = failingSecondCommit(memory, commits);
      ChunkedSnapshotSource source = new ChunkedSnapshotSource();
      Replicator replicator =
          Replicator.builder()
              .rules(SyncRulesCompiler.compile(SyncRulesSource.ofYaml(RULES, "rules.yaml")))
              .storage(storage, version)
              .source(source)
              .backoff(Duration.ofMillis(10), Duration.ofMillis(10))
              .build()
              .start();
      try {
        // The first run copies two chunks and fails on the second; the engine runs the source
        // again.
        SourceStart restart = source.starts.poll(30, TimeUnit.SECONDS);
        SourceStart second = source.starts.poll(30, TimeUnit.SECONDS);
        assertThat(restart).isNotNull();
        assertThat(second).as("the source was started again after the failed write").isNotNull();
        assertThat(commits.get()).isGreaterThanOrEqualTo(2);
        assertThat(second.snapshotProgress()).containsExactly(Map.entry(ITEMS, "after-2"));
        assertThat(memory.snapshotState(version).progress())
            .containsExactly(Map.entry(ITEMS, "after-2"));
      } finally {
        replicator.close();
      }
    }
  }

  @Test
  void a_storage_write_that_does_not_return_ends_the_run_and_the_source_lets_go_of_its_stream()
      throws Exception {
    try (InMemoryBucketStorage memory = new InMemoryBucketStorage()) {
      long version = memory.addRulesVersion(RULES).id();
      CountDownLatch release = new CountDownLatch(1);
      // The second commit waits, as one waiting for a pooled connection to a database that is
      // restarting does.
      AtomicInteger commits = new AtomicInteger();
      BucketStorage storage =
          writers(
              memory,
              (m, writer, a) -> {
                if (m.getName().equals("commit") && commits.incrementAndGet() == 2) {
                  release.await();
                }
                return invoke(writer, m, a);
              });
      StreamingSource source = new StreamingSource();
      Replicator replicator =
          Replicator.builder()
              .rules(SyncRulesCompiler.compile(SyncRulesSource.ofYaml(RULES, "rules.yaml")))
              .storage(storage, version)
              .source(source)
              .backoff(Duration.ofMinutes(10), Duration.ofMinutes(10))
              .storageTimeout(Duration.ofMillis(200))
              .build()
              .start();
      try {
        assertThat(source.aborted.await(60, TimeUnit.SECONDS))
            .as("the source was told to let go")
            .isTrue();
        assertThat(replicator.storageUnreachable()).isTrue();
        assertThat(replicator.status().state()).isEqualTo(ReplicationState.RETRYING);
        assertThat(replicator.status().lastError().code()).isEqualTo(ErrorCode.STORAGE_FAILED);
        assertThat(replicator.status().lastError().getMessage())
            .contains("did not answer within 200 ms");
      } finally {
        release.countDown();
        replicator.close();
      }
    }
  }

  @Test
  void a_storage_connection_failure_ends_the_run_at_once_though_the_source_calls_nothing_more()
      throws Exception {
    try (InMemoryBucketStorage memory = new InMemoryBucketStorage()) {
      long version = memory.addRulesVersion(RULES).id();
      AtomicInteger commits = new AtomicInteger();
      BucketStorage storage =
          writers(
              memory,
              (m, writer, a) -> {
                if (m.getName().equals("commit") && commits.incrementAndGet() == 2) {
                  throw new SynclineException(
                      ErrorCode.STORAGE_FAILED,
                      "storage write failed",
                      new SQLException(
                          "terminating connection due to administrator command", "57P01"));
                }
                return invoke(writer, m, a);
              });
      StreamingSource source = new StreamingSource();
      Replicator replicator =
          Replicator.builder()
              .rules(SyncRulesCompiler.compile(SyncRulesSource.ofYaml(RULES, "rules.yaml")))
              .storage(storage, version)
              .source(source)
              .backoff(Duration.ofMinutes(10), Duration.ofMinutes(10))
              .storageTimeout(
                  Duration.ofMinutes(10)) // only the failure itself can end the run here
              .build()
              .start();
      try {
        assertThat(source.aborted.await(60, TimeUnit.SECONDS))
            .as("the source was told to let go")
            .isTrue();
        assertThat(replicator.storageUnreachable()).isTrue();
        assertThat(replicator.status().lastError().getCause()).isInstanceOf(SQLException.class);
      } finally {
        replicator.close();
      }
    }
  }

  private interface WriterHandler {
    Object handle(Method method, BucketStorageWriter writer, Object[] args) throws Throwable;
  }

  /**
   * Storage whose writers' calls go through {@code handler}; everything else goes to {@code
   * delegate}.
   */
  private static BucketStorage writers(BucketStorage delegate, WriterHandler handler) {
    return proxy(
        BucketStorage.class,
        (method, args) -> {
          Object result = invoke(delegate, method, args);
          if (!method.getName().equals("openWriter")) {
            return result;
          }
          BucketStorageWriter writer = (BucketStorageWriter) result;
          return proxy(BucketStorageWriter.class, (m, a) -> handler.handle(m, writer, a));
        });
  }

  /**
   * A source that streams one transaction, acknowledged once durable, then a second, and then idles
   * as a source waiting for its database does, calling nothing more; {@link #abortRun()} ends the
   * wait with a failure, as a closed connection would.
   */
  private static final class StreamingSource implements SourceAdapter {
    final CountDownLatch aborted = new CountDownLatch(1);
    private final CountDownLatch closed = new CountDownLatch(1);

    @Override
    public void run(SourceStart start, ChangeSink sink) throws Exception {
      for (int tx = 1; tx <= 2; tx++) {
        sink.accept(
            SourceChange.insert(
                ITEMS, List.of("id"), SourceRow.builder().put("id", "i" + tx).build()));
        sink.commitAsync(new TestPosition(String.valueOf(tx)), () -> {});
      }
      while (aborted.getCount() > 0 && closed.getCount() > 0) {
        closed.await(10, TimeUnit.MILLISECONDS);
      }
      if (aborted.getCount() == 0) {
        throw new SynclineException(ErrorCode.SOURCE_UNAVAILABLE, "the connection was closed");
      }
    }

    @Override
    public void abortRun() {
      aborted.countDown();
    }

    @Override
    public SourcePosition parsePosition(String serialized) {
      return new TestPosition(serialized);
    }

    @Override
    public SourcePosition writeCheckpointHead() {
      return new TestPosition("0");
    }

    @Override
    public void close() {
      closed.countDown();
    }
  }

  /**
   * Storage whose writers fail their second commit (once); everything else goes to {@code
   * delegate}.
   */
  private static BucketStorage failingSecondCommit(BucketStorage delegate, AtomicInteger commits) {
    return writers(
        delegate,
        (m, writer, a) -> {
          if (m.getName().equals("commit") && commits.incrementAndGet() == 2) {
            throw new SynclineException(ErrorCode.STORAGE_FAILED, "disk full (test)");
          }
          return invoke(writer, m, a);
        });
  }

  private interface Handler {
    Object handle(Method method, Object[] args) throws Throwable;
  }

  private static <T> T proxy(Class<T> type, Handler handler) {
    return type.cast(
        Proxy.newProxyInstance(
            type.getClassLoader(),
            new Class<?>[] {type},
            (self, method, args) -> handler.handle(method, args)));
  }

  /** Calls the interface method on {@code target}, throwing what it throws. */
  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /**
   * A source that copies {@code items} in three chunks of two rows, recording progress after each
   * chunk as the Postgres source does; on a restart it records what it was given and waits to be
   * closed.
   */
  private static final class ChunkedSnapshotSource implements SourceAdapter {
    final BlockingQueue<SourceStart> starts = new LinkedBlockingQueue<>();
    private final AtomicInteger runs = new AtomicInteger();
    private final CountDownLatch closed = new CountDownLatch(1);

    @Override
    public void run(SourceStart start, ChangeSink sink) throws Exception {
      if (runs.incrementAndGet() == 1) {
        starts.add(start);
        int id = 0;
        for (int chunk = 1; chunk <= 3; chunk++) {
          for (int i = 0; i < 2; i++) {
            id++;
            sink.accept(
                SourceChange.insert(
                    ITEMS,
                    List.of("id"),
                    SourceRow.builder().put("id", "i" + id).put("n", id).build()));
          }
          sink.flush();
          sink.snapshotProgress(ITEMS, "after-" + (2 * chunk));
        }
        sink.sync();
      } else {
        starts.add(start);
      }
      closed.await();
    }

    @Override
    public SourcePosition parsePosition(String serialized) {
      return new TestPosition(serialized);
    }

    @Override
    public SourcePosition writeCheckpointHead() {
      return new TestPosition("0");
    }

    @Override
    public void close() {
      closed.countDown();
    }
  }
}
