package dev.syncline.core.engine;

import dev.syncline.api.TableRef;
import dev.syncline.api.engine.EngineEvent;
import dev.syncline.api.engine.ReplicationState;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.replicate.Replicator;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.spi.source.SourceAdapter;
import dev.syncline.spi.source.SourceEvent;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.RulesVersion;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One rules version this instance replicates (or stands by for): its compiled rules, its
 * replicator, and what the source last reported about it (lag, retained WAL, snapshot progress).
 *
 * <p>Created and closed under the engine's lock; the report fields are written by the replication
 * thread (through the replicator's events) and read from any thread.
 */
final class VersionRun {
  private static final System.Logger LOG = System.getLogger(VersionRun.class.getName());

  /**
   * What every run of an engine shares: how to reach storage and the source, the rules' name and
   * default schema, limits, and where events and counts go.
   */
  record Settings(
      BucketStorage storage,
      Supplier<? extends SourceAdapter> sources,
      String rulesName,
      String defaultSchema,
      String identity,
      Duration storageTimeout,
      long slotLagBytes,
      long maxValueBytes,
      long maxRowBytes,
      Consumer<EngineEvent> events,
      LongAdder rowsReplicated,
      LongAdder transactionsReplicated) {}

  final long version;
  final SyncRules rules;
  final Replicator replicator;

  /** The state last announced as an event (maintenance thread). */
  volatile ReplicationState reported = ReplicationState.STARTING;

  volatile long lagBytes = -1;
  volatile long lagMillis = -1;

  /** WAL the source keeps for this version's slot, as last reported ({@code -1}: not known). */
  volatile long retainedBytes = -1;

  /**
   * Since when every report had the lag at or above the slot detector's threshold (odd nanos), or
   * 0.
   */
  volatile long lagHighSince;

  /**
   * The initial snapshot's progress per table, as the source last reported it (this instance's copy
   * only).
   */
  final Map<TableRef, SourceEvent.SnapshotProgress> snapshot =
      new ConcurrentSkipListMap<>(Comparator.comparing(TableRef::toString));

  private VersionRun(long version, SyncRules rules, Settings settings) {
    this.version = version;
    this.rules = rules;
    Consumer<EngineEvent> events = settings.events();
    this.replicator =
        Replicator.builder()
            .rules(rules)
            .storage(settings.storage(), version)
            .source(settings.sources().get())
            .identity(settings.identity())
            .storageTimeout(settings.storageTimeout())
            .events(
                e -> {
                  record(e, settings);
                  events.accept(new EngineEvent.Source(version, e));
                })
            .evaluationErrors(err -> events.accept(new EngineEvent.EvaluationFailed(version, err)))
            .rowLimits(settings.maxValueBytes(), settings.maxRowBytes())
            .refusedRows(
                (key, reason) -> {
                  LOG.log(
                      System.Logger.Level.WARNING,
                      () ->
                          "row "
                              + key.table()
                              + " "
                              + clip(key.key())
                              + " of rules version "
                              + version
                              + " is not synced: "
                              + reason);
                  events.accept(
                      new EngineEvent.RowTooLarge(version, key.table(), key.key(), reason));
                })
            .build();
  }

  /** Compiles {@code version}'s rules and starts replicating it. */
  static VersionRun start(RulesVersion version, Settings settings) {
    SyncRules rules =
        SyncRulesCompiler.builder()
            .defaultSchema(settings.defaultSchema())
            .bucketVersion((int) version.id())
            .bucketVersions(StoredRules.keptVersions(version.content()))
            .build()
            .compileRules(
                SyncRulesSource.ofYaml(StoredRules.yaml(version.content()), settings.rulesName()));
    VersionRun run = new VersionRun(version.id(), rules, settings);
    run.replicator.start();
    return run;
  }

  ReplicationState state() {
    return replicator.status().state();
  }

  /** Keeps what the source reports about this version. Replication thread. */
  private void record(SourceEvent e, Settings settings) {
    if (e instanceof SourceEvent.Lag lag) {
      lagBytes = lag.lagBytes();
      lagMillis = lag.lagMillis();
      retainedBytes = lag.retainedBytes();
      if (lag.lagBytes() < settings.slotLagBytes()) {
        lagHighSince = 0;
      } else if (lagHighSince == 0) {
        lagHighSince = System.nanoTime() | 1;
      }
    } else if (e instanceof SourceEvent.SnapshotProgress p) {
      snapshot.put(p.table(), p);
    } else if (e instanceof SourceEvent.Throughput t) {
      settings.rowsReplicated().add(t.rows());
      settings.transactionsReplicated().add(t.transactions());
    }
  }

  private static String clip(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }
}
