package dev.syncline.postgres;

import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.postgres.internal.AckTracker;
import dev.syncline.postgres.internal.PgCatalog;
import dev.syncline.postgres.internal.PgCatalog.TableInfo;
import dev.syncline.postgres.internal.PgOutputMessage;
import dev.syncline.postgres.internal.PgValues;
import dev.syncline.postgres.internal.RelationTracker;
import dev.syncline.postgres.internal.StreamedTransactions;
import dev.syncline.postgres.internal.TransactionAssembler;
import dev.syncline.postgres.internal.TransactionSpool;
import dev.syncline.spi.source.ChangeSink;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.source.SourceEvent;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

/**
 * The replication loop: reads the stream, hands its transactions to storage in groups, confirms
 * what storage made durable, and between transactions looks for new and dropped tables. The pure
 * parts are separate: {@link StreamedTransactions} routes protocol-2 blocks, {@link
 * TransactionAssembler} turns messages into transactions, {@link RelationTracker} knows the tables,
 * {@link AckTracker} decides what to confirm. One instance per {@link PostgresSource#run}, on its
 * thread; it reads the source's settings and its shared state ({@code closed}, {@code
 * changesExpected}).
 */
final class ReplicationLoop implements TransactionAssembler.Output {
  private static final System.Logger LOG = System.getLogger(PostgresSource.class.getName());

  private final PostgresSource source;

  /** Protocol 2: the blocks of large transactions streamed before they commit. */
  private final StreamedTransactions streamed;

  private String currentSlot = "";
  private final Connection repl;
  private final PgCatalog catalog;
  private final PgValues values;
  private final ChangeSink sink;
  private final List<TablePattern> patterns;
  private final RelationTracker relations;
  private final TransactionAssembler assembler;
  private final AckTracker acks;
  private @Nullable Lsn catchUp;
  private final Set<TableRef> catchUpTables;
  private @Nullable PGReplicationStream stream;
  private long pendingCommit = -1;
  private int pendingRows;
  private long lastReportMillis;
  private long transactions;
  private long rows;
  private long lastLagMillis = -1;

  /**
   * A transaction was applied since this loop started (the first may have been partly stored
   * before).
   */
  private boolean appliedSinceStart;

  /** Transactions committed before this position may have been seen by a copy of a new table. */
  private long copiedUpTo;

  /** A new table's rows were copied and no checkpoint has made them visible yet. */
  private boolean copiedUncommitted;

  /** What the sink was last told by {@link ChangeSink#expectNewInserts}. */
  private boolean insertsAreNew;

  ReplicationLoop(
      PostgresSource source,
      Connection repl,
      PgCatalog catalog,
      PgValues values,
      ChangeSink sink,
      List<TableInfo> tables,
      List<TablePattern> patterns,
      @Nullable Lsn resumeFrom,
      @Nullable Lsn catchUp,
      Set<TableRef> catchUpTables) {
    this.source = source;
    this.streamed = new StreamedTransactions(source.spoolMemoryBytes);
    this.repl = repl;
    this.catalog = catalog;
    this.values = values;
    this.sink = sink;
    this.patterns = patterns;
    this.relations =
        new RelationTracker(
            patterns,
            tables,
            values,
            (id, ref, identity, problems) -> catalog.describe(id, ref, identity, -1, problems));
    long resumed = resumeFrom == null ? 0 : resumeFrom.value();
    this.assembler = new TransactionAssembler(relations, source.flushEveryChanges, resumed);
    this.acks = new AckTracker(resumed);
    this.catchUp = catchUp;
    this.catchUpTables = catchUpTables;
  }

