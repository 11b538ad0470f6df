package dev.syncline.core.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.ParameterEvaluation;
import dev.syncline.api.rules.ParameterLookupSource;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesException;
import dev.syncline.api.rules.SyncRulesSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the compiler and the evaluator with seeded random input (reproducible: the seed is in the
 * failure message). Properties: any text compiles or throws {@link SyncRulesException}, never
 * anything else; evaluating any row or request reports errors as values, never throws.
 */
class SyncRulesFuzzTest {
  private static final String VALID =
      """
      bucket_definitions:
        owned:
          parameters: SELECT id AS list_id FROM lists WHERE owner_id = request.user_id()
          data:
            - SELECT * FROM todos WHERE list_id = bucket.list_id
            - SELECT id, upper(name) AS name, json_extract(meta, '$.a') AS a FROM lists WHERE id = bucket.list_id
        tagged:
          parameters: SELECT value AS tag FROM json_each(request.jwt() -> 'tags')
          data:
            - SELECT id, CAST(n AS TEXT) AS n, n * 2 + 1 AS m FROM items WHERE tag = bucket.tag AND n > 0.5
        global:
          priority: 1
          data:
            - "SELECT id, substring(title, 2, 3) AS t, 'x' || id AS x FROM \\"notes%\\""
      """;

  private static final String VALID_STREAMS =
      """
      config:
        edition: 3
      with:
        mine: SELECT id FROM lists WHERE owner_id = auth.user_id()
      streams:
        lists:
          auto_subscribe: true
          query: SELECT * FROM lists WHERE id IN mine OR auth.parameter('admin')
        todos:
          queries:
            - >-
              SELECT todos.* FROM todos, lists WHERE todos.list_id = lists.id AND lists.owner_id = auth.user_id()
              AND todos.list_id = subscription.parameter('list')
            - >-
              SELECT * FROM items WHERE tag IN subscription.parameter('tags') AND n > 0.5 AND id IN
              (SELECT item_id FROM shares WHERE user_id IN (SELECT id FROM users WHERE org = auth.parameter('org')))
        tagged:
          accept_potentially_dangerous_queries: true
          query: >-
            SELECT id, CASE WHEN n > 1 THEN 'big' ELSE 'small' END AS size FROM notes
            WHERE tags && connection.parameter('tags')
      """;

