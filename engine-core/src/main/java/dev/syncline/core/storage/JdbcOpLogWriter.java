package dev.syncline.core.storage;

import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.core.internal.Uninterruptibly;
import dev.syncline.core.internal.storage.BucketAdoption;
import dev.syncline.core.internal.storage.CheckpointWatchers;
import dev.syncline.core.internal.storage.CopyTextWriter;
import dev.syncline.core.internal.storage.OpPacks;
import dev.syncline.core.internal.storage.StorageCodec;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.CurrentRow;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.ParameterChange;
import dev.syncline.spi.storage.SourceKey;
import dev.syncline.spi.storage.WriteBatch;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Table;
import org.jooq.exception.DataAccessException;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;

/**
 * Writes one rules version while holding its lock. Every transaction that makes writes visible is
 * <em>fenced</em>: it changes the version's rules row only where that row still names this writer's
 * token, and fails (rolled back, nothing written) when it does not. A writer that lost its lock
 * (its lock connection died, or it was closed while a commit was on its way) can therefore never
 * add ops under op ids the next writer hands out, nor move the checkpoint: the next writer names
 * itself in the row before it reads the last op id, and that update waits for a commit holding the
 * row.
 */
final class JdbcOpLogWriter extends JdbcStoragePart implements BucketStorageWriter {
  /**
   * Current rows from which a batch without position is written on two connections at once
   * (Postgres).
   */
  private static final int SPLIT_ROWS = 1_000;

  private final long versionId;
  private final Connection lockConnection;
  private final String token;
  private long lastOp;
  private final AtomicBoolean closed = new AtomicBoolean();
  private @Nullable ExecutorService rowWriter;

  private final JdbcReplicationLock lock;
  private final JdbcOpLogReader reader;
  private final CheckpointWatchers watchers;

  /** A writer of {@code versionId} holding its lock ({@code held}). */
  JdbcOpLogWriter(
      JdbcStoragePart tables,
      JdbcReplicationLock lock,
      JdbcOpLogReader reader,
      CheckpointWatchers watchers,
      long versionId,
      JdbcReplicationLock.Held held) {
    super(tables);
    this.lock = lock;
    this.reader = reader;
    this.watchers = watchers;
    this.versionId = versionId;
    this.lockConnection = held.connection();
    this.lastOp = held.lastOp();
    this.token = held.token();
  }

  /**
   * The rules row of this version, where it still names this writer: the condition of every fenced
   * update.
   */
  private Condition mine() {
    return ID.eq(versionId).and(REPLICATOR.eq(token));
  }

  /** Fails the transaction when a fenced update found the row naming another writer. */
  private void fenced(int updated) {
    if (updated == 0) {
      throw new SynclineException(
          ErrorCode.REPLICATION_LOCKED,
          "rules version "
              + versionId
              + " is now "
              + "replicated by "
              + lock.replicator(versionId).orElse("another writer")
              + ": this writer lost its lock, and "
              + "nothing of its write was stored");
    }
  }