  void stream(String slot) throws Exception {
    PGReplicationStream stream =
        repl.unwrap(PGConnection.class)
            .getReplicationAPI()
            .replicationStream()
            .logical()
            .withSlotName(slot)
            .withStartPosition(LogSequenceNumber.INVALID_LSN)
            .withSlotOption("proto_version", source.streamLargeTransactions ? "2" : "1")
            .withSlotOptions(streamingOption())
            .withSlotOption("publication_names", source.publication)
            .withSlotOption("messages", "true")
            .withStatusInterval((int) source.statusInterval.toMillis(), TimeUnit.MILLISECONDS)
            .withAutomaticFlush(false)
            .start();
    this.stream = stream;
    currentSlot = slot;
    LOG.log(System.Logger.Level.INFO, "streaming from slot {0}", slot);
    PostgresSource.PollBackoff poll =
        new PostgresSource.PollBackoff(
            PostgresSource.ACTIVE_POLL_MILLIS,
            source.idlePollMillis,
            source.quietNanos,
            System.nanoTime());
    lastReportMillis = source.clock.millis();
    source.streamingThread = Thread.currentThread();
    try {
      while (!source.closed) {
        sink.alive();
        confirmDurable();
        report();
        if (pendingCommit >= 0 && !acks.storageBusy()) {
          commitGroup(); // storage is free: everything that arrived meanwhile goes in one batch
        }
        ByteBuffer buffer = stream.readPending();
        if (buffer == null) {
          if (pendingCommit < 0 && !assembler.inTransaction()) {
            keepalive();
          }
          if (pendingCommit >= 0) {
            Thread.sleep(1); // waiting for storage: look again soon
          } else {
            // Idle: back off (see Builder.idlePollInterval); changesExpected() cuts the wait
            // short.
            if (source.changesExpected.getAndSet(false)) {
              poll.expect(System.nanoTime());
            }
            LockSupport.parkNanos(
                source, TimeUnit.MILLISECONDS.toNanos(poll.nextSleepMillis(System.nanoTime())));
            if (Thread.interrupted()) {
              throw new InterruptedException();
            }
          }
          continue;
        }
        poll.activity(System.nanoTime());
        receive(buffer);
      }
      if (pendingCommit >= 0) {
        commitGroup();
      }
      sink.sync(); // a clean stop leaves nothing applied but unacknowledged
      confirmDurable();
    } finally {
      source.streamingThread = null;
      streamed.close();
      try {
        stream.close();
      } catch (SQLException e) {
        // The connection is closing anyway.
      }
    }
  }

  private PGReplicationStream stream() {
    return Objects.requireNonNull(stream, "streaming");
  }

  // ---- what the assembler hands on ----

  @Override
  public void begin(long finalLsn, boolean skipped) {
    // Inserts are of rows storage does not hold, except in the first transaction after a start
    // (parts of it may have been stored before a stop), while catching up with a resumed copy,
    // and in transactions a copy of a new table may have seen.
    boolean newInserts =
        !skipped
            && appliedSinceStart
            && catchUp == null
            && Long.compareUnsigned(finalLsn, copiedUpTo) > 0;
    if (newInserts != insertsAreNew) {
      sink.expectNewInserts(newInserts);
      insertsAreNew = newInserts;
    }
  }

  @Override
  public void spill(List<SourceChange> changes) throws Exception {
    if (pendingCommit >= 0) {
      commitGroup();
    }
    for (SourceChange c : changes) {
      sink.accept(c);
    }
    rows += changes.size();
    sink.flush(); // durable but invisible: the transaction's commit makes it visible
  }

  @Override
  public void commit(List<SourceChange> changes, long endLsn, long commitTimeMicros)
      throws Exception {
    appliedSinceStart = true;
    if (pendingCommit >= 0
        && !changes.isEmpty()
        && pendingRows + changes.size() > source.flushEveryChanges) {
      commitGroup();
    }
    for (SourceChange change : changes) {
      sink.accept(change);
    }
    pendingRows += changes.size();
    rows += changes.size();
    transactions++;
    pendingCommit = endLsn;
    lastLagMillis =
        Math.max(
            0, source.clock.millis() - (commitTimeMicros + PostgresSource.PG_EPOCH_MICROS) / 1000);
    // Group commit: a transaction is committed at once when storage is free; while storage
    // writes the previous batch, the transactions that arrive meanwhile gather into the next
    // one (bounded by source.flushEveryChanges).
    if (pendingRows >= source.flushEveryChanges || !acks.storageBusy()) {
      commitGroup();
    }
  }

  @Override
  public void relation(RelationTracker.Outcome outcome) {
    if (outcome instanceof RelationTracker.Outcome.Added a) {
      source.describe(a.table());
      sink.event(
          new SourceEvent.SchemaChanged(
              a.table().ref(),
              "new table in the stream; its rows sync from their next change on (rows that"
                  + " existed before are not copied until the rules are deployed again)"));
    } else if (outcome instanceof RelationTracker.Outcome.Changed c) {
      source.describe(c.after());
      sink.event(new SourceEvent.SchemaChanged(c.after().ref(), c.description()));
    } else if (outcome instanceof RelationTracker.Outcome.Refused r) {
      sink.event(new SourceEvent.Warning("SYNCLINE_P1003", r.problem(), r.ref()));
    }
  }

  @Override
  public void typeChanged(int typeOid) {
    catalog.forgetType(typeOid);
  }

  @Override
  public void between() throws Exception {
    keepalive();
  }

