package dev.syncline.examples.rules;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads sample rows: a JSON file holds an array of objects; a CSV file has a header line, then one
 * row per line (an empty field is NULL, integers and decimals become INTEGER and REAL, everything
 * else TEXT).
 */
final class RowFiles {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.USE_LONG_FOR_INTS);
  private static final Pattern INTEGER = Pattern.compile("-?\\d{1,18}");
  private static final Pattern REAL = Pattern.compile("-?\\d+\\.\\d+([eE][-+]?\\d+)?");

  private RowFiles() {}

  static List<Map<String, @Nullable Object>> parse(String fileName, String content) {
    try {
      if (fileName.endsWith(".json")) {
        Object parsed = JSON.readValue(content, Object.class);
        if (!(parsed instanceof List<?> list)) {
          throw new SynclineException(
              ErrorCode.INVALID_INPUT_FILE, fileName + ": expected a JSON array of objects");
        }
        List<Map<String, @Nullable Object>> rows = new ArrayList<>();
        for (Object o : list) {
          if (!(o instanceof Map<?, ?> m)) {
            throw new SynclineException(
                ErrorCode.INVALID_INPUT_FILE, fileName + ": every row must be a JSON object");
          }
          Map<String, @Nullable Object> row = new LinkedHashMap<>();
          for (Map.Entry<?, ?> e : m.entrySet()) {
            Object v = e.getValue();
            row.put(
                String.valueOf(e.getKey()), v instanceof Map || v instanceof List ? toJson(v) : v);
          }
          rows.add(row);
        }
        return rows;
      } else if (fileName.endsWith(".csv")) {
        return csv(fileName, content);
      }
    } catch (IOException e) {
      throw new SynclineException(
          ErrorCode.INVALID_INPUT_FILE, fileName + ": " + e.getMessage(), e);
    }
    throw new SynclineException(
        ErrorCode.INVALID_INPUT_FILE, fileName + ": rows must be in .json or .csv files");
  }

  private static String toJson(Object v) throws IOException {
    return JSON.writeValueAsString(v);
  }

  private static List<Map<String, @Nullable Object>> csv(String fileName, String content) {
    List<List<String>> records = records(content);
    if (records.isEmpty()) {
      return List.of();
    }
    List<String> header = records.get(0);
    List<Map<String, @Nullable Object>> rows = new ArrayList<>();
    for (int i = 1; i < records.size(); i++) {
      List<String> r = records.get(i);
      if (r.size() == 1 && r.get(0).isEmpty()) {
        continue;
      }
      if (r.size() != header.size()) {
        throw new SynclineException(
            ErrorCode.INVALID_INPUT_FILE,
            fileName
                + ": line "
                + (i + 1)
                + " has "
                + r.size()
                + " fields, the header has "
                + header.size());
      }
      Map<String, @Nullable Object> row = new LinkedHashMap<>();
      for (int c = 0; c < header.size(); c++) {
        row.put(header.get(c), typed(r.get(c)));
      }
      rows.add(row);
    }
    return rows;
  }

  private static @Nullable Object typed(String field) {
    if (field.isEmpty()) {
      return null;
    } else if (INTEGER.matcher(field).matches()) {
      return Long.parseLong(field);
    } else if (REAL.matcher(field).matches()) {
      return Double.parseDouble(field);
    }
    return field;
  }

  /** RFC 4180 records: quoted fields may contain commas, quotes ("") and line breaks. */
  private static List<List<String>> records(String content) {
    List<List<String>> records = new ArrayList<>();
    List<String> record = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < content.length(); i++) {
      char c = content.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < content.length() && content.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        record.add(field.toString());
        field.setLength(0);
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && i + 1 < content.length() && content.charAt(i + 1) == '\n') {
          i++;
        }
        record.add(field.toString());
        field.setLength(0);
        records.add(record);
        record = new ArrayList<>();
      } else {
        field.append(c);
      }
    }
    if (field.length() > 0 || !record.isEmpty()) {
      record.add(field.toString());
      records.add(record);
    }
    return records;
  }
}
