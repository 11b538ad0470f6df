package dev.syncline.core.storage;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.rules.ParameterLookup;
import dev.syncline.core.internal.Uninterruptibly;
import dev.syncline.core.internal.storage.BucketAdoption;
import dev.syncline.core.internal.storage.CheckpointWatchers;
import dev.syncline.core.internal.storage.Compactor;
import dev.syncline.core.internal.storage.CopyTextWriter;
import dev.syncline.core.internal.storage.OpChecksums;
import dev.syncline.core.internal.storage.OpPacks;
import dev.syncline.core.internal.storage.StorageCodec;
import dev.syncline.core.internal.storage.StorageDialect;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.CurrentRow;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.spi.storage.ParameterChange;
import dev.syncline.spi.storage.RulesVersion;
import dev.syncline.spi.storage.SourceKey;
import dev.syncline.spi.storage.WriteBatch;
import dev.syncline.spi.storage.WriteCheckpointKey;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
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
import javax.sql.DataSource;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.InsertValuesStepN;
import org.jooq.Record;
import org.jooq.Record6;
import org.jooq.Row2;
import org.jooq.Row4;
import org.jooq.SQLDialect;
import org.jooq.Select;
import org.jooq.SelectLimitPercentStep;
import org.jooq.Table;
import org.jooq.conf.Settings;
import org.jooq.exception.DataAccessException;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;

/**
 * Bucket storage in a SQL database through JDBC, written with jOOQ: Postgres for production, H2 for
 * tests. It creates and migrates its own tables ({@code <prefix>rules}, {@code
 * <prefix>bucket_data}, ...) on {@link Builder#build()}.
 *
 * <p>Several engine instances may share one database: the writer of a rules version holds a lock
 * that dies with its connection (a Postgres advisory lock; on H2 a row lock held by an open
 * transaction). Every batch is written in one transaction (multi-row inserts; on Postgres, large
 * batches are streamed with {@code COPY}), so nothing of a failed batch is visible. A batch's ops
 * of one bucket are stored several to a row (packs, see {@code OpPacks}), which every read answers
 * exactly for any op-id range.
 *
 * <p>Thread-safe. Reads borrow a connection per call; a writer keeps one connection for its lock
 * and borrows another per commit. On Postgres, a large batch without a position (a chunk of an
 * initial copy, a part of a large transaction) is written on two borrowed connections at once, its
 * ops and its rows' state, the latter committed only after the former (see {@link
 * BucketStorageWriter#commit}). With watchers on Postgres, one more connection stays open for their
 * notifications.
 *
 * <pre>{@code
 * BucketStorage storage = JdbcBucketStorage.builder(dataSource).build();
 * }</pre>
 */
public final class JdbcBucketStorage implements BucketStorage {
  /** Schema version written by this code; older databases are migrated on start. */
  static final int SCHEMA_VERSION = 5;

  private static final int INSERT_CHUNK = 500;

  /**
   * With Postgres notifications, how often the watcher reads checkpoints anyway (a notification
   * lost in a reconnect).
   */
  private static final long LISTEN_SAFETY_MILLIS = 30_000;

  /**
   * Current rows from which a batch without position is written on two connections at once
   * (Postgres).
   */
  private static final int SPLIT_ROWS = 1_000;

  private final DataSource dataSource;
  private final SQLDialect dialect;

  /** What this storage does differently on its database. */
  private final StorageDialect db;

  private final String prefix;
  private final Settings settings =
      new Settings().withRenderFormatted(false).withExecuteLogging(false);

  private final Table<Record> rules;
  private final Table<Record> bucketData;
  private final Table<Record> currentData;
  private final Table<Record> parameters;
  private final Table<Record> snapshots;

  /** Write checkpoints keyed by user and client (schema version 5). */
  private final Table<Record> clientCheckpoints;

  /** Write checkpoints keyed by {@code "<user>/<client>"}, before schema version 5. */
  private final Table<Record> legacyWriteCheckpoints;

  private final Table<Record> locks;
  private final Duration pollInterval;
  private final CheckpointWatchers watchers =
      new CheckpointWatchers(this::latestCheckpointIfExists);
  private final Object notifierLock = new Object();
  private @Nullable Thread notifier;
  private volatile boolean closed;

  private static final Field<Long> ID = field(name("id"), SQLDataType.BIGINT);
  private static final Field<Long> VERSION = field(name("version_id"), SQLDataType.BIGINT);
  private static final Field<String> CONTENT = field(name("content"), SQLDataType.CLOB);
  private static final Field<String> STATE = field(name("state"), SQLDataType.VARCHAR(16));
  private static final Field<Long> LAST_OP = field(name("last_op_id"), SQLDataType.BIGINT);
  private static final Field<Long> CHECKPOINT_OP =
      field(name("checkpoint_op_id"), SQLDataType.BIGINT);
  private static final Field<String> CHECKPOINT_POS =
      field(name("checkpoint_position"), SQLDataType.VARCHAR(200));
  private static final Field<String> BUCKET = field(name("bucket"), SQLDataType.VARCHAR(2000));
  private static final Field<Long> OP_ID = field(name("op_id"), SQLDataType.BIGINT);
  private static final Field<String> OP = field(name("op"), SQLDataType.VARCHAR(8));
  private static final Field<String> OBJECT_TYPE =
      field(name("object_type"), SQLDataType.VARCHAR(500));
  private static final Field<String> OBJECT_ID =
      field(name("object_id"), SQLDataType.VARCHAR(2000));
  private static final Field<String> SUBKEY = field(name("subkey"), SQLDataType.VARCHAR(200));
  private static final Field<String> DATA = field(name("data"), SQLDataType.CLOB);
  private static final Field<Long> CHECKSUM = field(name("checksum"), SQLDataType.BIGINT);
  private static final Field<Long> TARGET_OP = field(name("target_op"), SQLDataType.BIGINT);

  /**
   * Of a row holding a pack of ops ({@link OpPacks}): its first op id; null for a row of one op.
   */
  private static final Field<Long> FIRST_OP = field(name("first_op_id"), SQLDataType.BIGINT);

  /** How many ops the row holds: 1, or a pack's. */
  private static final Field<Integer> OP_COUNT = field(name("op_count"), SQLDataType.INTEGER);

