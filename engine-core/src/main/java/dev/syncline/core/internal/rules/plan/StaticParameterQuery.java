package dev.syncline.core.internal.rules.plan;

import dev.syncline.core.internal.rules.Messages;
import dev.syncline.core.internal.rules.eval.SqlValues;
import dev.syncline.core.internal.rules.plan.ClauseCompiler.AvailableTable;
import dev.syncline.core.internal.rules.sql.Ast;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** A parameter query without FROM: buckets computed from the request alone. Immutable. */
final class StaticParameterQuery implements ParameterQuery {
  private final Map<String, Clause.ParameterValue> parameterExtractors;
  private final int priority;
  private final List<String> bucketParameters;
  private final String queryId;
  private final Clause.@Nullable ParameterValue filter;
  final boolean dangerous;

  private StaticParameterQuery(
      Map<String, Clause.ParameterValue> parameterExtractors,
      int priority,
      List<String> bucketParameters,
      String queryId,
      Clause.@Nullable ParameterValue filter) {
    this.parameterExtractors = parameterExtractors;
    this.priority = priority;
    this.bucketParameters = bucketParameters;
    this.queryId = queryId;
    this.filter = filter;
    QuerySupport.RequestUsage bucketUsage = new QuerySupport.RequestUsage();
    bucketUsage.acceptAll(parameterExtractors.values());
    QuerySupport.RequestUsage all = new QuerySupport.RequestUsage();
    all.accept(filter);
    all.acceptAll(parameterExtractors.values());
    this.dangerous = all.unauthenticated && !bucketUsage.authenticated;
  }

  static StaticParameterQuery compile(
      String sql, Ast.Select q, QueryContext ctx, String queryId, List<SqlProblem> problems)
      throws QueryException {
    ClauseCompiler tools =
        new ClauseCompiler(
            null,
            List.of(
                new AvailableTable("token_parameters", null),
                new AvailableTable("user_parameters", null)),
            null,
            sql,
            false,
            true,
            null,
            ctx.functions(),
            ctx.exactIntegerLiterals());
    Clause filter = tools.compileParameterValueExtractor(q.where());
    List<String> bucketParameters = new ArrayList<>();
    for (Ast.Column c : q.columns()) {
      String name = tools.outputName(c);
      if (!name.equals("_priority")) {
        bucketParameters.add(name);
      }
    }
    Integer priority = ctx.priority();
    Map<String, Clause.ParameterValue> extractors = new LinkedHashMap<>();
    for (Ast.Column c : q.columns()) {
      tools.checkAliasCase(c);
      String name = tools.specificOutputName(c);
      if (name.equals("_priority")) {
        if (priority != null) {
          problems.add(
              SqlProblem.fatal(Messages.CANNOT_SET_PRIORITY_MULTIPLE_TIMES, 0, sql.length()));
          continue;
        }
        priority = tools.extractPriority(c.expr());
        continue;
      }
      Clause extractor = tools.compileParameterValueExtractor(c.expr());
      if (extractor instanceof Clause.ParameterValue p) {
        extractors.put(name, p);
      }
    }
    problems.addAll(tools.problems);
    StaticParameterQuery query =
        new StaticParameterQuery(
            extractors,
            priority == null ? 3 : priority,
            List.copyOf(bucketParameters),
            queryId,
            filter instanceof Clause.ParameterValue p ? p : null);
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

  @Override
  public List<BucketDescription> staticBuckets(RequestParameters parameters) {
    if (filter == null) {
      return List.of();
    }
    if (!SqlValues.truthy(filter.lookup(parameters))) {
      return List.of();
    }
    Map<String, @Nullable Object> values = new LinkedHashMap<>();
    for (String name : bucketParameters) {
      Clause.ParameterValue extractor = parameterExtractors.get(name);
      Object v = extractor == null ? null : extractor.lookup(parameters);
      if (!SqlValues.isJsonValue(v)) {
        return List.of();
      }
      values.put("bucket." + name, v);
    }
    return List.of(
        new BucketDescription(
            DataQuery.serializeBucketParameters(bucketParameters, values), priority));
  }
}
