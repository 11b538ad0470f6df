package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import dev.syncline.core.internal.rules.eval.JsJson;
import dev.syncline.core.internal.rules.eval.SqlValues;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Conversions between API values and the evaluator's values, applying the compatibility options.
 */
final class Values {
  private Values() {}

  /** The row as the evaluator sees it, keeping column order. */
  static Map<String, @Nullable Object> toInternalRow(SourceRow row, Compatibility compat) {
    Map<String, @Nullable Object> out = new LinkedHashMap<>(row.columns().size() * 4 / 3 + 2);
    row.columns().forEach((k, v) -> out.put(k, toInternal(v, compat)));
    return out;
  }

  static @Nullable Object toInternal(SourceValue value, Compatibility compat) {
    if (value instanceof SqliteValue.TextValue t) {
      return t.value();
    } else if (value instanceof SqliteValue.IntegerValue i) {
      return i.value();
    } else if (value instanceof SqliteValue v) {
      return fromApi(v);
    } else if (value instanceof SourceValue.Timestamp ts) {
      return renderTimestamp(ts, compat);
    } else if (value instanceof SourceValue.TimeOfDay t) {
      return renderTime(t, compat);
    }
    return JsJson.stringifyBig(arrayElements(((SourceValue.SourceArray) value).elements(), compat));
  }

  private static List<Object> arrayElements(List<Object> elements, Compatibility compat) {
    List<Object> out = new ArrayList<>(elements.size());
    for (Object e : elements) {
      if (e instanceof Boolean b) {
        out.add(b ? SqlValues.TRUE : SqlValues.FALSE);
      } else if (e instanceof SourceValue.SourceArray nested) {
        out.add(arrayElements(nested.elements(), compat));
      } else if (e instanceof SqliteValue.BlobValue) {
        out.add(null);
      } else if (e instanceof SourceValue sv) {
        out.add(toInternal(sv, compat));
      } else if (e == null) {
        out.add(null);
      } else {
        throw new IllegalArgumentException("unsupported array element " + e.getClass());
      }
    }
    return out;
  }

  private static final Pattern SUBSECONDS = Pattern.compile("(?:\\.(\\d+))?([zZ]?)$");

  static String renderTimestamp(SourceValue.Timestamp ts, Compatibility compat) {
    String iso = ts.iso8601();
    if (!compat.isoTimestamps()) {
      int t = iso.indexOf('T'); // not String.replaceFirst: that compiles a regex per value
      return t < 0 ? iso : iso.substring(0, t) + ' ' + iso.substring(t + 1);
    }
    Matcher m = SUBSECONDS.matcher(iso);
    String base;
    String frac;
    String suffix;
    if (!m.find() || m.group(0).isEmpty()) {
      base = iso;
      frac = "";
      suffix = "";
    } else {
      base = iso.substring(0, iso.length() - m.group(0).length());
      frac = m.group(1) == null ? "" : m.group(1);
      suffix = m.group(2) == null ? "" : m.group(2);
    }
    return renderSubseconds(base, frac, suffix, ts.precision(), ts.defaultPrecision(), compat);
  }

  private static final Pattern TIME = Pattern.compile("^([\\d:]+)(?:\\.(\\d+))?$");

  static String renderTime(SourceValue.TimeOfDay t, Compatibility compat) {
    Matcher m = TIME.matcher(t.text());
    if (!m.matches()) {
      return t.text();
    }
    String secs = m.group(1);
    String frac = m.group(2);
    if (!compat.isoTimestamps()) {
      return frac != null && !frac.isEmpty() ? secs + "." + frac : secs;
    }
    return renderSubseconds(
        secs, frac == null ? "" : frac, "", t.precision(), t.precision(), compat);
  }

  private static String renderSubseconds(
      String base,
      String frac,
      String suffix,
      SourceValue.Precision precision,
      SourceValue.Precision defaultPrecision,
      Compatibility compat) {
    SourceValue.Precision max =
        compat.maxTimePrecision() != null ? compat.maxTimePrecision() : defaultPrecision;
    int digits = Math.min(max.digits(), precision.digits());
    if (max == SourceValue.Precision.SECONDS) {
      return base + suffix;
    }
    if (frac.length() > digits) {
      frac = frac.substring(0, digits);
    } else if (frac.length() < digits) {
      frac = frac + "0".repeat(digits - frac.length());
    }
    return base + "." + frac + suffix;
  }

  /** An evaluator value as an API value; integers beyond 64 bits become REALs. */
  static SqliteValue toApi(@Nullable Object v) {
    if (v == null) {
      return SqliteValue.NULL;
    } else if (v instanceof Long l) {
      return SqliteValue.of(l);
    } else if (v instanceof Double d) {
      return SqliteValue.of(d);
    } else if (v instanceof String s) {
      return SqliteValue.of(s);
    } else if (v instanceof byte[] b) {
      return new SqliteValue.BlobValue(b);
    } else if (v instanceof BigInteger b) {
      return SqliteValue.of(b.doubleValue());
    } else if (v instanceof Boolean b) {
      return SqliteValue.of(b ? 1L : 0L);
    }
    throw new IllegalArgumentException("not a value: " + v.getClass());
  }

  static @Nullable Object fromApi(SqliteValue v) {
    if (v instanceof SqliteValue.IntegerValue i) {
      return i.value();
    } else if (v instanceof SqliteValue.TextValue t) {
      return t.value();
    } else if (v instanceof SqliteValue.RealValue r) {
      return r.value();
    } else if (v instanceof SqliteValue.BlobValue b) {
      return b.value();
    }
    return null;
  }

  static Map<String, @Nullable Object> fromApiRow(Map<String, SqliteValue> row) {
    Map<String, @Nullable Object> out = new HashMap<>();
    row.forEach((k, v) -> out.put(k, fromApi(v)));
    return out;
  }

  /** {@code normalizeParameterValue}: integral doubles become integers. */
  static @Nullable Object normalizeParameter(@Nullable Object v) {
    if (v instanceof Double d && !d.isNaN() && !d.isInfinite() && d == Math.rint(d)) {
      return SqlValues.integerOf(new BigDecimal(d).toBigInteger());
    }
    return v;
  }
}
