package dev.syncline.postgres;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.postgres.internal.CopyOutRows;
import dev.syncline.postgres.internal.PgCatalog;
import dev.syncline.postgres.internal.PgCatalog.TableInfo;
import dev.syncline.postgres.internal.PgValues;
import dev.syncline.spi.source.ChangeSink;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.source.SourceEvent;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;
import org.postgresql.replication.ReplicationSlotInfo;

/**
 * Copies tables' existing rows into a {@link ChangeSink}: the initial copy in the snapshot a new
 * replication slot exports, the rest of an interrupted copy after a restart, and a table that
 * appeared while streaming. Each table is read with {@code COPY ... ORDER BY} its key and handed
 * over as inserts; every {@code chunkRows} rows the sink is flushed and the last key recorded as
 * the table's progress, from which a restart resumes.
 *
 * <p>Runs on the replication thread; reads on connections of its own ({@link Readers}), stops at
 * the next chunk once {@code closed} says so.
 */
final class SnapshotCopier {
  private static final System.Logger LOG = System.getLogger(SnapshotCopier.class.getName());

  /**
   * Prefix of a table's progress once its resumed copy ended: the position the stream must pass.
   */
  static final String CATCH_UP = "catchup:";

  /** Opens a plain (non-replication) connection to the source. */
  @FunctionalInterface
  interface Readers {
    Connection open() throws SQLException;
  }

  private final Readers readers;
  private final int chunkRows;
  private final BooleanSupplier closed;
  private final PgValues values;
  private final ChangeSink sink;

  SnapshotCopier(
      Readers readers, int chunkRows, BooleanSupplier closed, PgValues values, ChangeSink sink) {
    this.readers = readers;
    this.chunkRows = chunkRows;
    this.closed = closed;
    this.values = values;
    this.sink = sink;
  }

  /**
   * Creates the slot and copies every table in its exported snapshot; returns the consistent point.
   */
  @Nullable Lsn initial(Connection repl, String slot, List<TableInfo> tables) throws Exception {
    ReplicationSlotInfo info =
        repl.unwrap(PGConnection.class)
            .getReplicationAPI()
            .createReplicationSlot()
            .logical()
            .withSlotName(slot)
            .withOutputPlugin("pgoutput")
            .make();
    Lsn consistent = new Lsn(info.getConsistentPoint().asLong());
    LOG.log(
        System.Logger.Level.INFO,
        "created replication slot {0} at {1}; copying {2} tables",
        slot,
        consistent,
        tables.size());
    try (Connection reader = readers.open()) {
      reader.setAutoCommit(false);
      reader.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      try (Statement s = reader.createStatement()) {
        String snapshot =
            Objects.requireNonNull(
                info.getSnapshotName(), "a slot created with EXPORT_SNAPSHOT names one");
        s.execute("SET TRANSACTION SNAPSHOT '" + snapshot.replace("'", "''") + "'");
      }
      PgCatalog.pinSessionSettings(reader);
      sink.expectNewRows(true); // a new slot: storage holds nothing of this version yet
      try {
        for (TableInfo t : tables) {
          if (!copy(reader, t, null)) {
            return null;
          }
          sink.snapshotDone(t.ref());
        }
      } finally {
        sink.expectNewRows(false);
      }
      reader.commit();
    }
    return consistent;
  }

  /**
   * Copies what the interrupted snapshot did not, at READ COMMITTED from each table's recorded key;
   * returns the WAL position after the copy, which the stream must pass before the state is
   * consistent again.
   */
  @Nullable Lsn resume(List<TableInfo> todo, Map<TableRef, String> progress) throws Exception {
    try (Connection reader = readers.open()) {
      PgCatalog.pinSessionSettings(reader);
      reader.setAutoCommit(false);
      for (TableInfo t : todo) {
        LOG.log(
            System.Logger.Level.INFO,
            "resuming the snapshot of {0} after key {1}",
            t.ref(),
            progress.get(t.ref()));
        if (!copy(reader, t, progress.get(t.ref()))) {
          return null;
        }
        reader.commit();
      }
      Lsn after;
      try (Statement s = reader.createStatement();
          ResultSet rs = s.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
        rs.next();
        after = Lsn.parse(rs.getString(1));
      }
      reader.commit();
      for (TableInfo t : todo) {
        sink.snapshotProgress(t.ref(), CATCH_UP + after.serialize());
      }
      return after;
    }
  }

