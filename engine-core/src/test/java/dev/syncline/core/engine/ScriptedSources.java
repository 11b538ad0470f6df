package dev.syncline.core.engine;

import dev.syncline.api.TableRef;
import dev.syncline.core.TestPosition;
import dev.syncline.spi.source.ChangeSink;
import dev.syncline.spi.source.SourceAdapter;
import dev.syncline.spi.source.SourcePosition;
import dev.syncline.spi.source.SourceStart;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A source for engine tests whose steps the test queues. */
final class ScriptedSources {
  static final TableRef ITEMS = TableRef.of("public", "items");

  private ScriptedSources() {}

  interface Step {
    void run(ChangeSink sink) throws Exception;
  }

  /**
   * A source that takes an empty snapshot of {@code items}, then runs the steps the test queues,
   * and between them looks for more every 10 ms, calling {@link ChangeSink#alive()} as a polling
   * source does.
   */
  static final class ScriptedSource implements SourceAdapter {
    final BlockingQueue<Step> steps = new LinkedBlockingQueue<>();
    final CountDownLatch release = new CountDownLatch(1);
    private volatile boolean closed;

    @Override
    public void run(SourceStart start, ChangeSink sink) throws Exception {
      if (start.resumeFrom() == null) {
        sink.snapshotDone(ITEMS);
        sink.commit(new TestPosition("1"));
      }
      while (!closed) {
        Step step = steps.poll(10, TimeUnit.MILLISECONDS);
        if (step != null) {
          step.run(sink);
        } else {
          sink.alive();
        }
      }
    }

    @Override
    public SourcePosition parsePosition(String serialized) {
      return new TestPosition(serialized);
    }

    /** What {@link #writeCheckpointHead()} answers. */
    volatile String head = "1";

    @Override
    public SourcePosition writeCheckpointHead() {
      return new TestPosition(head);
    }

    @Override
    public void close() {
      closed = true;
      release.countDown();
    }
  }
}
