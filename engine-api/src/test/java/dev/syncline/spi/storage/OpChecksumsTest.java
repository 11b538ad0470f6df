package dev.syncline.spi.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The worked examples of PowerSync protocol §3.5, byte for byte. */
class OpChecksumsTest {
  static final long E1 =
      OpChecksums.put("test", "t1", "{\"id\":\"t1\",\"description\":\"Test 1\"}");
  static final long E2 =
      OpChecksums.put("test", "t2", "{\"id\":\"t2\",\"description\":\"Test 2\"}");
  static final long E7 =
      OpChecksums.put("test", "t1", "{\"id\":\"t1\",\"description\":\"Test 1b\"}");
  static final long E8 =
      OpChecksums.put("test", "t2", "{\"id\":\"t2\",\"description\":\"Test 2b\"}");
  static final long E10 = OpChecksums.remove("a17e6883-d5d2-599d-a805-d60528127dbd");

  @Test
  void operation_checksums_match_the_reference() {
    assertThat(E1).isEqualTo(920318466L);
    assertThat(E2).isEqualTo(3280762209L);
    assertThat(OpChecksums.put("test", "test1", "{\"id\":\"test1\",\"description\":\"test1\"}"))
        .isEqualTo(2871785649L);
    assertThat(OpChecksums.remove("6544e3899293153fa7b38331/b40bd986-036a-51c7-ad7d-789ecb75e38c"))
        .isEqualTo(2872534815L);
    assertThat(
            OpChecksums.put(
                "test",
                "t1",
                "{\"id\":\"t1\",\"description\":\"Test\\n\\\"string\\\"\",\"large_num\":12345678901234567890}"))
        .isEqualTo(3442149460L);
    assertThat(
            OpChecksums.put(
                "lists", "list1", "{\"id\":\"list1\",\"user_id\":\"user1\",\"name\":\"User 1\"}"))
        .isEqualTo(1418351250L);
    assertThat(E7).isEqualTo(1859363232L);
    assertThat(E8).isEqualTo(3028503153L);
    assertThat(
            OpChecksums.put(
                "todos",
                "42",
                "{\"id\":42,\"done\":1,\"price\":3.0,\"ratio\":0.1,\"big\":1e+21,"
                    + "\"tiny\":1.5e-7,\"name\":\"Zoë 😀\",\"note\":null,\"tags\":\"[\\\"a\\\",\\\"b\\\"]\"}"))
        .isEqualTo(2428646672L);
    assertThat(E10).isEqualTo(1354871964L);
  }

  @Test
  void bucket_sums_wrap_and_are_sent_signed() {
    long e1e2 = OpChecksums.add(E1, E2);
    assertThat(e1e2).isEqualTo(4201080675L);
    assertThat(OpChecksums.toWire(e1e2)).isEqualTo(-93886621);
    long clearThenUpdates = OpChecksums.add(OpChecksums.add(e1e2, E7), E8);
    assertThat(clearThenUpdates).isEqualTo(499012468L);
    long mixed = OpChecksums.add(OpChecksums.add(OpChecksums.add(E1, E2), E7), E10);
    assertThat(mixed).isEqualTo(3120348575L);
    assertThat(OpChecksums.toWire(mixed)).isEqualTo(-1174618721);
  }

  @Test
  void unpaired_surrogates_hash_as_replacement_characters_like_node() {
    assertThat(OpChecksums.remove("a\ud800b")).isEqualTo(OpChecksums.remove("a\ufffdb"));
  }

  /**
   * Seeded properties over random ops: a checksum is the little-endian first word of SHA-256 of its
   * identity (computed here independently), a shared digest gives the same value, a bucket's sum
   * does not depend on the order of its ops, a CLEAR-then-rewrite sum is the sum of the new ops
   * alone, and the signed wire form is the same 32 bits.
   */
  @Test
  void checksums_and_their_sums_hold_their_properties_over_random_ops() throws Exception {
    SplittableRandom random = new SplittableRandom(20261207);
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    for (int round = 0; round < 200; round++) {
      List<Long> ops = new ArrayList<>();
      int n = 1 + random.nextInt(40);
      for (int i = 0; i < n; i++) {
        String type = "t" + random.nextInt(3);
        String id = randomText(random, 1 + random.nextInt(12));
        String data = "{\"v\":\"" + randomText(random, random.nextInt(30)) + "\"}";
        long put = OpChecksums.put(type, id, data);
        assertThat(put).isEqualTo(firstWordLittleEndian("put." + type + "." + id + "." + data));
        assertThat(OpChecksums.put(digest, type, id, data)).isEqualTo(put);
        assertThat(put).isBetween(0L, 0xffffffffL);
        ops.add(put);
        if (random.nextBoolean()) {
          long remove = OpChecksums.remove(type + "/" + id);
          assertThat(remove).isEqualTo(firstWordLittleEndian("delete." + type + "/" + id));
          ops.add(remove);
        }
      }
      long sum = sum(ops);
      List<Long> shuffled = new ArrayList<>(ops);
      Collections.shuffle(shuffled, new Random(random.nextLong()));
      assertThat(sum(shuffled)).as("order-independent").isEqualTo(sum);
      long wide = 0;
      for (long op : ops) {
        wide += op;
      }
      assertThat(sum).as("the sum mod 2^32").isEqualTo(wide & 0xffffffffL);
      assertThat(OpChecksums.toWire(sum) & 0xffffffffL)
          .as("same 32 bits on the wire")
          .isEqualTo(sum);
      int split = random.nextInt(ops.size() + 1);
      assertThat(OpChecksums.add(sum(ops.subList(0, split)), sum(ops.subList(split, ops.size()))))
          .as("a checkpoint's sum continues from an earlier one")
          .isEqualTo(sum);
    }
  }

  private static long sum(List<Long> ops) {
    long sum = 0;
    for (long op : ops) {
      sum = OpChecksums.add(sum, op);
    }
    return sum;
  }

  private static long firstWordLittleEndian(String identity) throws Exception {
    byte[] hash =
        MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
    return ByteBuffer.wrap(hash, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
  }

  /** Letters, digits, punctuation and non-ASCII text (well-formed UTF-16). */
  private static String randomText(SplittableRandom random, int length) {
    String alphabet = "abcXYZ019 -_/.:äéΩ中😀";
    StringBuilder out = new StringBuilder();
    while (out.length() < length) {
      out.appendCodePoint(
          alphabet.codePointAt(
              alphabet.offsetByCodePoints(
                  0, random.nextInt(alphabet.codePointCount(0, alphabet.length())))));
    }
    return out.toString();
  }
}
