package dev.syncline.core.internal.storage;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import org.postgresql.copy.CopyIn;

/**
 * Writes rows to a Postgres {@code COPY ... FROM STDIN WITH (FORMAT text)} as UTF-8, escaping as that format
 * requires, and hands them to the server every {@value #CHUNK} bytes: the server inserts one chunk while the next
 * is encoded, instead of waiting for the whole batch to be built. Used by one thread; one instance per COPY.
 *
 * <p>Call {@link #finish()} to complete the COPY; {@link #close()} without it cancels the COPY (after a failure), so
 * the connection stays usable for the rollback.
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

  /** A column value: {@code s} escaped for the text format ({@code \\}, tab, newline, carriage return). */
  public CopyTextWriter text(CharSequence s) throws SQLException {
    if (s instanceof String str) {
      // The JDK encodes a string to UTF-8 in bulk (a copy, for ASCII); most values then need no escape at all.
      byte[] utf8 = str.getBytes(StandardCharsets.UTF_8);
      if (!needsEscape(utf8)) {
        write(utf8);
        return this;
      }
    }
    int len = s.length();
    int i = 0;
    while (i < len) {
      // Fast path: printable ASCII other than the backslash is copied as it is, as far as the buffer has room.
      int end = Math.min(len, i + CHUNK - pos);
      int p = pos;
      for (; i < end; i++) {
        char c = s.charAt(i);
        if (c < ' ' || c >= 0x7F || c == '\\') {
          break;
        }
        buf[p++] = (byte) c;
      }
      pos = p;
      if (i == len) {
        break;
      }
      if (pos == CHUNK) {
        send();
        continue;
      }
      i = escaped(s, i, len);
    }
    return this;
  }

  /**
   * Whether UTF-8 text holds a byte the text format escapes (multi-byte sequences never do: all their bytes are
   * negative).
   */
  private static boolean needsEscape(byte[] utf8) {
    for (byte b : utf8) {
      if ((b >= 0 && b < ' ') || b == '\\') {
        return true;
      }
    }
    return false;
  }

  private void write(byte[] bytes) throws SQLException {
    int off = 0;
    while (off < bytes.length) {
      if (pos == CHUNK) {
        send();
      }
      int n = Math.min(bytes.length - off, CHUNK - pos);
      System.arraycopy(bytes, off, buf, pos, n);
      pos += n;
      off += n;
    }
  }

  /** Writes the character at {@code i} (one that needs escaping or encoding); returns the index after it. */
  private int escaped(CharSequence s, int i, int len) throws SQLException {
    char c = s.charAt(i);
    if (c < 0x80) {
      switch (c) {
        case '\\' -> {
          put('\\');
          put('\\');
        }
        case '\t' -> {
          put('\\');
          put('t');
        }
        case '\n' -> {
          put('\\');
          put('n');
        }
        case '\r' -> {
          put('\\');
          put('r');
        }
        default -> put(c);
      }
    } else if (c < 0x800) {
      put(0xC0 | (c >> 6));
      put(0x80 | (c & 0x3F));
    } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
      int cp = Character.toCodePoint(c, s.charAt(++i));
      put(0xF0 | (cp >> 18));
      put(0x80 | ((cp >> 12) & 0x3F));
      put(0x80 | ((cp >> 6) & 0x3F));
      put(0x80 | (cp & 0x3F));
    } else if (Character.isSurrogate(c)) {
      put('?'); // an unpaired surrogate has no UTF-8 form; String.getBytes does the same
    } else {
      put(0xE0 | (c >> 12));
      put(0x80 | ((c >> 6) & 0x3F));
      put(0x80 | (c & 0x3F));
    }
    return i + 1;
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
