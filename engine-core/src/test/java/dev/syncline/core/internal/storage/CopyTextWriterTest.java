package dev.syncline.core.internal.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.postgresql.copy.CopyIn;
import org.postgresql.util.ByteStreamWriter;

/**
 * What {@link CopyTextWriter} hands to the server: COPY text format, UTF-8, whatever the chunk
 * boundaries.
 */
class CopyTextWriterTest {
  /** Records what is sent, in the pieces it is sent in. */
  private static final class Recording implements CopyIn {
    final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    int pieces;
    boolean active = true;
    boolean cancelled;

    @Override
    public void writeToCopy(byte[] buf, int off, int siz) {
      sent.write(buf, off, siz);
      pieces++;
    }

    @Override
    public void writeToCopy(ByteStreamWriter from) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void flushCopy() {}

    @Override
    public long endCopy() {
      active = false;
      return 0;
    }

    @Override
    public int getFieldCount() {
      return 0;
    }

    @Override
    public int getFormat() {
      return 0;
    }

    @Override
    public int getFieldFormat(int field) {
      return 0;
    }

    @Override
    public boolean isActive() {
      return active;
    }

    @Override
    public void cancelCopy() {
      cancelled = true;
      active = false;
    }

    @Override
    public long getHandledRowCount() {
      return 0;
    }

    String text() {
      return sent.toString(StandardCharsets.UTF_8);
    }
  }

  @Test
  void escapes_what_the_text_format_requires_and_encodes_utf_8() throws SQLException {
    Recording copy = new Recording();
    try (CopyTextWriter out = new CopyTextWriter(copy)) {
      out.text("a\\b\tc\nd\re")
          .tab()
          .text("é€😀")
          .tab()
          .nul()
          .tab()
          .number(0)
          .tab()
          .number(-42)
          .tab()
          .number(Long.MIN_VALUE)
          .tab()
          .number(Long.MAX_VALUE)
          .endRow();
      out.finish();
    }
    assertThat(copy.text())
        .isEqualTo(
            "a\\\\b\\tc\\nd\\re\té€😀\t\\N\t0\t-42\t-9223372036854775808\t"
                + "9223372036854775807\n");
    assertThat(copy.cancelled).isFalse();
  }

  @Test
  void an_unpaired_surrogate_becomes_a_question_mark_as_in_string_get_bytes() throws SQLException {
    Recording copy = new Recording();
    String broken = "x\uD800y\uDC00z";
    try (CopyTextWriter out = new CopyTextWriter(copy)) {
      out.text(broken).endRow();
      out.finish();
    }
    assertThat(copy.text())
        .isEqualTo(
            new String(broken.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8) + "\n");
  }

  @Test
  void characters_and_numbers_across_chunk_boundaries_arrive_whole() throws SQLException {
    Recording copy = new Recording();
    StringBuilder expected = new StringBuilder();
    try (CopyTextWriter out = new CopyTextWriter(copy)) {
      for (int i = 0; i < 20_000; i++) {
        String s = "é😀\t" + i; // 2 + 4 + 2 bytes and digits: boundaries fall everywhere
        String plain = "é😀x" + i; // no escape: written in one piece
        out.text(s).tab().number(i * 1_000_003L).tab().text(plain).tab().text(plain).endRow();
        expected
            .append("é😀\\t")
            .append(i)
            .append('\t')
            .append(i * 1_000_003L)
            .append('\t')
            .append(plain)
            .append('\t')
            .append(plain)
            .append('\n');
      }
      out.finish();
    }
    assertThat(copy.pieces).isGreaterThan(3);
    assertThat(copy.text()).isEqualTo(expected.toString());
  }

  @Test
  void a_value_longer_than_a_chunk_arrives_whole() throws SQLException {
    Recording copy = new Recording();
    String large = "ab€".repeat(50_000); // 250,000 bytes
    try (CopyTextWriter out = new CopyTextWriter(copy)) {
      out.number(7).tab().text(large).endRow();
      out.finish();
    }
    assertThat(copy.pieces).isGreaterThan(3);
    assertThat(copy.text()).isEqualTo("7\t" + large + "\n");
  }

  @Test
  void closing_without_finishing_cancels_the_copy() throws SQLException {
    Recording copy = new Recording();
    try (CopyTextWriter out = new CopyTextWriter(copy)) {
      out.text("half a row");
    }
    assertThat(copy.cancelled).isTrue();
  }
}
