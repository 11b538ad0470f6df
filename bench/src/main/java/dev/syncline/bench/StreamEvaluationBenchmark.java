package dev.syncline.bench;

import dev.syncline.api.rules.RequestContext;
import java.util.List;
import java.util.Map;

/**
 * {@link EvaluationBenchmark} on the edition-3 Sync Streams counterpart of {@link
 * RuleEvaluationBenchmark}'s rules, with a join and a nested subquery; each request also subscribes
 * to the nested-subquery stream (two rounds of look-ups).
 */
public class StreamEvaluationBenchmark extends EvaluationBenchmark {
  static final String RULES =
      """
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
          accept_potentially_dangerous_queries: true
          query: >-
            SELECT * FROM todos WHERE list_id IN (SELECT id FROM lists WHERE owner_id IN
              (SELECT user_id FROM list_shares WHERE list_id = subscription.parameter('list')))
      """;

  @Override
  String rulesYaml() {
    return RULES;
  }

  @Override
  List<RequestContext.Subscription> subscriptions(int n) {
    return List.of(
        new RequestContext.Subscription("co_owned_todos", Map.of("list", "list-" + n), null));
  }
}
