package dev.syncline.api.rules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.BucketId;
import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The explanation every {@link SyncRules} gives, from its row evaluation alone. */
class SyncRulesExplainRowTest {
  static SyncRules evaluatingTo(RowEvaluation evaluation) {
    InvocationHandler h =
        (proxy, method, args) -> {
          if (method.isDefault()) {
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          if (method.getName().equals("evaluateRow")) {
            return evaluation;
          }
          throw new UnsupportedOperationException(method.getName());
        };
    return (SyncRules)
        Proxy.newProxyInstance(
            SyncRules.class.getClassLoader(), new Class<?>[] {SyncRules.class}, h);
  }

  static final TableRef TODOS = TableRef.of("public", "todos");
  static final SourceRow ROW = SourceRow.builder().put("id", "t1").build();

  @Test
  void bucketsAndErrorsOneLineEach() {
    SyncRules rules =
        evaluatingTo(
            new RowEvaluation(
                List.of(
                    new EvaluatedRow(
                        new BucketId("by_list[\"l1\"]", "by_list"), "todos", "t1", "{}")),
                List.of(new EvaluationError("by_owner", "json_extract: malformed JSON", null))));

    assertThat(rules.explainRow(TODOS, ROW))
        .containsExactly(
            "in bucket by_list[\"l1\"] as todos/t1",
            "error in by_owner: json_extract: malformed JSON");
  }

  @Test
  void aRowInNoBucketSaysSo() {
    SyncRules rules = evaluatingTo(new RowEvaluation(List.of(), List.of()));

    assertThat(rules.explainRow(TODOS, ROW)).containsExactly("in no bucket");
  }
}