  /**
   * Fences a transaction that otherwise changes nothing in the rules row (it takes the row until
   * commit).
   */
  private void fence(DSLContext dsl) {
    fenced(dsl.update(rules).set(REPLICATOR, token).where(mine()).execute());
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "writer is closed");
    }
  }

  @Override
  public long versionId() {
    return versionId;
  }

  @Override
  public Map<SourceKey, CurrentRow> currentRows(Collection<SourceKey> keys) {
    checkOpen();
    if (keys.isEmpty()) {
      return Map.of();
    }
    Map<SourceKey, CurrentRow> out = new HashMap<>();
    Map<String, List<SourceKey>> byTable = new LinkedHashMap<>();
    keys.forEach(k -> byTable.computeIfAbsent(tableName(k.table()), t -> new ArrayList<>()).add(k));
    readConsistent(
        dsl -> {
          for (Map.Entry<String, List<SourceKey>> e : byTable.entrySet()) {
            TableRef table = e.getValue().get(0).table();
            List<String> ks = e.getValue().stream().map(SourceKey::key).toList();
            for (int i = 0; i < ks.size(); i += INSERT_CHUNK) {
              List<String> chunk =
                  ks.subList(i, Math.min(ks.size(), i + INSERT_CHUNK)).stream()
                      .map(StorageCodec::storedKey)
                      .toList();
              // Postgres: one array parameter instead of one per key (a statement that parses and
              // plans the same for
              // any number of keys).
              Condition in = db.in(SOURCE_KEY, chunk);
              dsl.select(SOURCE_KEY, IMAGE, PLACEMENTS, LOOKUPS)
                  .from(currentData)
                  .where(VERSION.eq(versionId).and(SOURCE_TABLE.eq(e.getKey())).and(in))
                  .forEach(
                      r -> {
                        SourceKey k =
                            new SourceKey(table, StorageCodec.sourceKey(r.get(SOURCE_KEY)));
                        out.put(k, currentRow(k, r));
                      });
            }
          }
          return null;
        });
    return out;
  }

  @Override
  public void forEachRow(TableRef table, Consumer<CurrentRow> consumer) {
    checkOpen();
    List<CurrentRow> rows =
        read(
            dsl ->
                dsl.select(SOURCE_KEY, IMAGE, PLACEMENTS, LOOKUPS)
                    .from(currentData)
                    .where(VERSION.eq(versionId).and(SOURCE_TABLE.eq(tableName(table))))
                    .fetch(
                        r ->
                            currentRow(
                                new SourceKey(table, StorageCodec.sourceKey(r.get(SOURCE_KEY))),
                                r)));
    rows.forEach(consumer);
  }

  /**
   * Postgres: tells other instances' LISTEN about a new checkpoint when (and only if) this
   * transaction commits.
   */
  private void notifyCheckpoint(DSLContext dsl) {
    db.notifyCheckpoint(dsl, channel(), versionId);
  }

  @Override
  public Optional<Checkpoint> adoptBuckets(long fromVersion, Predicate<String> buckets) {
    checkOpen();
    Optional<Checkpoint> from = reader.latestCheckpoint(fromVersion);
    if (from.isEmpty()) {
      return Optional.empty();
    }
    long fromOp = from.get().opId().value();
    long[] next = {Math.max(lastOp, fromOp)};
    Optional<Checkpoint> result =
        transaction(
            dsl -> {
              Record own =
                  dsl.select(CHECKPOINT_OP, CHECKPOINT_POS)
                      .from(rules)
                      .where(ID.eq(versionId))
                      .fetchOne();
              if (own == null || own.get(CHECKPOINT_POS) == null) {
                return Optional.<Checkpoint>empty();
              }
              Set<String> names = new TreeSet<>();
              dsl
                  .selectDistinct(BUCKET)
                  .from(bucketData)
                  .where(VERSION.eq(fromVersion).and(OP_ID.le(fromOp).or(FIRST_OP.le(fromOp))))
                  .fetch(BUCKET)
                  .stream()
                  .filter(buckets)
                  .forEach(names::add);
              dsl
                  .selectDistinct(BUCKET)
                  .from(bucketData)
                  .where(VERSION.eq(versionId))
                  .fetch(BUCKET)
                  .stream()
                  .filter(buckets)
                  .forEach(names::add);
              for (String bucket : names) {
                List<OpRecord> adopted =
                    reader.opRecords(
                        dsl, fromVersion, bucket, Long.MIN_VALUE, fromOp, Integer.MAX_VALUE, false);
                List<OpRecord> mine =
                    reader.opRecords(
                        dsl,
                        versionId,
                        bucket,
                        Long.MIN_VALUE,
                        Long.MAX_VALUE,
                        Integer.MAX_VALUE,
                        true);
                List<OpRecord> merged = BucketAdoption.merge(adopted, mine, () -> ++next[0]);
                dsl.deleteFrom(bucketData)
                    .where(VERSION.eq(versionId).and(BUCKET.eq(bucket)))
                    .execute();
                insertRecords(dsl, versionId, bucket, merged);
              }
              long opId = Math.max(next[0], own.get(CHECKPOINT_OP));
              fenced(
                  dsl.update(rules)
                      .set(LAST_OP, next[0])
                      .set(CHECKPOINT_OP, opId)
                      .where(mine())
                      .execute());
              notifyCheckpoint(dsl);
              return Optional.of(new Checkpoint(new OpId(opId), own.get(CHECKPOINT_POS)));
            });
    if (result.isPresent()) {
      lastOp = next[0];
      watchers.publish(versionId, result.get()); // what was just written: no need to read it back
    }
    return result;
  }

  @Override
  public Optional<Checkpoint> commit(WriteBatch batch) {
    checkOpen();
    try {
      return commit(batch, batch.newRows());
    } catch (SynclineException e) {
      if (batch.newRows().isEmpty() || !isUniqueViolation(e)) {
        throw e;
      }
      // The new-rows hint was wrong (a row was stored after all): nothing was written; again
      // without it.
      return commit(batch, Set.of());
    }
  }

  private Optional<Checkpoint> commit(WriteBatch batch, Set<SourceKey> newRows) {
    if (db.splitsLargeCommits()
        && batch.position() == null
        && !batch.ops().isEmpty()
        && batch.upserts().size() + batch.deletes().size() >= SPLIT_ROWS) {
      commitSplit(batch, newRows);
      return Optional.empty();
    }
    long[] next = {lastOp};
    Optional<Checkpoint> result =
        transaction(
            dsl -> {
              if (batch.position() == null) {
                flushLater(dsl);
              }
              insertOps(dsl, batch.ops(), next);
              insertParameters(dsl, batch.parameterChanges(), next);
              writeRowStates(dsl, batch, newRows);
              if (batch.position() == null) {
                fenced(dsl.update(rules).set(LAST_OP, next[0]).where(mine()).execute());
                return Optional.<Checkpoint>empty();
              }
              Long previous =
                  dsl.select(CHECKPOINT_OP)
                      .from(rules)
                      .where(ID.eq(versionId))
                      .fetchOne(CHECKPOINT_OP);
              long opId = Math.max(next[0], previous == null ? 0 : previous);
              fenced(
                  dsl.update(rules)
                      .set(LAST_OP, next[0])
                      .set(CHECKPOINT_OP, opId)
                      .set(CHECKPOINT_POS, batch.position())
                      .where(mine())
                      .execute());
              notifyCheckpoint(dsl);
              return Optional.of(new Checkpoint(new OpId(opId), batch.position()));
            });
    lastOp = next[0];
    result.ifPresent(c -> watchers.publish(versionId, c)); // no need to read it back
    return result;
  }

  /**
   * A large batch without a position (a chunk of an initial copy, a part of a large transaction) in
   * two transactions on two connections, written at the same time: ops, parameters and the last op
   * id on the calling thread, current rows on {@link #rowWriter}. The rows' transaction commits
   * only after the ops' one has (it waits for it, and rolls back if that failed), so a crash in
   * between leaves ops without their rows' new state, never the reverse: the batch is repeated
   * after a restart (no checkpoint covers it), the repeat finds the old state and writes the ops
   * again (duplicates, superseded ones removed by compaction, never a loss). Returns when both have
   * committed, so the caller sees one durable batch as before.
   */
  private void commitSplit(WriteBatch batch, Set<SourceKey> newRows) {
    CompletableFuture<Boolean> opsCommitted = new CompletableFuture<>();
    List<Future<?>> rows = new ArrayList<>(1);
    long[] next = {lastOp};
    try {
      transaction(
          dsl -> {
            // Submitted once this transaction holds its connection: with a pool of two, the rows'
            // transaction then
            // waits for this one's connection instead of holding the last one while this one
            // waits for it.
            rows.add(rowWriter().submit(() -> writeRowsAfter(opsCommitted, batch, newRows)));
            flushLater(dsl);
            insertOps(dsl, batch.ops(), next);
            insertParameters(dsl, batch.parameterChanges(), next);
            fenced(dsl.update(rules).set(LAST_OP, next[0]).where(mine()).execute());
            return null;
          });
    } catch (RuntimeException | Error e) {
      opsCommitted.complete(false);
      rows.forEach(f -> awaitRows(f, e));
      throw e;
    }
    lastOp = next[0];
    opsCommitted.complete(true);
    rows.forEach(f -> awaitRows(f, null));
  }

  /**
   * Postgres: this transaction's commit does not wait for its WAL to reach disk (it is written
   * within {@code wal_writer_delay}). For what no checkpoint covers yet: a batch without a
   * position, snapshot progress. The WAL is one sequence, so the next commit that does wait (the
   * next batch with a position, which is what makes anything visible or lets the source acknowledge
   * it) flushes these too, and a crash can lose them only together with everything after them: the
   * engine then repeats them from the last checkpoint, as after any crash between checkpoints.
   */
  private void flushLater(DSLContext dsl) {
    db.deferFlush(dsl);
  }

  /**
   * On the row writer: the current-row part of {@link #commitSplit}, committed only after its ops
   * were.
   */
  private void writeRowsAfter(
      CompletableFuture<Boolean> opsCommitted, WriteBatch batch, Set<SourceKey> newRows) {
    try {
      transaction(
          dsl -> {
            flushLater(dsl);
            writeRowStates(dsl, batch, newRows);
            if (!opsCommitted.join()) {
              throw new OpsNotCommitted();
            }
            // The ops (fenced) committed; these rows commit only while this writer still holds
            // the version. (Not a
            // row lock: the ops' transaction must not wait for this one.)
            String holder =
                dsl.select(REPLICATOR).from(rules).where(ID.eq(versionId)).fetchOne(REPLICATOR);
            fenced(token.equals(holder) ? 1 : 0);
            return null;
          });
    } catch (OpsNotCommitted e) {
      // Rolled back with the ops: nothing of the batch was written.
    } catch (SynclineException e) {
      if (newRows.isEmpty() || !isUniqueViolation(e)) {
        throw e;
      }
      // The new-rows hint was wrong (a row was stored after all): this part again without it.
      if (opsCommitted.join()) {
        transaction(
            dsl -> {
              flushLater(dsl);
              writeRowStates(dsl, batch, Set.of());
              return null;
            });
      }
    }
  }

  /**
   * Waits for the row part of a split commit. Not interruptible: the part commits or rolls back on
   * its own, and the caller may not return before knowing which.
   */
  private void awaitRows(Future<?> rows, @Nullable Throwable failure) {
    try {
      Uninterruptibly.get(rows);
    } catch (ExecutionException e) {
      if (failure != null) {
        failure.addSuppressed(e.getCause());
        return;
      }
      if (e.getCause() instanceof SynclineException s) {
        throw s;
      }
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED, "storage operation failed: " + e.getCause(), e.getCause());
    }
  }

  /**
   * The thread that writes current rows of split commits; started on first use, ended after a while
   * idle.
   */
  private synchronized ExecutorService rowWriter() {
    if (rowWriter == null) {
      ThreadPoolExecutor executor =
          new ThreadPoolExecutor(
              1,
              1,
              30,
              TimeUnit.SECONDS,
              new LinkedBlockingQueue<>(),
              r -> {
                Thread t = new Thread(r, "syncline-storage-rows-" + versionId);
                t.setDaemon(true);
                return t;
              });
      executor.allowCoreThreadTimeOut(true);
      rowWriter = executor;
    }
    return rowWriter;
  }

  /**
   * Appends a batch's ops, each bucket's packed ({@link OpPacks}); {@code next[0]} ends at the last
   * op id.
   */
  private void insertOps(DSLContext dsl, List<NewOp> ops, long[] next) {
    if (ops.isEmpty()) {
      return;
    }
    List<OpPacks.Row> rows = OpPacks.rows(ops, next[0] + 1);
    next[0] += ops.size();
    if (db.copiesBulkRows() && rows.size() >= 100) {
      copyOps(dsl, rows);
      return;
    }
    insertInChunks(
        dsl,
        bucketData,
        NEW_OP_COLUMNS,
        rows,
        r ->
            new @Nullable Object[] {
              versionId,
              r.bucket(),
              r.opId(),
              r.op(),
              r.objectType(),
              r.objectId(),
              r.subkey(),
              r.data(),
              r.checksum(),
              r.firstOpId(),
              r.count()
            });
  }

  /**
   * Postgres: streams the rows with COPY, several times faster than multi-row inserts for large
   * batches.
   */
  private void copyOps(DSLContext dsl, List<OpPacks.Row> rows) {
    copy(
        dsl,
        bucketData,
        NEW_OP_COLUMNS,
        out -> {
          for (OpPacks.Row r : rows) {
            out.number(versionId)
                .tab()
                .text(r.bucket())
                .tab()
                .number(r.opId())
                .tab()
                .text(r.op())
                .tab();
            nullable(out, r.objectType()).tab();
            nullable(out, r.objectId()).tab();
            nullable(out, r.subkey()).tab();
            nullable(out, r.data()).tab().number(r.checksum()).tab();
            if (r.firstOpId() == null) {
              out.nul();
            } else {
              out.number(r.firstOpId());
            }
            out.tab().number(r.count()).endRow();
          }
        });
  }

  private static CopyTextWriter nullable(CopyTextWriter out, @Nullable String s)
      throws SQLException {
    return s == null ? out.nul() : out.text(s);
  }

  private void insertParameters(DSLContext dsl, List<ParameterChange> changes, long[] next) {
    insertInChunks(
        dsl,
        parameters,
        PARAMETER_COLUMNS,
        changes,
        c ->
            new @Nullable Object[] {
              versionId,
              StorageCodec.lookup(c.lookup()),
              tableName(c.source().table()),
              c.source().key(),
              ++next[0],
              StorageCodec.rows(c.bucketParameters())
            });
  }

  /** The batch's row states: its deletes, then its upserts. */
  private void writeRowStates(DSLContext dsl, WriteBatch batch, Set<SourceKey> newRows) {
    deleteRows(dsl, batch.deletes());
    upsertRows(dsl, batch.upserts(), newRows);
  }

  private void upsertRows(DSLContext dsl, List<CurrentRow> rows, Set<SourceKey> newRows) {
    // Delete, then insert in bulk: portable across dialects, and the writer is alone on these
    // rows. Rows the
    // engine knows are not stored (an initial copy) need no delete; if one is stored after all,
    // the insert fails
    // on the primary key and the batch is retried without the hint.
    deleteRows(dsl, rows.stream().map(CurrentRow::key).filter(k -> !newRows.contains(k)).toList());
    if (db.copiesBulkRows() && rows.size() >= 100) {
      copyRows(dsl, rows);
      return;
    }
    insertInChunks(
        dsl,
        currentData,
        CURRENT_COLUMNS,
        rows,
        r ->
            new @Nullable Object[] {
              versionId,
              tableName(r.key().table()),
              StorageCodec.storedKey(r.key().key()),
              r.image() == null ? null : StorageCodec.image(r.image()),
              StorageCodec.placements(r.placements(), r.key()),
              StorageCodec.lookups(r.lookups())
            });
  }

  /**
   * Bulk insert with {@code COPY}: an order of magnitude faster than multi-row INSERTs for row
   * images.
   */
  private void copyRows(DSLContext dsl, List<CurrentRow> rows) {
    StringBuilder json = new StringBuilder(256);
    copy(
        dsl,
        currentData,
        CURRENT_COLUMNS,
        out -> {
          TableRef table = null;
          String name = "";
          for (CurrentRow r : rows) {
            if (!r.key().table().equals(table)) { // the rows of a batch are mostly of one table
              table = r.key().table();
              name = tableName(table);
            }
            out.number(versionId)
                .tab()
                .text(name)
                .tab()
                .text(StorageCodec.storedKey(r.key().key()))
                .tab();
            if (r.image() == null) {
              out.nul();
            } else {
              json.setLength(0);
              out.text(StorageCodec.appendImage(json, r.image()));
            }
            json.setLength(0);
            out.tab().text(StorageCodec.appendPlacements(json, r.placements(), r.key()));
            json.setLength(0);
            out.tab().text(StorageCodec.appendLookups(json, r.lookups())).endRow();
          }
        });
  }

  /** Rows written by {@link #copy}. */
  @FunctionalInterface
  private interface CopyRows {
    void write(CopyTextWriter out) throws SQLException;
  }

  /**
   * Runs {@code COPY table (columns) FROM STDIN} on the transaction's connection, streaming what
   * rows writes.
   */
  private void copy(
      DSLContext dsl, Table<Record> table, List<? extends Field<?>> columns, CopyRows rows) {
    String sql =
        "COPY "
            + dsl.render(table)
            + " ("
            + columns.stream().map(dsl::render).collect(Collectors.joining(", "))
            + ") FROM STDIN WITH (FORMAT text)";
    dsl.connection(
        c -> {
          try (CopyTextWriter out =
              new CopyTextWriter(c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql))) {
            rows.write(out);
            out.finish();
          }
        });
  }

  private void deleteRows(DSLContext dsl, List<SourceKey> keys) {
    Map<String, List<String>> byTable = new LinkedHashMap<>();
    keys.forEach(
        k ->
            byTable
                .computeIfAbsent(tableName(k.table()), t -> new ArrayList<>())
                .add(StorageCodec.storedKey(k.key())));
    for (Map.Entry<String, List<String>> e : byTable.entrySet()) {
      List<String> ks = e.getValue();
      for (int i = 0; i < ks.size(); i += INSERT_CHUNK) {
        dsl.deleteFrom(currentData)
            .where(
                VERSION
                    .eq(versionId)
                    .and(SOURCE_TABLE.eq(e.getKey()))
                    .and(SOURCE_KEY.in(ks.subList(i, Math.min(ks.size(), i + INSERT_CHUNK)))))
            .execute();
      }
    }
  }

  private void setSnapshot(TableRef table, boolean done, @Nullable String progress) {
    transaction(
        dsl -> {
          flushLater(dsl);
          fence(dsl);
          int updated =
              dsl.update(snapshots)
                  .set(DONE, done)
                  .set(PROGRESS, progress)
                  .where(VERSION.eq(versionId).and(SOURCE_TABLE.eq(tableName(table))))
                  .execute();
          if (updated == 0) {
            dsl.insertInto(snapshots, VERSION, SOURCE_TABLE, DONE, PROGRESS)
                .values(versionId, tableName(table), done, progress)
                .execute();
          }
          return null;
        });
  }

  @Override
  public void setSnapshotDone(TableRef table, boolean done) {
    checkOpen();
    setSnapshot(table, done, null);
  }

  @Override
  public void setSnapshotProgress(TableRef table, String cursor) {
    checkOpen();
    setSnapshot(table, false, cursor);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    ExecutorService rows;
    synchronized (this) {
      rows = rowWriter;
    }
    if (rows != null) {
      // A split commit in progress on another thread finishes its row part before the lock is let
      // go.
      rows.shutdown();
      if (!Uninterruptibly.awaitTermination(rows, Duration.ofMinutes(1))) {
        System.getLogger(JdbcBucketStorage.class.getName())
            .log(
                System.Logger.Level.WARNING,
                "A split commit's row writes did not finish within a minute; the replication lock is released anyway");
      }
    }
    lock.release(lockConnection, versionId);
  }

  /** Ends the row part of a split commit whose ops did not commit (rolls its transaction back). */
  private static final class OpsNotCommitted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    OpsNotCommitted() {
      super("the batch's ops did not commit", null, false, false);
    }
  }

  /**
   * Whether a storage failure is a unique-key violation (SQLState 23505), anywhere in its causes.
   */
  private static boolean isUniqueViolation(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && "23505".equals(sql.getSQLState())) {
        return true;
      }
      if (t instanceof DataAccessException d && "23505".equals(d.sqlState())) {
        return true;
      }
    }
    return false;
  }
}
