package dev.syncline.testkit.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpType;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.core.stream.LineSink;
import dev.syncline.core.stream.SyncService;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpChecksums;
import dev.syncline.spi.storage.WriteBatch;
import dev.syncline.testkit.time.ManualClock;
import dev.syncline.testkit.time.ManualScheduler;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@link SyncService}'s timing on a clock the test moves: keepalives about every 20 s carry the
 * seconds the token has left, and the stream ends when the token expires, not a second earlier. No
 * sleeps, no waits: every scheduled task runs on the test's thread when it falls due.
 */
class SyncServiceTimingTest {
  static final SyncRules RULES =
      SyncRulesCompiler.compile(
          SyncRulesSource.ofYaml(
              """
              bucket_definitions:
                global:
                  data:
                    - SELECT * FROM todos
              """,
              "rules.yaml"));

  @Test
  void keepalives_count_down_and_the_stream_ends_when_the_token_expires() throws Exception {
    ManualClock clock = ManualClock.at(Instant.parse("2026-06-01T12:00:00Z"));
    ManualScheduler scheduler = new ManualScheduler(clock);
    Instant expiry = clock.instant().plusSeconds(60);
    InMemoryBucketStorage storage = new InMemoryBucketStorage();
    long version = storage.addRulesVersion("rules").id();
    List<String> lines = new CopyOnWriteArrayList<>();
    AtomicBoolean closed = new AtomicBoolean();
    LineSink sink =
        new LineSink() {
          @Override
          public void send(byte[] line) {
            lines.add(new String(line, StandardCharsets.UTF_8).strip());
          }

          @Override
          public void close() {
            closed.set(true);
          }
        };
    try (BucketStorageWriter writer = storage.openWriter(version);
        SyncService service =
            SyncService.builder()
                .rules(RULES)
                .storage(storage, version)
                .scheduler(scheduler)
                .clock(clock)
                .tokenVerifier(t -> new AuthContext(Map.of("sub", "u1"), expiry))
                .build()) {
      String data = "{\"id\":\"t1\"}";
      writer.commit(
          new WriteBatch(
              List.of(
                  new NewOp(
                      "global[]",
                      OpType.PUT,
                      "todos",
                      "t1",
                      "t1",
                      data,
                      OpChecksums.put("todos", "t1", data))),
              List.of(),
              List.of(),
              List.of(),
              "0000000000000001"));
      service.openStream("Token x", "{\"raw_data\":true}".getBytes(StandardCharsets.UTF_8), sink);
      assertThat(lines).as("nothing runs until the test lets it").isEmpty();
      scheduler.runDue();
      assertThat(lines).last().asString().startsWith("{\"checkpoint_complete\"");

      // One second at a time up to a second before expiry: only keepalives, each with what is left.
      for (int second = 1; second < 60; second++) {
        clock.advance(Duration.ofSeconds(1));
        List<String> keepalives =
            lines.stream().filter(l -> l.startsWith("{\"token_expires_in\"")).toList();
        assertThat(keepalives)
            .as("keepalives by %d s", second)
            .hasSizeLessThanOrEqualTo(second / 18)
            .allSatisfy(k -> assertThat(k).doesNotContain("\"token_expires_in\":0"));
        if (!keepalives.isEmpty() && second == 23) {
          assertThat(keepalives.get(0)).matches("\\{\"token_expires_in\":(3[7-9]|4[0-2])\\}");
        }
      }
      assertThat(lines.stream().filter(l -> l.startsWith("{\"token_expires_in\"")))
          .as("a keepalive about every 20 s")
          .hasSizeBetween(2, 3);
      assertThat(closed).as("open until the token expires").isFalse();
      assertThat(service.openStreams()).isEqualTo(1);

      clock.advance(Duration.ofSeconds(1)); // the token's expiry
      assertThat(lines).last().isEqualTo("{\"token_expires_in\":0}");
      assertThat(closed).isTrue();
      assertThat(service.openStreams()).isZero();
      assertThat(scheduler.pending()).as("nothing left scheduled for the stream").isZero();
    }
  }
}
