package dev.syncline.core.internal.rules.eval;

import static dev.syncline.core.internal.rules.eval.SqlFunction.arg;

import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * {@code unixepoch} and {@code datetime} with the reference's semantics: strings parsed like
 * JavaScript's {@code Date} (UTC unless an offset is given), numbers as Julian days or, with {@code
 * 'unixepoch'}, seconds; millisecond precision.
 */
final class DateFunctions {
  private DateFunctions() {}

  private static final double MAX_TIME = 8.64e15;

  private record Flags(boolean unixepoch, boolean subsecond) {}

  private static @Nullable Flags flags(@Nullable Object[] a) {
    Object s1 = arg(a, 1);
    Object s2 = arg(a, 2);
    if (s1 == null) {
      return new Flags(false, false);
    }
    if ("unixepoch".equals(s1)) {
      if (s2 == null) {
        return new Flags(true, false);
      } else if ("subsec".equals(s2) || "subsecond".equals(s2)) {
        return new Flags(true, true);
      }
      return null;
    }
    if ("subsec".equals(s1) || "subsecond".equals(s1)) {
      return new Flags(false, true);
    }
    return null;
  }

  static @Nullable Object unixepoch(@Nullable Object[] a) {
    if (a[0] == null) {
      return null;
    }
    Flags f = flags(a);
    if (f == null) {
      return null;
    }
    Double ms = toMillis(a[0], f);
    if (ms == null) {
      return null;
    }
    if (f.subsecond) {
      return ms / 1000.0;
    }
    return SqlValues.integerOf(BigInteger.valueOf((long) Math.floor(ms / 1000.0)));
  }

  static @Nullable Object datetime(@Nullable Object[] a) {
    if (a[0] == null) {
      return null;
    }
    Flags f = flags(a);
    if (f == null) {
      return null;
    }
    Double ms = toMillis(a[0], f);
    if (ms == null) {
      return null;
    }
    String iso = toIsoString(ms.longValue()).replaceFirst("T", " ").replaceFirst("^-0+", "-");
    if (f.subsecond) {
      return iso.substring(0, iso.length() - 1);
    }
    return iso.replaceFirst("(\\.\\d+)?Z$", "");
  }

  /** Milliseconds since the epoch, or null for an invalid date. */
  private static @Nullable Double toMillis(Object value, Flags f) {
    double ms;
    if (value instanceof String s) {
      Double parsed = parseUtcDate(s);
      if (parsed == null) {
        return null;
      }
      ms = parsed;
    } else if (value instanceof Long || value instanceof Double || value instanceof BigInteger) {
      double n = ((Number) value).doubleValue();
      ms = f.unixepoch ? n * 1000.0 : (n - 2440587.5) * 24 * 60 * 60 * 1000;
      ms = timeClip(ms);
    } else {
      return null;
    }
    if (Double.isNaN(ms)) {
      return null;
    }
    return ms;
  }

  private static double timeClip(double ms) {
    if (Double.isNaN(ms) || Math.abs(ms) > MAX_TIME) {
      return Double.NaN;
    }
    return ms < 0 ? Math.ceil(ms) : Math.floor(ms);
  }

  private static final Pattern HAS_TIMEZONE = Pattern.compile("[Zz]|[+\\-]\\d{2}:\\d{2}$");
  private static final Pattern JULIAN = Pattern.compile("^\\d+(\\.\\d*)?$");
  private static final Pattern DATE =
      Pattern.compile(
          "^\\s*([+-]\\d{6}|\\d{4})(?:-(\\d{1,2})(?:-(\\d{1,2}))?)?"
              + "(?:[Tt ]\\s*(\\d{1,2}):(\\d{2})(?::(\\d{2})(?:[.,](\\d+))?)?)?"
              + "\\s*(Z|z|[+-]\\d{2}(?::?\\d{2})?)?\\s*$");

  private static @Nullable Double parseUtcDate(String s) {
    if (HAS_TIMEZONE.matcher(s).find()) {
      return jsDateParse(s);
    } else if (JULIAN.matcher(s).matches()) {
      double ms = timeClip((Double.parseDouble(s) - 2440587.5) * 24 * 60 * 60 * 1000);
      return Double.isNaN(ms) ? null : ms;
    }
    return jsDateParse(s + "Z");
  }

  private static @Nullable Double jsDateParse(String s) {
    Matcher m = DATE.matcher(s);
    if (!m.matches()) {
      return null;
    }
    try {
      int year = Integer.parseInt(m.group(1));
      int month = m.group(2) == null ? 1 : Integer.parseInt(m.group(2));
      int day = m.group(3) == null ? 1 : Integer.parseInt(m.group(3));
      int hour = m.group(4) == null ? 0 : Integer.parseInt(m.group(4));
      int minute = m.group(5) == null ? 0 : Integer.parseInt(m.group(5));
      int second = m.group(6) == null ? 0 : Integer.parseInt(m.group(6));
      int millis = 0;
      if (m.group(7) != null) {
        String frac = (m.group(7) + "00").substring(0, 3);
        millis = Integer.parseInt(frac);
      }
      if (month < 1
          || month > 12
          || day < 1
          || day > 31
          || hour > 24
          || minute > 59
          || second > 59) {
        return null;
      }
      if (hour == 24 && (minute != 0 || second != 0 || millis != 0)) {
        return null;
      }
      int offsetSeconds = 0;
      String tz = m.group(8);
      if (tz != null && !tz.equalsIgnoreCase("z")) {
        String digits = tz.substring(1).replace(":", "");
        int h = Integer.parseInt(digits.substring(0, 2));
        int mi = digits.length() > 2 ? Integer.parseInt(digits.substring(2)) : 0;
        offsetSeconds = (h * 3600 + mi * 60) * (tz.charAt(0) == '-' ? -1 : 1);
      }
      LocalDate date = LocalDate.of(year, month, 1);
      if (day > date.lengthOfMonth()) {
        return null;
      }
      long epochDay = date.withDayOfMonth(day).toEpochDay();
      double ms =
          (epochDay * 86400L + hour * 3600L + minute * 60L + second - offsetSeconds) * 1000.0
              + millis;
      ms = timeClip(ms);
      return Double.isNaN(ms) ? null : ms;
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** JavaScript's {@code Date.prototype.toISOString}. */
  static String toIsoString(long ms) {
    ZonedDateTime t = Instant.ofEpochMilli(ms).atZone(ZoneOffset.UTC);
    int year = t.getYear();
    String y;
    if (year >= 0 && year <= 9999) {
      y = String.format("%04d", year);
    } else {
      y = (year < 0 ? "-" : "+") + String.format("%06d", Math.abs(year));
    }
    return String.format(
        "%s-%02d-%02dT%02d:%02d:%02d.%03dZ",
        y,
        t.getMonthValue(),
        t.getDayOfMonth(),
        t.getHour(),
        t.getMinute(),
        t.getSecond(),
        t.getNano() / 1_000_000);
  }
}
