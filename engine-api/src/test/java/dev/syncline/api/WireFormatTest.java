package dev.syncline.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WireFormatTest {
  @Test
  void reals_are_written_like_javascript_with_a_trailing_point_zero_for_integers() {
    assertThat(WireFormat.formatReal(3.0)).isEqualTo("3.0");
    assertThat(WireFormat.formatReal(-2.5)).isEqualTo("-2.5");
    assertThat(WireFormat.formatReal(0.1)).isEqualTo("0.1");
    assertThat(WireFormat.formatReal(0.1 + 0.2)).isEqualTo("0.30000000000000004");
    assertThat(WireFormat.formatReal(0.000001)).isEqualTo("0.000001");
    assertThat(WireFormat.formatReal(1e-7)).isEqualTo("1e-7");
    assertThat(WireFormat.formatReal(1.5e-7)).isEqualTo("1.5e-7");
    assertThat(WireFormat.formatReal(1e20)).isEqualTo("100000000000000000000.0");
    assertThat(WireFormat.formatReal(1e21)).isEqualTo("1e+21");
    assertThat(WireFormat.formatReal(Double.MAX_VALUE)).isEqualTo("1.7976931348623157e+308");
    assertThat(WireFormat.formatReal(Double.MIN_VALUE)).isEqualTo("5e-324");
    assertThat(WireFormat.formatReal(-0.0)).isEqualTo("0.0");
    assertThat(WireFormat.formatReal(Double.NaN)).isEqualTo("NaN");
    assertThat(WireFormat.formatReal(Double.NEGATIVE_INFINITY)).isEqualTo("-Infinity");
  }

  @Test
  void numbers_in_bucket_names_have_no_trailing_point_zero() {
    assertThat(WireFormat.formatNumber(42.0)).isEqualTo("42");
    assertThat(WireFormat.formatNumber(2.75)).isEqualTo("2.75");
    assertThat(WireFormat.formatNumber(-0.0)).isEqualTo("0");
    assertThat(WireFormat.formatNumber(1e-9)).isEqualTo("1e-9");
  }

  /** The shortest decimal that reads back as the same double, found the slow way. */
  private static String slowShortestDigits(double d) {
    BigDecimal exact = new BigDecimal(d);
    for (int p = 1; p <= 17; p++) {
      BigDecimal r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
      if (r.doubleValue() == d) {
        return r.unscaledValue().abs().toString().replaceAll("0+$", "");
      }
    }
    throw new AssertionError();
  }

  @Test
  void formatted_doubles_round_trip_with_the_shortest_digits() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 20_000; i++) {
      double d = Double.longBitsToDouble(random.nextLong());
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        continue;
      }
      String text = WireFormat.formatNumber(d);
      assertThat(Double.parseDouble(text)).as(text).isEqualTo(d);
      String digits =
          text.replaceFirst("^-", "")
              .replaceFirst("e.*$", "")
              .replace(".", "")
              .replaceFirst("^0+", "")
              .replaceAll("0+$", "");
      assertThat(digits).as("digits of %s", text).isEqualTo(slowShortestDigits(Math.abs(d)));
    }
  }

  @Test
  void strings_are_escaped_like_json_stringify() {
    assertThat(WireFormat.quote("plain text/é")).isEqualTo("\"plain text/é\"");
    assertThat(WireFormat.quote("a\"b\\c/d")).isEqualTo("\"a\\\"b\\\\c/d\"");
    assertThat(WireFormat.quote("\n\r\t\b\f\u0001\u001f"))
        .isEqualTo("\"\\n\\r\\t\\b\\f\\u0001\\u001f\"");
    assertThat(WireFormat.quote("Zoë 😀 \u2028")).isEqualTo("\"Zoë 😀 \u2028\"");
    assertThat(WireFormat.quote("x\ud800y\udc00")).isEqualTo("\"x\\ud800y\\udc00\"");
  }
}
