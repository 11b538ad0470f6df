package dev.syncline.core.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.Problem;
import dev.syncline.api.rules.Severity;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesException;
import dev.syncline.api.rules.SyncRulesSource;
import java.util.List;
import java.util.Map;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/**
 * Every kind of bad rules input gives a {@link SyncRulesException} listing every problem at its
 * exact position. Carets mark where a problem must point: {@code ^...^} is removed from the YAML
 * and must enclose the problem's range.
 */
class SyncRulesErrorsTest {
  private static List<Problem> problems(String yamlWithCarets) {
    String yaml = yamlWithCarets.replace("^", "");
    SyncRulesException e =
        catchThrowableOfType(
            SyncRulesException.class,
            () -> SyncRulesCompiler.compile(SyncRulesSource.ofYaml(yaml, "rules.yaml")));
    assertThat(e).as("compiling should fail").isNotNull();
    assertThat(e.code()).isEqualTo(ErrorCode.SYNC_RULES_INVALID);
    return e.problems();
  }

  /** Asserts a fatal problem with this message spans exactly the caret-marked text. */
  private static void assertFails(String yamlWithCarets, String message) {
    int start = yamlWithCarets.indexOf('^');
    int end = yamlWithCarets.indexOf('^', start + 1) - 1;
    assertThat(start).as("test needs two carets").isNotNegative();
    List<Problem> problems = problems(yamlWithCarets);
    assertThat(problems)
        .as("problems")
        .anySatisfy(
            p -> {
              assertThat(p.severity()).isEqualTo(Severity.FATAL);
              assertThat(p.message()).startsWith(message);
              assertThat(p.start()).as("start").isEqualTo(start);
              assertThat(p.end()).as("end").isEqualTo(end);
            });
  }

  @Test
  void invalid_yaml_is_reported_at_its_line() {
    List<Problem> problems =
        problems(
            """
        bucket_definitions:
          global:
            data:
              - SELECT * FROM todos
             - SELECT * FROM lists
        """);
    assertThat(problems)
        .anySatisfy(
            p -> {
              assertThat(p.severity()).isEqualTo(Severity.FATAL);
              assertThat(p.line()).isIn(4, 5);
            });
  }

  @Test
  void duplicate_keys_are_reported_at_the_second_key() {
    assertFails(
        """
        bucket_definitions:
          a:
            data: [SELECT * FROM todos]
          ^a^:
            data: [SELECT * FROM lists]
        """,
        "Map keys must be unique");
  }

  @Test
  void unknown_keys_are_rejected() {
    assertThat(
            problems(
                """
        bucket_definitions:
          b:
            paramters: SELECT request.user_id() AS user_id
            data: [SELECT * FROM todos]
        """))
        .extracting(Problem::message)
        .contains("must NOT have additional properties");
  }

  @Test
  void sql_syntax_errors_point_at_the_offending_token() {
    assertFails(
        """
        bucket_definitions:
          global:
            data:
              - SELECT id title, ^FROM^ todos
        """,
        "Syntax error at line 1 col 18");
  }

  @Test
  void unknown_functions_are_named() {
    assertFails(
        """
        bucket_definitions:
          global:
            data:
              - SELECT id, ^reverse(title)^ AS r FROM todos
        """,
        "Function 'reverse' is not defined");
  }

  /**
   * Bucket definitions check no argument count, as the reference does (extra arguments are
   * ignored); edition-3 streams do.
   */
  @Test
  void wrong_arity_is_an_error_in_edition_3_streams_only() {
    assertThat(
            SyncRulesCompiler.compile(
                    SyncRulesSource.ofYaml(
                        """
                        bucket_definitions:
                          global:
                            data:
                              - SELECT id, upper(title, 'x') AS r FROM todos
                        """,
                        "rules.yaml"))
                .evaluateRow(
                    TableRef.of("public", "todos"),
                    SourceRow.builder().put("id", "t").put("title", "tea").build())
                .rows())
        .singleElement()
        .satisfies(r -> assertThat(r.data()).isEqualTo("{\"id\":\"t\",\"r\":\"TEA\"}"));
    assertFails(
        """
        config:
          edition: 3
        streams:
          s:
            auto_subscribe: true
            query: SELECT id, ^upper(title, 'x')^ AS r FROM todos
        """,
        "Expected at most 1 arguments");
  }

