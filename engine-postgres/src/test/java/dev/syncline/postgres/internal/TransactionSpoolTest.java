package dev.syncline.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The spool of a large streamed transaction, without Postgres: order, aborts, spilling to disk. */
class TransactionSpoolTest {
  private static ByteBuffer msg(String text) {
    return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
  }

  private static List<String> replay(TransactionSpool spool) {
    List<String> out = new ArrayList<>();
    spool.replay(b -> out.add(StandardCharsets.UTF_8.decode(b).toString()));
    return out;
  }

  private static List<Path> spoolFiles(int xid) throws IOException {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    try (Stream<Path> files = Files.list(tmp)) {
      return files
          .filter(p -> p.getFileName().toString().startsWith("syncline-tx-" + xid + "-"))
          .toList();
    }
  }

  @Test
  void replays_in_arrival_order_without_aborted_subtransactions() {
    try (TransactionSpool spool = new TransactionSpool(700, 1 << 20)) {
      spool.add(700, msg("a"));
      spool.add(701, msg("b (sub 701)"));
      spool.add(700, msg("c"));
      spool.add(702, msg("d (sub 702)"));
      spool.abortSubtransaction(701);
      assertThat(spool.onDisk()).isFalse();
      assertThat(replay(spool)).containsExactly("a", "c", "d (sub 702)");
    }
  }

  @Test
  void spills_to_a_file_past_its_memory_limit_and_deletes_it_on_close() throws IOException {
    int xid = 424_242;
    TransactionSpool spool = new TransactionSpool(xid, 16);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      int from = i % 10 == 3 ? xid + 1 : xid; // one message in ten from a subtransaction
      String text = "message " + i + " " + "x".repeat(i % 7);
      spool.add(from, msg(text));
      if (from == xid) {
        expected.add(text);
      }
    }
    spool.abortSubtransaction(xid + 1);
    assertThat(spool.onDisk()).isTrue();
    assertThat(spoolFiles(xid)).hasSize(1);
    assertThat(replay(spool)).containsExactlyElementsOf(expected);
    spool.close();
    assertThat(spoolFiles(xid)).isEmpty();
  }

  @Test
  void keeps_a_copy_and_leaves_the_callers_buffer_as_it_was() {
    try (TransactionSpool spool = new TransactionSpool(1, 1 << 20)) {
      ByteBuffer buffer = msg("hello");
      spool.add(1, buffer);
      assertThat(buffer.remaining()).isEqualTo(5);
      buffer.put(0, (byte) 'j'); // the stream reuses its buffer
      assertThat(replay(spool)).containsExactly("hello");
      assertThat(spool.bytes()).isEqualTo(5);
    }
  }
}
