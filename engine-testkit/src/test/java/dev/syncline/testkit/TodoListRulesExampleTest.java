package dev.syncline.testkit;

import static dev.syncline.testkit.SyncRulesAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How an application unit-tests its own sync rules: a todo-list app with owned and shared lists.
 */
class TodoListRulesExampleTest {
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
            - SELECT * FROM todos WHERE list_id = bucket.list_id
        announcements:
          priority: 0
          data:
            - SELECT id, title FROM announcements
      """;

  SyncRulesTester tester =
      SyncRulesTester.of(RULES)
          .row("lists", Map.of("id", "l1", "owner_id", "alice", "name", "Groceries"))
          .row("lists", Map.of("id", "l2", "owner_id", "bob", "name", "Bob's secrets"))
          .row("list_shares", Map.of("id", "s1", "list_id", "l1", "user_id", "carol"))
          .row(
              "todos",
              Map.of("id", "t1", "list_id", "l1", "description", "Milk", "completed", false))
          .row(
              "todos",
              Map.of(
                  "id", "t2", "list_id", "l2", "description", "Hide the cake", "completed", true))
          .row(
              "announcements",
              Map.of("id", "a1", "title", "Welcome", "internal_note", "not synced"));

  @Test
  void an_owner_receives_her_lists_and_their_todos() {
    assertThat(tester.forUser("alice"))
        .hasBuckets("owned_lists[\"l1\"]", "announcements[]")
        .receivesExactly("lists", "l1")
        .receivesExactly("todos", "t1")
        .hasNoErrors();
  }

  @Test
  void a_user_never_receives_someone_elses_private_list() {
    assertThat(tester.forUser("alice")).doesNotReceive("lists", "l2").doesNotReceive("todos", "t2");
    assertThat(tester.forUser("mallory")).receivesExactly("lists").receivesExactly("todos");
  }

  @Test
  void a_shared_list_arrives_through_the_share() {
    assertThat(tester.forUser("carol"))
        .hasBuckets("shared_lists[\"l1\"]", "announcements[]")
        .receivesExactly("todos", "t1");
  }

  @Test
  void removing_the_share_removes_the_bucket() {
    tester.truncate("list_shares");
    assertThat(tester.forUser("carol")).hasBuckets("announcements[]").receivesExactly("todos");
  }

  @Test
  void announcements_have_the_highest_priority_and_only_the_selected_columns() {
    SyncRulesTester.UserView view = tester.forUser("alice");
    assertThat(view).hasBucketWithPriority("announcements[]", 0);
    SyncedRow row = view.rows("announcements").get(0);
    assertThat(row.data()).isEqualTo("{\"id\":\"a1\",\"title\":\"Welcome\"}");
  }

  @Test
  void booleans_arrive_as_integers_like_in_sqlite() {
    SyncedRow todo = tester.forUser("alice").rows("todos").get(0);
    assertThat(todo.get("completed")).isEqualTo(0L);
  }

  @Test
  void explain_says_where_a_row_lands_and_why_not_elsewhere() {
    String explanation = tester.explain("todos", Map.of("id", "t9", "list_id", "l2"));
    assertThat(explanation)
        .contains(
            "owned_lists: `SELECT * FROM todos WHERE list_id = bucket.list_id` puts it into "
                + "[owned_lists[\"l2\"]] as todos/t9")
        .contains("announcements: no data query reads public.todos");
    String missing = tester.explain("todos", Map.of("id", "t9"));
    assertThat(missing).contains("does not match this row").contains("list_id=<absent>");
  }
}
