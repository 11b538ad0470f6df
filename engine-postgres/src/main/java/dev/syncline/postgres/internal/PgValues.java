package dev.syncline.postgres.internal;

import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.SynclineException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Converts Postgres text-format values (as pgoutput and the snapshot queries deliver them, in a
 * session with {@code TimeZone=UTC}, {@code DateStyle=ISO}, {@code IntervalStyle=postgres}, {@code
 * bytea_output=hex}) into {@link SourceValue}s, following PowerSync protocol §8.3 (legacy
 * compatibility; the rules' compatibility options then render timestamps and times).
 *
 * <p>Thread-safe when {@code types} is.
 */
public final class PgValues {
  /** Oids of built-in types with a conversion of their own. */
  public static final int BOOL = 16;

  public static final int BYTEA = 17;
  public static final int INT8 = 20;
  public static final int INT2 = 21;
  public static final int INT4 = 23;
  public static final int TEXT = 25;
  public static final int OID = 26;
  public static final int JSON = 114;
  public static final int FLOAT4 = 700;
  public static final int FLOAT8 = 701;
  public static final int DATE = 1082;
  public static final int TIME = 1083;
  public static final int TIMESTAMP = 1114;
  public static final int TIMESTAMPTZ = 1184;
  public static final int NUMERIC = 1700;
  public static final int PG_LSN = 3220;
  public static final int JSONB = 3802;

  /** Built-in array types: array oid to element oid. */
  private static final Map<Integer, Integer> ARRAYS =
      Map.ofEntries(
          Map.entry(1000, BOOL),
          Map.entry(1001, BYTEA),
          Map.entry(1005, INT2),
          Map.entry(1007, INT4),
          Map.entry(1016, INT8),
          Map.entry(1028, OID),
          Map.entry(1021, FLOAT4),
          Map.entry(1022, FLOAT8),
          Map.entry(1009, TEXT),
          Map.entry(1015, 1043),
          Map.entry(1014, 1042),
          Map.entry(2951, 2950),
          Map.entry(1231, NUMERIC),
          Map.entry(199, JSON),
          Map.entry(3807, JSONB),
          Map.entry(1182, DATE),
          Map.entry(1183, TIME),
          Map.entry(1115, TIMESTAMP),
          Map.entry(1185, TIMESTAMPTZ),
          Map.entry(1270, 1266),
          Map.entry(1187, 1186),
          Map.entry(1041, 869),
          Map.entry(651, 650),
          Map.entry(1263, 2275),
          Map.entry(1003, 19),
          Map.entry(3221, PG_LSN));

  /** Built-in types known not to be arrays (answered without a catalog look-up). */
  private static final Set<Integer> SCALARS =
      Set.of(
          BOOL,
          BYTEA,
          INT8,
          INT2,
          INT4,
          TEXT,
          OID,
          JSON,
          FLOAT4,
          FLOAT8,
          DATE,
          TIME,
          TIMESTAMP,
          TIMESTAMPTZ,
          NUMERIC,
          PG_LSN,
          JSONB,
          18,
          19,
          1042,
          1043,
          2950,
          1266,
          1186,
          790,
          869,
          650,
          829,
          774,
          1560,
          1562,
          142,
          600,
          601,
          602,
          603,
          604,
          628,
          718,
          3614,
          3615,
          3904,
          3906,
          3908,
          3910,
          3912,
          3926,
          2249,
          2275,
          705);

  private static final SourceValue.Precision MICROS = SourceValue.Precision.MICROSECONDS;
  private static final Pattern TIMESTAMP_TEXT =
      Pattern.compile("(\\d{4}-\\d{2}-\\d{2}) (\\d{2}:\\d{2}:\\d{2})(?:\\.(\\d{1,9}))?");
  private static final Pattern TIMESTAMPTZ_TEXT =
      Pattern.compile(
          "(\\d{4}-\\d{2}-\\d{2}) (\\d{2}:\\d{2}:\\d{2})(?:\\.(\\d{1,9}))?([+-])(\\d{2})(?::(\\d{2}))?(?::(\\d{2}))?");
  private static final DateTimeFormatter SECONDS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss", Locale.ROOT);

  private final IntFunction<PgType> types;

  /**
   * @param types resolves types that are not built in (enums, domains, user arrays); called for
   *     unknown oids only
   */
  public PgValues(IntFunction<PgType> types) {
    this.types = types;
  }

  /**
   * Converts one non-null value. A value that does not parse as its type says (which Postgres never
   * sends, but a custom type with an unusual output function might) is kept as its raw text rather
   * than stopping replication.
   */
  public SourceValue convert(int typeOid, String text) {
    try {
      return convertStrict(typeOid, text);
    } catch (RuntimeException e) {
      if (e instanceof SynclineException) {
        throw e; // the catalog could not be read: a connection problem, retried by the engine
      }
      System.getLogger(PgValues.class.getName())
          .log(
              System.Logger.Level.WARNING,
              "value of type {0} kept as text: " + "{1}",
              typeOid,
              e.toString());
      return SqliteValue.of(text);
    }
  }

  private SourceValue convertStrict(int typeOid, String text) {
    switch (typeOid) {
      case BOOL:
        return SqliteValue.of("t".equals(text) ? 1L : 0L);
      case INT2:
      case INT4:
      case INT8:
      case OID:
        return SqliteValue.of(Long.parseLong(text));
      case FLOAT4:
      case FLOAT8:
        return SqliteValue.of(Double.parseDouble(text));
      case BYTEA:
        return new SqliteValue.BlobValue(bytea(text));
      case DATE:
        return SqliteValue.of(date(text));
      case TIME:
        return new SourceValue.TimeOfDay(text, MICROS);
      case TIMESTAMP:
        return timestamp(text);
      case TIMESTAMPTZ:
        return timestamptz(text);
      case PG_LSN:
        return SqliteValue.of(lsn(text));
      default:
        break;
    }
    Integer element = ARRAYS.get(typeOid);
    if (element != null) {
      return new SourceValue.SourceArray(array(text, element, ','));
    }
    if (!SCALARS.contains(typeOid)) {
      PgType t = types.apply(typeOid);
      if (t != null && t.isArray()) {
        return new SourceValue.SourceArray(array(text, t.elementOid(), t.delimiter()));
      }
    }
    return SqliteValue.of(
        text); // text, varchar, uuid, numeric, json, enums, domains, composites, ...
  }

  /** Converts a value that may be SQL NULL. */
  public SourceValue convertNullable(int typeOid, @Nullable String text) {
    return text == null ? SqliteValue.NULL : convert(typeOid, text);
  }

  /**
   * Whether a date or time text may be {@code infinity} or {@code -infinity} (every other one
   * starts with a digit).
   */
  private static boolean special(String text) {
    return !text.isEmpty() && !Character.isDigit(text.charAt(0));
  }

  private static String date(String text) {
    return !special(text)
        ? text
        : switch (text) {
          case "infinity" -> "9999-12-31";
          case "-infinity" -> "0000-01-01";
          default -> text;
        };
  }

  /**
   * The timestamp {@code infinity} or {@code -infinity} stands for, with {@code zone} appended;
   * else null.
   */
  private static SourceValue.@Nullable Timestamp infinity(String text, String zone) {
    if (!special(text)) {
      return null;
    }
    return switch (text) {
      case "infinity" -> new SourceValue.Timestamp("9999-12-31T23:59:59" + zone, MICROS, MICROS);
      case "-infinity" -> new SourceValue.Timestamp("0000-01-01T00:00:00" + zone, MICROS, MICROS);
      default -> null;
    };
  }

  private static SourceValue timestamp(String text) {
    SourceValue.Timestamp infinite = infinity(text, "");
    if (infinite != null) {
      return infinite;
    }
    String fast = isoDateTime(text, text.length(), "");
    if (fast != null) {
      return new SourceValue.Timestamp(fast, MICROS, MICROS);
    }
    Matcher m = TIMESTAMP_TEXT.matcher(text);
    if (!m.matches()) {
      return SqliteValue.NULL; // BC dates and other forms clients could not parse
    }
    String frac = m.group(3) == null ? "" : "." + m.group(3);
    return new SourceValue.Timestamp(m.group(1) + "T" + m.group(2) + frac, MICROS, MICROS);
  }

  private static SourceValue timestamptz(String text) {
    SourceValue.Timestamp infinite = infinity(text, "Z");
    if (infinite != null) {
      return infinite;
    }
    String utcFast = utcFastPath(text);
    if (utcFast != null) {
      return new SourceValue.Timestamp(utcFast, MICROS, MICROS);
    }
    Matcher m = TIMESTAMPTZ_TEXT.matcher(text);
    if (!m.matches()) {
      return SqliteValue.NULL;
    }
    String frac = m.group(3) == null ? "" : "." + m.group(3);
    int sign = m.group(4).equals("-") ? -1 : 1;
    int offsetSeconds =
        sign
            * (Integer.parseInt(m.group(5)) * 3600
                + (m.group(6) == null ? 0 : Integer.parseInt(m.group(6)) * 60)
                + (m.group(7) == null ? 0 : Integer.parseInt(m.group(7))));
    String utc;
    if (offsetSeconds == 0) {
      utc = m.group(1) + "T" + m.group(2);
    } else {
      try {
        LocalDateTime local = LocalDateTime.parse(m.group(1) + "T" + m.group(2));
        utc =
            local
                .atOffset(ZoneOffset.ofTotalSeconds(offsetSeconds))
                .withOffsetSameInstant(ZoneOffset.UTC)
                .toLocalDateTime()
                .format(SECONDS);
      } catch (DateTimeException e) {
        return SqliteValue.NULL;
      }
      if (utc.length() != 19) {
        return SqliteValue.NULL; // shifted out of four-digit years
      }
    }
    return new SourceValue.Timestamp(utc + frac + "Z", MICROS, MICROS);
  }

  /**
   * The common case without a regex: {@code YYYY-MM-DD HH:MM:SS[.f]+00} (the session zone is UTC)
   * becomes {@code YYYY-MM-DDTHH:MM:SS[.f]Z}; anything else returns null and takes the general
   * path.
   */
  private static @Nullable String utcFastPath(String text) {
    int n = text.length();
    return n >= 22 && text.endsWith("+00") ? isoDateTime(text, n - 3, "Z") : null;
  }

  /**
   * {@code YYYY-MM-DD HH:MM:SS[.F]} (one to nine fraction digits) in {@code text} up to {@code
   * end}, with a {@code T} between date and time and {@code suffix} appended; null for any other
   * form (the patterns decide).
   */
  private static @Nullable String isoDateTime(String text, int end, String suffix) {
    if (end < 19
        || text.length() < end
        || text.charAt(10) != ' '
        || text.charAt(4) != '-'
        || text.charAt(7) != '-'
        || text.charAt(13) != ':'
        || text.charAt(16) != ':') {
      return null;
    }
    for (int i = 0; i < end; i++) {
      char c = text.charAt(i);
      boolean digit = c >= '0' && c <= '9';
      boolean expected =
          switch (i) {
            case 4, 7 -> c == '-';
            case 10 -> c == ' ';
            case 13, 16 -> c == ':';
            case 19 -> c == '.';
            default -> digit;
          };
      if (!expected || (i == 19 && end == 20)) {
        return null;
      }
    }
    if (end > 19 && end - 20 > 9) {
      return null; // more fraction digits than any Postgres type has
    }
    return text.substring(0, 10) + 'T' + text.substring(11, end) + suffix;
  }

  private static String lsn(String text) {
    int slash = text.indexOf('/');
    String hi = text.substring(0, slash).toUpperCase(Locale.ROOT);
    String lo = text.substring(slash + 1).toUpperCase(Locale.ROOT);
    return "0".repeat(Math.max(0, 8 - hi.length()))
        + hi
        + "/"
        + "0".repeat(Math.max(0, 8 - lo.length()))
        + lo;
  }

  private static byte[] bytea(String text) {
    if (text.startsWith("\\x")) {
      return HexFormat.of().parseHex(text, 2, text.length());
    }
    return escapeBytea(text);
  }

  /**
   * The {@code bytea_output=escape} form, for servers where the session setting could not be
   * applied.
   */
  private static byte[] escapeBytea(String text) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
    byte[] in = text.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '\\' && i + 1 < in.length && in[i + 1] == '\\') {
        out.write('\\');
        i++;
      } else if (in[i] == '\\' && i + 3 < in.length) {
        out.write(Integer.parseInt(new String(in, i + 1, 3, StandardCharsets.US_ASCII), 8));
        i += 3;
      } else {
        out.write(in[i]);
      }
    }
    return out.toByteArray();
  }

  /**
   * Parses an array literal such as {@code {1,NULL,"a,b"}} or {@code [0:1]={{1,2},{3,4}}} into
   * elements.
   */
  List<Object> array(String text, int elementOid, char delimiter) {
    int start = 0;
    if (text.startsWith("[")) {
      start = text.indexOf('=') + 1; // explicit bounds: [lo:hi]={...}
    }
    int[] pos = {start};
    List<Object> out = parseArray(text, pos, elementOid, delimiter);
    return out;
  }

  private List<Object> parseArray(String s, int[] pos, int elementOid, char delimiter) {
    if (pos[0] >= s.length() || s.charAt(pos[0]) != '{') {
      throw new IllegalArgumentException("malformed array literal: " + s);
    }
    pos[0]++;
    List<Object> out = new ArrayList<>();
    skipSpaces(s, pos);
    if (pos[0] < s.length() && s.charAt(pos[0]) == '}') {
      pos[0]++;
      return out;
    }
    while (true) {
      skipSpaces(s, pos);
      if (pos[0] >= s.length()) {
        throw new IllegalArgumentException("malformed array literal: " + s);
      }
      char c = s.charAt(pos[0]);
      if (c == '{') {
        out.add(new SourceValue.SourceArray(parseArray(s, pos, elementOid, delimiter)));
      } else if (c == '"') {
        StringBuilder sb = new StringBuilder();
        pos[0]++;
        while (pos[0] < s.length() && s.charAt(pos[0]) != '"') {
          if (s.charAt(pos[0]) == '\\') {
            pos[0]++;
          }
          sb.append(s.charAt(pos[0]));
          pos[0]++;
        }
        pos[0]++; // closing quote
        out.add(element(elementOid, sb.toString()));
      } else {
        int from = pos[0];
        while (pos[0] < s.length() && s.charAt(pos[0]) != delimiter && s.charAt(pos[0]) != '}') {
          pos[0]++;
        }
        String raw = s.substring(from, pos[0]).strip();
        out.add(raw.equalsIgnoreCase("NULL") ? SqliteValue.NULL : element(elementOid, raw));
      }
      skipSpaces(s, pos);
      if (pos[0] >= s.length()) {
        throw new IllegalArgumentException("malformed array literal: " + s);
      }
      char next = s.charAt(pos[0]++);
      if (next == '}') {
        return out;
      }
      if (next != delimiter) {
        throw new IllegalArgumentException("malformed array literal: " + s);
      }
    }
  }

  private Object element(int elementOid, String text) {
    if (elementOid == BOOL) {
      return "t".equals(text);
    }
    return convertStrict(elementOid, text);
  }

  private static void skipSpaces(String s, int[] pos) {
    while (pos[0] < s.length() && Character.isWhitespace(s.charAt(pos[0]))) {
      pos[0]++;
    }
  }
}
