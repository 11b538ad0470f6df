package dev.syncline.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sorting a protocol-2 stream into applied messages and committed streamed transactions. */
class StreamedTransactionsTest {
  private final List<String> applied = new ArrayList<>();
  private final List<String> committed = new ArrayList<>();
  private final StreamedTransactions.Target target =
      new StreamedTransactions.Target() {
        @Override
        public void message(PgOutputMessage message) {
          applied.add(describe(message));
        }

        @Override
        public void committed(PgOutputMessage.StreamCommit commit, TransactionSpool spool) {
          List<String> inside = new ArrayList<>();
          spool.replay(b -> inside.add(describe(PgOutputDecoder.decode(b, true))));
          committed.add(commit.xid() + ":" + inside);
        }
      };

  private static String describe(PgOutputMessage m) {
    if (m instanceof PgOutputMessage.Insert i) {
      return "insert " + new String(i.newTuple().values()[0], StandardCharsets.UTF_8);
    }
    return m.getClass().getSimpleName();
  }

  private static ByteBuffer begin(int xid) throws IOException {
    return new PgMessageBytes().b('B').i64(100).i64(0).i32(xid).buffer();
  }

  private static ByteBuffer commit() throws IOException {
    return new PgMessageBytes().b('C').b(0).i64(100).i64(101).i64(0).buffer();
  }

  /** An insert of one text column; inside a streamed block it carries its (sub)transaction id. */
  private static ByteBuffer insert(Integer xid, String value) throws IOException {
    PgMessageBytes m = new PgMessageBytes().b('I');
    if (xid != null) {
      m.i32(xid);
    }
    return m.i32(5).b('N').s16(1).text(value).buffer();
  }

  private static ByteBuffer streamStart(int xid, boolean first) throws IOException {
    return new PgMessageBytes().b('S').i32(xid).b(first ? 1 : 0).buffer();
  }

  private static ByteBuffer streamStop() throws IOException {
    return new PgMessageBytes().b('E').buffer();
  }

  private static ByteBuffer streamAbort(int xid, int subXid) throws IOException {
    return new PgMessageBytes().b('A').i32(xid).i32(subXid).buffer();
  }

  private static ByteBuffer streamCommit(int xid) throws IOException {
    return new PgMessageBytes().b('c').i32(xid).b(0).i64(200).i64(201).i64(0).buffer();
  }

  @Test
  void plain_transactions_are_applied_as_they_come() throws Exception {
    try (StreamedTransactions streamed = new StreamedTransactions(1 << 20)) {
      streamed.receive(begin(7), target);
      streamed.receive(insert(null, "a"), target);
      streamed.receive(commit(), target);
      assertThat(applied).containsExactly("Begin", "insert a", "Commit");
      assertThat(committed).isEmpty();
    }
  }

  @Test
  void a_streamed_transaction_is_handed_over_whole_at_its_commit_without_aborted_parts()
      throws Exception {
    try (StreamedTransactions streamed = new StreamedTransactions(1 << 20)) {
      streamed.receive(streamStart(9, true), target);
      assertThat(streamed.inStreamBlock()).isTrue();
      streamed.receive(insert(9, "1"), target);
      streamed.receive(insert(10, "2 (subtransaction 10)"), target);
      streamed.receive(streamStop(), target);
      assertThat(streamed.inStreamBlock()).isFalse();
      // A small transaction commits between the blocks: applied at once, in between.
      streamed.receive(begin(8), target);
      streamed.receive(insert(null, "b"), target);
      streamed.receive(commit(), target);
      streamed.receive(streamStart(9, false), target);
      streamed.receive(insert(9, "3"), target);
      streamed.receive(streamStop(), target);
      streamed.receive(streamAbort(9, 10), target);
      assertThat(committed).isEmpty();
      assertThat(streamed.open()).isEqualTo(1);
      streamed.receive(streamCommit(9), target);
      assertThat(applied).containsExactly("Begin", "insert b", "Commit");
      assertThat(committed).containsExactly("9:[insert 1, insert 3]");
      assertThat(streamed.open()).isZero();
    }
  }

  @Test
  void an_aborted_streamed_transaction_leaves_nothing() throws Exception {
    try (StreamedTransactions streamed = new StreamedTransactions(8)) { // spills to disk at once
      streamed.receive(streamStart(11, true), target);
      streamed.receive(insert(11, "x".repeat(100)), target);
      streamed.receive(streamStop(), target);
      streamed.receive(streamAbort(11, 11), target);
      streamed.receive(streamCommit(11), target); // (never sent after an abort; ignored)
      assertThat(applied).isEmpty();
      assertThat(committed).isEmpty();
      assertThat(streamed.open()).isZero();
    }
  }
}
