package dev.syncline.core.internal.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.SynclineException;
import dev.syncline.api.WireFormat;
import dev.syncline.api.rules.ParameterLookup;
import dev.syncline.spi.storage.Placement;
import dev.syncline.spi.storage.SourceKey;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Text encodings of storage values for the JDBC storage: exact (types are kept: INTEGER 5 and REAL
 * 5.0 differ) and stable (the same value always encodes to the same text, so encoded look-up keys
 * can be compared in SQL).
 */
public final class StorageCodec {
  private static final ObjectMapper JSON = new ObjectMapper();

  private StorageCodec() {}

  /**
   * Digits of the longest integer key {@link #storedKey} orders (a {@code long} has at most 19).
   */
  static final int MAX_KEY_DIGITS = 19;

  /**
   * The stored form of a source key (as {@code current_data.source_key}). A key that is one
   * non-negative integer, {@code [123]}, gets a letter for its number of digits in front ({@code
   * c[123]}; {@code a} for one digit to {@code s} for 19); other keys the engine renders (JSON
   * arrays, starting with {@code [}) are stored as they are, and any other text gets {@code ~} in
   * front. Keys of ascending integers then also ascend as text, so the rows of an initial copy,
   * read in primary-key order, are appended at the end of the storage's index instead of all over
   * it ({@code [10]} sorts before {@code [9]}), which leaves a third less index to write. A
   * bijection: {@link #sourceKey} undoes it.
   */
  public static String storedKey(String key) {
    if (key.isEmpty() || key.charAt(0) != '[') {
      return "~" + key;
    }
    int digits = key.length() - 2;
    if (digits < 1 || digits > MAX_KEY_DIGITS || key.charAt(key.length() - 1) != ']') {
      return key;
    }
    for (int i = 1; i <= digits; i++) {
      char c = key.charAt(i);
      if (c < '0' || c > '9') {
        return key;
      }
    }
    return (char) ('a' + digits - 1) + key;
  }

  /** The source key a {@link #storedKey stored key} stands for. */
  public static String sourceKey(String stored) {
    return !stored.isEmpty() && stored.charAt(0) != '[' ? stored.substring(1) : stored;
  }

  /**
   * One value as a type-tagged string: {@code n}, {@code i:42}, {@code r:2.5}, {@code t:text},
   * {@code b:cafe}.
   */
  public static String value(SqliteValue v) {
    if (v instanceof SqliteValue.TextValue t) {
      return "t:" + t.value();
    } else if (v instanceof SqliteValue.IntegerValue i) {
      return "i:" + i.value();
    } else if (v instanceof SqliteValue.RealValue r) {
      return "r:" + WireFormat.formatNumber(r.value());
    } else if (v instanceof SqliteValue.BlobValue b) {
      return "b:" + HexFormat.of().formatHex(b.value());
    }
    return "n";
  }

  /** Decodes {@link #value(SqliteValue)}. */
  public static SqliteValue value(String s) {
    if (s.equals("n")) {
      return SqliteValue.NULL;
    }
    String body = s.substring(2);
    return switch (s.charAt(0)) {
      case 't' -> SqliteValue.of(body);
      case 'i' -> SqliteValue.of(Long.parseLong(body));
      case 'r' -> SqliteValue.of(Double.parseDouble(body));
      case 'b' -> new SqliteValue.BlobValue(HexFormat.of().parseHex(body));
      default ->
          throw new SynclineException(ErrorCode.STORAGE_FAILED, "corrupt stored value: " + s);
    };
  }

  /** A parameter look-up key as stable text. */
  public static String lookup(ParameterLookup lookup) {
    ArrayNode a = JSON.createArrayNode().add(lookup.scope());
    lookup.values().forEach(v -> a.add(value(v)));
    return a.toString();
  }

  /** Decodes {@link #lookup(ParameterLookup)}. */
  public static ParameterLookup lookup(String text) {
    JsonNode a = read(text);
    List<SqliteValue> values = new ArrayList<>();
    for (int i = 1; i < a.size(); i++) {
      values.add(value(a.get(i).asText()));
    }
    return new ParameterLookup(a.get(0).asText(), values);
  }

