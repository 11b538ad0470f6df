package dev.syncline.core.storage;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.core.internal.storage.OpPacks;
import dev.syncline.core.internal.storage.StorageCodec;
import dev.syncline.core.internal.storage.StorageDialect;
import dev.syncline.spi.storage.CurrentRow;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.SourceKey;
import dev.syncline.spi.storage.WriteCheckpointKey;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.function.Function;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.InsertValuesStepN;
import org.jooq.Record;
import org.jooq.SQLDialect;
import org.jooq.Table;
import org.jooq.conf.Settings;
import org.jooq.exception.DataAccessException;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;
import org.jspecify.annotations.Nullable;

/**
 * What every part of a {@link JdbcBucketStorage} shares: its tables and columns, its database's
 * dialect ({@link StorageDialect}), and work in transactions on its data source. Each part is one
 * job: {@link JdbcSchema}, {@link JdbcRulesVersions}, {@link JdbcReplicationLock}, {@link
 * JdbcOpLogWriter}, {@link JdbcOpLogReader}, {@link JdbcCheckpointNotifier}, {@link
 * JdbcWriteCheckpoints}, {@link JdbcCompactor}.
 *
 * <p>Thread-safe: parts keep no state of their own here; every call borrows a connection.
 */
abstract class JdbcStoragePart {
  static final int INSERT_CHUNK = 500;

  static final Field<Long> ID = field(name("id"), SQLDataType.BIGINT);
  static final Field<Long> VERSION = field(name("version_id"), SQLDataType.BIGINT);
  static final Field<String> CONTENT = field(name("content"), SQLDataType.CLOB);
  static final Field<String> STATE = field(name("state"), SQLDataType.VARCHAR(16));
  static final Field<Long> LAST_OP = field(name("last_op_id"), SQLDataType.BIGINT);
  static final Field<Long> CHECKPOINT_OP = field(name("checkpoint_op_id"), SQLDataType.BIGINT);
  static final Field<String> CHECKPOINT_POS =
      field(name("checkpoint_position"), SQLDataType.VARCHAR(200));
  static final Field<String> BUCKET = field(name("bucket"), SQLDataType.VARCHAR(2000));
  static final Field<Long> OP_ID = field(name("op_id"), SQLDataType.BIGINT);
  static final Field<String> OP = field(name("op"), SQLDataType.VARCHAR(8));
  static final Field<String> OBJECT_TYPE = field(name("object_type"), SQLDataType.VARCHAR(500));
  static final Field<String> OBJECT_ID = field(name("object_id"), SQLDataType.VARCHAR(2000));
  static final Field<String> SUBKEY = field(name("subkey"), SQLDataType.VARCHAR(200));
  static final Field<String> DATA = field(name("data"), SQLDataType.CLOB);
  static final Field<Long> CHECKSUM = field(name("checksum"), SQLDataType.BIGINT);
  static final Field<Long> TARGET_OP = field(name("target_op"), SQLDataType.BIGINT);

  /**
   * Of a row holding a pack of ops ({@link OpPacks}): its first op id; null for a row of one op.
   */
  static final Field<Long> FIRST_OP = field(name("first_op_id"), SQLDataType.BIGINT);

  /** How many ops the row holds: 1, or a pack's. */
  static final Field<Integer> OP_COUNT = field(name("op_count"), SQLDataType.INTEGER);

