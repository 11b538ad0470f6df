package dev.syncline.api.rules;

import dev.syncline.api.SqliteValue;
import java.util.List;
import java.util.Objects;

/**
 * A key of the parameter index: which parameter query ({@code scope}) and the values a row or a
 * request matched on. Storage keeps, per key, the bucket parameter rows that source rows produced.
 *
 * @param scope identifies the parameter query within one rules version (e.g. {@code by_list#1})
 * @param values the key values (TEXT, INTEGER, REAL or NULL)
 */
public record ParameterLookup(String scope, List<SqliteValue> values) {
  /** Copies the values. */
  public ParameterLookup {
    Objects.requireNonNull(scope, "scope");
    values = List.copyOf(values);
  }
}
