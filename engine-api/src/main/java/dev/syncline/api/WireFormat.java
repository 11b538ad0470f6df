package dev.syncline.api;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * The exact text forms the PowerSync protocol uses, which clients and checksums depend on byte for
 * byte.
 *
 * <ul>
 *   <li>{@link #formatNumber(double)}: JavaScript's {@code Number.prototype.toString} (shortest
 *       round-trip digits);
 *   <li>{@link #formatReal(double)}: the same, plus {@code .0} when the text is an integer (REALs
 *       in row data);
 *   <li>{@link #appendQuoted(StringBuilder, CharSequence)}: JavaScript's {@code JSON.stringify} for
 *       strings.
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
public final class WireFormat {
  private WireFormat() {}

  /**
   * Formats a double as JavaScript's {@code String(number)} does: {@code 3}, {@code 0.1}, {@code
   * 1e+21}, {@code 1e-7}, {@code 5e-324}, {@code NaN}, {@code Infinity}; negative zero gives {@code
   * 0}.
   */
  public static String formatNumber(double value) {
    StringBuilder sb = new StringBuilder(24);
    appendNumber(sb, value);
    return sb.toString();
  }

  /**
   * Formats a REAL as it appears in row data: {@link #formatNumber(double)}, with {@code .0}
   * appended when that text is an integer ({@code 3.0}, {@code -0.0} becomes {@code 0.0}, {@code
   * 1e+21} stays).
   */
  public static String formatReal(double value) {
    StringBuilder sb = new StringBuilder(24);
    appendReal(sb, value);
    return sb.toString();
  }

  /** Appends {@link #formatReal(double)}. */
  public static void appendReal(StringBuilder sb, double value) {
    int start = sb.length();
    appendNumber(sb, value);
    for (int i = start; i < sb.length(); i++) {
      char c = sb.charAt(i);
      if (!(c >= '0' && c <= '9') && !(c == '-' && i == start)) {
        return;
      }
    }
    sb.append(".0");
  }

  /** Appends {@link #formatNumber(double)}. */
  public static void appendNumber(StringBuilder sb, double value) {
    if (Double.isNaN(value)) {
      sb.append("NaN");
      return;
    }
    if (value == 0) {
      sb.append('0');
      return;
    }
    if (value < 0) {
      sb.append('-');
      value = -value;
    }
    if (Double.isInfinite(value)) {
      sb.append("Infinity");
      return;
    }
    if (value < 9.007199254740992E15 && value == Math.rint(value)) {
      sb.append((long) value);
      return;
    }
    Decimal d = shortest(value);
    String digits = d.digits;
    int k = digits.length();
    int n = d.exponent;
    if (k <= n && n <= 21) {
      sb.append(digits);
      for (int i = 0; i < n - k; i++) {
        sb.append('0');
      }
    } else if (0 < n && n <= 21) {
      sb.append(digits, 0, n).append('.').append(digits, n, k);
    } else if (-6 < n && n <= 0) {
      sb.append("0.");
      for (int i = 0; i < -n; i++) {
        sb.append('0');
      }
      sb.append(digits);
    } else {
      sb.append(digits.charAt(0));
      if (k > 1) {
        sb.append('.').append(digits, 1, k);
      }
      int e = n - 1;
      sb.append('e').append(e >= 0 ? '+' : '-').append(Math.abs(e));
    }
  }

  /** Digits without leading or trailing zeros; value = 0.digits × 10^exponent. */
  private record Decimal(String digits, int exponent) {}

  private static Decimal shortest(double value) {
    Decimal jdk = parseJdk(Double.toString(value));
    // JDK 17's Double.toString always round-trips but is not always the shortest form (fixed in JDK
    // 19, and even
    // then 4.9E-324 stays). Long outputs and subnormals are the suspicious ones: search for a
    // shorter form there.
    if (jdk.digits.length() <= 15 && value >= Double.MIN_NORMAL) {
      return jdk;
    }
    // Shorten one digit at a time: the shortest form that reads back is the truncated or the
    // incremented prefix,
    // whichever reads back (the nearer one when both do). Round-tripping is monotonic in the
    // length, so stop at the
    // first length where neither does.
    Decimal best = jdk;
    while (best.digits.length() > 1) {
      Decimal down =
          new Decimal(
              stripZeros(best.digits.substring(0, best.digits.length() - 1)), best.exponent);
      Decimal up = increment(best.digits.substring(0, best.digits.length() - 1), best.exponent);
      boolean downOk = parse(down) == value;
      boolean upOk = parse(up) == value;
      if (downOk && upOk) {
        BigDecimal exact = new BigDecimal(value);
        BigDecimal dDown = exact.subtract(toBigDecimal(down)).abs();
        BigDecimal dUp = toBigDecimal(up).subtract(exact).abs();
        best = dUp.compareTo(dDown) < 0 ? up : down;
      } else if (downOk) {
        best = down;
      } else if (upOk) {
        best = up;
      } else {
        break;
      }
    }
    return best;
  }

  private static String stripZeros(String digits) {
    int end = digits.length();
    while (end > 1 && digits.charAt(end - 1) == '0') {
      end--;
    }
    return digits.substring(0, end);
  }

  /** The digit string plus one unit in its last place; may carry into a new leading digit. */
  private static Decimal increment(String digits, int exponent) {
    char[] c = digits.toCharArray();
    int i = c.length - 1;
    while (i >= 0 && c[i] == '9') {
      c[i] = '0';
      i--;
    }
    if (i < 0) {
      return new Decimal("1", exponent + 1);
    }
    c[i]++;
    return new Decimal(stripZeros(new String(c)), exponent);
  }

  private static double parse(Decimal d) {
    return Double.parseDouble("0." + d.digits + "E" + d.exponent);
  }

  private static BigDecimal toBigDecimal(Decimal d) {
    return new BigDecimal(new BigInteger(d.digits), d.digits.length() - d.exponent);
  }

  private static Decimal parseJdk(String s) {
    int e = s.indexOf('E');
    String mantissa = e < 0 ? s : s.substring(0, e);
    int exp10 = e < 0 ? 0 : Integer.parseInt(s.substring(e + 1));
    int dot = mantissa.indexOf('.');
    String intPart = dot < 0 ? mantissa : mantissa.substring(0, dot);
    String fracPart = dot < 0 ? "" : mantissa.substring(dot + 1);
    String all = intPart + fracPart;
    int pointPos = intPart.length() + exp10; // value = 0.all × 10^pointPos
    int lead = 0;
    while (lead < all.length() - 1 && all.charAt(lead) == '0') {
      lead++;
    }
    int end = all.length();
    while (end > lead + 1 && all.charAt(end - 1) == '0') {
      end--;
    }
    return new Decimal(all.substring(lead, end), pointPos - lead);
  }

  /** Returns {@code value} quoted and escaped as JavaScript's {@code JSON.stringify} does. */
  public static String quote(CharSequence value) {
    StringBuilder sb = new StringBuilder(value.length() + 2);
    appendQuoted(sb, value);
    return sb.toString();
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /**
   * Appends {@code value} quoted and escaped as JavaScript's {@code JSON.stringify} does: {@code
   * \"}, {@code \\}, {@code \b \f \n \r \t}, other control characters and lone surrogates as
   * lowercase {@code \}{@code uXXXX}; everything else, {@code /} and non-ASCII included, literally.
   */
  public static void appendQuoted(StringBuilder sb, CharSequence value) {
    sb.append('"');
    int len = value.length();
    int runStart = 0;
    int i = 0;
    if (value instanceof String s) {
      // Most values need no escape: find the first character that does, copy everything before it
      // at once.
      while (i < len) {
        char c = s.charAt(i);
        if (c < 0x20 || c == '"' || c == '\\' || Character.isSurrogate(c)) {
          break;
        }
        i++;
      }
      if (i == len) {
        sb.append(s).append('"');
        return;
      }
    }
    for (; i < len; i++) {
      char c = value.charAt(i);
      String escape = null;
      boolean unicode = false;
      if (c < 0x20) {
        switch (c) {
          case '\b' -> escape = "\\b";
          case '\f' -> escape = "\\f";
          case '\n' -> escape = "\\n";
          case '\r' -> escape = "\\r";
          case '\t' -> escape = "\\t";
          default -> unicode = true;
        }
      } else if (c == '"') {
        escape = "\\\"";
      } else if (c == '\\') {
        escape = "\\\\";
      } else if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < len
            && Character.isLowSurrogate(value.charAt(i + 1))) {
          i++;
          continue;
        }
        unicode = true;
      } else {
        continue;
      }
      sb.append(value, runStart, i);
      if (unicode) {
        sb.append("\\u")
            .append(HEX[(c >> 12) & 0xf])
            .append(HEX[(c >> 8) & 0xf])
            .append(HEX[(c >> 4) & 0xf])
            .append(HEX[c & 0xf]);
      } else {
        sb.append(escape);
      }
      runStart = i + 1;
    }
    sb.append(value, runStart, len);
    sb.append('"');
  }
}
