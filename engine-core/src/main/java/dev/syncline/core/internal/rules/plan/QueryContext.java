package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.internal.rules.eval.SqlFunctions;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What compiling a query needs to know besides its SQL: the default schema, the known source schema
 * (for warnings), compatibility, the definition's options.
 *
 * @param schema known tables: "schema.table" to column names; null when no schema was given
 */
record QueryContext(
    String defaultSchema,
    @Nullable Map<String, List<String>> schema,
    Compatibility compatibility,
    SqlFunctions functions,
    boolean acceptDangerousQueries,
    @Nullable Integer priority,
    boolean dangerousQueriesAreWarnings) {

  /** The columns of the known tables {@code table} matches; null when none or no schema. */
  @Nullable List<String> columnsOf(TablePattern table) {
    return schema == null ? null : TableRefs.columns(schema, table);
  }

  boolean exactIntegerLiterals() {
    return compatibility.edition() >= 3;
  }
}
