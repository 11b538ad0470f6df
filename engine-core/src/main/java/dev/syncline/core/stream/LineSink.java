package dev.syncline.core.stream;

import java.io.IOException;

/**
 * Where a transport receives the lines of one stream. Called by one stream thread at a time; {@link
 * #send} may block until the line is handed to the network.
 */
public interface LineSink {
  /** Writes and flushes one encoded line (NDJSON including its newline, or one BSON document). */
  void send(byte[] line) throws IOException;

  /**
   * Writes one encoded line that {@link #flush()} will follow soon (the service writes the lines of
   * one checkpoint, then flushes once). By default, {@link #send}.
   */
  default void write(byte[] line) throws IOException {
    send(line);
  }

  /**
   * Hands lines written with {@link #write} to the network. By default nothing: {@link #send}
   * flushed them.
   */
  default void flush() throws IOException {}

  /**
   * Whether the network cannot take more now (non-blocking transports). The service then stops
   * producing lines at the next page boundary and resumes when the sink calls the {@link
   * #onDrained} callback. By default {@code false}: writes block instead.
   */
  default boolean saturated() {
    return false;
  }

  /**
   * Registers what to call, on any thread, when a saturated sink can take lines again. By default
   * unused.
   */
  default void onDrained(Runnable callback) {}

  /** Ends the response; idempotent. */
  void close();
}
