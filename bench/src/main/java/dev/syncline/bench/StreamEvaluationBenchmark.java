package dev.syncline.bench;

import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
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
import java.util.SplittableRandom;
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
  SourceRow[] todos;
  SourceRow[] lists;
  SourceRow[] shares;
  SourceRow[] projects;
  ParameterIndex index;
  RequestContext[] requests;
  TableRef projectsTable = TableRef.of("public", "projects");
  TableRef todosTable = TableRef.of("public", "todos");
  TableRef listsTable = TableRef.of("public", "lists");
  TableRef sharesTable = TableRef.of("public", "list_shares");
  int i;

  @Setup
  public void setup() {
    rules = SyncRulesCompiler.compile(SyncRulesSource.ofYaml(RULES, "bench.yaml"));
    SplittableRandom random = new SplittableRandom(1);
    todos = new SourceRow[1024];
    lists = new SourceRow[1024];
    shares = new SourceRow[1024];
    projects = new SourceRow[1024];
    for (int n = 0; n < todos.length; n++) {
      String listId = "list-" + random.nextInt(100);
      todos[n] = SourceRow.builder()
          .put("id", "7c2d1e00-0000-4000-8000-" + String.format("%012d", n))
          .put("created_at", "2026-11-01 09:05:00Z")
          .put("completed_at", (String) null)
          .put("description", "Buy milk and bread #" + n)
          .put("completed", n % 2)
          .put("created_by", "user-" + random.nextInt(50))
          .put("completed_by", (String) null)
          .put("list_id", listId)
          .put("priority_score", Math.round(random.nextDouble() * 1000) / 100.0)
          .build();
      lists[n] = SourceRow.builder().put("id", "list-" + (n % 100)).put("name", "List " + n)
          .put("owner_id", "user-" + random.nextInt(50)).put("created_at", "2026-11-01 09:00:00Z").build();
      projects[n] = SourceRow.builder().put("id", "project-" + n).put("org_id", "org-" + random.nextInt(20))
          .put("name", "Project " + n).put("code", "prj" + n).put("budget", (long) random.nextInt(100_000))
          .put("created_at", "2026-10-01 12:00:00Z").build();
      shares[n] = SourceRow.builder().put("id", "share-" + n).put("list_id", listId)
          .put("user_id", "user-" + random.nextInt(50)).build();
    }
    // A parameter index holding 100 lists and 1024 shares, as storage would after replication.
    index = new ParameterIndex();
    for (int n = 0; n < 100; n++) {
      index.add(rules.evaluateParameterRow(listsTable, lists[n]));
    }
    for (SourceRow share : shares) {
      index.add(rules.evaluateParameterRow(sharesTable, share));
    }
    requests = new RequestContext[64];
    for (int n = 0; n < requests.length; n++) {
      requests[n] = new RequestContext(Map.of("sub", "user-" + (n % 50), "org_id", "org-" + (n % 20)), Map.of(),
          true, List.of(new RequestContext.Subscription("co_owned_todos", Map.of("list", "list-" + n), null)));
    }
  }

  /** One todo row: a join variant, a subquery variant and a nested-subquery variant → 3 rows, 2 encodings. */
  @Benchmark
  public RowEvaluation dataRow() {
    return rules.evaluateRow(todosTable, todos[i++ & 1023]);
  }

  /** One project row: one variant (computed columns, a bucket parameter from a token claim). */
  @Benchmark
  public RowEvaluation dataRowOneQuery() {
    return rules.evaluateRow(projectsTable, projects[i++ & 1023]);
  }

  /** One list row through every look-up reading lists (the join's and the nested subquery's). */
  @Benchmark
  public ParameterEvaluation parameterRow() {
    return rules.evaluateParameterRow(listsTable, lists[i++ & 1023]);
  }

  /** One share row through every look-up reading shares. */
  @Benchmark
  public ParameterEvaluation parameterRowShares() {
    return rules.evaluateParameterRow(sharesTable, shares[i++ & 1023]);
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
