package dev.syncline.core.rules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.EvaluatedRow;
import dev.syncline.api.rules.EvaluationError;
import dev.syncline.api.rules.RowEvaluation;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesException;
import dev.syncline.api.rules.SyncRulesSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Bucket definitions and Sync Streams compile expressions with one compiler: a seeded random
 * expression over the forms both support gives the same value (or the same refusal) as a bucket
 * definition's data column and as a stream's, for rows with numbers, text, JSON and NULLs.
 */
class ExpressionParityTest {
  private static final TableRef ITEMS = TableRef.of("public", "items");
  private static final List<SourceRow> ROWS =
      List.of(
          SourceRow.builder()
              .put("id", "r1")
              .put("a", 7L)
              .put("b", 2.5)
              .put("s", "Hello")
              .put("j", "{\"k\":3,\"t\":\"x\",\"o\":{\"p\":[1,2]}}")
              .put("n", (String) null)
              .build(),
          SourceRow.builder()
              .put("id", "r2")
              .put("a", -3L)
              .put("b", 0.0)
              .put("s", "")
              .put("j", "[1,2]")
              .put("n", (String) null)
              .build(),
          SourceRow.builder()
              .put("id", "r3")
              .put("a", (String) null)
              .put("b", (String) null)
              .put("s", (String) null)
              .put("j", (String) null)
              .put("n", (String) null)
              .build());

  private static final String[] LEAVES = {
    "a", "b", "s", "n", "0", "1", "12", "2.5", "'x'", "'12'", "NULL", "TRUE", "FALSE", "''"
  };
  private static final String[] BINARY = {
    "+", "-", "*", "/", "||", "=", "!=", "<", ">", "<=", ">=", "AND", "OR"
  };
  private static final String[] CASTS = {"text", "integer", "real", "numeric"};
  private static final String[] FUNCTIONS = {"upper", "lower", "length", "typeof", "hex", "quote"};

  @Test
  void every_shared_expression_form_means_the_same_in_bucket_definitions_and_streams() {
    Random random = new Random(20261207);
    List<String> differences = new ArrayList<>();
    int compiled = 0;
    for (int i = 0; i < 600; i++) {
      String expr = expression(random, 3);
      String bucket = outcome(bucketRules(expr));
      String stream = outcome(streamRules(expr));
      if (!bucket.startsWith("refused")) {
        compiled++;
      }
      if (!bucket.equals(stream)) {
        differences.add(expr + "\n  bucket: " + bucket + "\n  stream: " + stream);
      }
    }
    assertThat(differences).as("expressions evaluated differently").isEmpty();
    assertThat(compiled)
        .as("expressions that compiled (the generator is not all refusals)")
        .isGreaterThan(300);
  }

  private static String expression(Random random, int depth) {
    int pick = depth == 0 ? 0 : random.nextInt(8);
    return switch (pick) {
      case 0, 1 -> LEAVES[random.nextInt(LEAVES.length)];
      case 2, 3 ->
          "("
              + expression(random, depth - 1)
              + " "
              + BINARY[random.nextInt(BINARY.length)]
              + " "
              + expression(random, depth - 1)
              + ")";
      case 4 ->
          switch (random.nextInt(3)) {
            case 0 -> "(NOT " + expression(random, depth - 1) + ")";
            case 1 -> "(" + expression(random, depth - 1) + " IS NULL)";
            default -> "(" + expression(random, depth - 1) + " IS NOT NULL)";
          };
      case 5 ->
          "CAST("
              + expression(random, depth - 1)
              + " AS "
              + CASTS[random.nextInt(CASTS.length)]
              + ")";
      case 6 ->
          "(j "
              + (random.nextBoolean() ? "->" : "->>")
              + " '"
              + "ktox".charAt(random.nextInt(4))
              + "')";
      default ->
          FUNCTIONS[random.nextInt(FUNCTIONS.length)] + "(" + expression(random, depth - 1) + ")";
    };
  }

  private static String bucketRules(String expr) {
    return "bucket_definitions:\n  all:\n    data:\n      - SELECT id, "
        + expr
        + " AS v FROM items\n";
  }

  private static String streamRules(String expr) {
    return "config:\n  edition: 2\nstreams:\n  all:\n    auto_subscribe: true\n    query: SELECT id, "
        + expr
        + " AS v FROM items\n";
  }

  /** What the rules do with the rows: the data of each, or why compiling or evaluating failed. */
  private static String outcome(String yaml) {
    SyncRules rules;
    try {
      rules = SyncRulesCompiler.compile(SyncRulesSource.ofYaml(yaml, "rules.yaml"));
    } catch (SyncRulesException e) {
      return "refused: "
          + e.problems().stream()
              .filter(p -> !p.message().contains("alpha"))
              .map(p -> p.message())
              .collect(Collectors.joining("; "));
    }
    StringBuilder out = new StringBuilder();
    for (SourceRow row : ROWS) {
      RowEvaluation evaluation = rules.evaluateRow(ITEMS, row);
      for (EvaluatedRow r : evaluation.rows()) {
        out.append(r.data()).append(' ');
      }
      for (EvaluationError e : evaluation.errors()) {
        out.append("error ").append(e.message()).append(' ');
      }
    }
    return out.toString();
  }
}
