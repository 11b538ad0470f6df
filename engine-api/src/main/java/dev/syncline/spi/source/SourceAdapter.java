package dev.syncline.spi.source;

import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;

/**
 * A source database. <em>Incubating.</em> The engine calls {@link #run} on a thread it owns and
 * names; the adapter takes the initial snapshot of tables not yet done, then pushes committed
 * changes into the sink until {@link #close()} is called or it fails. After a failure the engine
 * calls {@link #run} again (with backoff) with the state storage recorded.
 */
public interface SourceAdapter extends AutoCloseable {
  /**
   * Replicates {@code start.tables()} into {@code sink}: snapshots what is not done, then streams
   * from the source's own durable position. Blocks until closed (then returns normally) or throws
   * on failure.
   *
   * @throws dev.syncline.api.SynclineException with a source error code (e.g. {@code
   *     SOURCE_MISCONFIGURED}, {@code SLOT_INVALIDATED}, {@code SOURCE_UNAVAILABLE}) saying what
   *     failed
   */
  void run(SourceStart start, ChangeSink sink) throws Exception;

  /** Parses a position this adapter serialized earlier. */
  SourcePosition parsePosition(String serialized);

  /**
   * The source's current head for a write checkpoint (PowerSync protocol §7): every change
   * committed before this call is at or below it, and the adapter makes sure its stream will pass
   * it soon even when nothing else changes. Callable from any thread.
   */
  SourcePosition writeCheckpointHead();

  /**
   * A hint that changes are on their way: a client just asked for a write checkpoint, after writing
   * through the host's upload endpoint. An adapter that looks at an idle source less often should
   * look again at once. Callable from any thread; must not block. By default nothing.
   */
  default void changesExpected() {}

  /**
   * Ends the running {@link #run} promptly because the engine cannot take its changes now (its
   * storage stopped answering; the engine also fails every later call of the sink in this run).
   * Called from another thread than {@code run}'s, possibly while that thread is blocked in the
   * sink. The adapter lets go at once of what keeps the source database waiting for it, above all a
   * replication connection: a database shutdown or failover waits for its replication clients to
   * confirm what they were sent, which this engine cannot do while storage is away. The run then
   * ends with an exception; unlike {@link #close()}, {@link #run} is called again later. Must not
   * block. By default nothing: the run ends when it next calls the sink.
   */
  default void abortRun() {}

  /**
   * Whether storage must keep each row's full image so that {@link SourceChange#unchanged()}
   * columns can be filled.
   */
  default boolean needsRowImages() {
    return false;
  }

  /**
   * Whether storage must keep the image of this row (as received, complete) so that a later change
   * of it can leave columns {@link SourceChange#unchanged() unchanged}. A source may answer {@code
   * false} only for rows it can never send that way before sending them again in full. Called on
   * the thread that runs {@link #run}, for every row stored; by default {@link #needsRowImages()}.
   */
  default boolean needsRowImage(TableRef table, SourceRow row) {
    return needsRowImages();
  }

  /**
   * Releases what the source keeps for a rules version that was dropped (e.g. its replication
   * slot).
   */
  default void dropVersion(long versionId) {}

  /** Stops replication; idempotent, callable from any thread. */
  @Override
  void close();
}
