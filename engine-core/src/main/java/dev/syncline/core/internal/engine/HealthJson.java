package dev.syncline.core.internal.engine;

import dev.syncline.api.WireFormat;
import dev.syncline.api.engine.EngineHealth;
import dev.syncline.api.engine.EngineMetrics;
import dev.syncline.api.engine.Finding;
import dev.syncline.spi.source.SourceEvent;
import java.util.Collection;
import org.jspecify.annotations.Nullable;

/**
 * The operators' health document: the engine's health, its initial snapshot's progress and its
 * metrics as one JSON object (the fields {@code Syncline.healthJson()} documents). Pure; any
 * thread.
 */
public final class HealthJson {
  private HealthJson() {}

  /**
   * Renders the document.
   *
   * @param snapshot the progress per table of the initial copy this instance runs (empty when none)
   */
  public static String render(
      EngineHealth h, EngineMetrics m, Collection<SourceEvent.SnapshotProgress> snapshot) {
    StringBuilder sb = new StringBuilder(512).append('{');
    sb.append("\"ready\":").append(h.ready());
    sb.append(",\"reason\":").append(quoted(h.notReadyReason()));
    sb.append(",\"state\":").append(quoted(h.state().name()));
    sb.append(",\"active_version\":").append(h.activeVersion());
    sb.append(",\"active_checkpoint\":").append(h.activeCheckpoint());
    sb.append(",\"pending_version\":")
        .append(h.pendingVersion() == null ? "null" : h.pendingVersion());
    sb.append(",\"replication\":").append(quoted(h.replication().name()));
    sb.append(",\"pending_replication\":").append(quoted(h.pendingReplication().name()));
    sb.append(",\"last_error_code\":").append(quoted(h.lastErrorCode()));
    sb.append(",\"last_error\":").append(quoted(h.lastError()));
    sb.append(",\"lag_bytes\":").append(h.lagBytes());
    sb.append(",\"lag_millis\":").append(h.lagMillis());
    sb.append(",\"storage_reachable\":").append(h.storageReachable());
    sb.append(",\"open_streams\":").append(h.openStreams());
    sb.append(",\"snapshot\":[");
    String sep = "";
    for (SourceEvent.SnapshotProgress p : snapshot) {
      sb.append(sep)
          .append("{\"table\":")
          .append(quoted(p.table().toString()))
          .append(",\"rows_copied\":")
          .append(p.rowsCopied())
          .append(",\"rows_estimated\":")
          .append(p.rowsEstimated())
          .append(",\"done\":")
          .append(p.done())
          .append('}');
      sep = ",";
    }
    sb.append("],\"findings\":[");
    String comma = "";
    for (Finding f : h.findings()) {
      sb.append(comma)
          .append("{\"code\":")
          .append(quoted(f.detector().code()))
          .append(",\"detector\":")
          .append(quoted(f.detector().name()))
          .append(",\"message\":")
          .append(quoted(f.message()))
          .append('}');
      comma = ",";
    }
    sb.append("],\"metrics\":{\"data_synced_bytes\":")
        .append(m.dataSyncedBytes())
        .append(",\"operations_synced\":")
        .append(m.operationsSynced())
        .append(",\"concurrent_connections\":")
        .append(m.concurrentConnections())
        .append(",\"rows_replicated\":")
        .append(m.rowsReplicated())
        .append(",\"transactions_replicated\":")
        .append(m.transactionsReplicated())
        .append(",\"replication_lag_seconds\":")
        .append(m.replicationLagSeconds())
        .append(",\"stalled_streams_closed\":")
        .append(m.stalledStreamsClosed())
        .append("}}");
    return sb.toString();
  }

  private static String quoted(@Nullable String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder sb = new StringBuilder(s.length() + 2);
    WireFormat.appendQuoted(sb, s);
    return sb.toString();
  }
}
