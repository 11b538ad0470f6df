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
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A parameter query reading a source table: rows of that table become parameter-index entries, and
 * requests look them up. Immutable.
 */
final class TableParameterQuery implements ParameterQuery {
  final TablePattern sourceTable;
  final AvailableTable table;
  final String sql;
  final Map<String, Clause.RowValue> lookupExtractors;
  final Map<String, Clause.ParameterValue> parameterExtractors;
  private final int priority;
  final Clause.ParameterMatch filter;
  final List<Clause.InputParameter> inputParameters;
  final Clause.@Nullable InputParameter expandedInput;
  private final List<String> bucketParameters;
  private final String queryId;
  final boolean dangerous;

  private TableParameterQuery(
      TablePattern sourceTable,
      AvailableTable table,
      String sql,
      Map<String, Clause.RowValue> lookupExtractors,
      Map<String, Clause.ParameterValue> parameterExtractors,
      int priority,
      Clause.ParameterMatch filter,
      List<String> bucketParameters,
      String queryId) {
    this.sourceTable = sourceTable;
    this.table = table;
    this.sql = sql;
    this.lookupExtractors = lookupExtractors;
    this.parameterExtractors = parameterExtractors;
    this.priority = priority;
    this.filter = filter;
    this.inputParameters = filter.inputParameters();
    this.expandedInput =
        inputParameters.stream().filter(Clause.InputParameter::expands).findFirst().orElse(null);
    this.bucketParameters = bucketParameters;
    this.queryId = queryId;
    QuerySupport.RequestUsage matchUsage = new QuerySupport.RequestUsage();
    matchUsage.accept(filter);
    QuerySupport.RequestUsage bucketUsage = new QuerySupport.RequestUsage();
    bucketUsage.acceptAll(parameterExtractors.values());
    QuerySupport.RequestUsage all = new QuerySupport.RequestUsage();
    all.accept(filter);
    all.acceptAll(parameterExtractors.values());
    this.dangerous = all.unauthenticated && !bucketUsage.authenticated && !matchUsage.authenticated;
  }