  // ---- storage and confirmations ----

  /**
   * Commits the transactions accepted so far; their end position is confirmed once storage reports
   * them durable (the storage write overlaps with reading the next transactions).
   */
  private void commitGroup() throws Exception {
    long end = pendingCommit;
    pendingCommit = -1;
    pendingRows = 0;
    commitAt(new Lsn(end));
    confirmDurable();
  }

  private void commitAt(Lsn position) throws Exception {
    if (catchUp != null && position.compareTo(catchUp) < 0) {
      // Replayed before the resumed copy's position: not consistent yet, so not visible.
      sink.flush();
      sink.sync();
      acks.durable(position.value());
      return;
    }
    if (catchUp != null) {
      sink.flush();
      catchUpTables.forEach(sink::snapshotDone);
      LOG.log(
          System.Logger.Level.INFO,
          "the stream passed {0}: the resumed snapshot is consistent",
          catchUp);
      catchUp = null;
    }
    acks.submitted(position.value());
    copiedUncommitted = false; // a commit makes everything applied so far visible
    sink.commitAsync(position, () -> acks.durable(position.value()));
  }

  /** Confirms what storage has made durable, if that moved. Only on the polling thread. */
  private void confirmDurable() throws SQLException {
    long durable = acks.toConfirm();
    if (durable != 0) {
      confirm(durable);
    }
  }

  private void confirm(long position) throws SQLException {
    PGReplicationStream s = stream();
    LogSequenceNumber lsn = LogSequenceNumber.valueOf(position);
    s.setAppliedLSN(lsn);
    s.setFlushedLSN(lsn);
    s.forceUpdateStatus();
  }

  /**
   * While idle, lets the slot follow the server's WAL: a position received with nothing of ours
   * before it (the server's keepalives, other tables' and databases' transactions) is confirmed at
   * most once a status interval, without writing storage. (Writing a checkpoint for it would itself
   * make WAL; with storage on the same cluster, the server would answer with a newer position, and
   * the engine would write once a second forever.) Write checkpoints do not need it: their head's
   * logical message is a transaction of ours. While a resumed copy waits for the stream to pass its
   * position, that passing is stored, once a second at most; after a new table's rows were copied,
   * a checkpoint makes them visible at once.
   */
  private void keepalive() throws Exception {
    if (assembler.holdsChanges() || pendingCommit >= 0 || acks.storageBusy()) {
      return;
    }
    long received = stream().getLastReceiveLSN().asLong();
    long now = source.clock.millis();
    if (copiedUncommitted && catchUp == null) {
      // A new table's rows were copied: make them visible now, not with the next change of some
      // table.
      long at = AckTracker.max(received, acks.confirmed());
      if (at != 0) {
        acks.restartInterval(now);
        commitAt(new Lsn(at));
      }
      return;
    }
    if (Long.compareUnsigned(received, acks.confirmed()) <= 0) {
      return;
    }
    if (catchUp != null) {
      if (acks.due(now, 1000)) {
        commitAt(new Lsn(received));
      }
      return;
    }
    if (acks.due(now, source.statusInterval.toMillis())) {
      acks.confirmedUnstored(received);
      confirm(received);
    }
  }

  // ---- tables appearing and disappearing ----

  /**
   * Tables matching the rules that appeared after replication started: added to a managed
   * source.publication, their existing rows copied (at READ COMMITTED; changes the stream replays
   * over the copy are idempotent), then streamed. Runs between transactions; keeps the replication
   * connection alive while copying.
   */
  private void discoverTables() throws Exception {
    if (assembler.inTransaction() || assembler.holdsChanges() || streamed.inStreamBlock()) {
      return;
    }
    List<TableInfo> found;
    try {
      found = catalog.tables(patterns);
    } catch (SynclineException e) {
      sink.event(
          new SourceEvent.Warning(
              e.code().code(), e.getMessage(), null)); // e.g. a new table without a key
      return;
    }
    List<TableInfo> fresh = found.stream().filter(t -> !relations.knows(t.relationId())).toList();
    if (fresh.isEmpty()) {
      return;
    }
    try {
      catalog.ensurePublication(source.publication, source.managePublication, fresh);
    } catch (SynclineException e) {
      sink.event(new SourceEvent.Warning(e.code().code(), e.getMessage(), fresh.get(0).ref()));
      return;
    }
    if (pendingCommit >= 0) {
      commitGroup();
    }
    if (insertsAreNew) {
      // The copy's rows are inserts too, of a table whose rows storage may hold (dropped and
      // created again).
      sink.expectNewInserts(false);
      insertsAreNew = false;
    }
    PGReplicationStream s = stream();
    try (Connection reader = source.connect(false)) {
      PgCatalog.pinSessionSettings(reader);
      reader.setAutoCommit(false);
      for (TableInfo t : fresh) {
        relations.add(t);
        source.describe(t);
        LOG.log(
            System.Logger.Level.INFO,
            "new table {0}: copying its rows, then streaming it",
            t.ref());
        if (!source
            .copier(values, sink)
            .copy(
                reader,
                t,
                null,
                () -> {
                  confirmDurable();
                  s.forceUpdateStatus(); // a long copy must not let the walsender time out
                })) {
          return;
        }
        reader.commit();
        sink.snapshotDone(t.ref());
        copiedUncommitted = true;
        sink.event(
            new SourceEvent.SchemaChanged(
                t.ref(),
                "new table: its existing rows were copied and its "
                    + "changes stream from now on"));
      }
      // The copy may have seen rows of transactions the stream has yet to send.
      try (Statement st = reader.createStatement();
          ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
        rs.next();
        copiedUpTo = AckTracker.max(copiedUpTo, Lsn.parse(rs.getString(1)).value());
      }
      reader.commit();
    }
  }

