package dev.syncline.postgres.internal;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Sorts pgoutput messages into those to apply now and the blocks of large transactions that
 * Postgres streams before they commit (protocol 2): a block's messages are spooled per transaction
 * until its {@code StreamCommit}, which hands the whole transaction over, or its {@code
 * StreamAbort}, which drops it (or only an aborted subtransaction's messages). Nothing here talks
 * to Postgres: it is fed bytes and calls its {@link Target}. Used by the replication thread only.
 */
public final class StreamedTransactions implements AutoCloseable {
  /** Where sorted messages go. */
  public interface Target {
    /** A message outside any streamed block: apply it now, in order. */
    void message(PgOutputMessage message) throws Exception;

    /**
     * A streamed transaction committed: {@code spool} replays its messages in the order they
     * arrived, without those of aborted subtransactions. The spool is closed after this returns.
     */
    void committed(PgOutputMessage.StreamCommit commit, TransactionSpool spool) throws Exception;
  }

  private final long spoolMemoryBytes;
  private final Map<Integer, TransactionSpool> spools = new HashMap<>();
  private boolean inStreamBlock;
  private @Nullable TransactionSpool current;

  /**
   * Keeps up to {@code spoolMemoryBytes} of each streamed transaction in memory, then spills it.
   */
  public StreamedTransactions(long spoolMemoryBytes) {
    this.spoolMemoryBytes = spoolMemoryBytes;
  }

  /** Decodes one message and routes it. */
  public void receive(ByteBuffer buffer, Target target) throws Exception {
    PgOutputMessage m = PgOutputDecoder.decode(buffer, inStreamBlock);
    if (m instanceof PgOutputMessage.StreamStart s) {
      inStreamBlock = true;
      current = spools.computeIfAbsent(s.xid(), x -> new TransactionSpool(x, spoolMemoryBytes));
    } else if (m instanceof PgOutputMessage.StreamStop) {
      inStreamBlock = false;
      current = null;
    } else if (m instanceof PgOutputMessage.StreamAbort a) {
      if (a.subXid() == a.xid()) {
        TransactionSpool spool = spools.remove(a.xid());
        if (spool != null) {
          spool.close();
        }
      } else {
        TransactionSpool spool = spools.get(a.xid());
        if (spool != null) {
          spool.abortSubtransaction(a.subXid());
        }
      }
    } else if (m instanceof PgOutputMessage.StreamCommit c) {
      TransactionSpool spool = spools.remove(c.xid());
      if (spool != null) {
        try (spool) {
          target.committed(c, spool);
        }
      }
    } else if (inStreamBlock && current != null) {
      current.add(xidOf(m), buffer);
    } else {
      target.message(m);
    }
  }

  /** Whether the messages being read belong to a streamed block (not a place to pause). */
  public boolean inStreamBlock() {
    return inStreamBlock;
  }

  /** Transactions streamed in part and not yet committed or aborted. */
  public int open() {
    return spools.size();
  }

  /** Drops every spool (and its temporary file). */
  @Override
  public void close() {
    spools.values().forEach(TransactionSpool::close);
    spools.clear();
    current = null;
    inStreamBlock = false;
  }

  private static int xidOf(PgOutputMessage m) {
    if (m instanceof PgOutputMessage.Relation r) {
      return r.xid();
    } else if (m instanceof PgOutputMessage.Type t) {
      return t.xid();
    } else if (m instanceof PgOutputMessage.Insert i) {
      return i.xid();
    } else if (m instanceof PgOutputMessage.Update u) {
      return u.xid();
    } else if (m instanceof PgOutputMessage.Delete d) {
      return d.xid();
    } else if (m instanceof PgOutputMessage.Truncate t) {
      return t.xid();
    } else if (m instanceof PgOutputMessage.Message msg) {
      return msg.xid();
    }
    throw new SynclineException(
        ErrorCode.SOURCE_PROTOCOL, "unexpected message in a streamed block: " + m);
  }
}
