package dev.syncline.core.internal.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpId;
import dev.syncline.spi.storage.Checkpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class CheckpointWatchersTest {
  private final AtomicReference<Optional<Checkpoint>> stored =
      new AtomicReference<>(Optional.empty());
  private final AtomicInteger reads = new AtomicInteger();
  private final CheckpointWatchers watchers =
      new CheckpointWatchers(
          v -> {
            reads.incrementAndGet();
            return stored.get();
          });
  private final List<Checkpoint> seen = new ArrayList<>();

  private static Checkpoint at(long op, String position) {
    return new Checkpoint(new OpId(op), position);
  }

  @Test
  void a_published_checkpoint_reaches_listeners_without_a_read() throws Exception {
    try (AutoCloseable unused = watchers.add(1, seen::add)) {
      int before = reads.get();
      watchers.publish(1, at(5, "0005"));
      assertThat(seen).containsExactly(at(5, "0005"));
      assertThat(reads.get()).isEqualTo(before);
    }
  }

  @Test
  void a_read_that_raced_with_a_commit_never_takes_listeners_back() throws Exception {
    try (AutoCloseable unused = watchers.add(1, seen::add)) {
      watchers.publish(1, at(7, "0007"));
      stored.set(Optional.of(at(6, "0006"))); // a read that started before the commit
      watchers.check(1);
      stored.set(Optional.of(at(7, "0007")));
      watchers.check(1); // the same one again: nothing new
      watchers.publish(1, at(7, "0008")); // same op id, later position (a write checkpoint's)
      assertThat(seen).containsExactly(at(7, "0007"), at(7, "0008"));
    }
  }

  @Test
  void versions_without_listeners_cost_nothing() {
    int before = reads.get();
    watchers.check(2);
    watchers.publish(2, at(1, "0001"));
    assertThat(reads.get()).isEqualTo(before);
  }
}
