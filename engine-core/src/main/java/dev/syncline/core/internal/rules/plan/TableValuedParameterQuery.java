package dev.syncline.core.internal.rules.plan;

import dev.syncline.core.internal.rules.Messages;
import dev.syncline.core.internal.rules.eval.JsJson;
import dev.syncline.core.internal.rules.eval.SqlValues;
import dev.syncline.core.internal.rules.plan.ClauseCompiler.AvailableTable;
import dev.syncline.core.internal.rules.sql.Ast;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A parameter query over a table-valued function of the request, e.g. {@code FROM json_each(...)}.
 * Immutable.
 */
final class TableValuedParameterQuery implements ParameterQuery {
  private final Map<String, Clause.ParameterValue> parameterExtractors;
  private final int priority;
  private final List<String> bucketParameters;
  private final String queryId;
  private final Clause.@Nullable ParameterValue filter;
  private final Clause.@Nullable ParameterValue callClause;
  private final String callTable;
  private final boolean fixedJson;
  final boolean dangerous;

  private TableValuedParameterQuery(
      Map<String, Clause.ParameterValue> parameterExtractors,
      int priority,
      List<String> bucketParameters,
      String queryId,
      Clause.@Nullable ParameterValue filter,
      Clause.@Nullable ParameterValue callClause,
      String callTable,
      boolean fixedJson) {
    this.parameterExtractors = parameterExtractors;
    this.priority = priority;
    this.bucketParameters = bucketParameters;
    this.queryId = queryId;
    this.filter = filter;
    this.callClause = callClause;
    this.callTable = callTable;
    this.fixedJson = fixedJson;
    QuerySupport.RequestUsage bucketUsage = new QuerySupport.RequestUsage();
    bucketUsage.acceptAll(parameterExtractors.values());
    bucketUsage.accept(callClause);
    QuerySupport.RequestUsage all = new QuerySupport.RequestUsage();
    all.accept(filter);
    all.acceptAll(parameterExtractors.values());
    all.accept(callClause);
    this.dangerous = all.unauthenticated && !bucketUsage.authenticated;
  }

  static TableValuedParameterQuery compile(
      String sql,
      Ast.Select q,
      Ast.FromCall from,
      QueryContext ctx,
      String queryId,
      List<SqlProblem> problems)
      throws QueryException {
    if (!from.call().name().equals("json_each") || from.call().schema() != null) {
      throw new QueryException(
          SqlProblem.fatal(
              Messages.tableValuedFunctionNotDefined(from.call().name()),
              from.span().start(),
              from.span().end()));
    }
    AvailableTable callTable = new AvailableTable(from.call().name(), from.alias());
    ClauseCompiler tools =
        new ClauseCompiler(
            callTable,
            List.of(
                new AvailableTable("token_parameters", null),
                new AvailableTable("user_parameters", null),
                callTable),
            null,
            sql,
            false,
            true,
            null,
            ctx.functions(),
            ctx.exactIntegerLiterals());
    Clause filter = tools.compileParameterValueExtractor(q.where());
    Ast.Expr callExpr = from.call().args().isEmpty() ? null : from.call().args().get(0);
    Clause callClause = tools.compileParameterValueExtractor(callExpr);
    List<String> bucketParameters = new ArrayList<>();
    for (Ast.Column c : q.columns()) {
      bucketParameters.add(tools.outputName(c));
    }
    Integer priority = ctx.priority();
    Map<String, Clause.ParameterValue> extractors = new LinkedHashMap<>();
    for (Ast.Column c : q.columns()) {
      tools.checkAliasCase(c);
      String name = tools.specificOutputName(c);
      if (name.equals("_priority")) {
        priority = tools.extractPriority(c.expr());
        continue;
      }
      Clause extractor = tools.compileParameterValueExtractor(c.expr());
      if (extractor instanceof Clause.ParameterValue p) {
        extractors.put(name, p);
      }
    }
    problems.addAll(tools.problems);
    TableValuedParameterQuery query =
        new TableValuedParameterQuery(
            extractors,
            priority == null ? 3 : priority,
            List.copyOf(bucketParameters),
            queryId,
            filter instanceof Clause.ParameterValue p ? p : null,
            callClause instanceof Clause.ParameterValue p ? p : null,
            callTable.nameInSchema(),
            ctx.compatibility().fixedJson());
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

  /** {@code json_each}: one row (key, value) per element or member. */
  private List<Map<String, @Nullable Object>> jsonEach(@Nullable Object value) {
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof String text)) {
      throw new IllegalArgumentException(
          "Expected json_each to be called with a string, got " + value);
    }
    Object parsed;
    try {
      parsed = JsJson.parsePlain(text);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Expected JSON string");
    }
    List<Map<String, @Nullable Object>> rows = new ArrayList<>();
    if (parsed instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        rows.add(row((long) i, list.get(i)));
      }
    } else if (parsed instanceof Map<?, ?> map) {
      @SuppressWarnings("unchecked")
      Map<String, Object> obj = (Map<String, Object>) map;
      for (String k : JsJson.jsKeys(obj)) {
        rows.add(row(k, obj.get(k)));
      }
    } else {
      rows.add(row(null, parsed));
    }
    return rows;
  }

  private Map<String, @Nullable Object> row(@Nullable Object key, @Nullable Object value) {
    Map<String, @Nullable Object> m = new LinkedHashMap<>();
    m.put("key", key);
    m.put("value", SqlValues.fromJson(value, fixedJson));
    return m;
  }

  @Override
  public List<BucketDescription> staticBuckets(RequestParameters parameters) {
    if (filter == null || callClause == null) {
      return List.of();
    }
    List<BucketDescription> result = new ArrayList<>();
    for (Map<String, @Nullable Object> row : jsonEach(callClause.lookup(parameters))) {
      RequestParameters merged = parameters.withTable(callTable, row);
      if (!SqlValues.truthy(filter.lookup(merged))) {
        continue;
      }
      Map<String, @Nullable Object> values = new LinkedHashMap<>();
      for (String name : bucketParameters) {
        Clause.ParameterValue extractor = parameterExtractors.get(name);
        Object v = extractor == null ? null : extractor.lookup(merged);
        if (!SqlValues.isJsonValue(v)) {
          throw new IllegalArgumentException("Invalid parameter value: " + v);
        }
        values.put("bucket." + name, v);
      }
      result.add(
          new BucketDescription(
              DataQuery.serializeBucketParameters(bucketParameters, values), priority));
    }
    return result;
  }
}
