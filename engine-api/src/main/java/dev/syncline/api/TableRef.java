package dev.syncline.api;

import java.util.Objects;

/**
 * A concrete source table.
 *
 * @param connectionTag the source connection ({@code default} for the single-source case)
 * @param schema the schema, e.g. {@code public}
 * @param name the table name
 */
public record TableRef(String connectionTag, String schema, String name) {
  /** The connection tag used when there is a single source. */
  public static final String DEFAULT_TAG = "default";

  /** Validates the components. */
  public TableRef {
    Objects.requireNonNull(connectionTag, "connectionTag");
    Objects.requireNonNull(schema, "schema");
    Objects.requireNonNull(name, "name");
  }

  /** A table of the default connection. */
  public static TableRef of(String schema, String name) {
    return new TableRef(DEFAULT_TAG, schema, name);
  }

  @Override
  public String toString() {
    return schema + "." + name;
  }
}
