package dev.syncline.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PgOutputDecoderTest {
  @Test
  void beginAndCommit() throws IOException {
    var begin =
        (PgOutputMessage.Begin)
            PgOutputDecoder.decode(
                new PgMessageBytes().b('B').i64(0x16B3748L).i64(1234).i32(77).buffer(), false);
    assertThat(begin).isEqualTo(new PgOutputMessage.Begin(0x16B3748L, 1234, 77));
    var commit =
        (PgOutputMessage.Commit)
            PgOutputDecoder.decode(
                new PgMessageBytes().b('C').b(0).i64(10).i64(0xFFFFFFFF00000001L).i64(99).buffer(),
                false);
    assertThat(commit.commitLsn()).isEqualTo(10);
    assertThat(Long.toUnsignedString(commit.endLsn()))
        .isEqualTo(Long.toUnsignedString(0xFFFFFFFF00000001L));
  }

  @Test
  void relationWithKeyFlagsAndTypes() throws IOException {
    ByteBuffer b =
        new PgMessageBytes()
            .b('R')
            .i32(16384)
            .str("public")
            .str("tëst")
            .b('f')
            .s16(2)
            .b(1)
            .str("id")
            .i32(23)
            .i32(-1)
            .b(0)
            .str("name")
            .i32(1043)
            .i32(104)
            .buffer();
    var r = (PgOutputMessage.Relation) PgOutputDecoder.decode(b, false);
    assertThat(r.relationId()).isEqualTo(16384);
    assertThat(r.name()).isEqualTo("tëst");
    assertThat(r.replicaIdentity()).isEqualTo('f');
    assertThat(r.columns())
        .containsExactly(
            new PgOutputMessage.Column(true, "id", 23, -1),
            new PgOutputMessage.Column(false, "name", 1043, 104));
    assertThat(b.position()).as("the caller's buffer is untouched").isZero();
  }

  @Test
  void insertUpdateDeleteTuples() throws IOException {
    var insert =
        (PgOutputMessage.Insert)
            PgOutputDecoder.decode(
                new PgMessageBytes().b('I').i32(5).b('N').s16(3).text("1").b('n').b('u').buffer(),
                false);
    assertThat(insert.newTuple().kinds()).containsExactly('t', 'n', 'u');
    assertThat(new String(insert.newTuple().values()[0], StandardCharsets.UTF_8)).isEqualTo("1");
    assertThat(insert.newTuple().values()[1]).isNull();

    var plain =
        (PgOutputMessage.Update)
            PgOutputDecoder.decode(
                new PgMessageBytes().b('U').i32(5).b('N').s16(1).text("x").buffer(), false);
    assertThat(plain.oldKind()).isEqualTo('0');
    assertThat(plain.oldTuple()).isNull();

    var keyChange =
        (PgOutputMessage.Update)
            PgOutputDecoder.decode(
                new PgMessageBytes()
                    .b('U')
                    .i32(5)
                    .b('K')
                    .s16(1)
                    .text("1")
                    .b('N')
                    .s16(1)
                    .text("2")
                    .buffer(),
                false);
    assertThat(keyChange.oldKind()).isEqualTo('K');
    assertThat(new String(keyChange.oldTuple().values()[0], StandardCharsets.UTF_8)).isEqualTo("1");

    var full =
        (PgOutputMessage.Delete)
            PgOutputDecoder.decode(
                new PgMessageBytes().b('D').i32(5).b('O').s16(2).text("1").text("a").buffer(),
                false);
    assertThat(full.oldKind()).isEqualTo('O');
    assertThat(full.oldTuple().size()).isEqualTo(2);
  }

  @Test
  void truncateTypeOriginAndMessages() throws IOException {
    var t =
        (PgOutputMessage.Truncate)
            PgOutputDecoder.decode(
                new PgMessageBytes().b('T').i32(2).b(1).i32(10).i32(11).buffer(), false);
    assertThat(t.options()).isEqualTo(1);
    assertThat(t.relationIds()).containsExactly(10, 11);
    assertThat(
            PgOutputDecoder.decode(
                new PgMessageBytes().b('Y').i32(90000).str("public").str("mood").buffer(), false))
        .isEqualTo(new PgOutputMessage.Type(0, 90000, "public", "mood"));
    assertThat(
            PgOutputDecoder.decode(
                new PgMessageBytes().b('O').i64(0xABCDEF).str("node_b").buffer(), false))
        .isEqualTo(new PgOutputMessage.Origin(0xABCDEF, "node_b"));
    var m =
        (PgOutputMessage.Message)
            PgOutputDecoder.decode(
                new PgMessageBytes()
                    .b('M')
                    .b(1)
                    .i64(42)
                    .str("syncline")
                    .i32(2)
                    .b('h')
                    .b('i')
                    .buffer(),
                false);
    assertThat(m.transactional()).isTrue();
    assertThat(m.lsn()).isEqualTo(42);
    assertThat(m.prefix()).isEqualTo("syncline");
    assertThat(new String(m.content(), StandardCharsets.US_ASCII)).isEqualTo("hi");
  }

  @Test
  void protocolTwoStreamedBlocksCarryTransactionIds() throws IOException {
    assertThat(PgOutputDecoder.decode(new PgMessageBytes().b('S').i32(727).b(1).buffer(), false))
        .isEqualTo(new PgOutputMessage.StreamStart(727, true));
    var insert =
        (PgOutputMessage.Insert)
            PgOutputDecoder.decode(
                new PgMessageBytes().b('I').i32(729).i32(5).b('N').s16(1).text("1").buffer(), true);
    assertThat(insert.xid()).isEqualTo(729);
    assertThat(insert.relationId()).isEqualTo(5);
    assertThat(PgOutputDecoder.decode(new PgMessageBytes().b('E').buffer(), false))
        .isEqualTo(new PgOutputMessage.StreamStop());
    assertThat(
            PgOutputDecoder.decode(new PgMessageBytes().b('A').i32(728).i32(729).buffer(), false))
        .isEqualTo(new PgOutputMessage.StreamAbort(728, 729));
    assertThat(
            PgOutputDecoder.decode(
                new PgMessageBytes().b('c').i32(727).b(0).i64(1).i64(2).i64(3).buffer(), false))
        .isEqualTo(new PgOutputMessage.StreamCommit(727, 0, 1, 2, 3));
  }

  @Test
  void malformedInputIsATypedError() throws IOException {
    assertThatThrownBy(() -> PgOutputDecoder.decode(ByteBuffer.allocate(0), false))
        .isInstanceOf(SynclineException.class);
    assertThatThrownBy(() -> PgOutputDecoder.decode(new PgMessageBytes().b('Z').buffer(), false))
        .hasMessageContaining("unknown message type 'Z'");
    assertThatThrownBy(
            () ->
                PgOutputDecoder.decode(
                    new PgMessageBytes().b('I').i32(5).b('N').s16(1).b('t').i32(1000).buffer(),
                    false))
        .hasMessageContaining("1000 bytes");
    assertThatThrownBy(
            () -> PgOutputDecoder.decode(new PgMessageBytes().b('R').i32(1).b('p').buffer(), false))
        .hasMessageContaining("unterminated string");
  }

  /**
   * Random and truncated messages decode or fail with SOURCE_PROTOCOL, never with another
   * exception.
   */
  @Test
  void fuzzedMessagesNeverThrowAnythingElse() throws IOException {
    byte[][] seeds = {
      new PgMessageBytes()
          .b('R')
          .i32(16384)
          .str("public")
          .str("t")
          .b('d')
          .s16(2)
          .b(1)
          .str("id")
          .i32(23)
          .i32(-1)
          .b(0)
          .str("v")
          .i32(25)
          .i32(-1)
          .buffer()
          .array(),
      new PgMessageBytes()
          .b('U')
          .i32(5)
          .b('O')
          .s16(2)
          .text("1")
          .text("a")
          .b('N')
          .s16(2)
          .text("1")
          .b('u')
          .buffer()
          .array(),
      new PgMessageBytes().b('M').b(0).i64(42).str("p").i32(3).b(1).b(2).b(3).buffer().array(),
      new PgMessageBytes().b('T').i32(1).b(0).i32(7).buffer().array()
    };
    Random random = new Random(20261124);
    int decoded = 0;
    for (int i = 0; i < 50_000; i++) {
      byte[] base = seeds[i % seeds.length];
      byte[] input;
      if (i % 3 == 0) {
        input = Arrays.copyOf(base, random.nextInt(base.length + 1)); // truncated
      } else {
        input = base.clone();
        for (int k = 0; k < 1 + random.nextInt(4); k++) {
          input[random.nextInt(input.length)] = (byte) random.nextInt(256);
        }
      }
      try {
        PgOutputDecoder.decode(ByteBuffer.wrap(input), random.nextBoolean());
        decoded++;
      } catch (SynclineException e) {
        assertThat(e.code()).as("seed 20261124, case %d", i).isEqualTo(ErrorCode.SOURCE_PROTOCOL);
      }
    }
    assertThat(decoded).as("some mutations still decode").isPositive();
  }
}