  @Test
  void unsupported_casts_and_operators_are_errors() {
    assertFails(
        """
        bucket_definitions:
          global:
            data:
              - SELECT id, ^CAST(created_at AS date)^ AS d FROM todos
        """,
        "CAST not supported for 'date'");
    assertFails(
        """
        bucket_definitions:
          global:
            data:
              - SELECT * FROM todos WHERE ^title LIKE 'a%'^
        """,
        "Operator not supported: LIKE");
  }

  @Test
  void a_data_query_without_id_is_an_error() {
    assertFails(
        """
        bucket_definitions:
          global:
            data:
              - SELECT ^title^, done FROM todos
        """,
        "Query must return an \"id\" column");
  }

  @Test
  void a_query_must_use_every_bucket_parameter() {
    assertFails(
        """
        bucket_definitions:
          b:
            parameters: SELECT request.user_id() AS user_id
            data:
              - ^SELECT * FROM todos^
        """,
        "Query must cover all bucket parameters. Expected: [\"bucket.user_id\"] Got: []");
  }

  @Test
  void buckets_chosen_only_by_the_client_are_rejected_unless_the_definition_opts_in() {
    assertFails(
        """
        bucket_definitions:
          by_project:
            parameters: ^SELECT request.parameters() ->> 'project' AS project_id^
            data:
              - SELECT * FROM todos WHERE project_id = bucket.project_id
        """,
        "Potentially dangerous query");
    SyncRules accepted =
        SyncRulesCompiler.compile(
            SyncRulesSource.ofYaml(
                """
        bucket_definitions:
          by_project:
            accept_potentially_dangerous_queries: true
            parameters: SELECT request.parameters() ->> 'project' AS project_id
            data:
              - SELECT * FROM todos WHERE project_id = bucket.project_id
        """,
                "rules.yaml"));
    assertThat(accepted.warnings()).isEmpty();
    SyncRules warned =
        SyncRulesCompiler.builder()
            .warnOnDangerousQueries()
            .build()
            .compileRules(
                SyncRulesSource.ofYaml(
                    """
            bucket_definitions:
              by_project:
                parameters: SELECT request.parameters() ->> 'project' AS project_id
                data:
                  - SELECT * FROM todos WHERE project_id = bucket.project_id
            """,
                    "rules.yaml"));
    assertThat(warned.warnings()).extracting(Problem::severity).containsExactly(Severity.WARNING);
  }

  @Test
  void every_stream_problem_is_listed_with_line_and_column() {
    assertThat(
            problems(
                """
        config:
          edition: 3
        streams:
          a:
            query: SELECT * FROM todos WHERE title LIKE 'x%'
          b:
            query: SELECT id, random() AS r FROM lists WHERE owner = request.user_id()
        """))
        .extracting(Problem::message, Problem::line, Problem::column)
        .containsExactlyInAnyOrder(
            Tuple.tuple("LIKE expressions are not currently supported.", 5, 38),
            Tuple.tuple("Forbidden call: Sync definitions must be deterministic.", 7, 23),
            Tuple.tuple("Invalid schema in function name", 7, 62));
  }

  @Test
  void a_join_condition_the_planner_cannot_use_is_an_error_never_ignored() {
    // Ignoring the cycle's third condition (or a join condition mixed with a request value) would
    // sync more rows
    // than the query allows.
    // (the second as the reference words it: one side of the = reads a table and the request)
    Map<String, String> cases =
        Map.of(
            "a.x = b.x AND b.y = c.y AND c.z = a.z AND c.o = auth.user_id()",
            "Unsupported join condition",
            "a.x = b.y + auth.parameter('k') AND b.o = auth.user_id()",
            "This expression already references row data");
    cases.forEach(
        (where, message) ->
            assertThat(
                    problems(
                        "config:\n  edition: 3\nstreams:\n  s:\n    query: SELECT a.* FROM a, b, c"
                            + " WHERE "
                            + where
                            + "\n"))
                .filteredOn(p -> p.severity() == Severity.FATAL)
                .extracting(Problem::message)
                .anySatisfy(m -> assertThat(m).startsWith(message)));
  }

