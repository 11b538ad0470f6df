package dev.syncline.core.internal.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.SynclineException;
import dev.syncline.api.WireFormat;
import dev.syncline.api.rules.ParameterLookup;
import dev.syncline.spi.storage.Placement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Text encodings of storage values for the JDBC storage: exact (types are kept: INTEGER 5 and REAL 5.0 differ) and
 * stable (the same value always encodes to the same text, so encoded look-up keys can be compared in SQL).
 */
public final class StorageCodec {
  private static final ObjectMapper JSON = new ObjectMapper();

  private StorageCodec() {}

  /** One value as a type-tagged string: {@code n}, {@code i:42}, {@code r:2.5}, {@code t:text}, {@code b:cafe}. */
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
      default -> throw new SynclineException(ErrorCode.STORAGE_FAILED, "corrupt stored value: " + s);
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
    ArrayNode a = JSON.createArrayNode();
    for (Map<String, SqliteValue> row : rows) {
      ObjectNode o = a.addObject();
      row.forEach((k, v) -> o.put(k, value(v)));
    }
    return a.toString();
  }

  /** Decodes {@link #rows(List)}. */
  public static List<Map<String, SqliteValue>> rows(String text) {
    List<Map<String, SqliteValue>> out = new ArrayList<>();
    for (JsonNode o : read(text)) {
      Map<String, SqliteValue> row = new LinkedHashMap<>();
      Iterator<Map.Entry<String, JsonNode>> it = o.fields();
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
    ObjectNode o = JSON.createObjectNode();
    row.columns().forEach((k, v) -> o.set(k, sourceValue(v)));
    return o.toString();
  }

  /** Decodes {@link #image(SourceRow)}. */
  public static SourceRow image(String text) {
    Map<String, SourceValue> columns = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = read(text).fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      columns.put(e.getKey(), (SourceValue) sourceValue(e.getValue()));
    }
    return new SourceRow(columns);
  }

  private static JsonNode sourceValue(Object v) {
    if (v instanceof SqliteValue s) {
      return JSON.getNodeFactory().textNode(value(s));
    } else if (v instanceof SourceValue.Timestamp ts) {
      return JSON.createObjectNode().put("ts", ts.iso8601()).put("p", ts.precision().name())
          .put("dp", ts.defaultPrecision().name());
    } else if (v instanceof SourceValue.TimeOfDay t) {
      return JSON.createObjectNode().put("time", t.text()).put("p", t.precision().name());
    } else if (v instanceof SourceValue.SourceArray a) {
      ArrayNode arr = JSON.createArrayNode();
      a.elements().forEach(e -> arr.add(sourceValue(e)));
      return arr;
    } else if (v instanceof Boolean b) {
      return JSON.getNodeFactory().booleanNode(b);
    } else if (v == null) {
      return JSON.getNodeFactory().nullNode();
    }
    throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "cannot store value of type " + v.getClass());
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
      return new SourceValue.Timestamp(n.get("ts").asText(), SourceValue.Precision.valueOf(n.get("p").asText()),
          SourceValue.Precision.valueOf(n.get("dp").asText()));
    } else if (n.has("time")) {
      return new SourceValue.TimeOfDay(n.get("time").asText(), SourceValue.Precision.valueOf(n.get("p").asText()));
    }
    throw new SynclineException(ErrorCode.STORAGE_FAILED, "corrupt stored row image: " + n);
  }

  /** Placements as JSON text. */
  public static String placements(List<Placement> placements) {
    ArrayNode a = JSON.createArrayNode();
    for (Placement p : placements) {
      a.addArray().add(p.bucket()).add(p.table()).add(p.rowId()).add(p.checksum());
    }
    return a.toString();
  }

  /** Decodes {@link #placements(List)}. */
  public static List<Placement> placements(String text) {
    List<Placement> out = new ArrayList<>();
    for (JsonNode p : read(text)) {
      out.add(new Placement(p.get(0).asText(), p.get(1).asText(), p.get(2).asText(), p.get(3).asLong()));
    }
    return out;
  }

  /** Look-up keys as JSON text. */
  public static String lookups(List<ParameterLookup> lookups) {
    ArrayNode a = JSON.createArrayNode();
    lookups.forEach(l -> a.add(lookup(l)));
    return a.toString();
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
      throw new SynclineException(ErrorCode.STORAGE_FAILED, "corrupt stored JSON: " + e.getOriginalMessage(), e);
    }
  }
}
