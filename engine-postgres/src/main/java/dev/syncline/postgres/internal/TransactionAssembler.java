package dev.syncline.postgres.internal;

import dev.syncline.api.SourceRow;
import dev.syncline.postgres.internal.PgCatalog.TableInfo;
import dev.syncline.spi.source.SourceChange;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Turns decoded pgoutput messages into transactions: messages in, each transaction's changes and
 * its commit position out ({@link Output}).
 *
 * <p>Changes of the tables the rules read are gathered until their transaction commits; a
 * transaction that grows past {@code spillAt} changes hands them on in parts ({@link Output#spill})
 * so memory stays bounded. Transactions that end before the position replication resumed from were
 * stored before a stop and are left out. A committed protocol-2 streamed transaction is applied
 * like any other ({@link #applyStreamed}).
 *
 * <p>No I/O of its own; used by the replication thread only.
 */
public final class TransactionAssembler {
  /** Where assembled transactions go (the replication loop). */
  public interface Output {
    /**
     * A transaction begins.
     *
     * @param finalLsn the position of its commit
     * @param skipped it ends before the position replication resumed from: its changes are left out
     */
    void begin(long finalLsn, boolean skipped) throws Exception;

    /** A transaction's first {@code spillAt} (or next) changes, before it committed. */
    void spill(List<SourceChange> changes) throws Exception;

    /**
     * A transaction committed.
     *
     * @param changes its changes since the last {@link #spill} (possibly none)
     * @param endLsn the position after its commit record: the next position to resume from
     * @param commitTimeMicros when it committed, in microseconds since 2000-01-01 UTC
     */
    void commit(List<SourceChange> changes, long endLsn, long commitTimeMicros) throws Exception;

    /** A Relation message changed what the tracker knows of a table of the rules. */
    void relation(RelationTracker.Outcome outcome) throws Exception;

    /** A user-defined type was (re)described: cached facts about it are stale. */
    void typeChanged(int typeOid);

    /**
     * A non-transactional logical message arrived outside any transaction: nothing of ours is
     * pending before the position received.
     */
    void between() throws Exception;
  }

  private final RelationTracker relations;
  private final int spillAt;
  private final long resumeFrom;
  private List<SourceChange> buffer = new ArrayList<>();
  private boolean inTransaction;
  private boolean skipping;
  private long commitTimeMicros;

  /**
   * @param relations the relations of the stream
   * @param spillAt how many changes of a transaction are gathered before they are handed on
   * @param resumeFrom transactions ending before this position are left out ({@code 0}: none)
   */
  public TransactionAssembler(RelationTracker relations, int spillAt, long resumeFrom) {
    if (spillAt < 1) {
      throw new IllegalArgumentException("spillAt must be positive, got " + spillAt);
    }
    this.relations = relations;
    this.spillAt = spillAt;
    this.resumeFrom = resumeFrom;
  }

  /** Whether a transaction began and has not committed yet. */
  public boolean inTransaction() {
    return inTransaction;
  }

  /** Whether changes are gathered that were not handed on yet. */
  public boolean holdsChanges() {
    return !buffer.isEmpty();
  }

  /** Takes the next message of the stream. */
  public void accept(PgOutputMessage m, Output out) throws Exception {
    if (m instanceof PgOutputMessage.Begin b) {
      inTransaction = true;
      commitTimeMicros = b.commitTimeMicros();
      skipping = resumeFrom != 0 && Long.compareUnsigned(b.finalLsn(), resumeFrom) < 0;
      out.begin(b.finalLsn(), skipping);
    } else if (m instanceof PgOutputMessage.Commit c) {
      inTransaction = false;
      List<SourceChange> changes = take();
      if (skipping) {
        skipping = false;
        return;
      }
      out.commit(changes, c.endLsn(), commitTimeMicros);
    } else if (m instanceof PgOutputMessage.Relation r) {
      RelationTracker.Outcome outcome = relations.relation(r);
      if (!(outcome instanceof RelationTracker.Outcome.Unchanged)) {
        out.relation(outcome);
      }
    } else if (m instanceof PgOutputMessage.Type t) {
      out.typeChanged(t.typeOid());
    } else if (m instanceof PgOutputMessage.Insert i) {
      TableInfo t = wanted(i.relationId());
      if (t != null) {
        add(
            SourceChange.insert(
                t.ref(), t.keyColumns(), relations.row(i.relationId(), i.newTuple(), null, null)),
            out);
      }
    } else if (m instanceof PgOutputMessage.Update u) {
      TableInfo t = wanted(u.relationId());
      if (t != null) {
        Set<String> unchanged = new LinkedHashSet<>();
        PgOutputMessage.TupleData oldTuple = u.oldTuple();
        SourceRow old =
            oldTuple == null ? null : relations.row(u.relationId(), oldTuple, null, null);
        SourceRow now =
            relations.row(u.relationId(), u.newTuple(), u.oldKind() == 'O' ? old : null, unchanged);
        add(SourceChange.update(t.ref(), t.keyColumns(), old, now, unchanged), out);
      }
    } else if (m instanceof PgOutputMessage.Delete d) {
      TableInfo t = wanted(d.relationId());
      if (t != null) {
        add(
            SourceChange.delete(
                t.ref(), t.keyColumns(), relations.row(d.relationId(), d.oldTuple(), null, null)),
            out);
      }
    } else if (m instanceof PgOutputMessage.Truncate tr) {
      for (int id : tr.relationIds()) {
        TableInfo t = wanted(id);
        if (t != null) {
          add(SourceChange.truncate(t.ref()), out);
        }
      }
    } else if (m instanceof PgOutputMessage.Message msg && !msg.transactional() && !inTransaction) {
      out.between();
    }
    // Origin and transactional messages need nothing: the commit that follows advances the
    // position. Stream control messages are routed before (StreamedTransactions).
  }

  /**
   * Applies a committed streamed transaction as if it had arrived as Begin, its changes, Commit.
   * Relation messages inside the stream describe this transaction's changes only: the ones known
   * before are back afterwards.
   */
  public void applyStreamed(PgOutputMessage.StreamCommit c, TransactionSpool spool, Output out)
      throws Exception {
    RelationTracker.Saved before = relations.save();
    try {
      accept(new PgOutputMessage.Begin(c.commitLsn(), c.commitTimeMicros(), c.xid()), out);
      Exception[] failure = new Exception[1];
      spool.replay(
          b -> {
            if (failure[0] == null) {
              try {
                accept(PgOutputDecoder.decode(b, true), out);
              } catch (Exception e) {
                failure[0] = e;
              }
            }
          });
      if (failure[0] != null) {
        throw failure[0];
      }
      accept(
          new PgOutputMessage.Commit(c.flags(), c.commitLsn(), c.endLsn(), c.commitTimeMicros()),
          out);
    } finally {
      relations.restore(before);
    }
  }

  private @Nullable TableInfo wanted(int relationId) {
    return skipping ? null : relations.table(relationId);
  }

  private void add(SourceChange change, Output out) throws Exception {
    buffer.add(change);
    if (buffer.size() >= spillAt) {
      out.spill(take());
    }
  }

  /** The gathered changes, handed on (the receiver owns the list). */
  private List<SourceChange> take() {
    if (buffer.isEmpty()) {
      return List.of();
    }
    List<SourceChange> taken = buffer;
    buffer = new ArrayList<>();
    return taken;
  }
}
