package dev.syncline.bench;

import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.ParameterEvaluation;
import dev.syncline.api.rules.ParameterLookupSource;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.rules.SyncRules;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The rows the rule-evaluation benchmarks evaluate (1,024 per table, seeded, so legacy and stream
 * figures compare like with like), and a parameter index built from them as storage would hold it.
 */
final class BenchRows {
  static final TableRef PROJECTS = TableRef.of("public", "projects");
  static final TableRef TODOS = TableRef.of("public", "todos");
  static final TableRef LISTS = TableRef.of("public", "lists");
  static final TableRef SHARES = TableRef.of("public", "list_shares");

  final SourceRow[] todos = new SourceRow[1024];
  final SourceRow[] lists = new SourceRow[1024];
  final SourceRow[] shares = new SourceRow[1024];
  final SourceRow[] projects = new SourceRow[1024];

  BenchRows() {
    SplittableRandom random = new SplittableRandom(1);
    for (int n = 0; n < todos.length; n++) {
      String listId = "list-" + random.nextInt(100);
      todos[n] =
          SourceRow.builder()
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
      lists[n] =
          SourceRow.builder()
              .put("id", "list-" + (n % 100))
              .put("name", "List " + n)
              .put("owner_id", "user-" + random.nextInt(50))
              .put("created_at", "2026-11-01 09:00:00Z")
              .build();
      projects[n] =
          SourceRow.builder()
              .put("id", "project-" + n)
              .put("org_id", "org-" + random.nextInt(20))
              .put("name", "Project " + n)
              .put("code", "prj" + n)
              .put("budget", (long) random.nextInt(100_000))
              .put("created_at", "2026-10-01 12:00:00Z")
              .build();
      shares[n] =
          SourceRow.builder()
              .put("id", "share-" + n)
              .put("list_id", listId)
              .put("user_id", "user-" + random.nextInt(50))
              .build();
    }
  }

  /** The parameter index of 100 lists and every share, as {@code rules} index them. */
  ParameterLookupSource index(SyncRules rules) {
    List<ParameterEvaluation> index = new ArrayList<>();
    for (int n = 0; n < 100; n++) {
      index.add(rules.evaluateParameterRow(LISTS, lists[n]));
    }
    for (SourceRow share : shares) {
      index.add(rules.evaluateParameterRow(SHARES, share));
    }
    return ParameterLookupSource.of(index);
  }

  /** 64 requests of 50 users in 20 orgs, each with {@code subscriptions(n)}. */
  static RequestContext[] requests(
      java.util.function.IntFunction<List<RequestContext.Subscription>> subscriptions) {
    RequestContext[] requests = new RequestContext[64];
    for (int n = 0; n < requests.length; n++) {
      requests[n] =
          new RequestContext(
              Map.of("sub", "user-" + (n % 50), "org_id", "org-" + (n % 20)),
              Map.of(),
              true,
              subscriptions.apply(n));
    }
    return requests;
  }
}
