package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.TableRef;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.internal.rules.sql.Ast;
import java.util.List;
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

  /** Suffix of a concrete table matched by a wildcard pattern. */
  static String suffix(TablePattern pattern, String tableName) {
    if (!pattern.isWildcard()) {
      return "";
    }
    return tableName.substring(pattern.tablePattern().length() - 1);
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