  private static final String[] TOKENS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "AS",
    "*",
    ",",
    "(",
    ")",
    "=",
    "!=",
    "<",
    ">",
    "->",
    "->>",
    "::",
    "||",
    "+",
    "-",
    "/",
    "'",
    "\"",
    "bucket.",
    "request.user_id()",
    "request.jwt()",
    "id",
    "x",
    "todos",
    "json_each(",
    "upper(",
    "CAST(",
    "CASE",
    "WHEN",
    "END",
    "1",
    "2.5",
    "1e999",
    "'a'",
    ";",
    "\n",
    " ",
    "bucket_definitions:",
    "data:",
    "parameters:",
    "  ",
    "- ",
    "priority:",
    "config:",
    "edition:",
    "#",
    "&",
    "!",
    "|",
    "{",
    "}",
    "[",
    "]",
    "😀",
    "\u0000",
    "\\",
    ":"
  };

  @Test
  void any_text_compiles_or_throws_only_a_sync_rules_exception() {
    long seed = 20261124L;
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < 5_000; i++) {
      String text = random.nextInt(3) == 0 ? randomTokens(random) : mutate(VALID, random);
      assertCompilesOrFailsCleanly(text, seed, i);
    }
  }

  @Test
  void any_variation_of_a_streams_config_compiles_or_throws_only_a_sync_rules_exception() {
    long seed = 20261125L;
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < 3_000; i++) {
      assertCompilesOrFailsCleanly(mutate(VALID_STREAMS, random), seed, i);
    }
  }

  @Test
  void evaluating_random_rows_and_subscriptions_against_streams_never_throws() {
    SyncRules rules =
        SyncRulesCompiler.compile(SyncRulesSource.ofYaml(VALID_STREAMS, "streams.yaml"));
    SplittableRandom random = new SplittableRandom(11);
    List<String> tables = List.of("lists", "todos", "items", "shares", "users", "notes");
    List<String> columns =
        List.of("id", "list_id", "owner_id", "item_id", "user_id", "org", "n", "tag", "tags");
    List<ParameterEvaluation> parameterRows = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      Map<String, SourceValue> row = new LinkedHashMap<>();
      for (String c : columns) {
        if (random.nextInt(4) > 0) {
          row.put(
              c,
              random.nextInt(3) == 0
                  ? SqliteValue.of("u" + random.nextInt(5))
                  : randomValue(random));
        }
      }
      TableRef table = TableRef.of("public", tables.get(random.nextInt(tables.size())));
      SourceRow sourceRow = new SourceRow(row);
      rules.evaluateRow(table, sourceRow);
      parameterRows.add(rules.evaluateParameterRow(table, sourceRow));
    }
    List<String> streams = List.of("lists", "todos", "tagged", "nope");
    for (int i = 0; i < 2_000; i++) {
      Map<String, Object> claims = new LinkedHashMap<>();
      claims.put("sub", randomJson(random, 0));
      claims.put("admin", randomJson(random, 0));
      claims.put("org", randomJson(random, 0));
      List<RequestContext.Subscription> subscriptions = new ArrayList<>();
      for (int n = random.nextInt(4); n > 0; n--) {
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("list", randomJson(random, 0));
        parameters.put("tags", random.nextInt(10) == 0 ? deepJson(12) : randomJson(random, 0));
        subscriptions.add(
            new RequestContext.Subscription(
                streams.get(random.nextInt(streams.size())),
                parameters,
                random.nextInt(5) == 0 ? random.nextInt(4) : null));
      }
      Map<String, Object> client = Map.of("tags", randomJson(random, 0));
      var querier =
          rules.querier(new RequestContext(claims, client, random.nextBoolean(), subscriptions));
      querier.allBuckets(ParameterLookupSource.of(parameterRows));
      querier.errors().forEach(e -> assertThat(e.subscription()).isNotNull());
    }
  }

  private static Object deepJson(int depth) {
    return depth == 0 ? "x" : List.of(deepJson(depth - 1));
  }

  private static String randomTokens(SplittableRandom random) {
    StringBuilder sb = new StringBuilder();
    int n = random.nextInt(1, 60);
    for (int i = 0; i < n; i++) {
      sb.append(TOKENS[random.nextInt(TOKENS.length)]);
      if (random.nextBoolean()) {
        sb.append(' ');
      }
    }
    return sb.toString();
  }

  private static String mutate(String text, SplittableRandom random) {
    StringBuilder sb = new StringBuilder(text);
    int edits = random.nextInt(1, 6);
    for (int e = 0; e < edits && sb.length() > 0; e++) {
      int at = random.nextInt(sb.length());
      switch (random.nextInt(4)) {
        case 0 -> sb.deleteCharAt(at);
        case 1 -> sb.insert(at, TOKENS[random.nextInt(TOKENS.length)]);
        case 2 -> sb.setCharAt(at, (char) random.nextInt(32, 127));
        default -> {
          int end = Math.min(sb.length(), at + random.nextInt(1, 20));
          sb.delete(at, end);
        }
      }
    }
    return sb.toString();
  }

  private static void assertCompilesOrFailsCleanly(String text, long seed, int iteration) {
    try {
      SyncRules rules = SyncRulesCompiler.compile(SyncRulesSource.ofYaml(text, "fuzz.yaml"));
      assertThat(rules.definitions()).isNotNull();
    } catch (SyncRulesException e) {
      assertThat(e.problems()).isNotEmpty();
      e.problems()
          .forEach(
              p -> {
                assertThat(p.start()).isBetween(0, Math.max(10, text.length()));
                assertThat(p.end()).isGreaterThanOrEqualTo(p.start());
                assertThat(p.line()).isPositive();
              });
    } catch (RuntimeException | StackOverflowError e) {
      fail("seed " + seed + " iteration " + iteration + ": " + e + " for input:\n" + text, e);
    }
  }

  @Test
  void deeply_nested_expressions_fail_cleanly() {
    for (String deep :
        List.of(
            "(".repeat(5_000) + "1" + ")".repeat(5_000),
            "NOT ".repeat(5_000) + "1",
            "- ".repeat(5_000) + "1",
            "upper(".repeat(5_000) + "x" + ")".repeat(5_000))) {
      assertCompilesOrFailsCleanly(
          "bucket_definitions:\n  g:\n    data:\n      - SELECT id, " + deep + " AS x FROM t\n",
          0,
          0);
    }
    String yaml =
        "bucket_definitions:\n  g:\n    data:\n      - SELECT id, "
            + "(".repeat(5_000)
            + "1"
            + ")".repeat(5_000)
            + " AS x FROM t\n";
    Assertions.assertThatThrownBy(
            () -> SyncRulesCompiler.compile(SyncRulesSource.ofYaml(yaml, "deep.yaml")))
        .hasMessageContaining("nested too deeply");
  }

  @Test
  void evaluating_random_rows_and_requests_never_throws() {
    SyncRules rules = SyncRulesCompiler.compile(SyncRulesSource.ofYaml(VALID, "valid.yaml"));
    SplittableRandom random = new SplittableRandom(7);
    List<String> tables = List.of("todos", "lists", "items", "notes_a", "notes", "other");
    List<String> columns =
        List.of("id", "list_id", "owner_id", "name", "meta", "n", "tag", "title", "_x", "0");
    for (int i = 0; i < 20_000; i++) {
      Map<String, SourceValue> row = new LinkedHashMap<>();
      for (String c : columns) {
        if (random.nextInt(4) > 0) {
          row.put(c, randomValue(random));
        }
      }
      TableRef table = TableRef.of("public", tables.get(random.nextInt(tables.size())));
      SourceRow sourceRow = new SourceRow(row);
      rules.evaluateRow(table, sourceRow);
      rules.evaluateParameterRow(table, sourceRow);
    }
    for (int i = 0; i < 2_000; i++) {
      Map<String, Object> claims = new LinkedHashMap<>();
      claims.put("sub", randomJson(random, 0));
      claims.put("tags", randomJson(random, 0));
      claims.put("parameters", randomJson(random, 0));
      var querier =
          rules.querier(new RequestContext(claims, Map.of("p", String.valueOf(random.nextInt()))));
      querier.allBuckets(lookups -> Map.of());
    }
  }

  private static SourceValue randomValue(SplittableRandom random) {
    return switch (random.nextInt(9)) {
      case 0 -> SqliteValue.NULL;
      case 1 -> SqliteValue.of(random.nextLong());
      case 2 -> SqliteValue.of(Double.longBitsToDouble(random.nextLong()));
      case 3 ->
          SqliteValue.of(
              List.of(
                      "",
                      "1",
                      "{\"a\": [1, 2.5, null]}",
                      "[1,\"x\"]",
                      "not json",
                      "😀\ud800",
                      "2024-01-02T03:04:05Z",
                      "0x1f")
                  .get(random.nextInt(8)));
      case 4 -> new SqliteValue.BlobValue(new byte[] {(byte) random.nextInt(), (byte) 0xff});
      case 5 ->
          new SourceValue.Timestamp(
              "2024-03-05T10:11:12.123456Z",
              SourceValue.Precision.MICROSECONDS,
              SourceValue.Precision.MICROSECONDS);
      case 6 -> new SourceValue.SourceArray(List.of(true, SqliteValue.of(1L), SqliteValue.of("x")));
      case 7 -> SqliteValue.of((long) random.nextInt(-3, 3));
      default -> SqliteValue.of(random.nextDouble() * 10);
    };
  }

  private static Object randomJson(SplittableRandom random, int depth) {
    return switch (depth > 3 ? random.nextInt(5) : random.nextInt(7)) {
      case 0 -> "u" + random.nextInt(10);
      case 1 -> random.nextInt(100);
      case 2 -> random.nextDouble();
      case 3 -> random.nextBoolean();
      case 4 -> "";
      case 5 -> {
        List<Object> list = new ArrayList<>();
        for (int i = random.nextInt(4); i > 0; i--) {
          list.add(randomJson(random, depth + 1));
        }
        yield list;
      }
      default -> {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = random.nextInt(4); i > 0; i--) {
          map.put("k" + random.nextInt(5), randomJson(random, depth + 1));
        }
        yield map;
      }
    };
  }
}
