package dev.syncline.testkit;

import static dev.syncline.testkit.SyncRulesAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.rules.InclusionReason;
import dev.syncline.api.rules.RequestContext.Subscription;
import dev.syncline.api.rules.ResolvedBucket;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How an application unit-tests Sync Streams (edition 3): projects with members, issues and
 * comments, reached through nested subqueries, a three-table join, a shared common table expression
 * and subscriptions.
 */
class ProjectStreamsExampleTest {
  static final String RULES =
      """
      config:
        edition: 3
      with:
        my_projects: SELECT project_id FROM members WHERE user_id = auth.user_id()
      streams:
        projects:
          auto_subscribe: true
          priority: 1
          query: SELECT * FROM projects WHERE id IN my_projects
        issue_comments:
          auto_subscribe: true
          query: >-
            SELECT * FROM comments WHERE issue_id IN
              (SELECT id FROM issues WHERE project_id IN (SELECT project_id FROM members WHERE user_id = auth.user_id()))
        joined_comments:
          query: >-
            SELECT comments.* FROM comments, issues, members
            WHERE comments.issue_id = issues.id AND issues.project_id = members.project_id
              AND members.user_id = auth.user_id()
        project_issues:
          query: >-
            SELECT * FROM issues WHERE project_id = subscription.parameter('project')
              AND project_id IN my_projects AND NOT archived
        enabled_todos:
          auto_subscribe: true
          query: >-
            SELECT todos.* FROM todos, settings
            WHERE todos.owner_id = auth.user_id() AND settings.user_id = auth.user_id() AND settings.sync_todos
      """;

  SyncRulesTester tester =
      SyncRulesTester.of(RULES)
          .row("projects", Map.of("id", "p1", "name", "Apollo"))
          .row("projects", Map.of("id", "p2", "name", "Gemini"))
          .row("members", Map.of("id", "m1", "project_id", "p1", "user_id", "alice"))
          .row("members", Map.of("id", "m2", "project_id", "p2", "user_id", "bob"))
          .row("issues", Map.of("id", "i1", "project_id", "p1", "archived", false))
          .row("issues", Map.of("id", "i2", "project_id", "p1", "archived", true))
          .row("issues", Map.of("id", "i3", "project_id", "p2", "archived", false))
          .row("comments", Map.of("id", "c1", "issue_id", "i1", "body", "first"))
          .row("comments", Map.of("id", "c2", "issue_id", "i3", "body", "bob's"))
          .row("todos", Map.of("id", "t1", "owner_id", "alice"))
          .row("settings", Map.of("id", "s1", "user_id", "alice", "sync_todos", true));

  @Test
  void nested_subqueries_reach_exactly_the_members_comments() {
    assertThat(tester.forUser("alice"))
        .receivesExactly("projects", "p1")
        .receivesExactly("comments", "c1")
        .hasNoErrors();
    assertThat(tester.forUser("bob"))
        .receivesExactly("projects", "p2")
        .receivesExactly("comments", "c2");
    assertThat(tester.forUser("mallory")).receivesExactly("projects").receivesExactly("comments");
  }

  @Test
  void a_three_table_join_is_resolved_in_stages_like_the_nested_subquery() {
    SyncRulesTester.UserView alice =
        tester.forUser("alice", List.of(new Subscription("joined_comments", Map.of(), null)));
    assertThat(alice.bucketNames())
        .contains("joined_comments|0[\"i1\"]")
        .doesNotContain("joined_comments|0[\"i3\"]");
    assertThat(alice.rows("comments")).extracting(SyncedRow::id).containsOnly("c1");
  }

  @Test
  void a_subscription_parameter_is_constrained_by_membership_and_row_filters() {
    SyncRulesTester.UserView alice =
        tester.forUser(
            "alice",
            List.of(
                new Subscription("project_issues", Map.of("project", "p1"), 0),
                new Subscription("project_issues", Map.of("project", "p2"), null)));
    // p2 is Bob's: asking for it yields no bucket, so nothing of it can arrive.
    assertThat(alice.bucketNames())
        .contains("project_issues|0[\"p1\"]")
        .noneMatch(b -> b.contains("p2"));
    assertThat(alice.rows("issues")).extracting(SyncedRow::id).containsOnly("i1");
    ResolvedBucket issues =
        alice.buckets().stream()
            .filter(b -> b.bucket().name().startsWith("project_issues"))
            .findFirst()
            .orElseThrow();
    assertThat(issues.priority()).isZero();
    // Twice, as PowerSync lists it: the project id comes from the subscription and from the
    // membership look-up, and the bucket is found through each.
    assertThat(issues.reasons())
        .containsExactly(new InclusionReason.Subscription(0), new InclusionReason.Subscription(0));
    ResolvedBucket projects =
        alice.buckets().stream()
            .filter(b -> b.bucket().name().startsWith("projects"))
            .findFirst()
            .orElseThrow();
    assertThat(projects.priority()).isEqualTo(1);
    assertThat(projects.reasons()).containsExactly(InclusionReason.DEFAULT);
  }

  @Test
  void a_joined_table_without_a_link_gates_the_stream() {
    assertThat(tester.forUser("alice")).receivesExactly("todos", "t1");
    SyncRulesTester off =
        tester.row("settings", Map.of("id", "s1", "user_id", "alice", "sync_todos", false));
    assertThat(off.forUser("alice")).receivesExactly("todos");
  }

  @Test
  void identical_subqueries_share_one_look_up() {
    String explain = tester.rules().explain();
    assertThat(explain)
        .contains("stream issue_comments (edition 3, subscribed by default, priority 3)")
        .contains("look-up lookup#0 [table public.members");
    // members by user: the common table expression, the nested subquery and the join all use the
    // same look-up.
    assertThat(
            explain
                .lines()
                .filter(
                    l ->
                        l.contains("look-up lookup#")
                            && l.contains("table public.members")
                            && l.contains("keyed by"))
                .map(l -> l.substring(l.indexOf("lookup#"), l.indexOf(' ', l.indexOf("lookup#"))))
                .distinct())
        .containsExactly("lookup#0");
  }

  @Test
  void explain_says_where_a_row_lands_and_what_it_indexes() {
    String comment = tester.explain("comments", Map.of("id", "c1", "issue_id", "i1"));
    assertThat(comment).contains("issue_comments|0: `SELECT * FROM comments").contains("[\"i1\"]");
    String member =
        tester.explain("members", Map.of("id", "m1", "project_id", "p1", "user_id", "alice"));
    assertThat(member).contains("indexes this row under [\"alice\"] holding {\"0\":\"p1\"}");
    String archived =
        tester.explain("issues", Map.of("id", "i2", "project_id", "p1", "archived", true));
    assertThat(archived).contains("project_issues|0").contains("does not match this row");
  }
}
