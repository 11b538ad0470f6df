package dev.syncline.core.replicate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.engine.ReplicationState;
import dev.syncline.api.rules.EvaluationError;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.TestPosition;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.spi.source.ChangeSink;
import dev.syncline.spi.source.SourceAdapter;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.source.SourceEvent;
import dev.syncline.spi.source.SourcePosition;
import dev.syncline.spi.source.SourceStart;
import dev.syncline.spi.storage.BucketStorage.PartialChecksum;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.SourceKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The replicator's contract with a source and storage, on in-memory storage and a scripted source:
 * what is acknowledged when, where a failed run resumes, which rows are refused, what is reported.
 */
class ReplicatorTest {
  private static final String RULES =
      "bucket_definitions:\n  all:\n    data:\n      - SELECT * FROM items\n";
  private static final TableRef ITEMS = TableRef.of("public", "items");
  private static final Duration WAIT = Duration.ofSeconds(30);

  /**
   * The durability contract: a source's {@code durable} callback runs only once storage holds the
   * transaction (its checkpoint is at or past the position), exactly once per commit, in commit
   * order, while the source goes on reading (commits are asynchronous).
   */
  @Test
  void durable_runs_once_per_commit_in_order_and_only_after_storage_holds_it() throws Exception {
    try (InMemoryBucketStorage memory = new InMemoryBucketStorage()) {
      long version = memory.addRulesVersion(RULES).id();
      List<String> durable = new CopyOnWriteArrayList<>();
      List<String> violations = new CopyOnWriteArrayList<>();
      CountDownLatch acknowledged = new CountDownLatch(200);
      ScriptedSource source =
          new ScriptedSource(
              (attempt, start, sink) -> {
                for (int tx = 1; tx <= 200; tx++) {
                  String at = position(tx);
                  sink.accept(insert("i" + tx, "v" + tx));
                  sink.commitAsync(
                      new TestPosition(at),
                      () -> {
                        Optional<Checkpoint> stored = memory.latestCheckpoint(version);
                        if (stored.isEmpty() || stored.get().position().compareTo(at) < 0) {
                          violations.add(at + " acknowledged before storage held it: " + stored);
                        }
                        durable.add(at);
                        acknowledged.countDown();
                      });
                }
              });
      try (Replicator replicator = replicator(memory, version, source).build().start()) {
        assertThat(acknowledged.await(WAIT.toSeconds(), TimeUnit.SECONDS))
            .as("200 commits acknowledged")
            .isTrue();
        assertThat(violations).isEmpty();
        List<String> expected = new ArrayList<>();
        for (int tx = 1; tx <= 200; tx++) {
          expected.add(position(tx));
        }
        assertThat(durable).containsExactlyElementsOf(expected);
        assertThat(memory.latestCheckpoint(version).orElseThrow().position())
            .isEqualTo(position(200));
        assertThat(count(memory, version)).isEqualTo(200);
      }
    }
  }

  /**
   * A run that fails is retried from the last position storage holds: the restarted source gets it
   * as {@code resumeFrom}; what the failed run applied after that position is not in storage.
   */
  @Test
  void a_failed_run_is_retried_from_the_last_stored_position() throws Exception {
    try (InMemoryBucketStorage memory = new InMemoryBucketStorage()) {
      long version = memory.addRulesVersion(RULES).id();
      CountDownLatch retried = new CountDownLatch(1);
      ScriptedSource source =
          new ScriptedSource(
              (attempt, start, sink) -> {
                if (attempt == 1) {
                  for (int tx = 1; tx <= 3; tx++) {
                    sink.accept(insert("i" + tx, "v"));
                    sink.commit(new TestPosition(position(tx)));
                  }
                  sink.accept(insert("lost", "never committed"));
                  throw new SynclineException(ErrorCode.SOURCE_UNAVAILABLE, "connection reset");
                }
                retried.await(WAIT.toSeconds(), TimeUnit.SECONDS);
                sink.accept(insert("i4", "v"));
                sink.commit(new TestPosition(position(4)));
              });
      CountDownLatch fourth = checkpointAt(memory, version, position(4));
      try (Replicator replicator =
          replicator(memory, version, source)
              .backoff(Duration.ofMillis(10), Duration.ofMillis(10))
              .build()
              .start()) {
        SourceStart first = source.starts.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        SourceStart second = source.starts.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(first).isNotNull();
        assertThat(first.resumeFrom()).isNull();
        assertThat(second).as("the source was run again").isNotNull();
        assertThat(second.resumeFrom()).isEqualTo(new TestPosition(position(3)));
        retried.countDown();
        assertThat(fourth.await(WAIT.toSeconds(), TimeUnit.SECONDS))
            .as("the retried run's commit")
            .isTrue();
        assertThat(count(memory, version))
            .as("three rows of the first run, one of the second; the uncommitted one is not there")
            .isEqualTo(4);
      }
    }
  }

