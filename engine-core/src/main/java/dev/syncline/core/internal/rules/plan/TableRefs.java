package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.TableRef;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.internal.rules.sql.Ast;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Helpers for FROM tables. */
final class TableRefs {
  private TableRefs() {}

  /** The pattern a FROM name denotes; a schema like {@code tag.schema} names a connection. */
  static TablePattern pattern(Ast.QName name, String defaultSchema) {
    String schema = name.schema() != null ? name.schema() : defaultSchema;
    String tag = TableRef.DEFAULT_TAG;
    int dot = schema.indexOf('.');
    if (dot >= 0) {
      tag = schema.substring(0, dot);
      schema = schema.substring(dot + 1);
    }
    return new TablePattern(tag, schema, name.name());
  }

  /**
   * Row keys under which a stream row carries its source table's metadata ({@code t.schema()},
   * {@code t.table_name()}, {@code t.table_suffix()}): no source column can have these names
   * (identifiers hold no NUL), and like every key starting with {@code _} they are never output by
   * {@code SELECT *}.
   */
  static final String SCHEMA_KEY = "_\u0000schema";

  static final String TABLE_NAME_KEY = "_\u0000table_name";
  static final String TABLE_SUFFIX_KEY = "_\u0000table_suffix";

  /** The row key of a metadata function ({@code schema}, ...), or null when it is none. */
  static @Nullable String metadataKey(String function) {
    return switch (function.toLowerCase(Locale.ROOT)) {
      case "schema" -> SCHEMA_KEY;
      case "table_name" -> TABLE_NAME_KEY;
      case "table_suffix" -> TABLE_SUFFIX_KEY;
      default -> null;
    };
  }

  /**
   * The row a stream evaluates for a source row of {@code table} read through {@code pattern}: the
   * row itself, or a copy with {@code _table_suffix} (wildcard names) and, with {@code metadata},
   * the table's metadata.
   */
  static Map<String, @Nullable Object> streamRow(
      Map<String, @Nullable Object> row, TablePattern pattern, TableRef table, boolean metadata) {
    if (!metadata && !pattern.isWildcard()) {
      return row;
    }
    Map<String, @Nullable Object> out = new LinkedHashMap<>(row);
    String suffix = suffix(pattern, table.name());
    if (pattern.isWildcard()) {
      out.put("_table_suffix", suffix);
    }
    if (metadata) {
      out.put(SCHEMA_KEY, table.schema());
      out.put(TABLE_NAME_KEY, table.name());
      out.put(TABLE_SUFFIX_KEY, suffix);
    }
    return out;
  }

  /** Suffix of a concrete table matched by a wildcard pattern. */
  static String suffix(TablePattern pattern, String tableName) {
    if (!pattern.isWildcard()) {
      return "";
    }
    return tableName.substring(pattern.tablePattern().length() - 1);
  }

  /**
   * The columns of the known tables a pattern matches (in the order first seen), or null when it
   * matches none.
   *
   * @param schema known tables: "schema.table" to column names
   */
  static @Nullable List<String> columns(Map<String, List<String>> schema, TablePattern pattern) {
    List<String> exact = schema.get(pattern.schema() + "." + pattern.tablePattern());
    if (exact != null && !pattern.isWildcard() && !pattern.isSchemaWildcard()) {
      return exact;
    }
    Set<String> columns = null;
    for (Map.Entry<String, List<String>> e : schema.entrySet()) {
      String key = e.getKey();
      int dot = key.indexOf('.');
      TableRef table =
          new TableRef(pattern.connectionTag(), key.substring(0, dot), key.substring(dot + 1));
      if (pattern.matches(table)) {
        if (columns == null) {
          columns = new LinkedHashSet<>();
        }
        columns.addAll(e.getValue());
      }
    }
    return columns == null ? null : List.copyOf(columns);
  }

  /** A schema check for warnings about unknown columns, or null when no schema is known. */
  static ClauseCompiler.@Nullable QuerySchema querySchema(
      @Nullable List<String> columns, String tableName) {
    if (columns == null) {
      return null;
    }
    return (table, column) -> !table.equals(tableName) || columns.contains(column);
  }
}