  private static final Field<String> SOURCE_TABLE =
      field(name("source_table"), SQLDataType.VARCHAR(500));
  private static final Field<String> SOURCE_KEY =
      field(name("source_key"), SQLDataType.VARCHAR(2000));
  private static final Field<String> IMAGE = field(name("image"), SQLDataType.CLOB);
  private static final Field<String> PLACEMENTS = field(name("placements"), SQLDataType.CLOB);
  private static final Field<String> LOOKUPS = field(name("lookups"), SQLDataType.CLOB);
  private static final Field<String> LOOKUP = field(name("lookup"), SQLDataType.VARCHAR(2000));
  private static final Field<String> ROWS = field(name("rows"), SQLDataType.CLOB);
  private static final Field<Boolean> DONE = field(name("done"), SQLDataType.BOOLEAN);
  private static final Field<String> PROGRESS = field(name("progress"), SQLDataType.CLOB);
  private static final Field<String> USER_KEY = field(name("user_key"), SQLDataType.VARCHAR(500));
  private static final Field<String> USER_ID =
      field(name("user_id"), SQLDataType.VARCHAR(AuthContext.MAX_USER_ID_LENGTH).nullable(false));
  private static final Field<String> CLIENT_ID =
      field(
          name("client_id"),
          SQLDataType.VARCHAR(WriteCheckpointKey.MAX_CLIENT_ID_LENGTH).nullable(false));
  private static final Field<Long> CHECKPOINT_ID = field(name("checkpoint_id"), SQLDataType.BIGINT);
  private static final Field<String> POSITION = field(name("position"), SQLDataType.VARCHAR(200));
  private static final Field<String> OWNER = field(name("owner"), SQLDataType.VARCHAR(200));
  private static final Field<String> REPLICATOR =
      field(name("replicator"), SQLDataType.VARCHAR(200));

  private static final List<Field<?>> OP_COLUMNS =
      List.of(
          VERSION, BUCKET, OP_ID, OP, OBJECT_TYPE, OBJECT_ID, SUBKEY, DATA, CHECKSUM, TARGET_OP);

  /** The columns read from op-log rows. */
  private static final List<Field<?>> OP_FIELDS =
      List.of(OP_ID, OP, OBJECT_TYPE, OBJECT_ID, SUBKEY, DATA, CHECKSUM, TARGET_OP, FIRST_OP);

  /** The columns of new ops' rows: singles and packs. */
  private static final List<Field<?>> NEW_OP_COLUMNS =
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

  private static final List<Field<?>> CURRENT_COLUMNS =
      List.of(VERSION, SOURCE_TABLE, SOURCE_KEY, IMAGE, PLACEMENTS, LOOKUPS);
  private static final List<Field<?>> PARAMETER_COLUMNS =
      List.of(VERSION, LOOKUP, SOURCE_TABLE, SOURCE_KEY, OP_ID, ROWS);

  private JdbcBucketStorage(Builder b) {
    this.dataSource = b.dataSource;
    this.prefix = b.tablePrefix;
    this.dialect = b.dialect != null ? b.dialect : detectDialect(b.dataSource);
    this.db = StorageDialect.of(dialect);
    this.rules = table(name(prefix + "rules"));
    this.bucketData = table(name(prefix + "bucket_data"));
    this.currentData = table(name(prefix + "current_data"));
    this.parameters = table(name(prefix + "parameters"));
    this.snapshots = table(name(prefix + "snapshots"));
    this.legacyWriteCheckpoints = table(name(prefix + "write_checkpoints"));
    this.clientCheckpoints = table(name(prefix + "client_checkpoints"));
    this.locks = table(name(prefix + "locks"));
    this.pollInterval = b.pollInterval;
    migrate();
  }

  /** Starts configuring a storage on a data source. */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /** Configures a {@link JdbcBucketStorage}. Not thread-safe. */
  public static final class Builder {
    private final DataSource dataSource;
    private String tablePrefix = "syncline_";
    private @Nullable SQLDialect dialect;
    private Duration pollInterval = Duration.ofSeconds(1);

    private Builder(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Prefix of every table name; default {@code syncline_}. Letters, digits and underscores only.
     */
    public Builder tablePrefix(String tablePrefix) {
      if (!tablePrefix.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT,
            "table prefix must be letters, digits and " + "underscores, got '" + tablePrefix + "'");
      }
      this.tablePrefix = tablePrefix;
      return this;
    }

