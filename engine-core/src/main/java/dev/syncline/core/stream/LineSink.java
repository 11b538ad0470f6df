package dev.syncline.core.stream;

import java.io.IOException;

/**
 * Where a transport receives the lines of one stream. Called by one stream thread at a time; {@link #send} may
 * block until the line is handed to the network.
 */
public interface LineSink {
  /** Writes and flushes one encoded line (NDJSON including its newline, or one BSON document). */
  void send(byte[] line) throws IOException;

  /**
   * Writes one encoded line that {@link #flush()} will follow soon (the service writes the lines of one checkpoint,
   * then flushes once). By default, {@link #send}.
   */
  default void write(byte[] line) throws IOException {
    send(line);
  }

  /** Hands lines written with {@link #write} to the network. By default nothing: {@link #send} flushed them. */
  default void flush() throws IOException {}

  /** Ends the response; idempotent. */
  void close();
}
