package dev.syncline.examples.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RulesToolTest {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

  private int run(String... args) {
    return new RulesTool(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run(args);
  }

  private String output() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void without_arguments_it_explains_the_bundled_sample() {
    assertThat(run()).isZero();
    assertThat(output())
        .contains("sample/sync-rules.yaml: OK, 3 definitions")
        .contains("user alice receives 3 buckets:")
        .contains("owned_lists[\"0b7b6c1e-5a7b-4a5e-9f0e-2d0a7f3c1a01\"]")
        .contains("shared_lists[\"0b7b6c1e-5a7b-4a5e-9f0e-2d0a7f3c1a02\"]")
        .contains("todos/7c2d1e00-0000-4000-8000-000000000001")
        .contains("puts it into [owned_lists[\"0b7b6c1e-5a7b-4a5e-9f0e-2d0a7f3c1a03\"]]")
        .contains("alice has none of these buckets.");
    String alice = output().substring(output().indexOf("user alice"), output().indexOf("user bob"));
    assertThat(alice).doesNotContain("Birthday present for Alice");
  }

  @Test
  void check_lists_every_problem_with_line_and_column(@TempDir Path dir) throws IOException {
    Path rules = dir.resolve("rules.yaml");
    Files.writeString(
        rules,
        """
        bucket_definitions:
          a:
            data:
              - SELECT * FROM todos ORDER BY id
          b:
            data:
              - SELECT id, nope(x) AS y FROM todos
        """);
    assertThat(run("check", rules.toString())).isEqualTo(1);
    assertThat(output())
        .contains(rules + ":4:38: fatal: ORDER BY is not supported")
        .contains(rules + ":7:20: fatal: Function 'nope' is not defined");
  }

  @Test
  void explain_reads_json_and_csv_rows(@TempDir Path dir) throws IOException {
    Path rules = dir.resolve("rules.yaml");
    Files.writeString(
        rules,
        """
        bucket_definitions:
          mine:
            parameters: SELECT request.user_id() AS user_id
            data:
              - SELECT * FROM notes WHERE owner = bucket.user_id
        """);
    Path rows = Files.createDirectory(dir.resolve("rows"));
    Files.writeString(
        rows.resolve("notes.csv"), "id,owner,body,stars\nn1,u1,\"hello, world\",3\nn2,u2,x,\n");
    assertThat(run("explain", rules.toString(), "--user", "u1", "--rows", rows.toString()))
        .isZero();
    assertThat(output())
        .contains("mine[\"u1\"]")
        .contains(
            "notes/n1 in mine[\"u1\"]: {\"id\":\"n1\",\"owner\":\"u1\",\"body\":\"hello, world\",\"stars\":3}")
        .doesNotContain("notes/n2");
  }

  @Test
  void explain_takes_stream_subscriptions(@TempDir Path dir) throws IOException {
    Path rules = dir.resolve("streams.yaml");
    Files.writeString(
        rules,
        """
        config:
          edition: 3
        streams:
          mine:
            auto_subscribe: true
            query: SELECT * FROM notes WHERE owner = auth.user_id()
          by_tag:
            query: SELECT * FROM notes WHERE tag = subscription.parameter('tag') AND owner = auth.user_id()
        """);
    Path rows = Files.createDirectory(dir.resolve("rows"));
    Files.writeString(
        rows.resolve("notes.json"),
        """
        [{"id": "n1", "owner": "u1", "tag": "work"}, {"id": "n2", "owner": "u2", "tag": "work"}]
        """);
    assertThat(
            run(
                "explain",
                rules.toString(),
                "--user",
                "u1",
                "--subscribe",
                "by_tag={\"tag\": \"work\"}",
                "--no-defaults",
                "--rows",
                rows.toString()))
        .isZero();
    assertThat(output())
        .contains("user u1 receives 1 buckets:")
        .contains("by_tag|0[\"work\",\"u1\"]  (priority 3, subscription 0)")
        .doesNotContain("mine|0");
  }

  @Test
  void bad_usage_and_unreadable_files_are_reported_without_a_stack_trace(@TempDir Path dir) {
    assertThat(run("frobnicate")).isEqualTo(2);
    assertThat(run("check", dir.resolve("missing.yaml").toString())).isEqualTo(2);
    assertThat(output())
        .contains("usage:")
        .contains("error: [SYNCLINE_A0002] cannot read sync rules file")
        .doesNotContain("Exception");
  }
}
