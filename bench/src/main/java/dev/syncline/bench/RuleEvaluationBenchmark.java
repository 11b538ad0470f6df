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
 * Throughput of evaluating replicated rows against a realistic rules file: 4 definitions over 5 tables,
 * parameterized buckets, data JSON encoding included. One thread (one core).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
public class RuleEvaluationBenchmark {
  static final String RULES = """
      bucket_definitions:
        owned_lists:
          parameters: SELECT id AS list_id FROM lists WHERE owner_id = request.user_id()
          data:
            - SELECT * FROM lists WHERE id = bucket.list_id
            - SELECT * FROM todos WHERE list_id = bucket.list_id
        shared_lists:
          parameters: SELECT list_id FROM list_shares WHERE user_id = request.user_id()
          data:
            - SELECT * FROM lists WHERE id = bucket.list_id
            - SELECT id, description, completed, list_id FROM todos WHERE list_id = bucket.list_id
        org_projects:
          parameters: SELECT request.jwt() ->> 'org_id' AS org_id
          data:
            - SELECT id, name, upper(code) AS code, budget * 1.0 AS budget FROM projects WHERE org_id = bucket.org_id
        profiles:
          priority: 1
          data:
            - SELECT id, display_name, length(display_name) AS name_length FROM users
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
    requests = BenchRows.requests(n -> List.of());
  }

  /** One connection's bucket list: two table parameter queries and a token-claim query, from an in-memory index. */
  @Benchmark
  public List<ResolvedBucket> request() {
    return rules.querier(requests[i++ & 63]).allBuckets(index);
  }

  /** One todo row: lands in two definitions' buckets, two JSON encodings. */
  @Benchmark
  public RowEvaluation dataRow() {
    return rules.evaluateRow(BenchRows.TODOS, rows.todos[i++ & 1023]);
  }

  /** One project row: read by exactly one data query (computed columns, parameterized bucket). */
  @Benchmark
  public RowEvaluation dataRowOneQuery() {
    return rules.evaluateRow(BenchRows.PROJECTS, rows.projects[i++ & 1023]);
  }

  /** One list row through the parameter queries (parameter-index entries). */
  @Benchmark
  public ParameterEvaluation parameterRow() {
    return rules.evaluateParameterRow(BenchRows.LISTS, rows.lists[i++ & 1023]);
  }

  /** One share row through the parameter queries. */
  @Benchmark
  public ParameterEvaluation parameterRowShares() {
    return rules.evaluateParameterRow(BenchRows.SHARES, rows.shares[i++ & 1023]);
  }
}