  /**
   * Copies a table ordered by its key, after {@code cursor} when given; returns false when closed
   * meanwhile.
   */
  private boolean copy(Connection reader, TableInfo t, @Nullable String cursor) throws Exception {
    return copy(reader, t, cursor, () -> {});
  }

  /** A unit of work between chunks of a copy (e.g. keeping a replication connection alive). */
  interface ChunkHook {
    void run() throws Exception;
  }

  boolean copy(Connection reader, TableInfo t, @Nullable String cursor, ChunkHook afterChunk)
      throws Exception {
    String keys = String.join(", ", t.keyColumns().stream().map(PgCatalog::quoteIdent).toList());
    List<String> after = cursor == null ? null : decodeCursor(cursor);
    // COPY takes no parameters: the cursor's key texts become literals, typed by the comparison as
    // parameters were.
    String sql =
        "COPY (SELECT * FROM "
            + PgCatalog.quoteIdent(t.ref().schema())
            + "."
            + PgCatalog.quoteIdent(t.ref().name())
            + (after == null
                ? ""
                : " WHERE ("
                    + keys
                    + ") > ("
                    + String.join(", ", after.stream().map(CopyOutRows::literal).toList())
                    + ")")
            + " ORDER BY "
            + keys
            + ") TO STDOUT";
    int[] keyIndex = t.keyColumns().stream().mapToInt(k -> t.columns().indexOf(k)).toArray();
    String[] names = t.columns().toArray(String[]::new);
    int[] oids = t.typeOids().stream().mapToInt(Integer::intValue).toArray();
    int n = names.length;
    String[] texts = new String[n];
    String[] last = new String[keyIndex.length];
    long copied = 0;
    // Which table is being copied, before its first row (its copy may wait for a lock a while).
    sink.event(new SourceEvent.SnapshotProgress(t.ref(), 0, t.estimatedRows(), false));
    CopyOut out = reader.unwrap(PGConnection.class).getCopyAPI().copyOut(sql);
    try {
      for (byte[] data; (data = out.readFromCopy()) != null; ) {
        for (int at = 0;
            at < data.length; ) { // one row per message from the server; more are read alike
          try {
            at = CopyOutRows.split(data, at, texts);
          } catch (IllegalArgumentException e) {
            throw new SynclineException(
                ErrorCode.SOURCE_UNAVAILABLE,
                "the columns of "
                    + t.ref()
                    + " changed "
                    + "while it was copied ("
                    + e.getMessage()
                    + "); the copy starts again",
                e);
          }
          Map<String, SourceValue> row = new LinkedHashMap<>(n * 4 / 3 + 1);
          for (int i = 0; i < n; i++) {
            row.put(names[i], values.convertNullable(oids[i], texts[i]));
          }
          for (int k = 0; k < keyIndex.length; k++) {
            last[k] = texts[keyIndex[k]];
          }
          sink.accept(SourceChange.insert(t.ref(), t.keyColumns(), new SourceRow(row)));
          copied++;
          if (copied % chunkRows == 0) {
            if (closed.getAsBoolean()) {
              return false;
            }
            sink.flush();
            sink.snapshotProgress(t.ref(), encodeCursor(last));
            sink.event(new SourceEvent.SnapshotProgress(t.ref(), copied, t.estimatedRows(), false));
            afterChunk.run();
          }
        }
      }
    } finally {
      if (out.isActive()) {
        out.cancelCopy(); // stopped early (closed, or a failure): the connection is left usable
      }
    }
    sink.flush();
    sink.event(new SourceEvent.SnapshotProgress(t.ref(), copied, t.estimatedRows(), true));
    LOG.log(System.Logger.Level.INFO, "copied {0} rows of {1}", copied, t.ref());
    return !closed.getAsBoolean();
  }

  /** Key values as length-prefixed text: unambiguous for any content. */
  static String encodeCursor(String[] keys) {
    StringBuilder sb = new StringBuilder();
    for (String k : keys) {
      sb.append(k.length()).append(':').append(k);
    }
    return sb.toString();
  }

  static List<String> decodeCursor(String cursor) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < cursor.length()) {
      int colon = cursor.indexOf(':', i);
      int len = Integer.parseInt(cursor.substring(i, colon));
      out.add(cursor.substring(colon + 1, colon + 1 + len));
      i = colon + 1 + len;
    }
    return out;
  }
}
