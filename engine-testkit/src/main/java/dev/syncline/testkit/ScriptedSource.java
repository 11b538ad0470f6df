package dev.syncline.testkit;

import dev.syncline.api.TableRef;
import dev.syncline.spi.source.ChangeSink;
import dev.syncline.spi.source.SourceAdapter;
import dev.syncline.spi.source.SourcePosition;
import dev.syncline.spi.source.SourceStart;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A source database the test writes the script of: a {@link SourceAdapter} that takes an empty
 * snapshot of its tables, commits at position {@code "1"}, then runs the steps the test queues with
 * {@link #then}, in order, on the engine's source thread. Between steps it calls {@link
 * ChangeSink#alive()} every 10 ms, as a polling source does. For testing what sits around the
 * source (listeners, detectors, health, write checkpoints, uploads) without a database.
 *
 * <pre>{@code
 * ScriptedSource source = new ScriptedSource(TableRef.of("public", "todos"));
 * Syncline engine = Syncline.builder().source(() -> source)...build().start();
 * source.then(sink -> {
 *   sink.accept(SourceChange.insert(todos, List.of("id"), row));
 *   sink.commit(ScriptedSource.position("2"));
 * });
 * }</pre>
 *
 * <p>Positions are strings ordered as text; {@link #position} makes one. {@link #then} and {@link
 * #head} may be called from any thread; {@link #close()} ends the run (a {@link #pause()} too).
 */
public final class ScriptedSource implements SourceAdapter {
  /** One step of the script, run on the source thread with the engine's sink. */
  @FunctionalInterface
  public interface Step {
    /** Pushes changes, commits, events into {@code sink}; an exception fails the run. */
    void run(ChangeSink sink) throws Exception;
  }

  private final List<TableRef> tables;
  private final BlockingQueue<Step> steps = new LinkedBlockingQueue<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile CountDownLatch paused = new CountDownLatch(0);
  private volatile String head = "1";

  /** A source whose snapshot holds {@code tables}, all empty. */
  public ScriptedSource(TableRef... tables) {
    this.tables = List.of(tables);
  }

  /** A position of this source: positions are ordered as their text. */
  public static SourcePosition position(String value) {
    return new Position(value);
  }

  /** Queues {@code step} after the ones already queued. */
  public ScriptedSource then(Step step) {
    steps.add(Objects.requireNonNull(step, "step"));
    return this;
  }

  /**
   * Queues a step that blocks the source thread, calling nothing on the sink, until {@link
   * #resume()} or {@link #close()}: a source that hangs without failing.
   */
  public ScriptedSource pause() {
    CountDownLatch latch = new CountDownLatch(1);
    paused = latch;
    return then(
        sink -> {
          while (!latch.await(10, TimeUnit.MILLISECONDS)) {
            if (closed.getCount() == 0) {
              return;
            }
          }
        });
  }

  /** Ends the last {@link #pause()}. */
  public void resume() {
    paused.countDown();
  }

  /** What {@link #writeCheckpointHead()} answers from now on ({@code "1"} at first). */
  public void head(String position) {
    head = Objects.requireNonNull(position, "position");
  }

  @Override
  public void run(SourceStart start, ChangeSink sink) throws Exception {
    if (start.resumeFrom() == null) {
      for (TableRef table : tables) {
        sink.snapshotDone(table);
      }
      sink.commit(position("1"));
    }
    while (closed.getCount() > 0) {
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
    return position(serialized);
  }

  @Override
  public SourcePosition writeCheckpointHead() {
    return position(head);
  }

  @Override
  public void close() {
    closed.countDown();
    paused.countDown();
  }

  private record Position(String value) implements SourcePosition {
    Position {
      Objects.requireNonNull(value, "value");
    }

    @Override
    public String serialize() {
      return value;
    }

    @Override
    public int compareTo(SourcePosition other) {
      return value.compareTo(other.serialize());
    }
  }
}