    /**
     * How often watchers check for new checkpoints committed by other instances when notifications
     * are not available (H2). On Postgres, notifications tell them at once; they also check every
     * 30 s (or this interval, if longer) in case one was lost. Default one second.
     */
    public Builder pollInterval(Duration pollInterval) {
      if (pollInterval.isNegative() || pollInterval.isZero()) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "poll interval must be positive, got " + pollInterval);
      }
      this.pollInterval = pollInterval;
      return this;
    }

    /** Creates the storage: connects, creates or migrates its tables. */
    public JdbcBucketStorage build() {
      return new JdbcBucketStorage(this);
    }
  }

  private static SQLDialect detectDialect(DataSource ds) {
    try (Connection c = ds.getConnection()) {
      String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
      if (product.contains("postgres")) {
        return SQLDialect.POSTGRES;
      } else if (product.contains("h2")) {
        return SQLDialect.H2;
      }
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT,
          "JdbcBucketStorage supports Postgres and H2, not "
              + c.getMetaData().getDatabaseProductName());
    } catch (SQLException e) {
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED, "cannot connect to the storage database: " + e.getMessage(), e);
    }
  }

  private DSLContext dsl(Connection c) {
    return DSL.using(c, dialect, settings);
  }

  /** Runs {@code work} in one transaction on a borrowed connection. */
  private <T extends @Nullable Object> T transaction(TransactionWork<T> work) {
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

  private static void rollbackQuietly(Connection c, Exception cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  @FunctionalInterface
  private interface TransactionWork<T extends @Nullable Object> {
    T run(DSLContext dsl) throws SQLException;
  }

  private <T extends @Nullable Object> T read(TransactionWork<T> work) {
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
  private <T extends @Nullable Object> T readConsistent(TransactionWork<T> work) {
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

  // ---- schema ----

  private void migrate() {
    transaction(
        dsl -> {
          Table<Record> schema = table(name(prefix + "schema_version"));
          Field<Integer> version = field(name("version"), SQLDataType.INTEGER);
          dsl.createTableIfNotExists(schema)
              .column(version)
              .constraints(DSL.primaryKey(version))
              .execute();
          Integer current = dsl.select(DSL.max(version)).from(schema).fetchOne(0, Integer.class);
          int from = current == null ? 0 : current;
          if (from > SCHEMA_VERSION) {
            throw new SynclineException(
                ErrorCode.STORAGE_FAILED,
                "storage schema version "
                    + from
                    + " is newer than "
                    + "this Syncline supports ("
                    + SCHEMA_VERSION
                    + "); upgrade Syncline");
          }
          if (from < 1) {
            createV1(dsl);
            dsl.insertInto(schema).columns(version).values(1).execute();
          }
          if (from < 2) {
            migrateV2(dsl);
            dsl.insertInto(schema).columns(version).values(2).execute();
          }
          if (from < 3) {
            migrateV3(dsl);
            dsl.insertInto(schema).columns(version).values(3).execute();
          }
          if (from < 4) {
            migrateV4(dsl);
            dsl.insertInto(schema).columns(version).values(4).execute();
          }
          if (from < 5) {
            migrateV5(dsl);
            dsl.insertInto(schema).columns(version).values(5).execute();
          }
          return null;
        });
  }

  private void createV1(DSLContext dsl) {
    dsl.createTableIfNotExists(rules)
        .columns(ID, CONTENT, STATE, LAST_OP, CHECKPOINT_OP, CHECKPOINT_POS, REPLICATOR)
        .constraints(DSL.primaryKey(ID))
        .execute();
    dsl.createTableIfNotExists(bucketData)
        .columns(
            VERSION, BUCKET, OP_ID, OP, OBJECT_TYPE, OBJECT_ID, SUBKEY, DATA, CHECKSUM, TARGET_OP)
        .constraints(DSL.primaryKey(VERSION, BUCKET, OP_ID))
        .execute();
    dsl.createTableIfNotExists(currentData)
        .columns(VERSION, SOURCE_TABLE, SOURCE_KEY, IMAGE, PLACEMENTS, LOOKUPS)
        .constraints(DSL.primaryKey(VERSION, SOURCE_TABLE, SOURCE_KEY))
        .execute();
    dsl.createTableIfNotExists(parameters)
        .columns(VERSION, LOOKUP, SOURCE_TABLE, SOURCE_KEY, OP_ID, ROWS)
        .constraints(DSL.primaryKey(VERSION, LOOKUP, SOURCE_TABLE, SOURCE_KEY, OP_ID))
        .execute();
    dsl.createTableIfNotExists(snapshots)
        .columns(VERSION, SOURCE_TABLE, DONE, PROGRESS)
        .constraints(DSL.primaryKey(VERSION, SOURCE_TABLE))
        .execute();
    dsl.createTableIfNotExists(legacyWriteCheckpoints)
        .columns(USER_KEY, CHECKPOINT_ID, POSITION)
        .constraints(DSL.primaryKey(USER_KEY, CHECKPOINT_ID))
        .execute();
    dsl.createTableIfNotExists(locks)
        .columns(VERSION, OWNER)
        .constraints(DSL.primaryKey(VERSION))
        .execute();
  }

  /**
   * Version 2: on Postgres, the text columns of the large tables' keys compare bytewise ({@code
   * COLLATE "C"}): their order means nothing to anyone, and a linguistic collation made every index
   * insert of the initial copy about a third slower. Rewrites those tables' indexes once.
   */
  private void migrateV2(DSLContext dsl) {
    db.collateBytewise(dsl, bucketData, List.of(BUCKET));
    db.collateBytewise(dsl, currentData, List.of(SOURCE_TABLE, SOURCE_KEY));
    db.collateBytewise(dsl, parameters, List.of(LOOKUP, SOURCE_TABLE, SOURCE_KEY));
  }

  /**
   * Version 3: current rows are keyed by {@link StorageCodec#storedKey} (integer keys ascend as
   * text) instead of the source key itself. Rewrites the stored keys in place, with the same rule
   * in SQL.
   */
  private void migrateV3(DSLContext dsl) {
    String table = dsl.render(currentData);
    String key = dsl.render(SOURCE_KEY);
    // (No regex quantifier braces: jOOQ reads braces in plain SQL as placeholders.)
    String integer = db.regexMatches(key, "^\\[[0-9]+\\]$") + " AND LENGTH(" + key + ") <= 21";
    String letter = db.chr("94 + LENGTH(" + key + ")");
    dsl.execute(
        "UPDATE "
            + table
            + " SET "
            + key
            + " = CASE WHEN "
            + key
            + " NOT LIKE '[%' THEN '~' || "
            + key
            + " WHEN ("
            + integer
            + ") THEN "
            + letter
            + " || "
            + key
            + " ELSE "
            + key
            + " END"
            + " WHERE "
            + key
            + " NOT LIKE '[%' OR ("
            + integer
            + ")");
  }

  /**
   * Version 4: a row of the op log may hold a pack of one bucket's ops ({@link OpPacks}); existing
   * rows are single ops, which the new columns' defaults say. Current rows may store placements in
   * their short form ({@link StorageCodec#placements(List, SourceKey)}), which earlier versions
   * could not read: the version number keeps them from opening such a database.
   */
  private void migrateV4(DSLContext dsl) {
    dsl.alterTable(bucketData).addColumn(FIRST_OP).execute();
    dsl.alterTable(bucketData)
        .addColumn(OP_COUNT, SQLDataType.INTEGER.nullable(false).defaultValue(1))
        .execute();
  }

  /**
   * Version 5: write checkpoints are keyed by user and client in two columns ({@code
   * <prefix>client_checkpoints}), no longer by {@code "<user>/<client>"}, which named two pairs
   * alike (user {@code a/b} with client {@code c}, user {@code a} with client {@code b/c}).
   * Existing keys are split at their last {@code /} (client ids are the SDKs' UUIDs); rows no
   * client could have made (an id beyond {@link WriteCheckpointKey#MAX_ID}, a client id too long or
   * with control characters) are dropped; then the old table is dropped.
   */
  private void migrateV5(DSLContext dsl) {
    dsl.createTableIfNotExists(clientCheckpoints)
        .columns(USER_ID, CLIENT_ID, CHECKPOINT_ID, POSITION)
        .constraints(DSL.primaryKey(USER_ID, CLIENT_ID, CHECKPOINT_ID))
        .execute();
    db.collateBytewise(dsl, clientCheckpoints, List.of(USER_ID, CLIENT_ID));
    List<Row4<String, String, Long, String>> rows = new ArrayList<>();
    try (var cursor =
        dsl.select(USER_KEY, CHECKPOINT_ID, POSITION).from(legacyWriteCheckpoints).fetchLazy()) {
      for (var r : cursor) {
        String key = r.value1();
        int slash = key.lastIndexOf('/');
        String user = slash < 0 ? key : key.substring(0, slash);
        String client = slash < 0 ? "" : key.substring(slash + 1);
        WriteCheckpointKey k;
        try {
          k = new WriteCheckpointKey(user, client);
        } catch (SynclineException e) {
          continue; // no client could have made it
        }
        if (r.value2() == null || r.value2() < 1 || r.value2() > WriteCheckpointKey.MAX_ID) {
          continue;
        }
        rows.add(DSL.row(k.userId(), k.clientId(), r.value2(), r.value3()));
        if (rows.size() == INSERT_CHUNK) {
          insertClientCheckpoints(dsl, rows);
        }
      }
    }
    insertClientCheckpoints(dsl, rows);
    dsl.dropTable(legacyWriteCheckpoints).execute();
  }

  private void insertClientCheckpoints(
      DSLContext dsl, List<Row4<String, String, Long, String>> rows) {
    if (!rows.isEmpty()) {
      dsl.insertInto(clientCheckpoints, USER_ID, CLIENT_ID, CHECKPOINT_ID, POSITION)
          .valuesOfRows(rows)
          .execute();
      rows.clear();
    }
  }

  // ---- rules versions ----

  /** Yes: writers can adopt another version's buckets. */
  @Override
  public boolean supportsBucketAdoption() {
    return true;
  }

  @Override
  public RulesVersion addRulesVersion(String content) {
    return transaction(
        dsl -> {
          Long max = dsl.select(DSL.max(ID)).from(rules).fetchOne(0, Long.class);
          long id = max == null ? 1 : max + 1;
          dsl.insertInto(rules)
              .columns(ID, CONTENT, STATE, LAST_OP)
              .values(id, content, RulesVersion.State.PROCESSING.name(), 0L)
              .execute();
          dsl.insertInto(locks).columns(VERSION, OWNER).values(id, "").execute();
          return new RulesVersion(id, content, RulesVersion.State.PROCESSING);
        });
  }

  @Override
  public List<RulesVersion> rulesVersions() {
    return read(
        dsl ->
            dsl.select(ID, CONTENT, STATE)
                .from(rules)
                .orderBy(ID)
                .fetch(
                    r ->
                        new RulesVersion(
                            r.get(ID), r.get(CONTENT), RulesVersion.State.valueOf(r.get(STATE)))));
  }

  private void requireVersion(DSLContext dsl, long versionId) {
    if (!dsl.fetchExists(dsl.selectOne().from(rules).where(ID.eq(versionId)))) {
      throw new SynclineException(
          ErrorCode.NOT_FOUND, "no rules version " + versionId + " in storage");
    }
  }

  @Override
  public void activate(long versionId) {
    transaction(
        dsl -> {
          requireVersion(dsl, versionId);
          dsl.update(rules)
              .set(STATE, RulesVersion.State.RETIRED.name())
              .where(STATE.eq(RulesVersion.State.ACTIVE.name()).and(ID.ne(versionId)))
              .execute();
          dsl.update(rules)
              .set(STATE, RulesVersion.State.ACTIVE.name())
              .where(ID.eq(versionId))
              .execute();
          return null;
        });
  }

  @Override
  public void drop(long versionId) {
    transaction(
        dsl -> {
          String state = dsl.select(STATE).from(rules).where(ID.eq(versionId)).fetchOne(STATE);
          if (state == null) {
            throw new SynclineException(
                ErrorCode.NOT_FOUND, "no rules version " + versionId + " in storage");
          }
          if (state.equals(RulesVersion.State.ACTIVE.name())) {
            throw new SynclineException(
                ErrorCode.INVALID_ARGUMENT,
                "rules version "
                    + versionId
                    + " is active; activate another version before dropping it");
          }
          for (Table<Record> t : List.of(bucketData, currentData, parameters, snapshots, locks)) {
            dsl.deleteFrom(t).where(VERSION.eq(versionId)).execute();
          }
          dsl.deleteFrom(rules).where(ID.eq(versionId)).execute();
          return null;
        });
  }

  // ---- writer ----

  @Override
  public Optional<String> replicator(long versionId) {
    return read(
        dsl -> {
          requireVersion(dsl, versionId);
          String owner =
              dsl.select(REPLICATOR).from(rules).where(ID.eq(versionId)).fetchOne(REPLICATOR);
          return owner == null || owner.isEmpty()
              ? Optional.<String>empty()
              : Optional.of(identityOf(owner));
        });
  }

  @Override
  public BucketStorageWriter openWriter(long versionId, String replicator) {
    read(
        dsl -> {
          requireVersion(dsl, versionId);
          return null;
        });
    Connection lockConnection = null;
    try {
      lockConnection = dataSource.getConnection();
      // What this writer writes into the rules row: its identity and a nonce of its own (see
      // Writer#fenced).
      String token =
          clip(replicator, 180) + " [" + UUID.randomUUID().toString().substring(0, 8) + "]";
      if (!acquireLock(lockConnection, versionId, token)) {
        lockConnection.close();
        String holder = replicator(versionId).orElse("another engine instance");
        throw new SynclineException(
            ErrorCode.REPLICATION_LOCKED,
            "rules version "
                + versionId
                + " is being replicated by "
                + holder
                + ", which holds its lock");
      }
      // Read after the rules row names this writer: a commit of the previous writer either landed
      // before (and is
      // counted here) or fails its fence.
      long lastOp =
          Objects.requireNonNull(
              read(
                  dsl ->
                      dsl.select(LAST_OP)
                          .from(rules)
                          .where(ID.eq(versionId))
                          .fetchSingle(LAST_OP)));
      return new Writer(versionId, lockConnection, lastOp, token);
    } catch (SQLException | DataAccessException e) {
      closeQuietly(lockConnection);
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED, "cannot acquire the replication lock: " + e.getMessage(), e);
    }
  }

  private boolean acquireLock(Connection c, long versionId, String replicator) throws SQLException {
    boolean locked =
        db.tryLock(
            c,
            lockNamespace(),
            versionId,
            held ->
                DSL.using(held, dialect)
                    .update(locks)
                    .set(OWNER, replicator)
                    .where(VERSION.eq(versionId))
                    .execute());
    if (locked) {
      // Others read the holder's identity from the rules row.
      transaction(
          dsl -> dsl.update(rules).set(REPLICATOR, replicator).where(ID.eq(versionId)).execute());
    }
    return locked;
  }

  private int lockNamespace() {
    return ("syncline:" + prefix).hashCode();
  }

  private static void closeQuietly(@Nullable Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // Nothing more to do with a connection we are abandoning.
      }
    }
  }

  /**
   * The identity part of a writer's token ({@code "host/pid [1a2b3c4d]"} is {@code "host/pid"}).
   */
  private static String identityOf(String token) {
    return token.matches(".* \\[[0-9a-f]{8}\\]") ? token.substring(0, token.length() - 11) : token;
  }

  private static String clip(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }

  /**
   * Writes one rules version while holding its lock. Every transaction that makes writes visible is
   * <em>fenced</em>: it changes the version's rules row only where that row still names this
   * writer's token, and fails (rolled back, nothing written) when it does not. A writer that lost
   * its lock (its lock connection died, or it was closed while a commit was on its way) can
   * therefore never add ops under op ids the next writer hands out, nor move the checkpoint: the
   * next writer names itself in the row before it reads the last op id, and that update waits for a
   * commit holding the row.
   */
  private final class Writer implements BucketStorageWriter {
    private final long versionId;
    private final Connection lockConnection;
    private final String token;
    private long lastOp;
    private final AtomicBoolean closed = new AtomicBoolean();
    private @Nullable ExecutorService rowWriter;

    Writer(long versionId, Connection lockConnection, long lastOp, String token) {
      this.versionId = versionId;
      this.lockConnection = lockConnection;
      this.lastOp = lastOp;
      this.token = token;
    }

    /**
     * The rules row of this version, where it still names this writer: the condition of every
     * fenced update.
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
                + replicator(versionId).orElse("another writer")
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
      keys.forEach(
          k -> byTable.computeIfAbsent(tableName(k.table()), t -> new ArrayList<>()).add(k));
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
      Optional<Checkpoint> from = latestCheckpoint(fromVersion);
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
                      opRecords(
                          dsl,
                          fromVersion,
                          bucket,
                          Long.MIN_VALUE,
                          fromOp,
                          Integer.MAX_VALUE,
                          false);
                  List<OpRecord> mine =
                      opRecords(
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
     * A large batch without a position (a chunk of an initial copy, a part of a large transaction)
     * in two transactions on two connections, written at the same time: ops, parameters and the
     * last op id on the calling thread, current rows on {@link #rowWriter}. The rows' transaction
     * commits only after the ops' one has (it waits for it, and rolls back if that failed), so a
     * crash in between leaves ops without their rows' new state, never the reverse: the batch is
     * repeated after a restart (no checkpoint covers it), the repeat finds the old state and writes
     * the ops again (duplicates, superseded ones removed by compaction, never a loss). Returns when
     * both have committed, so the caller sees one durable batch as before.
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
     * next batch with a position, which is what makes anything visible or lets the source
     * acknowledge it) flushes these too, and a crash can lose them only together with everything
     * after them: the engine then repeats them from the last checkpoint, as after any crash between
     * checkpoints.
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
     * Waits for the row part of a split commit. Not interruptible: the part commits or rolls back
     * on its own, and the caller may not return before knowing which.
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
     * The thread that writes current rows of split commits; started on first use, ended after a
     * while idle.
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
     * Appends a batch's ops, each bucket's packed ({@link OpPacks}); {@code next[0]} ends at the
     * last op id.
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
      for (int i = 0; i < rows.size(); i += INSERT_CHUNK) {
        InsertValuesStepN<Record> insert = dsl.insertInto(bucketData, NEW_OP_COLUMNS);
        for (OpPacks.Row r : rows.subList(i, Math.min(rows.size(), i + INSERT_CHUNK))) {
          insert =
              insert.values(
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
                  r.count());
        }
        insert.execute();
      }
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
      for (int i = 0; i < changes.size(); i += INSERT_CHUNK) {
        InsertValuesStepN<Record> insert = dsl.insertInto(parameters, PARAMETER_COLUMNS);
        for (ParameterChange c : changes.subList(i, Math.min(changes.size(), i + INSERT_CHUNK))) {
          insert =
              insert.values(
                  versionId,
                  StorageCodec.lookup(c.lookup()),
                  tableName(c.source().table()),
                  c.source().key(),
                  ++next[0],
                  StorageCodec.rows(c.bucketParameters()));
        }
        insert.execute();
      }
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
      deleteRows(
          dsl, rows.stream().map(CurrentRow::key).filter(k -> !newRows.contains(k)).toList());
      if (db.copiesBulkRows() && rows.size() >= 100) {
        copyRows(dsl, rows);
        return;
      }
      for (int i = 0; i < rows.size(); i += INSERT_CHUNK) {
        InsertValuesStepN<Record> insert = dsl.insertInto(currentData, CURRENT_COLUMNS);
        for (CurrentRow r : rows.subList(i, Math.min(rows.size(), i + INSERT_CHUNK))) {
          insert =
              insert.values(
                  versionId,
                  tableName(r.key().table()),
                  StorageCodec.storedKey(r.key().key()),
                  r.image() == null ? null : StorageCodec.image(r.image()),
                  StorageCodec.placements(r.placements(), r.key()),
                  StorageCodec.lookups(r.lookups()));
        }
        insert.execute();
      }
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
      try {
        db.unlock(lockConnection, lockNamespace(), versionId);
      } catch (SQLException | DataAccessException e) {
        // The lock ends with the connection anyway.
      } finally {
        closeQuietly(lockConnection);
      }
    }
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

  private static CurrentRow currentRow(SourceKey key, Record r) {
    String image = r.get(IMAGE);
    return new CurrentRow(
        key,
        image == null ? null : StorageCodec.image(image),
        StorageCodec.placements(r.get(PLACEMENTS), key),
        StorageCodec.lookups(r.get(LOOKUPS)));
  }

  private static String tableName(TableRef t) {
    return t.connectionTag() + "." + t.schema() + "." + t.name();
  }

  private static TableRef tableRef(String name) {
    String[] parts = name.split("\\.", 3);
    return new TableRef(parts[0], parts[1], parts[2]);
  }

  // ---- reads ----

  @Override
  public Optional<Checkpoint> latestCheckpoint(long versionId) {
    return read(
        dsl -> {
          Record r =
              dsl.select(CHECKPOINT_OP, CHECKPOINT_POS)
                  .from(rules)
                  .where(ID.eq(versionId))
                  .fetchOne();
          if (r == null) {
            throw new SynclineException(
                ErrorCode.NOT_FOUND, "no rules version " + versionId + " in storage");
          }
          return r.get(CHECKPOINT_POS) == null
              ? Optional.empty()
              : Optional.of(new Checkpoint(new OpId(r.get(CHECKPOINT_OP)), r.get(CHECKPOINT_POS)));
        });
  }

  private String channel() {
    return prefix + "checkpoints";
  }

  private Optional<Checkpoint> latestCheckpointIfExists(long versionId) {
    try {
      return latestCheckpoint(versionId);
    } catch (SynclineException e) {
      return Optional.empty();
    }
  }

  @Override
  public AutoCloseable watchCheckpoints(long versionId, Consumer<Checkpoint> listener) {
    read(
        dsl -> {
          requireVersion(dsl, versionId);
          return null;
        });
    AutoCloseable handle = watchers.add(versionId, listener);
    synchronized (notifierLock) {
      if (notifier == null && !closed) {
        notifier = new Thread(this::notifyLoop, "syncline-checkpoint-watcher-" + prefix);
        notifier.setDaemon(true);
        notifier.start();
      }
    }
    return handle;
  }

  /**
   * The watcher thread: waits for a notification (Postgres LISTEN) or the poll interval, then
   * checks the watched versions. Reconnects after failures; ends when the storage closes.
   */
  private void notifyLoop() {
    while (!closed) {
      try (Connection c = dataSource.getConnection()) {
        PGConnection pg = db.listen(c, channel());
        while (!closed) {
          // Check first: anything committed before LISTEN took effect (or while reconnecting) is
          // caught here.
          watchers.checkAll();
          if (pg != null) {
            // Notifications wake this thread when another instance commits; the timeout is only a
            // safety net.
            pg.getNotifications((int) Math.max(pollInterval.toMillis(), LISTEN_SAFETY_MILLIS));
          } else {
            Thread.sleep(pollInterval.toMillis());
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (SQLException | RuntimeException e) {
        if (closed) {
          return;
        }
        try {
          Thread.sleep(pollInterval.toMillis());
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  @Override
  public Map<String, PartialChecksum> checksums(
      long versionId, Collection<String> buckets, @Nullable OpId after, OpId upTo) {
    long from = after == null ? -1 : after.value();
    return read(
        dsl -> {
          Map<String, PartialChecksum> out = new LinkedHashMap<>();
          List<String> names = List.copyOf(buckets);
          for (int i = 0; i < names.size(); i += INSERT_CHUNK) {
            List<String> chunk = names.subList(i, Math.min(names.size(), i + INSERT_CHUNK));
            Map<String, Long> clears = new HashMap<>();
            dsl.select(BUCKET, DSL.max(OP_ID))
                .from(bucketData)
                .where(
                    VERSION
                        .eq(versionId)
                        .and(BUCKET.in(chunk))
                        .and(OP.eq(OpType.CLEAR.name()))
                        .and(OP_ID.gt(from))
                        .and(OP_ID.le(upTo.value())))
                .groupBy(BUCKET)
                .forEach(r -> clears.put(r.value1(), r.value2()));
            Map<String, PartialChecksum> sums = new HashMap<>();
            List<String> plain =
                clears.isEmpty()
                    ? chunk
                    : chunk.stream().filter(b -> !clears.containsKey(b)).toList();
            rangeSums(dsl, versionId, plain, from, upTo.value())
                .forEach(
                    (b, s) ->
                        sums.put(b, new PartialChecksum(s[0] & 0xffffffffL, s[1], after == null)));
            for (Map.Entry<String, Long> clear : clears.entrySet()) {
              long[] s =
                  rangeSums(
                          dsl,
                          versionId,
                          List.of(clear.getKey()),
                          clear.getValue() - 1,
                          upTo.value())
                      .getOrDefault(clear.getKey(), new long[2]);
              sums.put(clear.getKey(), new PartialChecksum(s[0] & 0xffffffffL, s[1], true));
            }
            for (String b : chunk) {
              out.put(b, sums.getOrDefault(b, new PartialChecksum(0, 0, after == null)));
            }
          }
          return out;
        });
  }

  /**
   * Sums (mod 2^64, which keeps them exact mod 2^32) and counts of the ops in {@code (after, upTo]}
   * of buckets that have any: whole rows in SQL, and in Java the ops of the packs that straddle
   * either end (at most one per bucket and end, found within {@link OpPacks#MAX_SPAN} of it).
   */
  private Map<String, long[]> rangeSums(
      DSLContext dsl, long versionId, List<String> buckets, long after, long upTo) {
    Map<String, long[]> sums = new HashMap<>();
    if (buckets.isEmpty() || upTo <= after) {
      return sums;
    }
    // One round trip: the sums of whole rows (op id null), then the rows of straddling packs (sums
    // null).
    Field<Long> noId = DSL.inline(null, SQLDataType.BIGINT);
    Field<String> noText = DSL.inline(null, DATA.getDataType());
    Field<BigDecimal> noSum = DSL.inline(null, SQLDataType.DECIMAL);
    var query =
        dsl.select(BUCKET, DSL.sum(CHECKSUM), DSL.sum(OP_COUNT), noId, noId, noText)
            .from(bucketData)
            .where(
                VERSION
                    .eq(versionId)
                    .and(BUCKET.in(buckets))
                    .and(OP_ID.gt(after))
                    .and(OP_ID.le(upTo))
                    .and(FIRST_OP.isNull().or(FIRST_OP.gt(after))))
            .groupBy(BUCKET);
    Select<Record6<String, BigDecimal, BigDecimal, Long, Long, String>> all = query;
    if (after >= 0) { // op ids are positive: nothing starts at or before a negative bound
      all =
          all.unionAll(
              dsl.select(BUCKET, noSum, noSum, OP_ID, FIRST_OP, DATA)
                  .from(bucketData)
                  .where(
                      VERSION
                          .eq(versionId)
                          .and(BUCKET.in(buckets))
                          .and(OP_ID.gt(after))
                          .and(OP_ID.le(Math.min(upTo, after + OpPacks.MAX_SPAN)))
                          .and(FIRST_OP.le(after))));
    }
    if (upTo < Long.MAX_VALUE - OpPacks.MAX_SPAN) {
      all =
          all.unionAll(
              dsl.select(BUCKET, noSum, noSum, OP_ID, FIRST_OP, DATA)
                  .from(bucketData)
                  .where(
                      VERSION
                          .eq(versionId)
                          .and(BUCKET.in(buckets))
                          .and(OP_ID.gt(upTo))
                          .and(OP_ID.le(upTo + OpPacks.MAX_SPAN))
                          .and(FIRST_OP.le(upTo))));
    }
    for (var r : dsl.fetch(all)) {
      long[] part =
          r.value4() == null
              ? new long[] {r.value2().toBigInteger().longValue(), r.value3().longValue()}
              : OpPacks.sum(
                  r.value1(),
                  Objects.requireNonNull(r.value5(), "a pack's first op id"),
                  Objects.requireNonNull(r.value6(), "a pack's text"),
                  after,
                  upTo);
      if (part[1] > 0) {
        long[] sum = sums.computeIfAbsent(r.value1(), b -> new long[2]);
        sum[0] += part[0];
        sum[1] += part[1];
      }
    }
    return sums;
  }

  @Override
  public List<OpRecord> ops(long versionId, String bucket, OpId after, OpId upTo, int limit) {
    if (limit <= 0) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT, "limit must be positive, got " + limit);
    }
    return read(
        dsl -> opRecords(dsl, versionId, bucket, after.value(), upTo.value(), limit, false));
  }

  /**
   * A bucket's ops with {@code after < op_id <= upTo}, ascending, at most {@code limit}; their rows
   * locked for update when asked. Packs are decoded: the rows in the range (each holds at least one
   * op of it, as its last op id is in the range), then the one that may straddle {@code upTo}. Rows
   * are read a few at a time (packs hold several ops, single rows one), the first of them with the
   * straddling one in the same round trip.
   */
  private List<OpRecord> opRecords(
      DSLContext dsl,
      long versionId,
      String bucket,
      long after,
      long upTo,
      int limit,
      boolean forUpdate) {
    List<OpRecord> out = new ArrayList<>(Math.min(limit, 256));
    long from = after;
    int rows = limit <= 64 ? limit : Math.max(64, limit / 8);
    @Nullable Record straddling = null;
    boolean straddlingRead =
        forUpdate || upTo >= Long.MAX_VALUE - OpPacks.MAX_SPAN; // else with the first rows
    while (true) {
      var query =
          dsl.select(OP_FIELDS)
              .from(bucketData)
              .where(
                  VERSION
                      .eq(versionId)
                      .and(BUCKET.eq(bucket))
                      .and(OP_ID.gt(from))
                      .and(OP_ID.le(upTo)))
              .orderBy(OP_ID)
              .limit(rows);
      List<Record> read =
          new ArrayList<>(
              forUpdate
                  ? query.forUpdate().fetch()
                  : straddlingRead
                      ? query.fetch()
                      : dsl.fetch(query.unionAll(straddlingQuery(dsl, versionId, bucket, upTo))));
      if (!straddlingRead) {
        straddlingRead = true;
        read.sort(Comparator.comparingLong(r -> r.get(OP_ID)));
        if (!read.isEmpty() && read.get(read.size() - 1).get(OP_ID) > upTo) {
          straddling = read.remove(read.size() - 1);
        }
      }
      for (Record r : read) {
        addOps(out, bucket, r, after, upTo, limit);
        from = r.get(OP_ID);
      }
      if (out.size() >= limit || read.size() < rows) {
        break;
      }
      rows = limit - out.size(); // at most one row per op still wanted
    }
    if (out.size() < limit) {
      if (forUpdate) {
        straddling = straddling(dsl, versionId, bucket, upTo, true);
      }
      if (straddling != null) {
        addOps(out, bucket, straddling, after, upTo, limit);
      }
    }
    return out;
  }

  /**
   * The pack of a bucket that holds ops both at or before {@code opId} and after it, if any (at
   * most one).
   */
  private @Nullable Record straddling(
      DSLContext dsl, long versionId, String bucket, long opId, boolean forUpdate) {
    if (opId >= Long.MAX_VALUE - OpPacks.MAX_SPAN) {
      return null;
    }
    var query = straddlingQuery(dsl, versionId, bucket, opId);
    return forUpdate ? query.forUpdate().fetchOne() : query.fetchOne();
  }

  /** The query of {@link #straddling}; {@code opId} below {@code Long.MAX_VALUE - MAX_SPAN}. */
  private SelectLimitPercentStep<Record> straddlingQuery(
      DSLContext dsl, long versionId, String bucket, long opId) {
    return dsl.select(OP_FIELDS)
        .from(bucketData)
        .where(
            VERSION
                .eq(versionId)
                .and(BUCKET.eq(bucket))
                .and(OP_ID.gt(opId))
                .and(OP_ID.le(opId + OpPacks.MAX_SPAN))
                .and(FIRST_OP.le(opId)))
        .orderBy(OP_ID)
        .limit(1);
  }

  /**
   * Adds the ops of an op-log row in {@code (after, upTo]} to {@code out}, up to {@code limit} in
   * all.
   */
  private static void addOps(
      List<OpRecord> out, String bucket, Record r, long after, long upTo, int limit) {
    Long first = r.get(FIRST_OP);
    if (first == null) {
      if (out.size() < limit) {
        out.add(
            new OpRecord(
                new OpId(r.get(OP_ID)),
                bucket,
                OpType.valueOf(r.get(OP)),
                r.get(OBJECT_TYPE),
                r.get(OBJECT_ID),
                r.get(SUBKEY),
                r.get(DATA),
                r.get(CHECKSUM),
                r.get(TARGET_OP) == null ? null : new OpId(r.get(TARGET_OP))));
      }
      return;
    }
    OpPacks.decode(
        bucket,
        first,
        Objects.requireNonNull(r.get(DATA), "a pack's text"),
        after,
        upTo,
        op -> {
          if (out.size() < limit) {
            out.add(op);
          }
        });
  }

  /** Writes ops as they are (op ids included) into a version's log. */
  private void insertRecords(DSLContext dsl, long versionId, String bucket, List<OpRecord> ops) {
    for (int i = 0; i < ops.size(); i += INSERT_CHUNK) {
      InsertValuesStepN<Record> insert = dsl.insertInto(bucketData, OP_COLUMNS);
      for (OpRecord op : ops.subList(i, Math.min(ops.size(), i + INSERT_CHUNK))) {
        insert =
            insert.values(
                versionId,
                bucket,
                op.opId().value(),
                op.op().name(),
                op.objectType(),
                op.objectId(),
                op.subkey(),
                op.data(),
                op.checksum(),
                op.targetOp() == null ? null : op.targetOp().value());
      }
      insert.execute();
    }
  }

  @Override
  public Map<ParameterLookup, List<Map<String, SqliteValue>>> lookup(
      long versionId, OpId asOf, List<ParameterLookup> lookups) {
    return read(
        dsl -> {
          Map<ParameterLookup, List<Map<String, SqliteValue>>> out = new LinkedHashMap<>();
          Map<String, ParameterLookup> byKey = new LinkedHashMap<>();
          lookups.forEach(l -> byKey.put(StorageCodec.lookup(l), l));
          Map<String, Map<String, long[]>> first = new HashMap<>();
          Map<String, Map<String, String>> latest = new HashMap<>();
          List<String> keys = List.copyOf(byKey.keySet());
          for (int i = 0; i < keys.size(); i += INSERT_CHUNK) {
            dsl.select(LOOKUP, SOURCE_TABLE, SOURCE_KEY, OP_ID, ROWS)
                .from(parameters)
                .where(
                    VERSION
                        .eq(versionId)
                        .and(LOOKUP.in(keys.subList(i, Math.min(keys.size(), i + INSERT_CHUNK))))
                        .and(OP_ID.le(asOf.value())))
                .orderBy(OP_ID)
                .forEach(
                    r -> {
                      String source = r.get(SOURCE_TABLE) + "\u0000" + r.get(SOURCE_KEY);
                      first
                          .computeIfAbsent(r.get(LOOKUP), k -> new LinkedHashMap<>())
                          .putIfAbsent(source, new long[] {r.get(OP_ID)});
                      latest
                          .computeIfAbsent(r.get(LOOKUP), k -> new HashMap<>())
                          .put(source, r.get(ROWS));
                    });
          }
          for (Map.Entry<String, ParameterLookup> e : byKey.entrySet()) {
            List<Map<String, SqliteValue>> rows = new ArrayList<>();
            Map<String, long[]> sources = first.getOrDefault(e.getKey(), Map.of());
            for (String source : sources.keySet()) {
              rows.addAll(
                  StorageCodec.rows(
                      Objects.requireNonNull(
                          Objects.requireNonNull(latest.get(e.getKey())).get(source))));
            }
            out.put(e.getValue(), List.copyOf(rows));
          }
          return out;
        });
  }

  @Override
  public SnapshotState snapshotState(long versionId) {
    return read(
        dsl -> {
          requireVersion(dsl, versionId);
          List<TableRef> done = new ArrayList<>();
          Map<TableRef, String> progress = new LinkedHashMap<>();
          dsl.select(SOURCE_TABLE, DONE, PROGRESS)
              .from(snapshots)
              .where(VERSION.eq(versionId))
              .orderBy(SOURCE_TABLE)
              .forEach(
                  r -> {
                    if (Boolean.TRUE.equals(r.get(DONE))) {
                      done.add(tableRef(r.get(SOURCE_TABLE)));
                    } else if (r.get(PROGRESS) != null) {
                      progress.put(tableRef(r.get(SOURCE_TABLE)), r.get(PROGRESS));
                    }
                  });
          return new SnapshotState(done, progress);
        });
  }

  // ---- write checkpoints ----

  @Override
  public long createWriteCheckpoint(WriteCheckpointKey key, String position) {
    return transaction(
        dsl -> {
          lockWriteCheckpoints(dsl, key);
          Long max =
              dsl.select(DSL.max(CHECKPOINT_ID))
                  .from(clientCheckpoints)
                  .where(is(key))
                  .fetchOne(0, Long.class);
          long id = max == null ? 1 : InMemoryBucketStorage.nextWriteCheckpoint(max);
          dsl.insertInto(clientCheckpoints, USER_ID, CLIENT_ID, CHECKPOINT_ID, POSITION)
              .values(key.userId(), key.clientId(), id, position)
              .execute();
          return id;
        });
  }

  @Override
  public long requestWriteCheckpoint(WriteCheckpointKey key, long requestedId, String position) {
    WriteCheckpointKey.checkRequestedId(requestedId);
    return transaction(
        dsl -> {
          lockWriteCheckpoints(dsl, key);
          Long max =
              dsl.select(DSL.max(CHECKPOINT_ID))
                  .from(clientCheckpoints)
                  .where(is(key))
                  .fetchOne(0, Long.class);
          if (max != null && max >= requestedId) {
            return max;
          }
          dsl.insertInto(clientCheckpoints, USER_ID, CLIENT_ID, CHECKPOINT_ID, POSITION)
              .values(key.userId(), key.clientId(), requestedId, position)
              .execute();
          return requestedId;
        });
  }

  private static Condition is(WriteCheckpointKey key) {
    return USER_ID.eq(key.userId()).and(CLIENT_ID.eq(key.clientId()));
  }

  /** Serializes concurrent write-checkpoint creation for one key (across engine instances). */
  private void lockWriteCheckpoints(DSLContext dsl, WriteCheckpointKey key) {
    // A hash of both parts, the same in every JVM; two keys sharing one only wait for each other.
    int hash = 31 * key.userId().hashCode() + key.clientId().hashCode();
    db.lockForTransaction(
        dsl,
        lockNamespace() + 1,
        hash,
        () -> dsl.select(CHECKPOINT_ID).from(clientCheckpoints).where(is(key)).forUpdate().fetch());
  }

  @Override
  public Optional<Long> writeCheckpoint(WriteCheckpointKey key, Checkpoint checkpoint) {
    return read(
        dsl ->
            Optional.ofNullable(
                dsl.select(DSL.max(CHECKPOINT_ID))
                    .from(clientCheckpoints)
                    .where(is(key).and(POSITION.le(checkpoint.position())))
                    .fetchOne(0, Long.class)));
  }

  @Override
  public Map<WriteCheckpointKey, Long> writeCheckpoints(
      Collection<WriteCheckpointKey> keys, Checkpoint checkpoint) {
    List<WriteCheckpointKey> all = List.copyOf(new LinkedHashSet<>(keys));
    Map<WriteCheckpointKey, Long> out = new HashMap<>();
    read(
        dsl -> {
          for (int i = 0; i < all.size(); i += INSERT_CHUNK) {
            List<Row2<String, String>> chunk =
                all.subList(i, Math.min(all.size(), i + INSERT_CHUNK)).stream()
                    .map(k -> DSL.row(k.userId(), k.clientId()))
                    .toList();
            dsl.select(USER_ID, CLIENT_ID, DSL.max(CHECKPOINT_ID))
                .from(clientCheckpoints)
                .where(
                    DSL.row(USER_ID, CLIENT_ID).in(chunk).and(POSITION.le(checkpoint.position())))
                .groupBy(USER_ID, CLIENT_ID)
                .forEach(r -> out.put(new WriteCheckpointKey(r.value1(), r.value2()), r.value3()));
          }
          return null;
        });
    return out;
  }

  @Override
  public long pruneWriteCheckpoints(String position) {
    return transaction(
        dsl -> {
          // Of each key, every row older than its newest row at or below the position; the newest
          // row of each key
          // stays, so ids keep counting from it. Correlated on the primary key's leading columns.
          String outer = prefix + "client_checkpoints";
          Table<Record> kept = clientCheckpoints.as("kept");
          return (long)
              dsl.deleteFrom(clientCheckpoints)
                  .where(
                      DSL.field(name(outer, CHECKPOINT_ID.getName()), Long.class)
                          .lt(
                              DSL.select(
                                      DSL.max(
                                          DSL.field(
                                              name("kept", CHECKPOINT_ID.getName()), Long.class)))
                                  .from(kept)
                                  .where(
                                      DSL.field(name("kept", USER_ID.getName()), String.class)
                                          .eq(
                                              DSL.field(
                                                  name(outer, USER_ID.getName()), String.class))
                                          .and(
                                              DSL.field(
                                                      name("kept", CLIENT_ID.getName()),
                                                      String.class)
                                                  .eq(
                                                      DSL.field(
                                                          name(outer, CLIENT_ID.getName()),
                                                          String.class)))
                                          .and(
                                              DSL.field(
                                                      name("kept", POSITION.getName()),
                                                      String.class)
                                                  .le(position)))))
                  .execute();
        });
  }

  // ---- compaction ----

  @Override
  public void compact(long versionId, OpId upTo) {
    List<String> names =
        read(
            dsl ->
                dsl.selectDistinct(BUCKET)
                    .from(bucketData)
                    .where(VERSION.eq(versionId))
                    .fetch(BUCKET));
    for (String bucket : names) {
      transaction(
          dsl -> {
            List<OpRecord> ops =
                opRecords(
                    dsl, versionId, bucket, Long.MIN_VALUE, upTo.value(), Integer.MAX_VALUE, true);
            List<OpRecord> compacted = Compactor.compact(ops, upTo);
            if (compacted.equals(ops)) {
              return null;
            }
            dsl.deleteFrom(bucketData)
                .where(VERSION.eq(versionId).and(BUCKET.eq(bucket)).and(OP_ID.le(upTo.value())))
                .execute();
            // A pack across upTo: its ops up to there are among those compacted, the rest become
            // rows of their own.
            Record straddling = straddling(dsl, versionId, bucket, upTo.value(), true);
            if (straddling != null) {
              List<OpRecord> rest = new ArrayList<>();
              addOps(rest, bucket, straddling, upTo.value(), Long.MAX_VALUE, Integer.MAX_VALUE);
              dsl.deleteFrom(bucketData)
                  .where(
                      VERSION
                          .eq(versionId)
                          .and(BUCKET.eq(bucket))
                          .and(OP_ID.eq(straddling.get(OP_ID))))
                  .execute();
              insertRecords(dsl, versionId, bucket, rest);
            }
            insertRecords(dsl, versionId, bucket, compacted);
            return null;
          });
    }
  }

  /**
   * Stops the watcher thread; the data source belongs to the application, which closes it.
   * Idempotent.
   */
  @Override
  public void close() {
    Thread t;
    synchronized (notifierLock) {
      closed = true;
      t = notifier;
      notifier = null;
    }
    if (t != null) {
      t.interrupt(); // ends a poll's sleep (H2)
      // A thread waiting for notifications does not notice interrupts: wake it with one.
      db.wakeListeners(dataSource, channel());
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Sum of checksums as an unsigned 32-bit value (exposed for tests of the SQL sums). */
  static long checksumOf(List<OpRecord> ops) {
    long s = 0;
    for (OpRecord op : ops) {
      s = OpChecksums.add(s, op.checksum());
    }
    return s;
  }
}
