package dev.syncline.core.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.api.TableRef;
import dev.syncline.api.engine.EngineHealth;
import dev.syncline.api.engine.EngineMetrics;
import dev.syncline.api.engine.Finding;
import dev.syncline.api.engine.ReplicationState;
import dev.syncline.spi.source.SourceEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The health document is JSON whatever an error message holds, with every documented field. */
class HealthJsonTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final EngineMetrics METRICS = new EngineMetrics(10, 20, 3, 40, 50, 1.5, 6);

  @Test
  void everyFieldOfAStartingEngine() throws Exception {
    EngineHealth h =
        new EngineHealth(
            EngineHealth.State.RUNNING,
            0,
            1L,
            ReplicationState.STOPPED,
            ReplicationState.SNAPSHOT,
            null,
            null,
            -1,
            -1,
            true,
            0,
            false,
            List.of());
    JsonNode doc =
        JSON.readTree(
            HealthJson.render(
                h,
                METRICS,
                List.of(
                    new SourceEvent.SnapshotProgress(
                        TableRef.of("public", "todos"), 500, 1_000, false))));
    assertThat(doc.get("ready").asBoolean()).isEqualTo(h.ready());
    assertThat(doc.get("reason").isNull()).isEqualTo(h.notReadyReason() == null);
    assertThat(doc.get("state").asText()).isEqualTo("RUNNING");
    assertThat(doc.get("active_version").asLong()).isZero();
    assertThat(doc.get("pending_version").asLong()).isEqualTo(1);
    assertThat(doc.get("replication").asText()).isEqualTo("STOPPED");
    assertThat(doc.get("pending_replication").asText()).isEqualTo("SNAPSHOT");
    assertThat(doc.get("last_error_code").isNull()).isTrue();
    assertThat(doc.get("last_error").isNull()).isTrue();
    assertThat(doc.get("lag_bytes").asLong()).isEqualTo(-1);
    assertThat(doc.get("storage_reachable").asBoolean()).isTrue();
    assertThat(doc.get("open_streams").asInt()).isZero();
    JsonNode table = doc.get("snapshot").get(0);
    assertThat(table.get("table").asText()).isEqualTo("public.todos");
    assertThat(table.get("rows_copied").asLong()).isEqualTo(500);
    assertThat(table.get("rows_estimated").asLong()).isEqualTo(1_000);
    assertThat(table.get("done").asBoolean()).isFalse();
    JsonNode m = doc.get("metrics");
    assertThat(m.get("data_synced_bytes").asLong()).isEqualTo(10);
    assertThat(m.get("operations_synced").asLong()).isEqualTo(20);
    assertThat(m.get("concurrent_connections").asInt()).isEqualTo(3);
    assertThat(m.get("rows_replicated").asLong()).isEqualTo(40);
    assertThat(m.get("transactions_replicated").asLong()).isEqualTo(50);
    assertThat(m.get("replication_lag_seconds").asDouble()).isEqualTo(1.5);
    assertThat(m.get("stalled_streams_closed").asLong()).isEqualTo(6);
  }

  /** Error messages come from databases and clients: quotes, newlines, control characters. */
  @Test
  void errorsAndFindingsWithAnyCharactersStayJson() throws Exception {
    String nasty = "relation \"todos\" does not exist\n\tat line 1\u0000 \\ \u2028 ✓";
    EngineHealth h =
        new EngineHealth(
            EngineHealth.State.RUNNING,
            2,
            null,
            ReplicationState.RETRYING,
            ReplicationState.STOPPED,
            "PSYNC_S1141",
            nasty,
            123,
            456,
            false,
            7,
            true,
            List.of(new Finding(Finding.Detector.WAL_RETAINED, nasty)));
    JsonNode doc = JSON.readTree(HealthJson.render(h, METRICS, List.of()));
    assertThat(doc.get("last_error").asText()).isEqualTo(nasty);
    assertThat(doc.get("last_error_code").asText()).isEqualTo("PSYNC_S1141");
    assertThat(doc.get("pending_version").isNull()).isTrue();
    assertThat(doc.get("snapshot")).isEmpty();
    JsonNode finding = doc.get("findings").get(0);
    assertThat(finding.get("code").asText()).isEqualTo("SYNCLINE_D0004");
    assertThat(finding.get("detector").asText()).isEqualTo("WAL_RETAINED");
    assertThat(finding.get("message").asText()).isEqualTo(nasty);
  }
}
