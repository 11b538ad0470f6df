package dev.syncline.api.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.SqliteValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParameterLookupSourceTest {
  private static final ParameterLookup ALICE =
      new ParameterLookup("lists", List.of(SqliteValue.of("alice")));
  private static final ParameterLookup BOB =
      new ParameterLookup("lists", List.of(SqliteValue.of("bob")));

  private static ParameterEvaluation row(ParameterLookup lookup, String list) {
    return new ParameterEvaluation(
        List.of(new ParameterIndexEntry(lookup, List.of(Map.of("list", SqliteValue.of(list))))),
        List.of());
  }

  @Test
  void each_lookup_gets_the_rows_under_its_key_in_the_order_given() {
    List<ParameterEvaluation> rows = new ArrayList<>(List.of(row(ALICE, "l1"), row(BOB, "l2")));
    rows.add(row(ALICE, "l3"));
    ParameterLookupSource source = ParameterLookupSource.of(rows);
    rows.clear(); // the source keeps what it was given

    var found =
        source.lookup(List.of(ALICE, new ParameterLookup("lists", List.of(SqliteValue.of("x")))));
    assertThat(found.get(ALICE))
        .extracting(m -> m.get("list"))
        .containsExactly(SqliteValue.of("l1"), SqliteValue.of("l3"));
    assertThat(found)
        .containsEntry(new ParameterLookup("lists", List.of(SqliteValue.of("x"))), List.of());
    assertThat(found).doesNotContainKey(BOB);
    assertThatThrownBy(() -> found.get(ALICE).clear())
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
