package dev.syncline.core.internal.rules.eval;

import dev.syncline.api.WireFormat;
import dev.syncline.core.internal.Contract;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Values and their operations, as the reference evaluates them. A value is {@code null}, {@link
 * Long}, {@link BigInteger} (only for integers outside 64 bits), {@link Double}, {@link String} or
 * {@code byte[]}; parameter-matching code may also see {@link Boolean}s from parsed JSON.
 */
public final class SqlValues {
  private SqlValues() {}

  /** SQLite true. */
  public static final Long TRUE = 1L;

  /** SQLite false. */
  public static final Long FALSE = 0L;

  private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

  /** An integer as a Long when it fits, else the BigInteger. */
  public static Object integerOf(BigInteger value) {
    if (value.compareTo(LONG_MIN) >= 0 && value.compareTo(LONG_MAX) <= 0) {
      return value.longValue();
    }
    return value;
  }

  /** Whether the value is an INTEGER. */
  @Contract("null -> false")
  public static boolean isInteger(@Nullable Object v) {
    return v instanceof Long || v instanceof BigInteger;
  }

  /** Whether the value is INTEGER or REAL. */
  @Contract("null -> false")
  public static boolean isNumeric(@Nullable Object v) {
    return v instanceof Long || v instanceof Double || v instanceof BigInteger;
  }

  /** Whether the value can appear in row data or bucket parameters (not a BLOB). */
  public static boolean isJsonValue(@Nullable Object v) {
    return v == null
        || v instanceof String
        || v instanceof Long
        || v instanceof Double
        || v instanceof BigInteger;
  }

  /** {@code sqliteBool}: the truth value as 1 or 0. */
  public static Long bool(@Nullable Object v) {
    return truthy(v) ? TRUE : FALSE;
  }

  /** {@code sqliteNot}: the negated truth value as 1 or 0, so NOT NULL is 1 (true). */
  public static Long not(@Nullable Object v) {
    return truthy(v) ? FALSE : TRUE;
  }

  /** Java boolean of {@link #bool}. */
  public static boolean truthy(@Nullable Object v) {
    if (v == null) {
      return false;
    } else if (v instanceof Long l) {
      return l != 0;
    } else if (v instanceof Double d) {
      return d != 0 && !d.isNaN();
    } else if (v instanceof BigInteger b) {
      return b.signum() != 0;
    } else if (v instanceof Boolean b) {
      return b;
    } else if (v instanceof String s) {
      double parsed = jsParseInt(s);
      return parsed != 0 && !Double.isNaN(parsed);
    }
    return false;
  }

