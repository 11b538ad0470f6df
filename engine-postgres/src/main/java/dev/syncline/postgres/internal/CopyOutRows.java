package dev.syncline.postgres.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * Reads the rows of {@code COPY ... TO STDOUT} in text format (UTF-8): columns separated by tabs, a
 * row ended by a newline, {@code \N} for NULL, and backslash escapes for backslash and control
 * characters. The column texts are those of the type output functions, the same as a text-format
 * result set gives. A pure function; thread-safe.
 *
 * <p>The initial copy reads tables this way instead of through a cursor: the server formats rows
 * for {@code COPY} with less work than for result rows, and the client splits bytes instead of
 * decoding one message per row.
 */
public final class CopyOutRows {
  private CopyOutRows() {}

  /**
   * Splits the row that starts at {@code from} in {@code data} into {@code columns} (null for SQL
   * NULL).
   *
   * @return the index after the row's newline (or {@code data.length} when the row ends without
   *     one)
   * @throws IllegalArgumentException if the row does not have exactly {@code columns.length}
   *     columns
   */
  public static int split(byte[] data, int from, @Nullable String[] columns) {
    int column = 0;
    int start = from;
    boolean escaped = false;
    int i = from;
    for (; i <= data.length; i++) {
      byte b = i < data.length ? data[i] : (byte) '\n';
      if (b == '\\') {
        escaped = true;
        i++; // the escaped byte never ends a column
      } else if (b == '\t' || b == '\n') {
        if (column == columns.length) {
          throw new IllegalArgumentException(
              "COPY row has more than " + columns.length + " columns");
        }
        columns[column++] = text(data, start, i, escaped);
        start = i + 1;
        escaped = false;
        if (b == '\n') {
          break;
        }
      }
    }
    if (column != columns.length) {
      throw new IllegalArgumentException(
          "COPY row has " + column + " columns, expected " + columns.length);
    }
    return Math.min(i + 1, data.length);
  }

  private static @Nullable String text(byte[] data, int start, int end, boolean escaped) {
    if (!escaped) {
      return new String(data, start, end - start, StandardCharsets.UTF_8);
    }
    if (end - start == 2 && data[start + 1] == 'N') {
      return null;
    }
    byte[] out = new byte[end - start];
    int n = 0;
    for (int i = start; i < end; i++) {
      byte b = data[i];
      if (b != '\\' || i + 1 >= end) {
        out[n++] = b;
        continue;
      }
      byte e = data[++i];
      switch (e) {
        case 'b' -> out[n++] = '\b';
        case 'f' -> out[n++] = '\f';
        case 'n' -> out[n++] = '\n';
        case 'r' -> out[n++] = '\r';
        case 't' -> out[n++] = '\t';
        case 'v' -> out[n++] = 0x0B;
        case 'x' -> {
          // \xH or \xHH (COPY writes none, but reads them: accepted alike)
          int v = 0;
          int digits = 0;
          while (digits < 2 && i + 1 < end && Character.digit(data[i + 1], 16) >= 0) {
            v = v * 16 + Character.digit(data[++i], 16);
            digits++;
          }
          out[n++] = digits == 0 ? (byte) 'x' : (byte) v;
        }
        default -> {
          if (e >= '0' && e <= '7') {
            int v = e - '0';
            for (int digits = 1;
                digits < 3 && i + 1 < end && data[i + 1] >= '0' && data[i + 1] <= '7';
                digits++) {
              v = v * 8 + (data[++i] - '0');
            }
            out[n++] = (byte) v;
          } else {
            out[n++] = e; // backslash itself, and any other character stands for itself
          }
        }
      }
    }
    return new String(Arrays.copyOf(out, n), StandardCharsets.UTF_8);
  }

  /**
   * A string constant for SQL text, whatever {@code standard_conforming_strings} says: {@code
   * E'...'} with quotes and backslashes doubled. Its type is unknown until the comparison it
   * appears in resolves it, as a parameter's would be.
   */
  public static String literal(String value) {
    StringBuilder sb = new StringBuilder(value.length() + 4).append("E'");
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\'' || c == '\\') {
        sb.append(c);
      }
      sb.append(c);
    }
    return sb.append('\'').toString();
  }
}
