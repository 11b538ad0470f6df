package dev.syncline.core.rules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.internal.rules.plan.CompiledSyncRules;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Golden tests for the initial-snapshot queries the compiler renders with jOOQ. */
class SnapshotPlanTest {
  private static Map<TablePattern, String> plans(String yaml) {
    return ((CompiledSyncRules)
            SyncRulesCompiler.compile(SyncRulesSource.ofYaml(yaml, "rules.yaml")))
        .snapshotSql();
  }

  private static String plan(Map<TablePattern, String> plans, String table) {
    return plans.get(new TablePattern("default", "public", table));
  }

  @Test
  void only_the_columns_the_rules_read_are_selected() {
    var plans =
        plans(
            """
        bucket_definitions:
          g:
            data:
              - SELECT id, upper(title) AS title FROM todos WHERE done = 0
        """);
    assertThat(plan(plans, "todos"))
        .isEqualTo("select \"id\", \"title\", \"done\" from \"public\".\"todos\"");
  }

  @Test
  void select_star_reads_every_column() {
    var plans =
        plans(
            """
        bucket_definitions:
          g:
            data:
              - SELECT * FROM todos
        """);
    assertThat(plan(plans, "todos")).isEqualTo("select * from \"public\".\"todos\"");
  }

  @Test
  void rows_that_cannot_match_any_bucket_are_not_read() {
    var plans =
        plans(
            """
        bucket_definitions:
          owned:
            parameters: SELECT id AS list_id FROM lists WHERE owner_id = request.user_id()
            data:
              - SELECT * FROM todos WHERE list_id = bucket.list_id
          assigned:
            parameters: SELECT request.user_id() AS user_id
            data:
              - SELECT * FROM todos WHERE assignee_id = bucket.user_id AND archived_at IS NOT NULL
        """);
    assertThat(plan(plans, "todos"))
        .isEqualTo(
            "select * from \"public\".\"todos\" where (\"list_id\" is not null "
                + "or (\"assignee_id\" is not null and \"archived_at\" is not null))");
    assertThat(plan(plans, "lists"))
        .isEqualTo(
            "select \"id\", \"owner_id\" from \"public\".\"lists\" "
                + "where \"owner_id\" is not null");
  }

  @Test
  void a_query_without_a_null_excluding_condition_reads_every_row() {
    var plans =
        plans(
            """
        bucket_definitions:
          owned:
            parameters: SELECT request.user_id() AS user_id
            data:
              - SELECT * FROM todos WHERE owner_id = bucket.user_id
          everything:
            data:
              - SELECT id FROM todos WHERE title = 'x'
        """);
    assertThat(plan(plans, "todos")).isEqualTo("select * from \"public\".\"todos\"");
  }

  @Test
  void explain_prints_every_plan() {
    String explain =
        SyncRulesCompiler.compile(
                SyncRulesSource.ofYaml(
                    """
        bucket_definitions:
          owned:
            parameters: SELECT id AS list_id FROM lists WHERE owner_id = request.user_id()
            data:
              - SELECT * FROM todos WHERE list_id = bucket.list_id
        """,
                    "rules.yaml"))
            .explain();
    assertThat(explain)
        .contains("bucket definition owned (bucket owned[\"<list_id>\"])")
        .contains(
            "parameter query #1 [table public.lists, looked up by [request.user_id()]] priority 3")
        .contains(
            "data query [table public.todos as todos, columns [*], matched on [bucket.list_id]]")
        .contains("public.todos: select * from \"public\".\"todos\" where \"list_id\" is not null");
  }
}
