package dev.syncline.testkit.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.TableRef;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.engine.Syncline;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.WriteCheckpointKey;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.ScriptedSource;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The replicating instance forgets write checkpoints no stream can ask for any more, along with
 * compaction.
 */
class WriteCheckpointPruningTest {
  @Test
  void compaction_prunes_write_checkpoints_below_what_every_live_version_serves() throws Exception {
    ScriptedSource source = new ScriptedSource(TableRef.of("public", "items"));
    try (InMemoryBucketStorage storage = new InMemoryBucketStorage();
        Syncline engine =
            Syncline.builder()
                .storage(storage)
                .source(() -> source)
                .rules(
                    SyncRulesSource.ofYaml(
                        "bucket_definitions:\n  all:\n    data:\n      - SELECT * FROM items\n",
                        "rules.yaml"))
                .tokenVerifier(
                    JwtTokenVerifier.builder()
                        .audience("test")
                        .hmacSecret(
                            "pruning-test-secret-of-at-least-32-bytes"
                                .getBytes(StandardCharsets.UTF_8),
                            null)
                        .build())
                .pollInterval(Duration.ofMillis(20))
                .compactInterval(Duration.ofMillis(50))
                .build()
                .start()) {
      Await.until(Duration.ofSeconds(60), () -> engine.health().ready(), "ready");
      AuthContext alice = new AuthContext(Map.of("sub", "alice"), Instant.now().plusSeconds(600));
      WriteCheckpointKey key = WriteCheckpointKey.of(alice, "phone");
      for (String head :
          new String[] {"0a", "0b", "1"}) { // ids 1, 2, 3; the served checkpoint is at "1"
        source.head(head);
        engine.createWriteCheckpoint(alice, "phone");
      }
      Checkpoint served = storage.latestCheckpoint(engine.health().activeVersion()).orElseThrow();
      assertThat(served.position()).isEqualTo("1");
      // Ids 1 and 2 are answered by 3 at every position served now or later: a compaction forgets
      // them, and with
      // them the answer at "0a" (1, kept for ever before), a position nothing serves any more.
      Await.until(
          Duration.ofSeconds(60),
          () -> storage.writeCheckpoint(key, new Checkpoint(served.opId(), "0a")).isEmpty(),
          "pruned by a compaction");
      assertThat(storage.writeCheckpoint(key, served)).contains(3L);
      assertThat(storage.writeCheckpoint(key, new Checkpoint(served.opId(), "2"))).contains(3L);
    }
  }
}