  static TableParameterQuery compile(
      String sql,
      Ast.Select q,
      Ast.FromTable from,
      QueryContext ctx,
      String queryId,
      List<SqlProblem> problems)
      throws QueryException {
    AvailableTable alias = new AvailableTable(from.name().name(), from.alias());
    if (alias.isAliased()) {
      problems.add(
          SqlProblem.fatal(
              Messages.TABLE_ALIASES_NOT_SUPPORTED_IN_PARAMETER_QUERIES,
              from.span().start(),
              from.span().end()));
    }
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
            List.of(
                new AvailableTable("token_parameters", null),
                new AvailableTable("user_parameters", null)),
            null,
            sql,
            true,
            true,
            TableRefs.querySchema(columns, alias.nameInSchema()),
            ctx.functions(),
            ctx.exactIntegerLiterals());
    if (from.alias() == null) {
      tools.checkNameCase(from.name());
    }
    Clause.ParameterMatch filter = tools.compileWhere(q.where());
    List<String> bucketParameters = new ArrayList<>();
    for (Ast.Column c : q.columns()) {
      String name = tools.outputName(c);
      if (!name.equals("_priority")) {
        bucketParameters.add(name);
      }
    }
    Integer priority = ctx.priority();
    Map<String, Clause.RowValue> lookupExtractors = new LinkedHashMap<>();
    Map<String, Clause.ParameterValue> parameterExtractors = new LinkedHashMap<>();
    for (Ast.Column c : q.columns()) {
      String name = tools.specificOutputName(c);
      tools.checkAliasCase(c);
      if (name.equals("_priority")) {
        if (priority != null) {
          problems.add(
              SqlProblem.fatal(Messages.CANNOT_SET_PRIORITY_MULTIPLE_TIMES, 0, sql.length()));
          continue;
        }
        priority = tools.extractPriority(c.expr());
      } else if (tools.isTableRef(c.expr())) {
        Clause extractor = tools.compileRowValueExtractor(c.expr());
        if (extractor instanceof Clause.RowValue r) {
          lookupExtractors.put(name, r);
        }
      } else {
        Clause extractor = tools.compileParameterValueExtractor(c.expr());
        if (extractor instanceof Clause.ParameterValue p) {
          parameterExtractors.put(name, p);
        }
      }
    }
    problems.addAll(tools.problems);
    long expanded =
        filter.inputParameters().stream().filter(Clause.InputParameter::expands).count();
    if (expanded > 1) {
      problems.add(
          SqlProblem.fatal(Messages.CANNOT_HAVE_MULTIPLE_ARRAY_INPUT_PARAMETERS, 0, sql.length()));
    }
    TableParameterQuery query =
        new TableParameterQuery(
            sourceTable,
            alias,
            sql,
            lookupExtractors,
            parameterExtractors,
            priority == null ? 3 : priority,
            filter,
            List.copyOf(bucketParameters),
            queryId);
    if (query.dangerous && !ctx.acceptDangerousQueries()) {
      problems.add(QuerySupport.dangerous(ctx, sql));
    }
    return query;
  }

  @Override
  public List<String> bucketParameters() {
    return bucketParameters;
  }

  @Override
  public String queryId() {
    return queryId;
  }

  @Override
  public int priority() {
    return priority;
  }

  boolean applies(TableRef t) {
    return sourceTable.matches(t);
  }

  /** One index entry: key values and the stored bucket parameter rows. */
  record Entry(
      List<@Nullable Object> lookup, List<Map<String, @Nullable Object>> bucketParameters) {}

  /** Evaluates a source row into index entries; throws on evaluation errors. */
  List<Entry> evaluateParameterRow(Map<String, @Nullable Object> row) {
    List<Map<String, @Nullable Object>> matches = filter.filterRow(row);
    List<Entry> result = new ArrayList<>(matches.size());
    for (Map<String, @Nullable Object> m : matches) {
      List<@Nullable Object> key = new ArrayList<>(inputParameters.size());
      for (Clause.InputParameter p : inputParameters) {
        key.add(Values.normalizeParameter(m.get(p.key())));
      }
      Map<String, @Nullable Object> data = new LinkedHashMap<>();
      for (Map.Entry<String, Clause.RowValue> e : lookupExtractors.entrySet()) {
        Object v = e.getValue().evaluate(row);
        if (SqlValues.isJsonValue(v)) {
          data.put(e.getKey(), v);
        }
      }
      result.add(new Entry(key, List.of(data)));
    }
    return result;
  }

  @SuppressWarnings("ReferenceEquality") // identity: the one expanded input of this query
  @Override
  public List<List<@Nullable Object>> lookups(RequestParameters parameters) {
    if (expandedInput == null) {
      List<@Nullable Object> values = new ArrayList<>();
      for (Clause.InputParameter p : inputParameters) {
        Object v = p.parametersToLookupValue(parameters);
        if (!SqlValues.isJsonValue(v)) {
          return List.of();
        }
        values.add(Values.normalizeParameter(v));
      }
      return List.of(values);
    }
    Object arrayText = expandedInput.parametersToLookupValue(parameters);
    if (!(arrayText instanceof String s)) {
      return List.of();
    }
    Object parsed;
    try {
      parsed = JsJson.parsePlain(s);
    } catch (RuntimeException e) {
      return List.of();
    }
    if (!(parsed instanceof List<?> elements)) {
      return List.of();
    }
    List<List<@Nullable Object>> result = new ArrayList<>();
    outer:
    for (Object element : elements) {
      Object normalized = Values.normalizeParameter(element);
      List<@Nullable Object> values = new ArrayList<>();
      for (Clause.InputParameter p : inputParameters) {
        if (p == expandedInput) {
          values.add(normalized);
        } else {
          Object v = p.parametersToLookupValue(parameters);
          if (!SqlValues.isJsonValue(v)) {
            continue outer;
          }
          values.add(Values.normalizeParameter(v));
        }
      }
      result.add(values);
    }
    return result;
  }

  @Override
  public List<BucketDescription> resolve(
      List<Map<String, @Nullable Object>> rows, RequestParameters parameters) {
    List<BucketDescription> result = new ArrayList<>();
    outer:
    for (Map<String, @Nullable Object> row : rows) {
      Map<String, @Nullable Object> values = new LinkedHashMap<>();
      for (String name : bucketParameters) {
        if (lookupExtractors.containsKey(name)) {
          values.put("bucket." + name, row.get(name));
        } else {
          Object v =
              Objects.requireNonNull(
                      parameterExtractors.get(name), "a bucket parameter has an extractor")
                  .lookup(parameters);
          if (!SqlValues.isJsonValue(v)) {
            continue outer;
          }
          values.put("bucket." + name, v);
        }
      }
      result.add(
          new BucketDescription(
              DataQuery.serializeBucketParameters(bucketParameters, values), priority));
    }
    return result;
  }
}
