package dev.syncline.bench;

import dev.syncline.api.rules.ParameterEvaluation;
import dev.syncline.api.rules.ParameterLookupSource;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.rules.ResolvedBucket;
import dev.syncline.api.rules.RowEvaluation;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
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
 * Throughput of evaluating replicated rows and requests against a rules file over {@link
 * BenchRows}: the same benchmarks for bucket definitions ({@link RuleEvaluationBenchmark}) and Sync
 * Streams ({@link StreamEvaluationBenchmark}), so their figures compare. One thread (one core).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
public abstract class EvaluationBenchmark {
  SyncRules rules;
  BenchRows rows;
  ParameterLookupSource index;
  RequestContext[] requests;
  int i;

  /** The rules file. */
  abstract String rulesYaml();

  /** The stream subscriptions of request {@code n}. */
  List<RequestContext.Subscription> subscriptions(int n) {
    return List.of();
  }

  @Setup
  public void setup() {
    rules = SyncRulesCompiler.compile(SyncRulesSource.ofYaml(rulesYaml(), "bench.yaml"));
    rows = new BenchRows();
    index = rows.index(rules);
    requests = BenchRows.requests(this::subscriptions);
  }

  /** One todo row: every query or variant reading todos, with their JSON encodings. */
  @Benchmark
  public RowEvaluation dataRow() {
    return rules.evaluateRow(BenchRows.TODOS, rows.todos[i++ & 1023]);
  }

  /**
   * One project row: read by exactly one query (computed columns, a bucket parameter from a token
   * claim).
   */
  @Benchmark
  public RowEvaluation dataRowOneQuery() {
    return rules.evaluateRow(BenchRows.PROJECTS, rows.projects[i++ & 1023]);
  }

  /** One list row through everything indexing lists (parameter-index entries). */
  @Benchmark
  public ParameterEvaluation parameterRow() {
    return rules.evaluateParameterRow(BenchRows.LISTS, rows.lists[i++ & 1023]);
  }

  /** One share row through everything indexing shares. */
  @Benchmark
  public ParameterEvaluation parameterRowShares() {
    return rules.evaluateParameterRow(BenchRows.SHARES, rows.shares[i++ & 1023]);
  }

  /**
   * One connection's bucket list, answered from an in-memory parameter index of 100 lists and 1,024
   * shares.
   */
  @Benchmark
  public List<ResolvedBucket> request() {
    return rules.querier(requests[i++ & 63]).allBuckets(index);
  }
}
