package dev.syncline.spi.source;

import dev.syncline.api.TableRef;

/**
 * Where a {@link SourceAdapter} pushes changes; implemented by the engine. Called only from the
 * thread that runs {@link SourceAdapter#run}, one call at a time.
 *
 * <p>Applying is idempotent: a change applied twice (a source replaying after a crash) leaves
 * storage as applying it once, so an adapter may replay from its last acknowledged position.
 */
public interface ChangeSink {
  /**
   * A sign of life: the source's thread is working (waiting for changes included). An adapter calls
   * it at least once a minute while nothing else is called, e.g. on every look at an idle
   * connection; commits, flushes, events and every thousandth {@link #accept} count too. The engine
   * reports replication as stalled when no sign comes for long (see {@code
   * dev.syncline.api.engine.DetectorThresholds}). Cheap; by default nothing.
   */
  default void alive() {}

  /** Adds a change to the current batch. May block while storage applies back-pressure. */
  void accept(SourceChange change) throws InterruptedException;

  /**
   * Commits every change accepted so far together with {@code position} and makes them visible to
   * clients as a checkpoint. Returns only once they are durable in bucket storage; the adapter
   * acknowledges {@code position} upstream only after that. Also used without changes to advance
   * the position (keepalives), which resolves write checkpoints waiting for it.
   */
  void commit(SourcePosition position) throws InterruptedException;

  /**
   * Like {@link #commit}, but may return before the changes are durable, so that the adapter reads
   * on while storage writes; {@code durable} runs (on a storage thread; it must not block) once
   * they are, and only then may the adapter acknowledge {@code position} upstream. Commits become
   * durable in the order they were made. A failure of an earlier commit is thrown by a later call
   * of any method. The default commits synchronously.
   */
  default void commitAsync(SourcePosition position, Runnable durable) throws InterruptedException {
    commit(position);
    durable.run();
  }

  /** Waits until every commit made so far is durable (e.g. before a clean stop). */
  default void sync() throws InterruptedException {}

  /**
   * Commits every change accepted so far durably, without a checkpoint: clients see them with the
   * next {@link #commit}. For parts of large transactions, snapshot chunks, and changes replayed
   * before the source is consistent again.
   */
  void flush() throws InterruptedException;

  /**
   * Records resumable progress of a table's initial snapshot; call after {@link #flush()}ing the
   * rows before it.
   */
  void snapshotProgress(TableRef table, String cursor);

  /**
   * Records that a table's initial snapshot is complete; call after {@link #flush()}ing its last
   * rows.
   */
  void snapshotDone(TableRef table);

  /**
   * Declares that the changes accepted from now on, until called again with {@code false}, are rows
   * storage does not hold yet (the initial copy into a fresh slot), so the engine may skip reading
   * their stored state. A wrong hint costs duplicate operations, never wrong data. By default
   * ignored.
   */
  default void expectNewRows(boolean onlyNewRows) {}

  /**
   * Declares that, until called again with {@code false}, every {@link SourceChange.Kind#INSERT
   * INSERT} accepted is of a row storage does not hold (a source streaming past everything storage
   * recorded, whose database enforces the key's uniqueness), so the engine may skip reading its
   * stored state. Declare it only where a row's insert can be neither a replay of one already
   * applied nor of a row an earlier copy already read: a wrong declaration costs duplicate
   * operations. By default ignored.
   */
  default void expectNewInserts(boolean insertsAreNew) {}

  /**
   * Reports an event operators should see (progress, lag, schema changes, warnings). Never blocks.
   */
  default void event(SourceEvent event) {}
}
