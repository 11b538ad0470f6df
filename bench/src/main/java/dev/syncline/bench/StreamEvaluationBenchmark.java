package dev.syncline.bench;

import dev.syncline.api.rules.ParameterEvaluation;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.rules.ResolvedBucket;
import dev.syncline.api.rules.RowEvaluation;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.internal.rules.ParameterIndex;
import dev.syncline.core.rules.SyncRulesCompiler;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of evaluating replicated rows and requests against an edition-3 Sync Streams config with a join and a
 * nested subquery: the streams counterpart of {@link RuleEvaluationBenchmark}, over the same rows. One thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
public class StreamEvaluationBenchmark {
  static final String RULES = """
      config:
        edition: 3
      streams:
        owned_lists:
          auto_subscribe: true
          queries:
            - SELECT * FROM lists WHERE owner_id = auth.user_id()
            - SELECT todos.* FROM todos, lists WHERE todos.list_id = lists.id AND lists.owner_id = auth.user_id()
        shared_lists:
          auto_subscribe: true
          queries:
            - SELECT * FROM lists WHERE id IN (SELECT list_id FROM list_shares WHERE user_id = auth.user_id())
            - SELECT id, description, completed, list_id FROM todos
              WHERE list_id IN (SELECT list_id FROM list_shares WHERE user_id = auth.user_id())
        org_projects:
          auto_subscribe: true
          query: >-
            SELECT id, name, upper(code) AS code, budget * 1.0 AS budget FROM projects
            WHERE org_id = auth.parameter('org_id')
        profiles:
          auto_subscribe: true
          priority: 1
          query: SELECT id, display_name, length(display_name) AS name_length FROM users
        co_owned_todos:
          query: >-
            SELECT * FROM todos WHERE list_id IN (SELECT id FROM lists WHERE owner_id IN
              (SELECT user_id FROM list_shares WHERE list_id = subscription.parameter('list')))
      """;

  SyncRules rules;
  BenchRows rows;
  ParameterIndex index;
  RequestContext[] requests;
  int i;

  @Setup
  public void setup() {
    rules = SyncRulesCompiler.compile(SyncRulesSource.ofYaml(RULES, "bench.yaml"));
    rows = new BenchRows();
    index = rows.index(rules);
    requests = BenchRows.requests(n -> List.of(new RequestContext.Subscription("co_owned_todos", Map.of("list", "list-" + n), null)));
  }

  /** One todo row: a join variant, a subquery variant and a nested-subquery variant → 3 rows, 2 encodings. */
  @Benchmark
  public RowEvaluation dataRow() {
    return rules.evaluateRow(BenchRows.TODOS, rows.todos[i++ & 1023]);
  }

  /** One project row: one variant (computed columns, a bucket parameter from a token claim). */
  @Benchmark
  public RowEvaluation dataRowOneQuery() {
    return rules.evaluateRow(BenchRows.PROJECTS, rows.projects[i++ & 1023]);
  }

  /** One list row through every look-up reading lists (the join's and the nested subquery's). */
  @Benchmark
  public ParameterEvaluation parameterRow() {
    return rules.evaluateParameterRow(BenchRows.LISTS, rows.lists[i++ & 1023]);
  }

  /** One share row through every look-up reading shares. */
  @Benchmark
  public ParameterEvaluation parameterRowShares() {
    return rules.evaluateParameterRow(BenchRows.SHARES, rows.shares[i++ & 1023]);
  }

  /**
   * One connection's bucket list: 4 default streams (two with look-ups) plus a subscription whose nested subquery
   * takes two rounds of look-ups, answered from an in-memory index.
   */
  @Benchmark
  public List<ResolvedBucket> request() {
    return rules.querier(requests[i++ & 63]).allBuckets(index);
  }
}