  private void report() throws Exception {
    long now = source.clock.millis();
    if (now - lastReportMillis < source.statusInterval.toMillis()) {
      return;
    }
    sink.event(new SourceEvent.Throughput(transactions, rows, now - lastReportMillis));
    transactions = 0;
    rows = 0;
    lastReportMillis = now;
    discoverTables();
    Set<Integer> existing = catalog.existingRelations(relations.relationIds());
    for (int id : relations.relationIds()) {
      if (existing.contains(id)) {
        continue;
      }
      TableInfo gone = relations.forget(id);
      if (gone == null) {
        continue;
      }
      TableRef t = gone.ref();
      LOG.log(
          System.Logger.Level.WARNING,
          "table {0} was dropped; its rows stay in storage until the sync rules "
              + "are deployed again",
          t);
      sink.event(
          new SourceEvent.SchemaChanged(
              t,
              "dropped; its rows stay in storage until the sync rules are "
                  + "deployed again (a table created under the same name later is streamed from its first change)"));
      sink.event(new SourceEvent.Warning("SYNCLINE_P1004", "table " + t + " was dropped", t));
    }
    PgCatalog.SlotState s = catalog.slot(slotNameOf());
    if (s == null) {
      return;
    }
    sink.event(
        new SourceEvent.Lag(
            s.lagBytes(), lastLagMillis, s.retainedBytes(), s.walStatus(), s.safeWalSize()));
    if ("lost".equals(s.walStatus())) {
      throw PostgresSource.slotLost(
          slotNameOf(), "it was invalidated (max_slot_wal_keep_size exceeded)");
    }
    if ("unreserved".equals(s.walStatus())
        || (s.safeWalSize() >= 0 && s.safeWalSize() < 64L * 1024 * 1024)) {
      sink.event(
          new SourceEvent.Warning(
              "SYNCLINE_P1002",
              "replication slot "
                  + slotNameOf()
                  + " is close to "
                  + "invalidation (wal_status="
                  + s.walStatus()
                  + ", safe_wal_size="
                  + s.safeWalSize()
                  + " bytes): "
                  + "replication is not keeping up, or max_slot_wal_keep_size is too small",
              null));
    }
  }

  private Properties streamingOption() {
    Properties p = new Properties();
    if (source.streamLargeTransactions) {
      p.setProperty("streaming", "on");
    }
    return p;
  }

  /**
   * Routes a message: streamed blocks are spooled until their transaction commits, the rest is
   * assembled.
   */
  private void receive(ByteBuffer buffer) throws Exception {
    streamed.receive(
        buffer,
        new StreamedTransactions.Target() {
          @Override
          public void message(PgOutputMessage message) throws Exception {
            assembler.accept(message, ReplicationLoop.this);
          }

          @Override
          public void committed(PgOutputMessage.StreamCommit commit, TransactionSpool spool)
              throws Exception {
            LOG.log(
                System.Logger.Level.DEBUG,
                "applying streamed transaction {0} ({1} bytes{2})",
                Integer.toUnsignedString(commit.xid()),
                spool.bytes(),
                spool.onDisk() ? ", spooled to disk" : "");
            assembler.applyStreamed(commit, spool, ReplicationLoop.this);
            source.streamedTransactions.incrementAndGet();
          }
        });
  }

  private String slotNameOf() {
    return currentSlot;
  }
}
