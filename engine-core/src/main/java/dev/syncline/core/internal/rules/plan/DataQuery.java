package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.TableRef;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.internal.rules.Messages;
import dev.syncline.core.internal.rules.eval.JsJson;
import dev.syncline.core.internal.rules.eval.SqlValues;
import dev.syncline.core.internal.rules.plan.ClauseCompiler.AvailableTable;
import dev.syncline.core.internal.rules.sql.Ast;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * A compiled data query of a bucket definition: which rows, which columns, which bucket parameters.
 * Immutable.
 */
final class DataQuery {
  /** One output column. */
  sealed interface Extractor permits ColumnExtractor, StarExtractor {}

  /**
   * A named output column.
   *
   * @param sourceColumn for a bare column reference, the column it reads (absent columns are
   *     omitted from the output); else null
   */
  record ColumnExtractor(String name, Clause.RowValue value, @Nullable String sourceColumn)
      implements Extractor {}

  /** {@code SELECT *}: every source column not starting with an underscore. */
  record StarExtractor() implements Extractor {}

  private static final Object UNDEFINED = new Object();

  final TablePattern sourceTable;
  final AvailableTable table;
  final String sql;
  final Clause.ParameterMatch filter;
  private final List<Extractor> extractors;
  final List<String> bucketParameters;
  private final List<String> bucketKeys;
  final Ast.Select select;

  private DataQuery(
      TablePattern sourceTable,
      AvailableTable table,
      String sql,
      Clause.ParameterMatch filter,
      List<Extractor> extractors,
      List<String> bucketParameters,
      Ast.Select select) {
    this.sourceTable = sourceTable;
    this.table = table;
    this.sql = sql;
    this.filter = filter;
    this.extractors = extractors;
    this.bucketParameters = bucketParameters;
    this.bucketKeys = bucketParameters.stream().map(p -> "bucket." + p).toList();
    this.select = select;
  }

  static DataQuery compile(
      List<String> bucketParameters,
      String sql,
      Ast.Statement statement,
      QueryContext ctx,
      List<SqlProblem> problems)
      throws QueryException {
    Ast.Select q = QuerySupport.requireSelect(sql, statement);
    problems.addAll(QuerySupport.unsupportedFeatures(sql, q));
    if (q.from().size() != 1 || !(q.from().get(0) instanceof Ast.FromTable from)) {
      Ast.Span at = q.from().isEmpty() ? new Ast.Span(0, sql.length()) : q.from().get(0).span();
      throw new QueryException(
          SqlProblem.fatal(Messages.MUST_SELECT_FROM_A_SINGLE_TABLE, at.start(), at.end()));
    }
    AvailableTable alias = new AvailableTable(from.name().name(), from.alias());
    TablePattern sourceTable = TableRefs.pattern(from.name(), ctx.defaultSchema());
    List<String> columns = null;
    if (ctx.schema() != null) {
      columns = ctx.columnsOf(sourceTable);
      if (columns == null) {
        problems.add(
            SqlProblem.warning(
                Messages.tableNotFound(sourceTable), from.span().start(), from.span().end()));
      }
    }
    ClauseCompiler tools =
        new ClauseCompiler(
            alias,
            List.of(new AvailableTable("bucket", null)),
            List.of(alias),
            sql,
            false,
            false,
            TableRefs.querySchema(columns, alias.nameInSchema()),
            ctx.functions(),
            ctx.exactIntegerLiterals());
    if (from.alias() == null) {
      tools.checkNameCase(from.name());
    }
    Clause.ParameterMatch filter = tools.compileWhere(q.where());

    List<String> inputNames =
        filter.inputParameters().stream().map(Clause.InputParameter::key).toList();
    List<String> bucketNames = bucketParameters.stream().map(p -> "bucket." + p).toList();
    Set<String> all = new LinkedHashSet<>(inputNames);
    all.addAll(bucketNames);
    if ((!filter.error() && all.size() != filter.inputParameters().size())
        || all.size() != bucketParameters.size()) {
      problems.add(
          SqlProblem.fatal(
              Messages.queryMustCoverAllBucketParameters(
                  JsJson.stringifyPlain(bucketNames), JsJson.stringifyPlain(inputNames)),
              q.span().start(),
              q.span().end()));
    }

    boolean hasId = false;
    boolean hasWildcard = false;
    List<Extractor> extractors = new ArrayList<>();
    for (Ast.Column column : q.columns()) {
      String name = tools.outputName(column);
      if (!name.equals("*")) {
        Clause clause = tools.compileRowValueExtractor(column.expr());
        if (clause instanceof Clause.ErrorClause) {
          continue;
        }
        String sourceColumn =
            column.expr() instanceof Ast.Ref ref && tools.isTableRef(ref) ? ref.name() : null;
        extractors.add(new ColumnExtractor(name, (Clause.RowValue) clause, sourceColumn));
      } else {
        extractors.add(new StarExtractor());
      }
      if (name.equals("id")) {
        hasId = true;
      } else if (name.equals("*")) {
        hasWildcard = true;
        if (columns == null || columns.contains("id")) {
          hasId = true;
        }
      }
    }
    if (!hasId) {
      Ast.Span at =
          q.columns().isEmpty() ? new Ast.Span(0, sql.length()) : q.columns().get(0).span();
      problems.add(
          hasWildcard
              ? SqlProblem.warning(Messages.QUERY_MUST_RETURN_AN_ID_COLUMN, at.start(), at.end())
              : SqlProblem.fatal(Messages.QUERY_MUST_RETURN_AN_ID_COLUMN, at.start(), at.end()));
    }
    problems.addAll(tools.problems);
    return new DataQuery(
        sourceTable, alias, sql, filter, List.copyOf(extractors), List.copyOf(bucketParameters), q);
  }