  /** JavaScript's {@code parseInt(s)} (radix detection for {@code 0x} included). */
  static double jsParseInt(String s) {
    int i = 0;
    int n = s.length();
    while (i < n && isJsWhitespace(s.charAt(i))) {
      i++;
    }
    boolean negative = false;
    if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
      negative = s.charAt(i) == '-';
      i++;
    }
    int radix = 10;
    if (i + 1 < n && s.charAt(i) == '0' && (s.charAt(i + 1) == 'x' || s.charAt(i + 1) == 'X')) {
      radix = 16;
      i += 2;
    }
    int start = i;
    while (i < n && Character.digit(s.charAt(i), radix) >= 0 && s.charAt(i) < 128) {
      i++;
    }
    if (i == start) {
      return Double.NaN;
    }
    double v = new BigInteger(s.substring(start, i), radix).doubleValue();
    return negative ? -v : v;
  }

  private static boolean isJsWhitespace(char c) {
    return Character.isWhitespace(c) || c == '\u00a0' || c == '\ufeff' || Character.isSpaceChar(c);
  }

  /** {@code typeof}: null, integer, real, text or blob. */
  public static String typeOf(@Nullable Object v) {
    if (v == null) {
      return "null";
    } else if (v instanceof String) {
      return "text";
    } else if (v instanceof Long || v instanceof BigInteger) {
      return "integer";
    } else if (v instanceof Double) {
      return "real";
    } else if (v instanceof byte[]) {
      return "blob";
    }
    throw new IllegalArgumentException("Unknown type: " + v);
  }

  /** {@code castAsText}: the text form (numbers in JavaScript form, BLOBs decoded as UTF-8). */
  @Contract("!null -> !null")
  public static @Nullable String text(@Nullable Object v) {
    if (v == null) {
      return null;
    } else if (v instanceof String s) {
      return s;
    } else if (v instanceof Long || v instanceof BigInteger) {
      return v.toString();
    } else if (v instanceof Double d) {
      return WireFormat.formatNumber(d);
    } else if (v instanceof byte[] b) {
      return new String(b, StandardCharsets.UTF_8);
    } else if (v instanceof Boolean b) {
      return b.toString();
    }
    return v.toString();
  }

  /** {@code castAsBlob}. */
  public static byte @Nullable [] blob(@Nullable Object v) {
    if (v == null) {
      return null;
    } else if (v instanceof byte[] b) {
      return b;
    }
    return text(v).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The text form of a row id: TEXT as is, numbers in JavaScript form, anything else {@code ""}.
   */
  public static String idText(@Nullable Object v) {
    if (v instanceof String s) {
      return s;
    }
    if (v == null || v instanceof byte[]) {
      return "";
    }
    String t = text(v);
    return t == null ? "" : t;
  }

  /** CAST to one of text, numeric, integer, real, blob. */
  @Contract("!null, _ -> !null")
  public static @Nullable Object cast(@Nullable Object v, String to) {
    if (v == null) {
      return null;
    }
    switch (to) {
      case "text":
        return text(v);
      case "numeric":
        {
          Object x = v instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : v;
          if (x instanceof String s) {
            return parseNumeric(s);
          } else if (isNumeric(x)) {
            return x;
          }
          return 0L;
        }
      case "real":
        {
          Object x = v instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : v;
          if (x instanceof String s) {
            double d = jsParseFloat(s);
            return Double.isNaN(d) ? 0.0 : d;
          } else if (x instanceof Double) {
            return x;
          } else if (x instanceof Long l) {
            return (double) l;
          } else if (x instanceof BigInteger b) {
            return b.doubleValue();
          }
          return 0.0;
        }
      case "integer":
        {
          Object x = v instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : v;
          if (x instanceof String s) {
            return parseLeadingInteger(s);
          } else if (x instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) {
              throw new ArithmeticException(
                  "The number "
                      + WireFormat.formatNumber(d)
                      + " cannot be converted to a BigInt because it is not an integer");
            }
            return integerOf(new BigDecimal(Math.floor(d)).toBigInteger());
          } else if (isInteger(x)) {
            return x;
          }
          return 0L;
        }
      case "blob":
        return blob(v);
      default:
        throw new IllegalArgumentException("Type not supported for cast: '" + to + "'");
    }
  }

  private static final Pattern NUMERIC =
      Pattern.compile(
          "^\\s*([+\\-]?)(?:(\\d+)(\\.\\d*)?|\\.(\\d+))(e[+\\-]?\\d+)?", Pattern.CASE_INSENSITIVE);
  private static final Pattern LEADING_INT = Pattern.compile("^\\s*([+\\-]?)(\\d+)");

  private static Object parseNumeric(String text) {
    Matcher m = NUMERIC.matcher(text);
    if (!m.find()) {
      return 0L;
    }
    if (m.group(3) != null || m.group(4) != null || m.group(5) != null) {
      double v = jsParseFloat(m.group(0));
      return Double.isNaN(v) ? (Object) 0L : (Object) v;
    }
    String digits = ("-".equals(m.group(1)) ? "-" : "") + m.group(2);
    return integerOf(new BigInteger(digits));
  }

  private static Object parseLeadingInteger(String text) {
    Matcher m = LEADING_INT.matcher(text);
    if (!m.find()) {
      return 0L;
    }
    return integerOf(new BigInteger(("-".equals(m.group(1)) ? "-" : "") + m.group(2)));
  }

  private static final Pattern FLOAT_PREFIX =
      Pattern.compile("^[+\\-]?(Infinity|(\\d+\\.?\\d*|\\.\\d+)([eE][+\\-]?\\d+)?)");

  /** JavaScript's {@code parseFloat}. */
  public static double jsParseFloat(String s) {
    int i = 0;
    while (i < s.length() && isJsWhitespace(s.charAt(i))) {
      i++;
    }
    Matcher m = FLOAT_PREFIX.matcher(s.substring(i));
    if (!m.find()) {
      return Double.NaN;
    }
    String t = m.group(0);
    if (t.endsWith("Infinity")) {
      return t.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }
    return Double.parseDouble(t);
  }

  private static int typeOrder(@Nullable Object v) {
    if (v == null) {
      return 0;
    } else if (isNumeric(v)) {
      return 1;
    } else if (v instanceof String) {
      return 2;
    } else if (v instanceof byte[]) {
      return 3;
    }
    throw new IllegalArgumentException("Unknown type: " + v);
  }

  /**
   * Compares as the reference does: numbers by value, strings by UTF-16 units, else by type order.
   */
  public static int compare(@Nullable Object a, @Nullable Object b) {
    if (a == null && b == null) {
      return 0;
    }
    if (isNumeric(a) && isNumeric(b)) {
      return compareNumbers(a, b);
    }
    if (a instanceof String sa && b instanceof String sb) {
      int c = sa.compareTo(sb);
      return Integer.signum(c);
    }
    if (a instanceof byte[] && b instanceof byte[]) {
      throw new UnsupportedOperationException("Comparing blobs is not supported currently");
    }
    return typeOrder(a) - typeOrder(b);
  }

  private static int compareNumbers(Object a, Object b) {
    if (a instanceof Long la && b instanceof Long lb) {
      return Long.compare(la, lb);
    }
    // JavaScript: a == b ? 0 : a > b ? 1 : -1 (so NaN compares as "less").
    double da = ((Number) a).doubleValue();
    double db = ((Number) b).doubleValue();
    if ((a instanceof Double && b instanceof Double)
        || Double.isNaN(da)
        || Double.isNaN(db)
        || Double.isInfinite(da)
        || Double.isInfinite(db)) {
      return da == db ? 0 : da > db ? 1 : -1;
    }
    return exact(a).compareTo(exact(b));
  }

  private static BigDecimal exact(Object n) {
    if (n instanceof Long l) {
      return BigDecimal.valueOf(l);
    } else if (n instanceof BigInteger b) {
      return new BigDecimal(b);
    }
    return new BigDecimal((Double) n);
  }

  /** Binary operators of edition 1 and 2: comparisons, IS, arithmetic, ||, AND, OR, IN, &&. */
  public static @Nullable Object operator(String op, @Nullable Object a, @Nullable Object b) {
    switch (op) {
      case "=", "!=", ">", "<", ">=", "<=":
        {
          if (a == null || b == null) {
            return null;
          }
          int d = compare(a, b);
          return switch (op) {
            case "=" -> bool(d == 0);
            case "!=" -> bool(d != 0);
            case ">" -> bool(d > 0);
            case "<" -> bool(d < 0);
            case ">=" -> bool(d >= 0);
            default -> bool(d <= 0);
          };
        }
      case "IS":
        return bool(compare(a, b) == 0);
      case "IS NOT":
        return bool(compare(a, b) != 0);
      case "+", "-", "*", "/":
        return math(op, a, b);
      case "||":
        return concat(a, b);
      case "AND":
        return bool(truthy(a) && truthy(b));
      case "OR":
        return bool(truthy(a) || truthy(b));
      case "IN":
        {
          if (a == null || b == null) {
            return null;
          }
          for (Object v : jsonArray(b, "IN is only supported on JSON arrays")) {
            if (compare(v, a) == 0) {
              return TRUE;
            }
          }
          return FALSE;
        }
      case "&&":
        {
          if (a == null || b == null) {
            return null;
          }
          List<Object> left = jsonArray(a, "&& is only supported on JSON arrays");
          List<Object> right = jsonArray(b, "&& is only supported on JSON arrays");
          for (Object x : left) {
            for (Object y : right) {
              if (compare(y, x) == 0) {
                return TRUE;
              }
            }
          }
          return FALSE;
        }
      default:
        throw new IllegalArgumentException("Operator not supported: " + op);
    }
  }

  private static Long bool(boolean b) {
    return b ? TRUE : FALSE;
  }

  /** Parses a JSON array text into values (booleans as 1/0, objects and arrays as JSON text). */
  public static List<Object> jsonArray(Object value, String errorMessage) {
    if (!(value instanceof String s)) {
      throw new IllegalArgumentException(errorMessage);
    }
    Object parsed = JsJson.parseBig(s);
    if (!(parsed instanceof List<?> list)) {
      throw new IllegalArgumentException(s);
    }
    List<Object> result = new ArrayList<>(list.size());
    for (Object o : list) {
      result.add(fromJson(o, true));
    }
    return result;
  }

  /**
   * {@code jsonValueToSqlite}: booleans as 1/0, objects and arrays as JSON text; with {@code fixed}
   * false (edition 1), JSON {@code null} also becomes the text {@code "null"}.
   */
  public static @Nullable Object fromJson(@Nullable Object value, boolean fixed) {
    if (value instanceof Boolean b) {
      return b ? TRUE : FALSE;
    }
    if (value instanceof Map || value instanceof List || (!fixed && value == null)) {
      return JsJson.stringifyBig(value);
    }
    return value;
  }

  static @Nullable Object math(String op, @Nullable Object a, @Nullable Object b) {
    if (a == null || b == null) {
      return null;
    }
    Object na = cast(a, "numeric");
    Object nb = cast(b, "numeric");
    if (op.equals("/") && isZero(nb)) {
      return null;
    }
    if (isInteger(na) && isInteger(nb)) {
      if (na instanceof Long x && nb instanceof Long y) {
        try {
          return switch (op) {
            case "+" -> Math.addExact(x, y);
            case "-" -> Math.subtractExact(x, y);
            case "*" -> Math.multiplyExact(x, y);
            default -> {
              if (x == Long.MIN_VALUE && y == -1) {
                throw new ArithmeticException();
              }
              yield x / y;
            }
          };
        } catch (ArithmeticException overflow) {
          // fall through to BigInteger
        }
      }
      BigInteger x = toBig(na);
      BigInteger y = toBig(nb);
      return integerOf(
          switch (op) {
            case "+" -> x.add(y);
            case "-" -> x.subtract(y);
            case "*" -> x.multiply(y);
            default -> x.divide(y);
          });
    }
    double x = ((Number) na).doubleValue();
    double y = ((Number) nb).doubleValue();
    return switch (op) {
      case "+" -> x + y;
      case "-" -> x - y;
      case "*" -> x * y;
      default -> x / y;
    };
  }

  private static boolean isZero(Object n) {
    if (n instanceof Long l) {
      return l == 0;
    } else if (n instanceof Double d) {
      return d == 0;
    }
    return n instanceof BigInteger b && b.signum() == 0;
  }

  private static BigInteger toBig(Object n) {
    return n instanceof BigInteger b ? b : BigInteger.valueOf((Long) n);
  }

  static @Nullable String concat(@Nullable Object a, @Nullable Object b) {
    String x = text(a);
    String y = text(b);
    if (x == null || y == null) {
      return null;
    }
    return x + y;
  }
}
