package dev.syncline.postgres.internal;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One message of the {@code pgoutput} logical replication protocol (PostgreSQL "Logical Replication
 * Message Formats"), decoded by {@link PgOutputDecoder}. LSNs are unsigned 64-bit values held in a
 * {@code long}.
 */
public sealed interface PgOutputMessage {

  /** Start of a transaction. */
  record Begin(long finalLsn, long commitTimeMicros, int xid) implements PgOutputMessage {}

  /**
   * End of a transaction; {@code endLsn} is the position to acknowledge once it is durably applied.
   */
  record Commit(int flags, long commitLsn, long endLsn, long commitTimeMicros)
      implements PgOutputMessage {}

  /** The transaction came from another replication origin. */
  record Origin(long originLsn, String name) implements PgOutputMessage {}

  /**
   * A table's shape, sent before the first change of the table in a session and after it changed.
   *
   * @param xid the streamed transaction's (sub)transaction id, or 0 outside streamed blocks
   * @param replicaIdentity {@code d} default, {@code n} nothing, {@code f} full, {@code i} index
   */
  record Relation(
      int xid,
      int relationId,
      String namespace,
      String name,
      char replicaIdentity,
      List<Column> columns)
      implements PgOutputMessage {
    /** Copies the list. */
    public Relation {
      columns = List.copyOf(columns);
    }
  }

  /** A column of a {@link Relation}; {@code key} when it is part of the replica identity. */
  record Column(boolean key, String name, int typeOid, int typeModifier) {}

  /** A user-defined type's name, sent before a relation that uses it. */
  record Type(int xid, int typeOid, String namespace, String name) implements PgOutputMessage {}

  /** A new row. */
  record Insert(int xid, int relationId, TupleData newTuple) implements PgOutputMessage {}

  /**
   * A changed row.
   *
   * @param oldKind {@code K} when {@code oldTuple} holds the old key only, {@code O} when the full
   *     old row, {@code 0} when absent (the key did not change and the identity is not FULL)
   */
  record Update(
      int xid, int relationId, char oldKind, @Nullable TupleData oldTuple, TupleData newTuple)
      implements PgOutputMessage {}

  /** A removed row; {@code oldKind} as for {@link Update}. */
  record Delete(int xid, int relationId, char oldKind, TupleData oldTuple)
      implements PgOutputMessage {}

  /** Tables emptied; {@code options} bit 1 = CASCADE, bit 2 = RESTART IDENTITY. */
  record Truncate(int xid, int options, List<Integer> relationIds) implements PgOutputMessage {
    /** Copies the list. */
    public Truncate {
      relationIds = List.copyOf(relationIds);
    }
  }

  /** A logical decoding message ({@code pg_logical_emit_message}). */
  @SuppressWarnings("ArrayRecordComponent") // decoded wire data, read once and never compared
  record Message(int xid, boolean transactional, long lsn, String prefix, byte[] content)
      implements PgOutputMessage {}

  /** Protocol 2: start of a block of a large in-progress transaction's changes. */
  record StreamStart(int xid, boolean firstSegment) implements PgOutputMessage {}

  /** Protocol 2: end of a streamed block. */
  record StreamStop() implements PgOutputMessage {}

  /** Protocol 2: a streamed transaction committed. */
  record StreamCommit(int xid, int flags, long commitLsn, long endLsn, long commitTimeMicros)
      implements PgOutputMessage {}

  /**
   * Protocol 2: a streamed (sub)transaction aborted; when {@code subXid == xid} the whole
   * transaction.
   */
  record StreamAbort(int xid, int subXid) implements PgOutputMessage {}

  /**
   * Column values of a row, in relation column order.
   *
   * @param kinds per column: {@code n} null, {@code u} unchanged TOASTed value (not sent), {@code
   *     t} text, {@code b} binary
   * @param values per column: the raw bytes for {@code t}/{@code b}, else null
   */
  @SuppressWarnings("ArrayRecordComponent") // decoded wire data, read once and never compared
  record TupleData(char[] kinds, byte[][] values) {
    /** Number of columns. */
    public int size() {
      return kinds.length;
    }
  }
}