  static final Field<String> SOURCE_TABLE = field(name("source_table"), SQLDataType.VARCHAR(500));
  static final Field<String> SOURCE_KEY = field(name("source_key"), SQLDataType.VARCHAR(2000));
  static final Field<String> IMAGE = field(name("image"), SQLDataType.CLOB);
  static final Field<String> PLACEMENTS = field(name("placements"), SQLDataType.CLOB);
  static final Field<String> LOOKUPS = field(name("lookups"), SQLDataType.CLOB);
  static final Field<String> LOOKUP = field(name("lookup"), SQLDataType.VARCHAR(2000));
  static final Field<String> ROWS = field(name("rows"), SQLDataType.CLOB);
  static final Field<Boolean> DONE = field(name("done"), SQLDataType.BOOLEAN);
  static final Field<String> PROGRESS = field(name("progress"), SQLDataType.CLOB);
  static final Field<String> USER_KEY = field(name("user_key"), SQLDataType.VARCHAR(500));
  static final Field<String> USER_ID =
      field(name("user_id"), SQLDataType.VARCHAR(AuthContext.MAX_USER_ID_LENGTH).nullable(false));
  static final Field<String> CLIENT_ID =
      field(
          name("client_id"),
          SQLDataType.VARCHAR(WriteCheckpointKey.MAX_CLIENT_ID_LENGTH).nullable(false));
  static final Field<Long> CHECKPOINT_ID = field(name("checkpoint_id"), SQLDataType.BIGINT);
  static final Field<String> POSITION = field(name("position"), SQLDataType.VARCHAR(200));
  static final Field<String> OWNER = field(name("owner"), SQLDataType.VARCHAR(200));
  static final Field<String> REPLICATOR = field(name("replicator"), SQLDataType.VARCHAR(200));
  static final List<Field<?>> OP_COLUMNS =
      List.of(
          VERSION, BUCKET, OP_ID, OP, OBJECT_TYPE, OBJECT_ID, SUBKEY, DATA, CHECKSUM, TARGET_OP);

  /** The columns read from op-log rows. */
  static final List<Field<?>> OP_FIELDS =
      List.of(OP_ID, OP, OBJECT_TYPE, OBJECT_ID, SUBKEY, DATA, CHECKSUM, TARGET_OP, FIRST_OP);

  /** The columns of new ops' rows: singles and packs. */
  static final List<Field<?>> NEW_OP_COLUMNS =
      List.of(
          VERSION,
          BUCKET,
          OP_ID,
          OP,
          OBJECT_TYPE,
          OBJECT_ID,
          SUBKEY,
          DATA,
          CHECKSUM,
          FIRST_OP,
          OP_COUNT);

  static final List<Field<?>> CURRENT_COLUMNS =
      List.of(VERSION, SOURCE_TABLE, SOURCE_KEY, IMAGE, PLACEMENTS, LOOKUPS);
  static final List<Field<?>> PARAMETER_COLUMNS =
      List.of(VERSION, LOOKUP, SOURCE_TABLE, SOURCE_KEY, OP_ID, ROWS);

  final DataSource dataSource;
  final SQLDialect dialect;

  /** What this storage does differently on its database. */
  final StorageDialect db;

  final String prefix;
  private final Settings settings =
      new Settings().withRenderFormatted(false).withExecuteLogging(false);

  final Table<Record> rules;
  final Table<Record> bucketData;
  final Table<Record> currentData;
  final Table<Record> parameters;
  final Table<Record> snapshots;

  /** Write checkpoints keyed by user and client (schema version 5). */
  final Table<Record> clientCheckpoints;

  /** Write checkpoints keyed by {@code "<user>/<client>"}, before schema version 5. */
  final Table<Record> legacyWriteCheckpoints;

  final Table<Record> locks;