  boolean applies(TableRef table) {
    return sourceTable.matches(table);
  }

  /** The output table name for a concrete source table. */
  String outputTable(TableRef table) {
    if (sourceTable.isWildcard() && !table().isAliased()) {
      return table.name();
    }
    return table().sqlName();
  }

  AvailableTable table() {
    return table;
  }

  /** Result of evaluating one row: bucket parameter strings and the output. */
  record Output(
      String table,
      String id,
      Map<String, @Nullable Object> data,
      List<String> serializedParameters) {}

  /**
   * Whether the query is {@code SELECT * FROM t ...}: its output is the row minus underscore
   * columns and BLOBs.
   */
  boolean selectsStarOnly() {
    return extractors.size() == 1 && extractors.get(0) instanceof StarExtractor;
  }

  /**
   * Whether {@code SELECT *} outputs the row unchanged: no underscore columns, no BLOBs, no
   * integer-like column names (which JavaScript would reorder).
   */
  static boolean isPlainRow(Map<String, @Nullable Object> row) {
    for (Map.Entry<String, @Nullable Object> e : row.entrySet()) {
      String k = e.getKey();
      if (k.startsWith("_")
          || e.getValue() instanceof byte[]
          || (!k.isEmpty() && Character.isDigit(k.charAt(0)))) {
        return false;
      }
    }
    return true;
  }

  /** Evaluates the row; throws on evaluation errors (the caller reports them). */
  @Nullable Output evaluate(TableRef sourceTableRef, Map<String, @Nullable Object> row) {
    return evaluate(sourceTableRef, row, false);
  }

  /**
   * Evaluates the row; with {@code plainRow} (see {@link #isPlainRow}) a star-only query returns
   * the row itself as its data, unmodified and shared.
   */
  @Nullable Output evaluate(
      TableRef sourceTableRef, Map<String, @Nullable Object> row, boolean plainRow) {
    Map<String, @Nullable Object> tableRow = row;
    if (sourceTable.isWildcard()) {
      tableRow = new LinkedHashMap<>(row);
      tableRow.put("_table_suffix", TableRefs.suffix(sourceTable, sourceTableRef.name()));
    }
    List<Map<String, @Nullable Object>> matches = filter.filterRow(tableRow);
    if (matches.isEmpty()) {
      return null;
    }
    List<String> serialized = new ArrayList<>(matches.size());
    for (Map<String, @Nullable Object> m : matches) {
      serialized.add(serializeBucketKeys(bucketKeys, m));
    }
    Map<String, @Nullable Object> data =
        plainRow && selectsStarOnly() && !sourceTable.isWildcard()
            ? row
            : transform(extractors, tableRow);
    String id = SqlValues.idText(data.get("id"));
    return new Output(outputTable(sourceTableRef), id, data, serialized);
  }

  /**
   * Applies the output columns to a row: JavaScript's key order, BLOBs and absent columns dropped.
   */
  static Map<String, @Nullable Object> transform(
      List<Extractor> extractors, Map<String, @Nullable Object> row) {
    Map<String, @Nullable Object> out =
        new LinkedHashMap<>(Math.max(extractors.size(), row.size()) * 4 / 3 + 2);
    boolean dropSome = false;
    for (Extractor e : extractors) {
      if (e instanceof ColumnExtractor c) {
        Object value;
        if (c.sourceColumn != null && !row.containsKey(c.sourceColumn)) {
          // JavaScript's undefined: keeps the key's position but is omitted when written.
          value = UNDEFINED;
        } else {
          value = c.value.evaluate(row);
        }
        dropSome |= value == UNDEFINED || value instanceof byte[];
        out.put(c.name, value);
      } else if (out.isEmpty() && !JsJson.hasIndexKeys(row)) {
        for (Map.Entry<String, @Nullable Object> entry : row.entrySet()) {
          String key = entry.getKey();
          if (!key.startsWith("_")) {
            Object value = entry.getValue();
            dropSome |= value instanceof byte[];
            out.put(key, value);
          }
        }
      } else {
        dropSome = true;
        for (String key : JsJson.jsKeyOrder(row)) {
          if (key.startsWith("_")) {
            continue;
          }
          Object existing = out.get(key);
          if (existing == null || existing == UNDEFINED) {
            out.put(key, row.get(key));
          }
        }
      }
    }
    if (dropSome) {
      out.values().removeIf(v -> v == UNDEFINED || !SqlValues.isJsonValue(v));
    }
    return out;
  }

  /** The JSON array of bucket parameter values, as the reference renders bucket ids. */
  static String serializeBucketParameters(
      List<String> names, Map<String, @Nullable Object> params) {
    return serializeBucketKeys(names.stream().map(n -> "bucket." + n).toList(), params);
  }

  /** {@link #serializeBucketParameters} with the {@code bucket.<name>} keys precomputed. */
  static String serializeBucketKeys(List<String> keys, Map<String, @Nullable Object> params) {
    if (keys.isEmpty()) {
      return "[]";
    }
    StringBuilder sb = new StringBuilder(16 + 24 * keys.size()).append('[');
    for (int i = 0; i < keys.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      JsJson.write(sb, params.get(keys.get(i)), false);
    }
    return sb.append(']').toString();
  }

  List<String> columnNames() {
    return extractors.stream()
        .map(e -> e instanceof ColumnExtractor c ? c.name : "*")
        .collect(Collectors.toList());
  }
}
