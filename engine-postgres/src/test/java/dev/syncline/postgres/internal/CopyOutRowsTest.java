package dev.syncline.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** COPY text rows split into column texts exactly as the server meant them. */
class CopyOutRowsTest {
  private static String[] split(String row, int columns) {
    String[] out = new String[columns];
    byte[] data = row.getBytes(StandardCharsets.UTF_8);
    assertThat(CopyOutRows.split(data, 0, out)).isEqualTo(data.length);
    return out;
  }

  @Test
  void columns_nulls_and_escapes() {
    assertThat(split("1\tname 1\t\\N\t\t€😀\n", 5)).containsExactly("1", "name 1", null, "", "€😀");
    assertThat(split("a\\\\b\\tc\\nd\\re\\bf\\fg\\vh\t\\\\N\t\\\\x01\n", 3))
        .containsExactly("a\\b\tc\nd\re\bf\fg\u000Bh", "\\N", "\\x01");
    // Escapes COPY reads (and never writes), accepted alike: octal, hex, any other character for
    // itself.
    assertThat(split("\\101\\x42\\x4\\q\\x\n", 1)).containsExactly("AB\u0004qx");
  }

  @Test
  void several_rows_in_one_buffer_and_a_last_row_without_newline() {
    byte[] data = "1\ta\n2\tb\n3\tc".getBytes(StandardCharsets.UTF_8);
    String[] out = new String[2];
    int next = CopyOutRows.split(data, 0, out);
    assertThat(out).containsExactly("1", "a");
    next = CopyOutRows.split(data, next, out);
    assertThat(out).containsExactly("2", "b");
    assertThat(CopyOutRows.split(data, next, out)).isEqualTo(data.length);
    assertThat(out).containsExactly("3", "c");
  }

  @Test
  void a_row_with_another_number_of_columns_is_an_error() {
    assertThatThrownBy(() -> split("1\t2\t3\n", 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("more than 2");
    assertThatThrownBy(() -> split("1\n", 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1 columns, expected 2");
  }

  @Test
  void literals_double_quotes_and_backslashes() {
    assertThat(CopyOutRows.literal("it's a \\ test")).isEqualTo("E'it''s a \\\\ test'");
    assertThat(CopyOutRows.literal("")).isEqualTo("E''");
  }
}
