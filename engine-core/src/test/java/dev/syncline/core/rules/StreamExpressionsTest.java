package dev.syncline.core.rules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.EvaluatedRow;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import org.junit.jupiter.api.Test;

/**
 * Expressions of edition-3 streams beyond the shared vectors: CASE with a base, lists, IS [NOT]
 * FALSE.
 */
class StreamExpressionsTest {
  private static final SyncRules RULES =
      SyncRulesCompiler.compile(
          SyncRulesSource.ofYaml(
              """
      config:
        edition: 3
      streams:
        s:
          auto_subscribe: true
          query: >-
            SELECT id, CASE kind WHEN 'a' THEN 'first' WHEN 'b' THEN 'second' ELSE 'other' END AS label,
              CASE kind WHEN 'a' THEN 1 END AS only_a, kind IN ARRAY['a', 'c'] AS listed, flag IS NOT FALSE AS not_false
            FROM items WHERE kind NOT IN ARRAY['x', 'y']
      """,
              "s.yaml"));

  private static String data(String kind, Long flag) {
    SourceRow.Builder row = SourceRow.builder().put("id", "i").put("kind", kind);
    if (flag == null) {
      row.put("flag", (String) null);
    } else {
      row.put("flag", flag.longValue());
    }
    var result = RULES.evaluateRow(TableRef.of("public", "items"), row.build());
    assertThat(result.errors()).isEmpty();
    return result.rows().stream().map(EvaluatedRow::data).findFirst().orElse(null);
  }

  @Test
  void case_with_a_base_compares_it_with_each_when() {
    assertThat(data("a", 0L))
        .isEqualTo("{\"id\":\"i\",\"label\":\"first\",\"only_a\":1,\"listed\":1,\"not_false\":0}");
    assertThat(data("b", 1L))
        .isEqualTo(
            "{\"id\":\"i\",\"label\":\"second\",\"only_a\":null,\"listed\":0,"
                + "\"not_false\":1}");
    assertThat(data("c", null))
        .isEqualTo(
            "{\"id\":\"i\",\"label\":\"other\",\"only_a\":null,\"listed\":1," + "\"not_false\":1}");
  }

  @Test
  void not_in_a_list_filters_rows() {
    assertThat(data("x", 1L)).isNull();
    assertThat(data("z", 1L)).isNotNull();
  }
}
