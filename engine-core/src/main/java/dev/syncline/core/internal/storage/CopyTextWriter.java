package dev.syncline.core.internal.storage;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import org.postgresql.copy.CopyIn;

/**
 * Writes rows to a Postgres {@code COPY ... FROM STDIN WITH (FORMAT text)} as UTF-8, escaping as
 * that format requires, and hands them to the server every {@value #CHUNK} bytes: the server
 * inserts one chunk while the next is encoded, instead of waiting for the whole batch to be built.
 * Used by one thread; one instance per COPY.
 *
 * <p>Call {@link #finish()} to complete the COPY; {@link #close()} without it cancels the COPY
 * (after a failure), so the connection stays usable for the rollback.
 */
public final class CopyTextWriter implements AutoCloseable {
  /** Bytes encoded before they are handed to the server. */
  static final int CHUNK = 1 << 16;

  private final CopyIn copy;
  private final byte[] buf = new byte[CHUNK + 8];
  private int pos;
  private boolean finished;

  /** Writes into {@code copy}, a COPY in progress in text format. */
  public CopyTextWriter(CopyIn copy) {
    this.copy = copy;
  }

  /**
   * A column value: {@code s} escaped for the text format ({@code \\}, tab, newline, carriage
   * return).
   */
  public CopyTextWriter text(CharSequence s) throws SQLException {
    // The JDK encodes to UTF-8 in bulk (a copy, for ASCII; an unpaired surrogate becomes '?'); most
    // values then need
    // no escape at all, and those that do need it only for single bytes (multi-byte sequences are
    // all negative).
    byte[] utf8 = s.toString().getBytes(StandardCharsets.UTF_8);
    int from = 0;
    for (int i = 0; i < utf8.length; i++) {
      byte b = utf8[i];
      char escape =
          switch (b) {
            case '\\' -> '\\';
            case '\t' -> 't';
            case '\n' -> 'n';
            case '\r' -> 'r';
            default -> 0;
          };
      if (escape != 0) {
        write(utf8, from, i);
        put('\\');
        put(escape);
        from = i + 1;
      }
    }
    write(utf8, from, utf8.length);
    return this;
  }

  private void write(byte[] bytes, int from, int to) throws SQLException {
    int off = from;
    while (off < to) {
      if (pos == CHUNK) {
        send();
      }
      int n = Math.min(to - off, CHUNK - pos);
      System.arraycopy(bytes, off, buf, pos, n);
      pos += n;
      off += n;
    }
  }

  /** A column value: a number. */
  public CopyTextWriter number(long v) throws SQLException {
    if (v == Long.MIN_VALUE) {
      return text(Long.toString(v));
    }
    if (v < 0) {
      put('-');
      v = -v;
    }
    if (pos + 20 > CHUNK) {
      send();
    }
    int digits = 1;
    for (long t = v; t >= 10; t /= 10) {
      digits++;
    }
    for (int i = pos + digits - 1; i >= pos; i--) {
      buf[i] = (byte) ('0' + (v % 10));
      v /= 10;
    }
    pos += digits;
    return this;
  }

  /** A column value: SQL NULL. */
  public CopyTextWriter nul() throws SQLException {
    put('\\');
    put('N');
    return this;
  }

  /** Between two column values. */
  public CopyTextWriter tab() throws SQLException {
    put('\t');
    return this;
  }

  /** After a row's last column value. */
  public CopyTextWriter endRow() throws SQLException {
    put('\n');
    return this;
  }

  /** Sends what is left and completes the COPY; returns the number of rows the server took. */
  public long finish() throws SQLException {
    send();
    finished = true;
    return copy.endCopy();
  }

  /** Cancels the COPY unless it was {@link #finish() finished}. */
  @Override
  public void close() throws SQLException {
    if (!finished && copy.isActive()) {
      copy.cancelCopy();
    }
  }

  private void put(int b) throws SQLException {
    if (pos == CHUNK) {
      send();
    }
    buf[pos++] = (byte) b;
  }

  private void send() throws SQLException {
    if (pos > 0) {
      copy.writeToCopy(buf, 0, pos);
      pos = 0;
    }
  }
}
