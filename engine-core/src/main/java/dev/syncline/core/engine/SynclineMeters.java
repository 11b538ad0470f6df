package dev.syncline.core.engine;

import dev.syncline.api.engine.EngineMetrics;
import dev.syncline.api.engine.Finding.Detector;
import dev.syncline.api.engine.SyncEngine;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;

/**
 * Publishes an engine's {@link EngineMetrics} to a Micrometer registry under the PowerSync
 * service's metric names, so that dashboards built for PowerSync read them (with Prometheus naming:
 * {@code powersync_data_synced_bytes_total}, {@code powersync_operations_synced_total}, {@code
 * powersync_concurrent_connections}, {@code powersync_rows_replicated_total}, {@code
 * powersync_transactions_replicated_total}, {@code powersync_replication_lag_seconds}), and
 * Syncline's own {@code syncline_stalled_streams_closed_total} and {@code syncline_detector_active}
 * (one gauge per detector, tagged {@code detector} and {@code code}).
 *
 * <p>Micrometer is an optional dependency of engine-core: add {@code io.micrometer:micrometer-core}
 * to use this class. The meters read {@link SyncEngine#metrics()} when the registry is scraped;
 * nothing is recorded on the sync or replication paths beyond the engine's own counters.
 *
 * <pre>{@code
 * SynclineMeters.bind(engine, meterRegistry, Tag.of("app", "todo"));
 * }</pre>
 */
public final class SynclineMeters {
  private SynclineMeters() {}

  /**
   * Registers the engine's meters in {@code registry}, with extra {@code tags} (e.g. to tell
   * engines apart).
   */
  public static void bind(SyncEngine engine, MeterRegistry registry, Tag... tags) {
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(registry, "registry");
    List<Tag> t = List.of(tags);
    counter(
        registry,
        engine,
        "powersync.data.synced.bytes",
        "bytes",
        "Uncompressed bytes of sync lines sent",
        t,
        m -> m.dataSyncedBytes());
    counter(
        registry,
        engine,
        "powersync.operations.synced",
        null,
        "Operations sent to clients",
        t,
        m -> m.operationsSynced());
    counter(
        registry,
        engine,
        "powersync.rows.replicated",
        null,
        "Source row changes replicated",
        t,
        m -> m.rowsReplicated());
    counter(
        registry,
        engine,
        "powersync.transactions.replicated",
        null,
        "Source transactions replicated",
        t,
        m -> m.transactionsReplicated());
    counter(
        registry,
        engine,
        "syncline.stalled.streams.closed",
        null,
        "Sync streams closed because their client took nothing for the stalled-stream timeout",
        t,
        m -> m.stalledStreamsClosed());
    for (Detector d : Detector.values()) {
      List<Tag> tagged = new ArrayList<>(t);
      tagged.add(Tag.of("detector", d.name()));
      tagged.add(Tag.of("code", d.code()));
      Gauge.builder(
              "syncline.detector.active",
              engine,
              e -> e.health().findings().stream().anyMatch(f -> f.detector() == d) ? 1 : 0)
          .description("1 while the detector reports a finding (see EngineHealth.findings)")
          .tags(tagged)
          .register(registry);
    }
    Gauge.builder(
            "powersync.concurrent.connections", engine, e -> e.metrics().concurrentConnections())
        .description("Open sync streams")
        .tags(t)
        .register(registry);
    Gauge.builder(
            "powersync.replication.lag.seconds", engine, e -> e.metrics().replicationLagSeconds())
        .description("Age of the newest replicated source commit when it was applied")
        .baseUnit("seconds")
        .tags(t)
        .register(registry);
  }

  private static void counter(
      MeterRegistry registry,
      SyncEngine engine,
      String name,
      @Nullable String unit,
      String help,
      List<Tag> tags,
      ToDoubleFunction<EngineMetrics> value) {
    FunctionCounter.Builder<SyncEngine> b =
        FunctionCounter.builder(name, engine, e -> value.applyAsDouble(e.metrics()))
            .description(help)
            .tags(tags);
    if (unit != null) {
      b.baseUnit(unit);
    }
    b.register(registry);
  }
}
