package dev.syncline.core.internal.rules.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsJsonTest {
  @Test
  void integer_literals_stay_exact_and_decimals_are_doubles() {
    Map<?, ?> m =
        (Map<?, ?>)
            JsJson.parseBig(
                "{\"a\": 9223372036854775807, \"b\": 1.0, \"c\": 1e3, \"d\": "
                    + "18446744073709551616}");
    assertThat(m.get("a")).isEqualTo(Long.MAX_VALUE);
    assertThat(m.get("b")).isEqualTo(1.0);
    assertThat(m.get("c")).isEqualTo(1000.0);
    assertThat(m.get("d")).isEqualTo(new BigInteger("18446744073709551616"));
    assertThat(JsJson.parsePlain("5")).isEqualTo(5.0);
  }

  @Test
  void objects_are_written_in_javascript_property_order() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("b", 1L);
    m.put("10", 2L);
    m.put("a", 3L);
    m.put("2", 4L);
    m.put("01", 5L);
    assertThat(JsJson.stringifyBig(m)).isEqualTo("{\"2\":4,\"10\":2,\"b\":1,\"a\":3,\"01\":5}");
  }

  @Test
  void big_mode_writes_integral_doubles_with_point_zero_and_plain_mode_does_not() {
    List<Object> values = List.of(1.0, 2.5, 7L, true);
    assertThat(JsJson.stringifyBig(values)).isEqualTo("[1.0,2.5,7,true]");
    assertThat(JsJson.stringifyPlain(values)).isEqualTo("[1,2.5,7,true]");
    assertThat(JsJson.stringifyBig(Double.NaN)).isEqualTo("NaN");
    assertThat(JsJson.stringifyPlain(Double.NaN)).isEqualTo("null");
  }

  @Test
  void invalid_json_is_a_syntax_error_with_a_position() {
    assertThatThrownBy(() -> JsJson.parseBig("not json"))
        .isInstanceOf(JsJson.JsonSyntaxException.class)
        .hasMessage("JSON value expected but got 'n' at position 0");
    assertThatThrownBy(() -> JsJson.parseBig("[1,2"))
        .isInstanceOf(JsJson.JsonSyntaxException.class);
    assertThatThrownBy(() -> JsJson.parseBig("{\"a\":1,\"a\":2}"))
        .hasMessageContaining("Duplicate key");
  }
}
