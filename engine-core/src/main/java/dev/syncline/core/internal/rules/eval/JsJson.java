package dev.syncline.core.internal.rules.eval;

import dev.syncline.api.WireFormat;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * JSON as the reference's JavaScript runtime sees it.
 *
 * <p>Parsed values: {@code null}, {@link String}, {@link Boolean}, numbers, {@link List}, and
 * {@link Map} ({@link LinkedHashMap} in insertion order; JavaScript's iteration order, integer-like
 * keys first, is applied when keys are listed or written). Two number modes:
 *
 * <ul>
 *   <li>{@link #parseBig}: integer literals become {@link Long} (or {@link BigInteger} beyond 64
 *       bits), others {@link Double} ({@code JSONBig.parse});
 *   <li>{@link #parsePlain}: every number is a {@link Double} ({@code JSON.parse}).
 * </ul>
 */
public final class JsJson {
  private JsJson() {}

  /** A JSON syntax error. */
  public static final class JsonSyntaxException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    JsonSyntaxException(String message) {
      super(message);
    }
  }

  /** Parses with 64-bit integers kept exact. */
  public static @Nullable Object parseBig(String text) {
    return new Parser(text, true).parseDocument();
  }

  /** Parses with every number as a double, as {@code JSON.parse} does. */
  public static @Nullable Object parsePlain(String text) {
    return new Parser(text, false).parseDocument();
  }

  /**
   * Whether {@code key} is a canonical array index ({@code 0}, {@code 17}; not {@code 01} or {@code
   * -1}).
   */
  public static boolean isArrayIndex(String key) {
    int n = key.length();
    if (n == 0 || n > 10) {
      return false;
    }
    char first = key.charAt(0);
    if (first == '0') {
      return n == 1;
    }
    for (int i = 0; i < n; i++) {
      char c = key.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return Long.parseLong(key) < 4294967295L;
  }

  /**
   * Whether a map's insertion order differs from JavaScript's property order (it has array-index
   * keys).
   */
  public static boolean hasIndexKeys(Map<String, ?> map) {
    for (String k : map.keySet()) {
      if (!k.isEmpty() && k.charAt(0) >= '0' && k.charAt(0) <= '9' && isArrayIndex(k)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The keys of a map in JavaScript property order: array-index keys ascending, then the rest in
   * insertion order.
   */
  public static Iterable<String> jsKeyOrder(Map<String, ?> map) {
    return hasIndexKeys(map) ? jsKeys(map) : map.keySet();
  }

  /**
   * The keys of a map in JavaScript property order: array-index keys ascending, then the rest in
   * insertion order.
   */
  public static List<String> jsKeys(Map<String, ?> map) {
    List<String> indexes = null;
    for (String k : map.keySet()) {
      if (!k.isEmpty() && k.charAt(0) >= '0' && k.charAt(0) <= '9' && isArrayIndex(k)) {
        if (indexes == null) {
          indexes = new ArrayList<>();
        }
        indexes.add(k);
      }
    }
    if (indexes == null) {
      return new ArrayList<>(map.keySet());
    }
    indexes.sort((a, b) -> Long.compare(Long.parseLong(a), Long.parseLong(b)));
    List<String> result = new ArrayList<>(indexes);
    for (String k : map.keySet()) {
      if (!indexes.contains(k)) {
        result.add(k);
      }
    }
    return result;
  }

  /**
   * {@code JSONBig.stringify}: integers as digits, doubles in JavaScript form with {@code .0} for
   * integral values ({@code NaN}/{@code Infinity} as bare words), booleans, strings, lists, maps.
   * Returns {@code null} for values JavaScript would not write (none here besides an absent value).
   */
  public static String stringifyBig(@Nullable Object value) {
    StringBuilder sb = new StringBuilder();
    write(sb, value, true);
    return sb.toString();
  }

  /**
   * {@code JSON.stringify}: numbers in plain JavaScript form (no {@code .0}), non-finite numbers as
   * {@code null}.
   */
  public static String stringifyPlain(@Nullable Object value) {
    StringBuilder sb = new StringBuilder(32);
    write(sb, value, false);
    return sb.toString();
  }

  /** Appends {@code value} as JSON; {@code big} selects {@link #stringifyBig} number rules. */
  public static void write(StringBuilder sb, @Nullable Object value, boolean big) {
    if (value == null) {
      sb.append("null");
    } else if (value instanceof String s) {
      WireFormat.appendQuoted(sb, s);
    } else if (value instanceof Long || value instanceof BigInteger || value instanceof Integer) {
      sb.append(value);
    } else if (value instanceof Double d) {
      if (big) {
        WireFormat.appendReal(sb, d);
      } else if (d.isNaN() || d.isInfinite()) {
        sb.append("null");
      } else {
        WireFormat.appendNumber(sb, d);
      }
    } else if (value instanceof Boolean b) {
      sb.append(b.booleanValue());
    } else if (value instanceof List<?> list) {
      sb.append('[');
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        write(sb, list.get(i), big);
      }
      sb.append(']');
    } else if (value instanceof Map<?, ?> map) {
      @SuppressWarnings("unchecked")
      Map<String, Object> m = (Map<String, Object>) map;
      sb.append('{');
      boolean first = true;
      for (String key : jsKeyOrder(m)) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        WireFormat.appendQuoted(sb, key);
        sb.append(':');
        write(sb, m.get(key), big);
      }
      sb.append('}');
    } else if (value instanceof JsonText t) {
      sb.append(t.text());
    } else {
      throw new IllegalArgumentException("not a JSON value: " + value.getClass());
    }
  }

  /** Pre-serialized JSON embedded verbatim when writing. */
  public record JsonText(String text) {}

  private static final class Parser {
    private final String s;
    private final boolean big;
    private int i;

    Parser(String s, boolean big) {
      this.s = s;
      this.big = big;
    }

    @Nullable Object parseDocument() {
      skipWs();
      Object v = value();
      skipWs();
      if (i < s.length()) {
        throw error("Expected end of input");
      }
      return v;
    }

    private JsonSyntaxException error(String what) {
      if (i >= s.length()) {
        return new JsonSyntaxException(what + " but reached end of input at position " + i);
      }
      return new JsonSyntaxException(what + " but got '" + s.charAt(i) + "' at position " + i);
    }

    private void skipWs() {
      while (i < s.length()) {
        char c = s.charAt(i);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
          i++;
        } else {
          break;
        }
      }
    }

    private @Nullable Object value() {
      if (i >= s.length()) {
        throw error("JSON value expected");
      }
      char c = s.charAt(i);
      switch (c) {
        case '{':
          return object();
        case '[':
          return array();
        case '"':
          return string();
        case 't':
          return literal("true", true);
        case 'f':
          return literal("false", false);
        case 'n':
          return literal("null", null);
        default:
          if (c == '-' || (c >= '0' && c <= '9')) {
            return number();
          }
          throw error("JSON value expected");
      }
    }

    private @Nullable Object literal(String word, @Nullable Object v) {
      if (!s.startsWith(word, i)) {
        throw error("JSON value expected");
      }
      i += word.length();
      return v;
    }

    private Object object() {
      i++;
      LinkedHashMap<String, Object> map = new LinkedHashMap<>();
      skipWs();
      if (i < s.length() && s.charAt(i) == '}') {
        i++;
        return map;
      }
      while (true) {
        skipWs();
        if (i >= s.length() || s.charAt(i) != '"') {
          throw error("Quoted object key expected");
        }
        String key = string();
        skipWs();
        if (i >= s.length() || s.charAt(i) != ':') {
          throw error("Colon ':' expected after property name");
        }
        i++;
        skipWs();
        Object v = value();
        if (big && map.containsKey(key) && !Objects.equals(map.get(key), v)) {
          throw new JsonSyntaxException("Duplicate key '" + key + "' encountered at position " + i);
        }
        map.put(key, v);
        skipWs();
        if (i < s.length() && s.charAt(i) == ',') {
          i++;
          continue;
        }
        if (i < s.length() && s.charAt(i) == '}') {
          i++;
          return map;
        }
        throw error("Comma ',' expected after value");
      }
    }

    private Object array() {
      i++;
      List<Object> list = new ArrayList<>();
      skipWs();
      if (i < s.length() && s.charAt(i) == ']') {
        i++;
        return list;
      }
      while (true) {
        skipWs();
        list.add(value());
        skipWs();
        if (i < s.length() && s.charAt(i) == ',') {
          i++;
          continue;
        }
        if (i < s.length() && s.charAt(i) == ']') {
          i++;
          return list;
        }
        throw error("Comma ',' expected after value");
      }
    }

    private String string() {
      i++;
      StringBuilder sb = null;
      int runStart = i;
      while (true) {
        if (i >= s.length()) {
          throw error("End of string '\"' expected");
        }
        char c = s.charAt(i);
        if (c == '"') {
          String result =
              sb == null ? s.substring(runStart, i) : sb.append(s, runStart, i).toString();
          i++;
          return result;
        }
        if (c < 0x20) {
          throw error("Invalid character");
        }
        if (c == '\\') {
          if (sb == null) {
            sb = new StringBuilder();
          }
          sb.append(s, runStart, i);
          i++;
          if (i >= s.length()) {
            throw error("Invalid escape character");
          }
          char e = s.charAt(i);
          switch (e) {
            case '"' -> sb.append('"');
            case '\\' -> sb.append('\\');
            case '/' -> sb.append('/');
            case 'b' -> sb.append('\b');
            case 'f' -> sb.append('\f');
            case 'n' -> sb.append('\n');
            case 'r' -> sb.append('\r');
            case 't' -> sb.append('\t');
            case 'u' -> {
              if (i + 5 > s.length()) {
                throw error("Invalid unicode character");
              }
              try {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
              } catch (NumberFormatException ex) {
                throw error("Invalid unicode character");
              }
              i += 4;
            }
            default -> throw error("Invalid escape character");
          }
          i++;
          runStart = i;
          continue;
        }
        i++;
      }
    }

    private Object number() {
      int start = i;
      if (s.charAt(i) == '-') {
        i++;
      }
      if (i >= s.length()) {
        throw error("Invalid number");
      }
      if (s.charAt(i) == '0') {
        i++;
      } else if (s.charAt(i) >= '1' && s.charAt(i) <= '9') {
        while (i < s.length() && isDigit(s.charAt(i))) {
          i++;
        }
      } else {
        throw error("Invalid number");
      }
      boolean integer = true;
      if (i < s.length() && s.charAt(i) == '.') {
        integer = false;
        i++;
        if (i >= s.length() || !isDigit(s.charAt(i))) {
          throw error("Invalid number, digit expected");
        }
        while (i < s.length() && isDigit(s.charAt(i))) {
          i++;
        }
      }
      if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
        integer = false;
        i++;
        if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
          i++;
        }
        if (i >= s.length() || !isDigit(s.charAt(i))) {
          throw error("Invalid number, digit expected");
        }
        while (i < s.length() && isDigit(s.charAt(i))) {
          i++;
        }
      }
      String text = s.substring(start, i);
      if (big && integer) {
        return SqlValues.integerOf(new BigInteger(text));
      }
      return Double.parseDouble(text);
    }

    private static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }
  }

  /** Iterates a parsed JSON array, or returns null when the value is not an array. */
  public static @Nullable Iterator<Object> arrayIterator(@Nullable Object value) {
    return value instanceof List<?> l ? new ArrayList<Object>(l).iterator() : null;
  }
}
