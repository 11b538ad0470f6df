package dev.syncline.core.internal.rules.eval;

import static dev.syncline.core.internal.rules.eval.SqlFunction.arg;

import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The scalar functions of edition 1 and 2 sync rules, for one setting of {@code
 * fixed_json_extract}. Immutable.
 */
public final class SqlFunctions {
  private final boolean fixedJsonExtract;
  private final Map<String, SqlFunction> named;

  /** Functions for a compatibility setting. */
  public SqlFunctions(boolean fixedJsonExtract) {
    this.fixedJsonExtract = fixedJsonExtract;
    Map<String, SqlFunction> m = new LinkedHashMap<>();
    add(
        m,
        "upper",
        1,
        1,
        a -> {
          String t = SqlValues.text(a[0]);
          return t == null ? null : t.toUpperCase(Locale.ROOT);
        });
    add(
        m,
        "lower",
        1,
        1,
        a -> {
          String t = SqlValues.text(a[0]);
          return t == null ? null : t.toLowerCase(Locale.ROOT);
        });
    add(m, "substring", 2, 3, SqlFunctions::substring);
    add(
        m,
        "hex",
        1,
        1,
        a -> {
          byte[] b = SqlValues.blob(a[0]);
          return b == null ? "" : HexFormat.of().withUpperCase().formatHex(b);
        });
    add(
        m,
        "length",
        1,
        1,
        a -> {
          Object v = a[0];
          if (v == null) {
            return null;
          } else if (v instanceof byte[] b) {
            return (long) b.length;
          }
          return (long) SqlValues.text(v).length();
        });
    add(
        m,
        "base64",
        1,
        1,
        a -> {
          byte[] b = SqlValues.blob(a[0]);
          return b == null ? "" : Base64.getEncoder().encodeToString(b);
        });
    add(m, "uuid_blob", 1, 1, SqlFunctions::uuidBlob);
    add(m, "typeof", 1, 1, a -> SqlValues.typeOf(a[0]));
    add(m, "ifnull", 2, 2, a -> a[0] == null ? a[1] : a[0]);
    add(m, "iif", 3, 3, a -> SqlValues.truthy(a[0]) ? a[1] : a[2]);
    add(m, "instr", 2, 2, SqlFunctions::instr);
    add(m, "json_extract", 2, 2, a -> jsonExtract(a[0], a[1], "json_extract"));
    add(
        m,
        "json_array_length",
        1,
        2,
        a -> {
          Object json = a[0];
          if (arg(a, 1) != null) {
            json = jsonExtract(json, a[1], "json_extract");
          }
          String text = SqlValues.text(json);
          if (text == null) {
            return null;
          }
          Object parsed = JsJson.parseBig(text);
          return parsed instanceof List<?> l ? (long) l.size() : 0L;
        });
    add(
        m,
        "json_valid",
        1,
        1,
        a -> {
          String text = SqlValues.text(a[0]);
          if (text == null) {
            return SqlValues.FALSE;
          }
          try {
            JsJson.parseBig(text);
            return SqlValues.TRUE;
          } catch (RuntimeException e) {
            return SqlValues.FALSE;
          }
        });
    add(
        m,
        "json_keys",
        1,
        1,
        a -> {
          String text = SqlValues.text(a[0]);
          if (text == null) {
            return null;
          }
          Object parsed = JsJson.parseBig(text);
          if (parsed instanceof List) {
            throw new IllegalArgumentException("Cannot call json_keys on an array");
          } else if (!(parsed instanceof Map<?, ?> map)) {
            if (parsed == null) {
              throw new IllegalArgumentException("Cannot convert undefined or null to object");
            }
            throw new IllegalArgumentException("Cannot call json_keys on a scalar");
          } else {
            @SuppressWarnings("unchecked")
            Map<String, Object> obj = (Map<String, Object>) map;
            return JsJson.stringifyPlain(JsJson.jsKeys(obj));
          }
        });
    add(m, "unixepoch", 1, 3, DateFunctions::unixepoch);
    add(m, "datetime", 1, 3, DateFunctions::datetime);
    add(
        m,
        "st_asgeojson",
        1,
        1,
        a -> {
          Geometry.Shape g = Geometry.parse(a[0]);
          return g == null ? null : JsJson.stringifyBig(g.toGeoJson());
        });
    add(
        m,
        "st_astext",
        1,
        1,
        a -> {
          Geometry.Shape g = Geometry.parse(a[0]);
          return g == null ? null : g.toWkt();
        });
    add(
        m,
        "st_x",
        1,
        1,
        a -> {
          Geometry.Shape g = Geometry.parse(a[0]);
          return g instanceof Geometry.Point p ? p.x() : null;
        });
    add(
        m,
        "st_y",
        1,
        1,
        a -> {
          Geometry.Shape g = Geometry.parse(a[0]);
          return g instanceof Geometry.Point p ? p.y() : null;
        });
    this.named = Map.copyOf(m);
  }

  private static void add(
      Map<String, SqlFunction> m, String name, int min, int max, SqlFunction.Body body) {
    m.put(name, new SqlFunction(name, min, max, body));
  }

  /** The function of that name, or null. */
  public @Nullable SqlFunction named(String name) {
    return named.get(name);
  }

  /** The {@code ->} operator: JSON text of the member. */
  public SqlFunction jsonExtractJson() {
    return new SqlFunction("->", 2, 2, a -> jsonExtract(a[0], a[1], "->"));
  }