  JdbcStoragePart(DataSource dataSource, SQLDialect dialect, String prefix) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.db = StorageDialect.of(dialect);
    this.prefix = prefix;
    this.rules = table(name(prefix + "rules"));
    this.bucketData = table(name(prefix + "bucket_data"));
    this.currentData = table(name(prefix + "current_data"));
    this.parameters = table(name(prefix + "parameters"));
    this.snapshots = table(name(prefix + "snapshots"));
    this.legacyWriteCheckpoints = table(name(prefix + "write_checkpoints"));
    this.clientCheckpoints = table(name(prefix + "client_checkpoints"));
    this.locks = table(name(prefix + "locks"));
  }

  /** The same database, tables and dialect as {@code other}. */
  JdbcStoragePart(JdbcStoragePart other) {
    this(other.dataSource, other.dialect, other.prefix);
  }

  DSLContext dsl(Connection c) {
    return DSL.using(c, dialect, settings);
  }

  /** Runs {@code work} in one transaction on a borrowed connection. */
  <T extends @Nullable Object> T transaction(TransactionWork<T> work) {
    try (Connection c = dataSource.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        T result = work.run(dsl(c));
        c.commit();
        return result;
      } catch (RuntimeException | SQLException e) {
        rollbackQuietly(c, e);
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    } catch (SynclineException e) {
      throw e;
    } catch (SQLException | DataAccessException e) {
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED, "storage operation failed: " + e.getMessage(), e);
    }
  }

  static void rollbackQuietly(Connection c, Exception cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  @FunctionalInterface
  interface TransactionWork<T extends @Nullable Object> {
    T run(DSLContext dsl) throws SQLException;
  }

  <T extends @Nullable Object> T read(TransactionWork<T> work) {
    try (Connection c = dataSource.getConnection()) {
      return work.run(dsl(c));
    } catch (SQLException | DataAccessException e) {
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED, "storage read failed: " + e.getMessage(), e);
    }
  }

  /**
   * Like {@link #read}, with every statement in one REPEATABLE READ transaction: reads split into
   * several statements see one snapshot, so a concurrent commit is seen whole or not at all.
   */
  <T extends @Nullable Object> T readConsistent(TransactionWork<T> work) {
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      int isolation = c.getTransactionIsolation();
      c.setAutoCommit(false);
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      try {
        T result = work.run(dsl(c));
        c.commit();
        return result;
      } catch (RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setTransactionIsolation(isolation);
        c.setAutoCommit(autoCommit);
      }
    } catch (SQLException | DataAccessException e) {
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED, "storage read failed: " + e.getMessage(), e);
    }
  }

  void requireVersion(DSLContext dsl, long versionId) {
    if (!dsl.fetchExists(dsl.selectOne().from(rules).where(ID.eq(versionId)))) {
      throw unknownVersion(versionId);
    }
  }

  /** The error for a rules version storage does not hold ({@code NOT_FOUND}). */
  static SynclineException unknownVersion(long versionId) {
    return new SynclineException(
        ErrorCode.NOT_FOUND, "no rules version " + versionId + " in storage");
  }

  /**
   * Inserts {@code items} into {@code table} as multi-row inserts of at most {@link #INSERT_CHUNK}
   * rows each; {@code row} gives an item's values in the order of {@code columns}.
   */
  static <T> void insertInChunks(
      DSLContext dsl,
      Table<Record> table,
      List<Field<?>> columns,
      List<T> items,
      Function<T, @Nullable Object[]> row) {
    for (int i = 0; i < items.size(); i += INSERT_CHUNK) {
      InsertValuesStepN<Record> insert = dsl.insertInto(table, columns);
      for (T item : items.subList(i, Math.min(items.size(), i + INSERT_CHUNK))) {
        insert = insert.values(row.apply(item));
      }
      insert.execute();
    }
  }

  static void closeQuietly(@Nullable Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // Nothing more to do with a connection we are abandoning.
      }
    }
  }

  static CurrentRow currentRow(SourceKey key, Record r) {
    String image = r.get(IMAGE);
    return new CurrentRow(
        key,
        image == null ? null : StorageCodec.image(image),
        StorageCodec.placements(r.get(PLACEMENTS), key),
        StorageCodec.lookups(r.get(LOOKUPS)));
  }

  static String tableName(TableRef t) {
    return t.connectionTag() + "." + t.schema() + "." + t.name();
  }

  static TableRef tableRef(String name) {
    String[] parts = name.split("\\.", 3);
    return new TableRef(parts[0], parts[1], parts[2]);
  }

  String channel() {
    return prefix + "checkpoints";
  }

  /** Writes ops as they are (op ids included) into a version's log. */
  void insertRecords(DSLContext dsl, long versionId, String bucket, List<OpRecord> ops) {
    insertInChunks(
        dsl,
        bucketData,
        OP_COLUMNS,
        ops,
        op ->
            new @Nullable Object[] {
              versionId,
              bucket,
              op.opId().value(),
              op.op().name(),
              op.objectType(),
              op.objectId(),
              op.subkey(),
              op.data(),
              op.checksum(),
              op.targetOp() == null ? null : op.targetOp().value()
            });
  }

  /** The namespace of this storage's database locks (Postgres advisory locks). */
  int lockNamespace() {
    return ("syncline:" + prefix).hashCode();
  }
}
