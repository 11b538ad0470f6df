package dev.syncline.core.internal.rules.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class SqlValuesTest {
  @Test
  void comparisons_order_null_numbers_text_blobs() {
    assertThat(SqlValues.compare(null, 1L)).isNegative();
    assertThat(SqlValues.compare(1L, "1")).isNegative();
    assertThat(SqlValues.compare("z", new byte[] {0})).isNegative();
    assertThat(SqlValues.compare(3L, 3.0)).isZero();
    assertThat(SqlValues.compare(9007199254740993L, 9007199254740992.0)).isPositive();
  }

  @Test
  void integer_arithmetic_widens_instead_of_overflowing() {
    assertThat(SqlValues.operator("+", Long.MAX_VALUE, 1L))
        .isEqualTo(new BigInteger("9223372036854775808"));
    assertThat(SqlValues.operator("/", 7L, 2L)).isEqualTo(3L);
    assertThat(SqlValues.operator("/", -7L, 2L)).isEqualTo(-3L);
    assertThat(SqlValues.operator("/", 5L, 0L)).isNull();
    assertThat(SqlValues.operator("+", 1L, "2.5")).isEqualTo(3.5);
    assertThat(SqlValues.operator("*", "1.5", 2L)).isEqualTo(3.0);
  }

  @Test
  void null_comparisons_are_null_but_and_or_are_two_valued() {
    assertThat(SqlValues.operator("=", null, 1L)).isNull();
    assertThat(SqlValues.operator("AND", 1L, null)).isEqualTo(0L);
    assertThat(SqlValues.operator("OR", 1L, null)).isEqualTo(1L);
  }

  @Test
  void casts_follow_the_reference() {
    assertThat(SqlValues.cast("12abc", "integer")).isEqualTo(12L);
    assertThat(SqlValues.cast(-3.99, "integer")).isEqualTo(-4L);
    assertThat(SqlValues.cast("10.0", "numeric")).isEqualTo(10.0);
    assertThat(SqlValues.cast("10", "numeric")).isEqualTo(10L);
    assertThat(SqlValues.cast(4.0, "text")).isEqualTo("4");
    assertThat(SqlValues.cast(1e25, "text")).isEqualTo("1e+25");
    assertThat(SqlValues.cast("x", "real")).isEqualTo(0.0);
  }

  @Test
  void truthiness_parses_leading_integers_of_text() {
    assertThat(SqlValues.truthy("1abc")).isTrue();
    assertThat(SqlValues.truthy("0.9")).isFalse();
    assertThat(SqlValues.truthy("abc")).isFalse();
    assertThat(SqlValues.truthy(0.5)).isTrue();
    assertThat(SqlValues.truthy(null)).isFalse();
  }
}