  @Test
  void a_stream_only_client_parameters_decide_is_refused_unless_accepted() {
    String stream =
        "config:\n  edition: 3\nstreams:\n  s:\n%s    query: SELECT * FROM todos WHERE list_id = "
            + "subscription.parameter('list')\n";
    assertThat(problems(stream.formatted("")))
        .extracting(Problem::message)
        .anySatisfy(
            m ->
                assertThat(m)
                    .startsWith("Clients can send any value")
                    .contains("accept_potentially"));
    assertThat(
            SyncRulesCompiler.compile(
                    SyncRulesSource.ofYaml(
                        stream.formatted("    accept_potentially_dangerous_queries: true\n"),
                        "ok.yaml"))
                .warnings())
        .isEmpty();
    assertThat(
            SyncRulesCompiler.builder()
                .warnOnDangerousQueries()
                .build()
                .compileRules(SyncRulesSource.ofYaml(stream.formatted(""), "warn.yaml"))
                .warnings())
        .extracting(Problem::severity)
        .containsExactly(Severity.WARNING);
    // Constrained by the token, the subscription parameter only selects among the user's own lists.
    assertThat(
            SyncRulesCompiler.compile(
                    SyncRulesSource.ofYaml(
                        stream
                            .formatted("")
                            .replace("\n    query:", "\n    query:")
                            .replace(
                                "('list')\n",
                                "('list') AND list_id IN (SELECT id FROM lists WHERE owner = "
                                    + "auth.user_id())\n"),
                        "constrained.yaml"))
                .warnings())
        .isEmpty();
  }

  @Test
  void a_stream_selects_the_columns_of_one_table() {
    for (String columns :
        List.of("todos.*, lists.name", "todos.id, lists.*", "todos.id, upper(lists.name) AS n")) {
      assertThat(
              problems(
                  "config:\n  edition: 3\nstreams:\n  s:\n    query: SELECT "
                      + columns
                      + " FROM todos, lists "
                      + "WHERE todos.list_id = lists.id AND lists.owner = auth.user_id()\n"))
          .extracting(Problem::message)
          .as(columns)
          .contains("Result columns must all come from one table, todos");
    }
  }

  @Test
  void common_table_expression_problems_are_reported_once_where_they_are_written() {
    assertThat(
            problems(
                """
        config:
          edition: 3
        with:
          mine: SELECT id FROM lists WHERE owner LIKE 'a%'
          loop: SELECT id FROM lists WHERE id IN loop
        streams:
          a:
            query: SELECT * FROM todos WHERE list_id IN mine
          b:
            query: SELECT * FROM notes WHERE list_id IN mine OR list_id IN loop
        """))
        .extracting(Problem::message, Problem::line)
        // Only where they are written, as the reference reports them (not again where used).
        // Inside its own definition, "loop" is a column of lists, as the reference reads it.
        .containsExactly(Tuple.tuple("LIKE expressions are not currently supported.", 4));
  }

  @Test
  void every_problem_is_listed_across_definitions_with_line_and_column() {
    SyncRulesException e =
        catchThrowableOfType(
            SyncRulesException.class,
            () ->
                SyncRulesCompiler.compile(
                    SyncRulesSource.ofYaml(
                        """
            bucket_definitions:
              a:
                data:
                  - SELECT * FROM todos ORDER BY id
              b:
                parameters: SELECT nope() AS x
                data:
                  - SELECT * FROM lists WHERE y = bucket.x
              c:
                data: nope
            """,
                        "rules.yaml")));
    assertThat(e.problems())
        .extracting(Problem::line, Problem::column, Problem::message)
        .contains(
            Tuple.tuple(4, 38, "ORDER BY is not supported"),
            Tuple.tuple(6, 24, "Function 'nope' is not defined"),
            Tuple.tuple(10, 11, "'data' must be an array"));
    assertThat(e.getMessage()).contains("rules.yaml:4:38: fatal: ORDER BY is not supported");
  }

  @Test
  void positions_are_exact_inside_quoted_and_block_scalars() {
    assertFails(
        """
        bucket_definitions:
          b:
            data:
              - "SELECT id, \\"Title\\", ^nope(x)^ AS y FROM todos"
        """,
        "Function 'nope' is not defined");
    assertFails(
        """
        bucket_definitions:
          b:
            data:
              - |
                SELECT id,
                  ^nope(x)^ AS y
                FROM todos
        """,
        "Function 'nope' is not defined");
  }

  @Test
  void an_empty_document_is_an_error() {
    assertThatThrownBy(() -> SyncRulesCompiler.compile(SyncRulesSource.ofYaml("", "empty.yaml")))
        .isInstanceOf(SyncRulesException.class)
        .hasMessageContaining("'bucket_definitions' or 'streams' is required");
  }
}
