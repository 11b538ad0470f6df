package dev.syncline.spi.source;

/**
 * Where a {@link SourceAdapter} pushes changes; implemented by the engine. Called only from the adapter's
 * replication thread, one call at a time.
 */
public interface ChangeSink {
  /** Adds a change to the current batch. May block while storage applies back-pressure. */
  void accept(SourceChange change) throws InterruptedException;

  /**
   * Commits every change accepted so far together with {@code position}. Returns only once they are durable in
   * bucket storage; the adapter acknowledges {@code position} upstream only after that.
   */
  void commit(SourcePosition position) throws InterruptedException;
}
