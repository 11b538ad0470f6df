package dev.syncline.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.SynclineException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConformanceRunnerTest {
  private static final String VECTORS =
      """
      {"format_version": 1, "area": "test", "count": 2, "cases": [
        {"id": "ok", "area": "test", "description": "", "kind": "row", "default_schema": "public",
         "yaml": "bucket_definitions:\\n  g:\\n    data:\\n      - SELECT id, n FROM t\\n",
         "input": {"table": {"schema": "public", "name": "t"}, "row": {"id": "a", "n": 2.0}},
         "expected": {"valid": true, "diagnostics": [], "errors": [],
           "rows": [{"bucket": "g[]", "table": "t", "id": "a", "data": {"id": "a", "n": 2.0},
                     "data_json": "{\\"id\\":\\"a\\",\\"n\\":2.0}"}]}},
        {"id": "wrong", "area": "test", "description": "", "kind": "row", "default_schema": "public",
         "yaml": "bucket_definitions:\\n  g:\\n    data:\\n      - SELECT id, n FROM t\\n",
         "input": {"table": {"schema": "public", "name": "t"}, "row": {"id": "a", "n": 2}},
         "expected": {"valid": true, "diagnostics": [], "errors": [],
           "rows": [{"bucket": "g[]", "table": "t", "id": "a", "data": {"id": "a", "n": 2.0},
                     "data_json": "{\\"id\\":\\"a\\",\\"n\\":2.0}"}]}}
      ]}
      """;

  @Test
  void prints_each_failed_case_and_the_summary_last(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("cases.json"), VECTORS);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int failed = ConformanceRunner.run(dir, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
    assertThat(failed).isEqualTo(1);
    assertThat(lines).hasSize(2);
    assertThat(lines[0]).startsWith("FAIL cases.json wrong: rows:");
    assertThat(lines[1]).isEqualTo("1 passed, 1 failed");
  }

  @Test
  void a_missing_directory_is_a_typed_error(@TempDir Path dir) {
    assertThatThrownBy(() -> ConformanceRunner.run(dir.resolve("nope"), System.out))
        .isInstanceOf(SynclineException.class)
        .hasMessageContaining("conformance vector directory not found");
  }
}
