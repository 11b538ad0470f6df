package dev.syncline.api.rules;

import dev.syncline.api.TableRef;
import java.util.Objects;

/**
 * A table the rules read: an exact name or a prefix ending in {@code %}.
 *
 * @param connectionTag the source connection, {@code default} for a single source
 * @param schema the schema
 * @param tablePattern the table name, or a prefix followed by {@code %}
 */
public record TablePattern(String connectionTag, String schema, String tablePattern) {
  /** Validates the components. */
  public TablePattern {
    Objects.requireNonNull(connectionTag, "connectionTag");
    Objects.requireNonNull(schema, "schema");
    Objects.requireNonNull(tablePattern, "tablePattern");
  }

  /** Whether this is a prefix pattern. */
  public boolean isWildcard() {
    return tablePattern.endsWith("%");
  }

  /** Whether {@code table} is matched by this pattern. */
  public boolean matches(TableRef table) {
    if (!connectionTag.equals(table.connectionTag()) || !schema.equals(table.schema())) {
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
