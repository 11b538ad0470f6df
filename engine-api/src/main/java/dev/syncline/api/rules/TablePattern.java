package dev.syncline.api.rules;

import dev.syncline.api.TableRef;
import java.util.Objects;

/**
 * A table the rules read: an exact name or a prefix ending in {@code %}, in a schema that is an
 * exact name or a prefix ending in {@code %} ({@code "%".todos} reads {@code todos} in every
 * schema, for one-schema-per-tenant databases).
 *
 * @param connectionTag the source connection, {@code default} for a single source
 * @param schema the schema, or a prefix followed by {@code %}
 * @param tablePattern the table name, or a prefix followed by {@code %}
 */
public record TablePattern(String connectionTag, String schema, String tablePattern) {
  /** Validates the components. */
  public TablePattern {
    Objects.requireNonNull(connectionTag, "connectionTag");
    Objects.requireNonNull(schema, "schema");
    Objects.requireNonNull(tablePattern, "tablePattern");
  }

  /** Whether the table name is a prefix pattern. */
  public boolean isWildcard() {
    return tablePattern.endsWith("%");
  }

  /** Whether the schema is a prefix pattern ({@code "%".todos}: every schema). */
  public boolean isSchemaWildcard() {
    return schema.endsWith("%");
  }

  /** Whether a schema name is matched by this pattern's schema. */
  public boolean matchesSchema(String schemaName) {
    return isSchemaWildcard()
        ? schemaName.startsWith(schema.substring(0, schema.length() - 1))
        : schema.equals(schemaName);
  }

  /** Whether {@code table} is matched by this pattern. */
  public boolean matches(TableRef table) {
    if (!connectionTag.equals(table.connectionTag()) || !matchesSchema(table.schema())) {
      return false;
    }
    if (isWildcard()) {
      return table.name().startsWith(tablePattern.substring(0, tablePattern.length() - 1));
    }
    return tablePattern.equals(table.name());
  }

  @Override
  public String toString() {
    return schema + "." + tablePattern;
  }
}
