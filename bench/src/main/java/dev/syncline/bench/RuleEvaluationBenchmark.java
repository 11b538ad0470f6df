package dev.syncline.bench;

/**
 * {@link EvaluationBenchmark} on a realistic bucket-definitions file: 4 definitions over 5 tables,
 * parameterized buckets (table parameter queries, a JWT-claim static query), computed columns, a
 * priority.
 */
public class RuleEvaluationBenchmark extends EvaluationBenchmark {
  static final String RULES =
      """
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

  @Override
  String rulesYaml() {
    return RULES;
  }
}