  /** The {@code ->>} operator: SQL value of the member. */
  public SqlFunction jsonExtractSql() {
    return new SqlFunction("->>", 2, 2, a -> jsonExtract(a[0], a[1], "->>"));
  }

  /**
   * Extracts from JSON text with the given operator ({@code ->}, {@code ->>} or {@code
   * json_extract}).
   */
  public @Nullable Object jsonExtract(
      @Nullable Object source, @Nullable Object path, String operator) {
    String text = SqlValues.text(source);
    if (text == null || path == null) {
      return null;
    }
    return jsonExtractFromParsed(JsJson.parseBig(text), path, operator);
  }

  /** Extracts from an already parsed JSON value. */
  public @Nullable Object jsonExtractFromParsed(
      @Nullable Object value, @Nullable Object path, String operator) {
    String pathText = SqlValues.text(path);
    if (value == null || pathText == null) {
      return null;
    }
    boolean properPath = pathText.startsWith("$");
    if (operator.equals("json_extract") && !properPath) {
      throw new IllegalArgumentException("JSON path must start with $.");
    }
    List<String> components;
    if (fixedJsonExtract) {
      if (properPath) {
        components = split(pathText);
        components = components.subList(1, components.size());
      } else {
        components = List.of(pathText);
      }
    } else {
      components = split(pathText);
      if (properPath) {
        components = components.subList(1, components.size());
      }
    }
    Object current = value;
    boolean undefined = false;
    for (String c : components) {
      if (current == null || undefined) {
        break;
      }
      if (current instanceof Map<?, ?> map) {
        if (map.containsKey(c)) {
          current = map.get(c);
        } else {
          undefined = true;
          current = null;
        }
      } else if (current instanceof List<?> list
          && JsJson.isArrayIndex(c)
          && Long.parseLong(c) < list.size()) {
        current = list.get(Integer.parseInt(c));
      } else if (current instanceof String s
          && JsJson.isArrayIndex(c)
          && Long.parseLong(c) < s.length()) {
        current = String.valueOf(s.charAt(Integer.parseInt(c)));
      } else if (current instanceof String s && c.equals("length")) {
        current = (double) s.length();
      } else if (current instanceof List<?> list && c.equals("length")) {
        current = (double) list.size();
      } else {
        undefined = true;
        current = null;
      }
    }
    if (operator.equals("->")) {
      if (fixedJsonExtract) {
        return undefined ? null : JsJson.stringifyBig(current);
      }
      return current == null ? null : JsJson.stringifyBig(current);
    }
    if (undefined) {
      return null;
    }
    return SqlValues.fromJson(current, fixedJsonExtract);
  }

  private static final Pattern DOT = Pattern.compile("\\.");

  private static List<String> split(String path) {
    return List.of(DOT.split(path, -1));
  }

  private static @Nullable Object substring(@Nullable Object[] a) {
    String text = SqlValues.text(a[0]);
    if (text == null) {
      return null;
    }
    Object start = SqlValues.cast(a[1], "integer");
    if (start == null) {
      return null;
    }
    if (a.length > 2 && a[2] == null) {
      return null;
    }
    Object castLength = a.length > 2 ? SqlValues.cast(a[2], "integer") : null;
    long realLength = castLength == null ? text.length() + 1 : ((Number) castLength).longValue();
    long startIndex = ((Number) start).longValue();
    long realStart;
    if (startIndex < 0) {
      realStart = Math.max(0, text.length() + startIndex);
    } else if (startIndex == 0) {
      realStart = 0;
      realLength -= 1;
    } else {
      realStart = startIndex - 1;
    }
    if (realLength < 0) {
      return jsSubstring(text, realStart + realLength, realStart);
    }
    return jsSubstring(text, realStart, realStart + realLength);
  }

  /** JavaScript's {@code String.prototype.substring}: clamps, swaps reversed bounds. */
  private static String jsSubstring(String s, long from, long to) {
    long a = Math.max(0, Math.min(from, s.length()));
    long b = Math.max(0, Math.min(to, s.length()));
    if (a > b) {
      long t = a;
      a = b;
      b = t;
    }
    return s.substring((int) a, (int) b);
  }

  private static final Pattern UUID =
      Pattern.compile(
          "^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
              + "|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$",
          Pattern.CASE_INSENSITIVE);

  private static @Nullable Object uuidBlob(@Nullable Object[] a) {
    String text = SqlValues.text(a[0]);
    if (text == null) {
      return null;
    }
    if (!UUID.matcher(text).matches()) {
      throw new IllegalArgumentException("Cannot call uuid_blob on a non UUID value");
    }
    return HexFormat.of().parseHex(text.replace("-", ""));
  }

  private static @Nullable Object instr(@Nullable Object[] a) {
    Object x = a[0];
    Object y = a[1];
    if (x == null || y == null) {
      return null;
    }
    if (x instanceof byte[] hx && y instanceof byte[] ny) {
      outer:
      for (int i = 0; i + ny.length <= hx.length; i++) {
        for (int j = 0; j < ny.length; j++) {
          if (hx[i + j] != ny[j]) {
            continue outer;
          }
        }
        return (long) (i + 1);
      }
      return 0L;
    }
    int pos = SqlValues.text(x).indexOf(SqlValues.text(y));
    return (long) (pos < 0 ? 0 : pos + 1);
  }
}