  /** Rows of bucket parameters as JSON text. */
  public static String rows(List<Map<String, SqliteValue>> rows) {
    StringBuilder sb = new StringBuilder(16 + rows.size() * 48).append('[');
    for (Map<String, SqliteValue> row : rows) {
      sb.append(sb.length() > 1 ? ",{" : "{");
      boolean first = true;
      for (Map.Entry<String, SqliteValue> e : row.entrySet()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        WireFormat.appendQuoted(sb, e.getKey());
        sb.append(':');
        WireFormat.appendQuoted(sb, value(e.getValue()));
      }
      sb.append('}');
    }
    return sb.append(']').toString();
  }

  /** Decodes {@link #rows(List)}. */
  public static List<Map<String, SqliteValue>> rows(String text) {
    List<Map<String, SqliteValue>> out = new ArrayList<>();
    for (JsonNode o : read(text)) {
      Map<String, SqliteValue> row = new LinkedHashMap<>();
      Iterator<Map.Entry<String, JsonNode>> it = o.properties().iterator();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        row.put(e.getKey(), value(e.getValue().asText()));
      }
      out.add(row);
    }
    return out;
  }

  /** A source row image as JSON text (every {@link SourceValue} kind, exactly). */
  public static String image(SourceRow row) {
    return appendImage(new StringBuilder(32 + row.columns().size() * 24), row).toString();
  }

  /** Appends {@link #image(SourceRow)} to {@code sb}. */
  public static StringBuilder appendImage(StringBuilder sb, SourceRow row) {
    // Written directly: Jackson's JsonNode.toString() builds a serializer per call, which showed in
    // profiles of the
    // initial copy (every row's image, placements and look-ups are encoded on the storage writer's
    // thread).
    sb.append('{');
    boolean first = true;
    for (Map.Entry<String, SourceValue> e : row.columns().entrySet()) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      WireFormat.appendQuoted(sb, e.getKey());
      sb.append(':');
      writeSourceValue(sb, e.getValue());
    }
    return sb.append('}');
  }

  private static void writeSourceValue(StringBuilder sb, @Nullable Object v) {
    if (v instanceof SqliteValue s) {
      WireFormat.appendQuoted(sb, value(s));
    } else if (v instanceof SourceValue.Timestamp ts) {
      sb.append("{\"ts\":");
      WireFormat.appendQuoted(sb, ts.iso8601());
      sb.append(",\"p\":\"")
          .append(ts.precision().name())
          .append("\",\"dp\":\"")
          .append(ts.defaultPrecision().name())
          .append("\"}");
    } else if (v instanceof SourceValue.TimeOfDay t) {
      sb.append("{\"time\":");
      WireFormat.appendQuoted(sb, t.text());
      sb.append(",\"p\":\"").append(t.precision().name()).append("\"}");
    } else if (v instanceof SourceValue.SourceArray a) {
      sb.append('[');
      for (int i = 0; i < a.elements().size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        writeSourceValue(sb, a.elements().get(i));
      }
      sb.append(']');
    } else if (v instanceof Boolean b) {
      sb.append(b.booleanValue());
    } else if (v == null) {
      sb.append("null");
    } else {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT, "cannot store value of type " + v.getClass());
    }
  }

  /** Decodes {@link #image(SourceRow)}. */
  public static SourceRow image(String text) {
    Map<String, SourceValue> columns = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = read(text).properties().iterator();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      columns.put(e.getKey(), (SourceValue) sourceValue(e.getValue()));
    }
    return new SourceRow(columns);
  }

  private static Object sourceValue(JsonNode n) {
    if (n.isTextual()) {
      return value(n.asText());
    } else if (n.isBoolean()) {
      return n.asBoolean();
    } else if (n.isNull()) {
      return SqliteValue.NULL;
    } else if (n.isArray()) {
      List<Object> elements = new ArrayList<>();
      n.forEach(e -> elements.add(sourceValue(e)));
      return new SourceValue.SourceArray(elements);
    } else if (n.has("ts")) {
      return new SourceValue.Timestamp(
          n.get("ts").asText(),
          SourceValue.Precision.valueOf(n.get("p").asText()),
          SourceValue.Precision.valueOf(n.get("dp").asText()));
    } else if (n.has("time")) {
      return new SourceValue.TimeOfDay(
          n.get("time").asText(), SourceValue.Precision.valueOf(n.get("p").asText()));
    }
    throw new SynclineException(ErrorCode.STORAGE_FAILED, "corrupt stored row image: " + n);
  }

  /**
   * A row's placements as JSON text: {@code [bucket, output table, row id, checksum]} each, or
   * {@code [bucket, checksum]} when the output table is the source table's name and the row id is
   * {@link #keyRowId the one its key implies} (the common case: a table with an {@code id} primary
   * key synced as it is), which saves a current row about an eighth of its bytes.
   */
  public static String placements(List<Placement> placements, SourceKey key) {
    return appendPlacements(new StringBuilder(16 + placements.size() * 80), placements, key)
        .toString();
  }

  /** Appends {@link #placements(List, SourceKey)} to {@code sb}. */
  public static StringBuilder appendPlacements(
      StringBuilder sb, List<Placement> placements, SourceKey key) {
    sb.append('[');
    String table = key.table().name();
    @Nullable String rowId = null;
    boolean first = true;
    for (Placement p : placements) {
      sb.append(first ? "[" : ",[");
      first = false;
      WireFormat.appendQuoted(sb, p.bucket());
      sb.append(',');
      if (rowId == null) {
        rowId = Objects.requireNonNullElse(keyRowId(key.key()), "");
      }
      if (!p.table().equals(table) || rowId.isEmpty() || !p.rowId().equals(rowId)) {
        WireFormat.appendQuoted(sb, p.table());
        sb.append(',');
        WireFormat.appendQuoted(sb, p.rowId());
        sb.append(',');
      }
      sb.append(p.checksum()).append(']');
    }
    return sb.append(']');
  }

  /** Decodes {@link #placements(List, SourceKey)} of the row with that key (both forms). */
  public static List<Placement> placements(String text, SourceKey key) {
    List<Placement> out = new ArrayList<>();
    for (JsonNode p : read(text)) {
      if (p.size() == 2) {
        String rowId = keyRowId(key.key());
        if (rowId == null) {
          throw new SynclineException(
              ErrorCode.STORAGE_FAILED,
              "corrupt stored placements of " + key + ": its key implies no row id");
        }
        out.add(new Placement(p.get(0).asText(), key.table().name(), rowId, p.get(1).asLong()));
      } else {
        out.add(
            new Placement(
                p.get(0).asText(), p.get(1).asText(), p.get(2).asText(), p.get(3).asLong()));
      }
    }
    return out;
  }

  /**
   * The row id a source key implies: its one value's text for a key of one integer ({@code [42]} →
   * {@code 42}) or one string without escapes ({@code ["a-1"]} → {@code a-1}); null for other keys.
   */
  static @Nullable String keyRowId(String key) {
    int n = key.length();
    if (n < 3 || key.charAt(0) != '[' || key.charAt(n - 1) != ']') {
      return null;
    }
    if (key.charAt(1) == '"') {
      if (n < 4 || key.charAt(n - 2) != '"') {
        return null;
      }
      for (int i = 2; i < n - 2; i++) {
        char c = key.charAt(i);
        if (c == '"' || c == '\\') {
          return null;
        }
      }
      return key.substring(2, n - 2);
    }
    int start = key.charAt(1) == '-' ? 2 : 1;
    if (start == n - 1) {
      return null;
    }
    for (int i = start; i < n - 1; i++) {
      char c = key.charAt(i);
      if (c < '0' || c > '9') {
        return null;
      }
    }
    return key.substring(1, n - 1);
  }

  /** Look-up keys as JSON text. */
  public static String lookups(List<ParameterLookup> lookups) {
    if (lookups.isEmpty()) {
      return "[]";
    }
    return appendLookups(new StringBuilder(16 + lookups.size() * 48), lookups).toString();
  }

  /** Appends {@link #lookups(List)} to {@code sb}. */
  public static StringBuilder appendLookups(StringBuilder sb, List<ParameterLookup> lookups) {
    sb.append('[');
    boolean first = true;
    for (ParameterLookup l : lookups) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      WireFormat.appendQuoted(sb, lookup(l));
    }
    return sb.append(']');
  }

  /** Decodes {@link #lookups(List)}. */
  public static List<ParameterLookup> lookups(String text) {
    List<ParameterLookup> out = new ArrayList<>();
    for (JsonNode l : read(text)) {
      out.add(lookup(l.asText()));
    }
    return out;
  }

  private static JsonNode read(String text) {
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED, "corrupt stored JSON: " + e.getOriginalMessage(), e);
    }
  }
}
