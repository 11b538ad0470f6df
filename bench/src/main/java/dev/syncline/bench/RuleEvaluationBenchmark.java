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
  SourceRow[] todos;
  SourceRow[] lists;
  SourceRow[] shares;
  SourceRow[] projects;
  TableRef projectsTable = TableRef.of("public", "projects");
  TableRef todosTable = TableRef.of("public", "todos");
  TableRef listsTable = TableRef.of("public", "lists");
  TableRef sharesTable = TableRef.of("public", "list_shares");
  ParameterIndex index;
  RequestContext[] requests;
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
      lists[n] = SourceRow.builder().put("id", listId).put("name", "List " + n)
          .put("owner_id", "user-" + random.nextInt(50)).put("created_at", "2026-11-01 09:00:00Z").build();
      projects[n] = SourceRow.builder().put("id", "project-" + n).put("org_id", "org-" + random.nextInt(20))
          .put("name", "Project " + n).put("code", "prj" + n).put("budget", (long) random.nextInt(100_000))
          .put("created_at", "2026-10-01 12:00:00Z").build();
      shares[n] = SourceRow.builder().put("id", "share-" + n).put("list_id", listId)
          .put("user_id", "user-" + random.nextInt(50)).build();
    }
    index = new ParameterIndex();
    for (int n = 0; n < 100; n++) {
      index.add(rules.evaluateParameterRow(listsTable, lists[n]));
    }
    for (SourceRow share : shares) {
      index.add(rules.evaluateParameterRow(sharesTable, share));
    }
    requests = new RequestContext[64];
    for (int n = 0; n < requests.length; n++) {
      requests[n] = new RequestContext(Map.of("sub", "user-" + (n % 50), "org_id", "org-" + (n % 20)), Map.of());
    }
  }

  /** One connection's bucket list: two table parameter queries and a token-claim query, from an in-memory index. */
  @Benchmark
  public List<ResolvedBucket> request() {
    return rules.querier(requests[i++ & 63]).allBuckets(index);
  }

  /** One todo row: lands in two definitions' buckets, two JSON encodings. */
  @Benchmark
  public RowEvaluation dataRow() {
    return rules.evaluateRow(todosTable, todos[i++ & 1023]);
  }

  /** One project row: read by exactly one data query (computed columns, parameterized bucket). */
  @Benchmark
  public RowEvaluation dataRowOneQuery() {
    return rules.evaluateRow(projectsTable, projects[i++ & 1023]);
  }

  /** One list row through the parameter queries (parameter-index entries). */
  @Benchmark
  public ParameterEvaluation parameterRow() {
    return rules.evaluateParameterRow(listsTable, lists[i++ & 1023]);
  }

  /** One share row through the parameter queries. */
  @Benchmark
  public ParameterEvaluation parameterRowShares() {
    return rules.evaluateParameterRow(sharesTable, shares[i++ & 1023]);
  }
}