  /**
   * A row larger than the limits is not synced: it is reported with its key and reason, and the
   * rows around it replicate.
   */
  @Test
  void rows_over_the_limits_are_refused_and_reported_and_replication_goes_on() throws Exception {
    try (InMemoryBucketStorage memory = new InMemoryBucketStorage()) {
      long version = memory.addRulesVersion(RULES).id();
      Map<SourceKey, String> refused = Collections.synchronizedMap(new HashMap<>());
      ScriptedSource source =
          new ScriptedSource(
              (attempt, start, sink) -> {
                sink.accept(insert("small", "x"));
                sink.accept(insert("big", "y".repeat(500)));
                sink.accept(insert("also-small", "z"));
                sink.commit(new TestPosition(position(1)));
              });
      CountDownLatch committed = checkpointAt(memory, version, position(1));
      try (Replicator replicator =
          replicator(memory, version, source)
              .rowLimits(100, 1_000)
              .refusedRows(refused::put)
              .build()
              .start()) {
        assertThat(committed.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the commit").isTrue();
        assertThat(refused).hasSize(1);
        Map.Entry<SourceKey, String> e = refused.entrySet().iterator().next();
        assertThat(e.getKey().table()).isEqualTo(ITEMS);
        assertThat(e.getKey().key()).contains("big");
        assertThat(e.getValue()).contains("100");
        assertThat(count(memory, version)).isEqualTo(2);
      }
    }
  }

  /** What the source reports reaches the events consumer; rule errors reach theirs. */
  @Test
  void source_events_and_evaluation_errors_are_passed_on() throws Exception {
    String rules =
        """
        bucket_definitions:
          all:
            data:
              - SELECT id, json_extract(doc, '$.n') AS n FROM items
        """;
    try (InMemoryBucketStorage memory = new InMemoryBucketStorage()) {
      long version = memory.addRulesVersion(rules).id();
      List<SourceEvent> events = new CopyOnWriteArrayList<>();
      List<EvaluationError> errors = new CopyOnWriteArrayList<>();
      ScriptedSource source =
          new ScriptedSource(
              (attempt, start, sink) -> {
                sink.event(new SourceEvent.SchemaChanged(ITEMS, "columns added: [doc]"));
                sink.accept(
                    SourceChange.insert(
                        ITEMS,
                        List.of("id"),
                        SourceRow.builder().put("id", "j").put("doc", "{not json").build()));
                sink.commit(new TestPosition(position(1)));
              });
      CountDownLatch committed = checkpointAt(memory, version, position(1));
      try (Replicator replicator =
          Replicator.builder()
              .rules(SyncRulesCompiler.compile(SyncRulesSource.ofYaml(rules, "rules.yaml")))
              .storage(memory, version)
              .source(source)
              .events(events::add)
              .evaluationErrors(errors::add)
              .build()
              .start()) {
        assertThat(committed.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the commit").isTrue();
        assertThat(events)
            .anySatisfy(
                ev ->
                    assertThat(ev)
                        .isEqualTo(new SourceEvent.SchemaChanged(ITEMS, "columns added: [doc]")));
        assertThat(errors).isNotEmpty();
        assertThat(errors.get(0).message()).isNotBlank();
      }
    }
  }

  /** A source that finishes a table's copy: storage records it, and a restart is told. */
  @Test
  void a_finished_copy_is_recorded_and_given_to_the_next_run() throws Exception {
    try (InMemoryBucketStorage memory = new InMemoryBucketStorage()) {
      long version = memory.addRulesVersion(RULES).id();
      ScriptedSource source =
          new ScriptedSource(
              (attempt, start, sink) -> {
                if (attempt == 1) {
                  sink.accept(insert("i1", "v"));
                  sink.snapshotDone(ITEMS);
                  sink.commit(new TestPosition(position(1)));
                  throw new SynclineException(ErrorCode.SOURCE_UNAVAILABLE, "restart");
                }
              });
      try (Replicator replicator =
          replicator(memory, version, source)
              .backoff(Duration.ofMillis(10), Duration.ofMillis(10))
              .build()
              .start()) {
        source.starts.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        SourceStart second = source.starts.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(second).isNotNull();
        assertThat(second.snapshotDone()).containsExactly(ITEMS);
        assertThat(memory.snapshotState(version).done()).containsExactly(ITEMS);
        assertThat(replicator.status().state()).isNotEqualTo(ReplicationState.SNAPSHOT);
      }
    }
  }

  // ---- helpers ----

  private static Replicator.Builder replicator(
      InMemoryBucketStorage memory, long version, ScriptedSource source) {
    return Replicator.builder()
        .rules(SyncRulesCompiler.compile(SyncRulesSource.ofYaml(RULES, "rules.yaml")))
        .storage(memory, version)
        .source(source);
  }

  private static String position(int tx) {
    return String.format("%05d", tx);
  }

  private static SourceChange insert(String id, String value) {
    return SourceChange.insert(
        ITEMS, List.of("id"), SourceRow.builder().put("id", id).put("v", value).build());
  }

  /** How many ops the one bucket of the rules holds at the latest checkpoint. */
  private static long count(InMemoryBucketStorage memory, long version) {
    Checkpoint c = memory.latestCheckpoint(version).orElseThrow();
    Map<String, PartialChecksum> sums = memory.checksums(version, List.of("all[]"), null, c.opId());
    return sums.get("all[]").count();
  }

  /**
   * Counted down when storage commits a checkpoint at {@code position} (watch before the writes
   * start: only checkpoints committed after this call are seen).
   */
  private static CountDownLatch checkpointAt(
      InMemoryBucketStorage memory, long version, String position) {
    CountDownLatch reached = new CountDownLatch(1);
    AutoCloseable unusedWatch =
        memory.watchCheckpoints(
            version,
            c -> {
              if (c.position().equals(position)) {
                reached.countDown();
              }
            });
    return reached;
  }

  /** What a scripted source does in each run, on the replication thread. */
  private interface Script {
    void run(int attempt, SourceStart start, ChangeSink sink) throws Exception;
  }

  /**
   * A source that records how it was started, runs its script, then idles (as a source waiting for
   * changes does) until closed or aborted.
   */
  private static final class ScriptedSource implements SourceAdapter {
    final BlockingQueue<SourceStart> starts = new LinkedBlockingQueue<>();
    private final Script script;
    private final AtomicInteger runs = new AtomicInteger();
    private final CountDownLatch closed = new CountDownLatch(1);

    ScriptedSource(Script script) {
      this.script = script;
    }

    @Override
    public void run(SourceStart start, ChangeSink sink) throws Exception {
      starts.add(start);
      script.run(runs.incrementAndGet(), start, sink);
      while (!closed.await(10, TimeUnit.MILLISECONDS)) {
        sink.alive();
      }
    }

    @Override
    public SourcePosition parsePosition(String serialized) {
      return new TestPosition(serialized);
    }

    @Override
    public SourcePosition writeCheckpointHead() {
      return new TestPosition(position(0));
    }

    @Override
    public void close() {
      closed.countDown();
    }
  }
}
